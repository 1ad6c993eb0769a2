/**
 * Which anchor to move to, decided by the peers rather than by any one of them: a peer moves only when a strict
 * majority of the distinct active peers vouch for one (round, anchor hash), never because a peer claims a
 * higher round.
 */
import { MAX_ROUND } from './limits.ts';

/** One peer's claim: it is at `round` with an anchor of sha256 `anchorHash`. */
export interface Vote {
  peer: string;
  round: number;
  anchorHash: string;
}

/** The anchor to take, and the peers that vouch for it (where to fetch it from). */
export interface AnchorChoice {
  round: number;
  anchorHash: string;
  peers: string[];
}

export interface ChooseAnchorInput {
  /** This peer's round and anchor hash. */
  self: { round: number; anchorHash: string };
  /**
   * Whether this peer's own anchor is one of the votes: true once it takes part in the swarm, false for a
   * peer that has just started and holds no shared state yet.
   */
  selfVotes: boolean;
  /** Distinct active peers (their number is the electorate, whether or not they voted). */
  electorate: readonly string[];
  /**
   * Their claims: any number per peer (one per round), a peer's claims of several rounds supporting each of
   * those (round, anchor) pairs. Claims of peers outside the electorate are ignored.
   */
  votes: readonly Vote[];
  /** Claims more than this many rounds ahead of this peer are ignored (a voting peer only). */
  maxRoundsAhead: number;
}

/**
 * Returns the anchor this peer should move to, or undefined to stay. The winning claim must be backed by
 * more than half of the electorate (this peer included when it votes), be ahead of this peer or at its round
 * with another anchor, and be a plausible round; of several, the latest round wins.
 */
export function chooseAnchor(input: ChooseAnchorInput): AnchorChoice | undefined {
  const voters = input.electorate.length + (input.selfVotes ? 1 : 0);
  let best: AnchorChoice | undefined;
  for (const g of supportedClaims(input)) {
    const isMine = g.round === input.self.round && g.anchorHash === input.self.anchorHash;
    if (isMine || g.round < input.self.round || 2 * g.peers.length <= voters) continue;
    if (best === undefined || g.round > best.round) best = g;
  }
  return best;
}

/**
 * Whether a state at (round, anchorHash) is vouched for by a strict majority of the electorate: the check a
 * fetched snapshot must pass before it is adopted.
 */
export function isVouched(input: ChooseAnchorInput, round: number, anchorHash: string): boolean {
  const voters = input.electorate.length + (input.selfVotes ? 1 : 0);
  const g = supportedClaims(input).find((c) => c.round === round && c.anchorHash === anchorHash);
  return g !== undefined && 2 * g.peers.length > voters;
}

/** The distinct (round, anchor) claims of the electorate, each with its distinct supporters. */
function supportedClaims(input: ChooseAnchorInput): AnchorChoice[] {
  const electorate = new Set(input.electorate);
  const groups = new Map<string, AnchorChoice>();
  for (const v of input.votes) {
    if (!electorate.has(v.peer)) continue;
    if (!Number.isInteger(v.round) || v.round < 0 || v.round > MAX_ROUND) continue;
    if (input.selfVotes && v.round > input.self.round + input.maxRoundsAhead) continue;
    const key = `${v.round}:${v.anchorHash}`;
    const g = groups.get(key) ?? { round: v.round, anchorHash: v.anchorHash, peers: [] };
    if (!g.peers.includes(v.peer)) g.peers.push(v.peer);
    groups.set(key, g);
  }
  for (const g of groups.values()) g.peers.sort();
  return [...groups.values()];
}

/**
 * Whether this peer, at `myRound`, should close that round from the others' updates without training: a
 * strict majority of the other active peers already closed it (each claim within `maxRoundsAhead`).
 */
export function majorityClosed(
  myRound: number,
  others: readonly { peer: string; round: number }[],
  maxRoundsAhead: number,
): string[] | undefined {
  const ahead = others.filter((o) => o.round > myRound && o.round <= myRound + maxRoundsAhead);
  return ahead.length > 0 && 2 * ahead.length > others.length ? ahead.map((o) => o.peer) : undefined;
}
