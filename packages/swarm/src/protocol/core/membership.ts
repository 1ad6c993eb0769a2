/**
 * Who is in the swarm, as this peer sees it: pure bookkeeping of heartbeats, updates and departures, with the
 * clock passed in. Decides who is active, who a round waits for, and what each peer vouches for.
 */
import type { Vote } from './anchor-vote.ts';
import { MAX_ROUND } from './limits.ts';

export interface MembershipOptions {
  /** A peer unheard of for this long is no longer active, ms. */
  peerStaleMs: number;
  /** A peer heard from this recently counts as active even without a direct connection, ms. */
  recentMs: number;
  /** Peers more than this many rounds behind are not active. */
  lateRounds: number;
}

interface PeerState {
  lastSeen: number;
  /** Highest round the peer reported (heartbeat or update), at most {@link MAX_ROUND}. */
  round: number;
  role: 'trainer' | 'observer';
  /** The peer's recent claims about its anchor: round → sha256 of its anchor at that round. */
  claims: Map<number, string>;
  left: boolean;
  /** Highest round the peer sent an update for (-1: none yet). */
  lastUpdateRound: number;
  /** This peer's round when it first heard of the peer. */
  firstSeenAt: number;
}

/** Claims kept per peer (its most recent rounds): enough for the late window and the rounds-ahead bound. */
const CLAIMS_PER_PEER = 16;

export class Membership {
  private readonly peers = new Map<string, PeerState>();

  constructor(private readonly opts: MembershipOptions) {}

  /** A heartbeat from `peer`. Rounds beyond {@link MAX_ROUND} are not believed. */
  heartbeat(
    peer: string,
    m: { round: number; role: 'trainer' | 'observer'; anchorHash?: string },
    now: number,
    myRound = 0,
  ): void {
    if (!(m.round <= MAX_ROUND)) return;
    const p = this.peers.get(peer);
    const claims = p?.claims ?? new Map<number, string>();
    if (m.anchorHash !== undefined) addClaim(claims, m.round, m.anchorHash);
    this.peers.set(peer, {
      lastSeen: now,
      round: m.round,
      role: m.role,
      claims,
      left: false,
      lastUpdateRound: p?.lastUpdateRound ?? -1,
      firstSeenAt: p?.firstSeenAt ?? myRound,
    });
  }

  /**
   * An update of `round`, computed from the anchor `anchorHash`: the sender is a trainer at that round at
   * least, vouches for that anchor at that round, and is waited for again.
   */
  update(peer: string, round: number, anchorHash: string, now: number, myRound = 0): void {
    if (!(round <= MAX_ROUND)) return;
    const p = this.peers.get(peer);
    const claims = p?.claims ?? new Map<number, string>();
    addClaim(claims, round, anchorHash);
    this.peers.set(peer, {
      lastSeen: now,
      round: Math.max(p?.round ?? 0, round),
      role: 'trainer',
      claims,
      left: false,
      lastUpdateRound: Math.max(p?.lastUpdateRound ?? -1, round),
      firstSeenAt: p?.firstSeenAt ?? myRound,
    });
  }

  leave(peer: string, now: number): void {
    const p = this.peers.get(peer);
    if (p) {
      p.left = true;
      p.lastSeen = now;
    }
  }

  /** The round `peer` last reported (0 when unknown). */
  roundOf(peer: string): number {
    return this.peers.get(peer)?.round ?? 0;
  }

  /** Every trainer heard of, gone ones included. */
  seen(): string[] {
    return [...this.peers].filter(([, p]) => p.role === 'trainer').map(([id]) => id);
  }

  /** Trainers heard of and not known to have left. */
  known(): string[] {
    return [...this.peers].filter(([, p]) => p.role === 'trainer' && !p.left).map(([id]) => id);
  }

  /**
   * Trainers active now: heard from within `peerStaleMs` and either connected or heard from within
   * `recentMs`, not left, and not more than `lateRounds` behind `myRound`.
   */
  active(now: number, myRound: number, connected: ReadonlySet<string>): string[] {
    return [...this.peers]
      .filter(
        ([id, p]) =>
          p.role === 'trainer' &&
          !p.left &&
          now - p.lastSeen < this.opts.peerStaleMs &&
          (connected.has(id) || now - p.lastSeen < this.opts.recentMs) &&
          p.round >= myRound - this.opts.lateRounds,
      )
      .map(([id]) => id);
  }

  /** Trainers that announced their departure within `recentMs`. */
  recentlyLeft(now: number): string[] {
    return [...this.peers]
      .filter(([, p]) => p.role === 'trainer' && p.left && now - p.lastSeen < this.opts.recentMs)
      .map(([id]) => id);
  }

  /**
   * The peers round `myRound` waits for: the active ones that sent an update for one of the last few rounds
   * (by round number, not by arrival, so that peers agree), or that were first heard of in this round or the
   * last (a newcomer's first update may come a round late).
   * A peer that only heartbeats is waited for two rounds; a slow peer that keeps sending late is still waited for.
   */
  expected(now: number, myRound: number, connected: ReadonlySet<string>): string[] {
    const since = myRound - this.opts.lateRounds - 1;
    return this.active(now, myRound, connected).filter((id) => {
      const p = this.peers.get(id);
      return (
        p !== undefined &&
        ((p.lastUpdateRound >= 0 && p.lastUpdateRound >= since) || p.firstSeenAt >= myRound - 1)
      );
    });
  }

  /** Every recent claim (round, anchor hash) of the given peers. */
  votes(peers: readonly string[]): Vote[] {
    return peers.flatMap((peer) =>
      [...(this.peers.get(peer)?.claims ?? [])].map(([round, anchorHash]) => ({ peer, round, anchorHash })),
    );
  }

  /** Whether `peer` has claimed any anchor at `round` or later. */
  claimedFrom(peer: string, round: number): boolean {
    return [...(this.peers.get(peer)?.claims.keys() ?? [])].some((r) => r >= round);
  }
}

/**
 * Records a claim: one anchor per peer and round, the latest (a peer that re-synced within a round now holds
 * the anchor it took); only the most recent {@link CLAIMS_PER_PEER} rounds are kept.
 */
function addClaim(claims: Map<number, string>, round: number, anchorHash: string): void {
  claims.set(round, anchorHash);
  if (claims.size > CLAIMS_PER_PEER) claims.delete(Math.min(...claims.keys()));
}
