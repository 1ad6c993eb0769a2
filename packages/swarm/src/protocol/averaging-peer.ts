import { type CodecName, decodeTensors, ErrorFeedback, isCompressError } from '@enjambre/compress';
import {
  DEFAULT_AGGREGATOR,
  DEFAULT_CODEC,
  DEFAULT_INNER_STEPS,
  DEFAULT_OUTER_LR,
  DEFAULT_OUTER_MOMENTUM,
  DEFAULT_TOPK_OUTER_LR,
  DEFAULT_TOPK_OUTER_MOMENTUM,
  defaultRoundTimeoutMs,
} from '@enjambre/config';
import { anchorFingerprint } from '../averaging/fingerprint.ts';
import { OuterNesterov } from '../averaging/outer.ts';
import { InvalidOptionError } from '../errors.ts';
import { TypedEventTarget } from '../events.ts';
import type { GossipVerdict } from '../host.ts';
import { sleep } from '../sleep.ts';
import type { SwarmMessageEvent } from '../swarm-node.ts';
import type { HardwareSummary, UpdateMessage } from '../wire.ts';
import {
  type AnchorChoice,
  type ChooseAnchorInput,
  chooseAnchor,
  isVouched,
  majorityClosed,
} from './core/anchor-vote.ts';
import { combine } from './core/combine.ts';
import {
  DEFAULT_LATE_ROUNDS,
  DEFAULT_MAX_ROUNDS_AHEAD,
  DEFAULT_OUTLIER_FACTOR,
  MAX_ROUND,
} from './core/limits.ts';
import { Membership } from './core/membership.ts';
import { type Contribution, RoundBook, sortByRoundAndSender } from './core/round-book.ts';
import type { AveragingTransport } from './core/transport.ts';
import { updateSizeBound } from './core/update-bound.ts';
import { AveragingError } from './errors.ts';
import { retryWithBackoff } from './retry.ts';
import { anchorHashOf, decodeSnapshot, encodeSnapshot } from './snapshot.ts';

/** A tensor that the swarm averages (personal, never-averaged parameters are not listed). */
export interface SharedTensor {
  name: string;
  length: number;
}

/** The local side of a round: what the protocol asks of the node's trainer. */
export interface InnerTrainer {
  /** Sets the shared parameters (θ_local ← θ_anchor) before an inner phase; personal ones stay. */
  loadShared(values: Float32Array[]): void;
  /** Current shared parameters, same order as the shared tensors. */
  readShared(): Float32Array[];
  /**
   * Runs up to `maxSteps` optimizer steps on local data, checking `shouldStop` between runs of
   * the graph. Reports what it managed.
   */
  train(opts: {
    maxSteps: number;
    shouldStop: () => boolean;
    signal?: AbortSignal;
    onProgress?: (p: { steps: number; samples: number; loss: number }) => void;
  }): Promise<{ steps: number; samples: number; loss: number }>;
  /** Fresh inner optimizer state (after joining or re-syncing). */
  resetOptimizer(): void;
}

export interface AveragingOptions {
  /** H: inner optimizer steps per round. Default 50. */
  innerSteps?: number;
  /** Update codec. Default 'sign'. */
  codec?: CodecName;
  /** Top-k fraction when codec is 'topk'. */
  topkFraction?: number;
  /** Outer learning rate. Default 0.7 (1.0 with top-k). */
  outerLr?: number;
  /** Outer Nesterov momentum. Default 0.9 (0 with top-k). */
  outerMomentum?: number;
  /** 'centered-clip' (robust at every size, the default) or 'mean' (comparison runs only). */
  aggregator?: 'centered-clip' | 'mean';
  /** How long to wait for the others after publishing. Default min(30 s, 0.25 × inner phase), at least 10 s. */
  roundTimeoutMs?: number;
  /** Updates up to this many rounds late are folded into the next aggregation. Default 2. */
  lateRounds?: number;
  /** Updates whose norm exceeds this multiple of the round's median norm are dropped. Default 10. */
  outlierFactor?: number;
  /** A peer unheard of for this long is no longer waited for. Default 30 s. */
  peerStaleMs?: number;
  /** How long a starting peer listens for a running swarm before starting from its own anchor. Default 3 s. */
  joinWaitMs?: number;
  /**
   * Trainer peers (this one included) to wait for before the first round, when no swarm is
   * running yet: peers started together then begin together. Default 1 (start at once).
   */
  minPeers?: number;
  /** Longest wait for `minPeers`, ms. Default 60 s. */
  minPeersTimeoutMs?: number;
  /** A claimed sample count weighs at most this much in aggregation. Default: no fixed cap (at most the median claim). */
  maxSamplesPerUpdate?: number;
  /** Claims of rounds more than this far ahead of this peer are ignored. Default 10. */
  maxRoundsAhead?: number;
  /** Hardware summary gossiped in heartbeats. */
  hardware?: HardwareSummary;
  /** Display name gossiped in heartbeats (what the inspector shows). */
  name?: string;
}

export interface RoundReport {
  round: number;
  steps: number;
  samples: number;
  loss: number;
  /** Updates aggregated (this peer's included). */
  contributors: number;
  /** Late updates from earlier rounds folded in. */
  late: number;
  /** Updates dropped as outliers at aggregation. */
  outliers: string[];
  method: string;
  innerMs: number;
  waitMs: number;
  /** Whether the wait ended because every expected peer had sent its update. */
  complete: boolean;
  anchorHash: string;
  peersSeen: number;
  bytesSent: number;
  bytesReceived: number;
  updateBytes: number;
}

export interface AveragingEvents extends Record<string, unknown> {
  round: RoundReport;
  /** Something an operator should know (re-sync, join, dropped update). */
  notice: { message: string };
  progress: { round: number; steps: number; samples: number; loss: number };
}

export { DEFAULT_INNER_STEPS };

const DEFAULT_PEER_STALE_MS = 30_000;
const DEFAULT_JOIN_WAIT_MS = 3_000;
const HEARTBEAT_INTERVAL_MS = 1_000;
/** A peer still training once others have published stops this fraction of the round timeout later. */
const STRAGGLER_STOP_FRACTION = 0.5;
/** A peer heard from this recently counts as active even without a direct connection. */
const RECENT_MS = 5_000;
/**
 * Snapshot fetches a joiner tries before giving up (waits of 0.25, 0.5, 1, 2, 4, 4, 4 s, ±25%);
 * a running peer re-syncing after drift tries fewer (it keeps training on its anchor meanwhile).
 */
const JOIN_SYNC_ATTEMPTS = 8;
const DRIFT_SYNC_ATTEMPTS = 4;
const RESYNC_BACKOFF_MS = 250;
const RESYNC_MAX_BACKOFF_MS = 4_000;
const LINGER_MS = 1_500;
/** How long a starting peer waits for peers that are ahead of it to agree on one state. */
const JOIN_AGREEMENT_WAIT_MS = 15_000;

/**
 * One peer of the gossip-averaging protocol (DiLoCo rounds over gossipsub): trains H inner
 * steps from the shared anchor, publishes its compressed pseudo-gradient, waits for the peers
 * it expects (or a timeout), aggregates robustly and takes the outer Nesterov step.
 * No peer is special: each one decides for itself from what it hears. The decisions are the
 * pure core's (./core: membership, round book, anchor vote, combine); this class drives them
 * with the clock and the network ({@link AveragingTransport}).
 */
export class AveragingPeer extends TypedEventTarget<AveragingEvents> {
  private readonly offsets: number[] = [];
  private readonly total: number;
  private anchor: Float32Array;
  /** sha256 of the anchor, recomputed when the anchor changes. */
  private anchorHashValue: string;
  private roundNo = 0;
  private readonly outer: OuterNesterov;
  private readonly feedback: ErrorFeedback;
  private readonly members: Membership;
  private readonly book: RoundBook;
  private readonly maxUpdateBytes: number;
  /** The snapshot served to peers: built once per anchor (a round), not per request. */
  private snapshotCache: { hash: string; round: number; bytes: Uint8Array } | undefined;
  private readonly opts: Required<
    Omit<
      AveragingOptions,
      | 'roundTimeoutMs'
      | 'topkFraction'
      | 'hardware'
      | 'name'
      | 'minPeers'
      | 'minPeersTimeoutMs'
      | 'maxSamplesPerUpdate'
    >
  > &
    AveragingOptions;
  private wake: (() => void) | undefined;
  private firstOtherUpdateAt: number | undefined;
  private lastLoss: number | null = null;
  private stepsDone = 0;
  private samplesDone = 0;
  private samplesPerSec = 0;
  private lastHeartbeat = 0;
  private readonly onMessage = (e: CustomEvent<SwarmMessageEvent>) => this.handle(e.detail);

  constructor(
    readonly node: AveragingTransport,
    private readonly trainer: InnerTrainer,
    readonly shared: SharedTensor[],
    initialAnchor: Float32Array[],
    options: AveragingOptions = {},
  ) {
    super();
    const topk = options.codec === 'topk';
    this.opts = {
      innerSteps: DEFAULT_INNER_STEPS,
      codec: DEFAULT_CODEC,
      outerLr: topk ? DEFAULT_TOPK_OUTER_LR : DEFAULT_OUTER_LR,
      outerMomentum: topk ? DEFAULT_TOPK_OUTER_MOMENTUM : DEFAULT_OUTER_MOMENTUM,
      aggregator: DEFAULT_AGGREGATOR,
      lateRounds: DEFAULT_LATE_ROUNDS,
      outlierFactor: DEFAULT_OUTLIER_FACTOR,
      peerStaleMs: DEFAULT_PEER_STALE_MS,
      joinWaitMs: DEFAULT_JOIN_WAIT_MS,
      maxRoundsAhead: DEFAULT_MAX_ROUNDS_AHEAD,
      ...stripUndefined(options),
    };
    let offset = 0;
    for (const t of shared) {
      this.offsets.push(offset);
      offset += t.length;
    }
    this.total = offset;
    this.anchor = concat(initialAnchor, this.total);
    this.anchorHashValue = anchorHashOf(this.anchor);
    this.outer = new OuterNesterov({ lr: this.opts.outerLr, momentum: this.opts.outerMomentum });
    this.feedback = new ErrorFeedback({
      codec: this.opts.codec,
      fraction: this.opts.codec === 'topk' ? this.opts.topkFraction : undefined,
    });
    this.members = new Membership({
      peerStaleMs: this.opts.peerStaleMs,
      recentMs: RECENT_MS,
      lateRounds: this.opts.lateRounds,
    });
    this.book = new RoundBook(this.opts.lateRounds);
    this.book.enter(0, this.anchorHashValue);
    this.maxUpdateBytes = updateSizeBound(shared, this.opts.codec, this.opts.topkFraction);
    node.setValidator('updates', (m, from) => this.validateUpdate(m, from));
    node.setSnapshotProvider(() => this.snapshotBytes());
    node.addEventListener('message', this.onMessage as EventListener);
  }

  /** The round this peer runs next. */
  get round(): number {
    return this.roundNo;
  }

  /** θ_anchor as one tensor per shared parameter (views: copy before keeping). */
  anchorTensors(): Float32Array[] {
    return this.shared.map((t, i) => this.anchor.subarray(this.offsets[i], this.offsets[i] + t.length));
  }

  /** sha256 of θ_anchor's bytes: equal on every peer that agrees. */
  anchorHash(): string {
    return this.anchorHashValue;
  }

  /** Every trainer peer heard of since this peer started, gone ones included. */
  seenPeers(): string[] {
    return this.members.seen();
  }

  /** Trainer peers heard of (heartbeat or update) and not known to have left. */
  knownPeers(): string[] {
    return this.members.known();
  }

  snapshot() {
    const momentum = this.outer.state().find((s) => s.key === '')?.momentum ?? new Float32Array(this.total);
    return { round: this.roundNo, anchor: this.anchor, momentum };
  }

  /** The encoded snapshot, built once per anchor and round. */
  private snapshotBytes(): Uint8Array {
    const c = this.snapshotCache;
    if (c?.hash === this.anchorHashValue && c.round === this.roundNo) return c.bytes;
    const bytes = encodeSnapshot(this.snapshot());
    this.snapshotCache = { hash: this.anchorHashValue, round: this.roundNo, bytes };
    return bytes;
  }

  /** Replaces the anchor (after an outer step or an adoption) and everything derived from it. */
  private setAnchor(anchor: Float32Array, round: number): void {
    this.anchor = anchor;
    this.anchorHashValue = anchorHashOf(anchor);
    this.roundNo = round;
  }

  /**
   * Restores this peer's own saved state (round, anchor, outer momentum: a checkpoint) before
   * {@link join}. A swarm that has moved on still wins: join and the drift check take the state
   * its majority vouches for.
   * @throws InvalidOptionError when the state does not fit the shared parameters.
   */
  restore(state: { round: number; anchor: Float32Array; momentum: Float32Array }): void {
    if (state.anchor.length !== this.total || state.momentum.length !== this.total)
      throw new InvalidOptionError(
        'restore',
        `the state has ${state.anchor.length} anchor and ${state.momentum.length} momentum values, the shared parameters ${this.total}`,
      );
    if (!Number.isInteger(state.round) || state.round < 0 || state.round > MAX_ROUND)
      throw new InvalidOptionError(
        'restore',
        `round must be an integer in [0, ${MAX_ROUND}], got ${state.round}`,
      );
    this.outer.loadState([{ key: '', momentum: Float32Array.from(state.momentum) }]);
    this.setAnchor(Float32Array.from(state.anchor), state.round);
    this.book.reset(state.round, this.anchorHashValue);
  }

  /**
   * Joins: listens briefly for a running swarm; when a strict majority of the peers heard vouch
   * for one state ahead of round 0, takes it (checked against what they vouched for). Otherwise
   * starts from the initial anchor.
   */
  async join(signal?: AbortSignal): Promise<{ joined: boolean; round: number; from: string[] }> {
    const deadline = Date.now() + this.opts.joinWaitMs;
    await this.heartbeat();
    const target = () => {
      const c = this.anchorChoice(false);
      return c !== undefined && c.round > this.roundNo ? c : undefined;
    };
    // A swarm starting together: once the peers waited for have all reported their anchor and none is
    // ahead, there is no running swarm to wait for.
    const startingTogether = () => {
      const minPeers = this.opts.minPeers ?? 1;
      const active = this.activePeers(Date.now());
      return (
        minPeers > 1 &&
        active.length + 1 >= minPeers &&
        active.every((id) => this.members.claimedFrom(id, 0)) &&
        !this.anyAhead()
      );
    };
    // Listens for the whole window before deciding: the first peer heard may be the only one claiming a
    // state (a newcomer that took it would then vouch for it too).
    while (Date.now() < deadline && !startingTogether()) {
      signal?.throwIfAborted();
      if (Date.now() - this.lastHeartbeat >= 250) await this.heartbeat();
      await sleep(100, signal);
    }
    if (!target()) {
      const until = Date.now() + (this.opts.minPeersTimeoutMs ?? 60_000);
      while (this.knownPeers().length + 1 < (this.opts.minPeers ?? 1) && Date.now() < until && !target()) {
        signal?.throwIfAborted();
        await this.heartbeat();
        await sleep(250, signal);
      }
    }
    // Most peers ahead but not (yet) agreeing, say caught between two rounds: give them a few more
    // seconds. A minority claiming to be ahead (one peer claiming round 200) is not waited for.
    const mostAhead = () => {
      const active = this.activePeers(Date.now());
      return 2 * active.filter((id) => this.members.claimedFrom(id, this.roundNo + 1)).length > active.length;
    };
    const until = Date.now() + JOIN_AGREEMENT_WAIT_MS;
    while (!target() && mostAhead() && Date.now() < until) {
      signal?.throwIfAborted();
      await sleep(100, signal);
    }
    if (!target()) return { joined: false, round: this.roundNo, from: [] };
    try {
      const from = await this.resync('join', signal);
      return { joined: true, round: this.roundNo, from };
    } catch (e) {
      if (signal?.aborted) throw e;
      // The peers that were ahead left meanwhile, or served bad state: start from this anchor.
      this.emit('notice', {
        message: `could not take the running swarm's state (${(e as Error).message}); starting from this peer's anchor`,
      });
      return { joined: false, round: this.roundNo, from: [] };
    }
  }

  /**
   * Brings this peer's anchor in line with the swarm's before a round: closes rounds the others
   * already closed from their updates, or re-syncs from a snapshot when a majority holds another anchor.
   * {@link runRound} does it first; call it before deciding whether to run another round.
   */
  async sync(signal?: AbortSignal): Promise<void> {
    await this.checkDrift(signal);
  }

  /** Runs one round: inner phase, publish, wait, aggregate, outer step. */
  async runRound(signal?: AbortSignal): Promise<RoundReport> {
    await this.checkDrift(signal);
    const r = this.roundNo;
    const trafficBefore = this.node.traffic();
    const start = Date.now();
    // Updates of this round may have arrived while this peer was still closing the previous one.
    this.firstOtherUpdateAt = this.book.receivedFor(r).length ? start : undefined;
    this.trainer.loadShared(this.anchorTensors());
    const expectedTimeout = () => this.roundTimeout(Date.now() - start);
    // A peer that is still training when others have published stops with what it has, half a
    // timeout later: early enough that its update reaches them before their wait for it ends.
    const inner = await this.trainer.train({
      maxSteps: this.opts.innerSteps,
      shouldStop: () =>
        this.firstOtherUpdateAt !== undefined &&
        Date.now() > this.firstOtherUpdateAt + STRAGGLER_STOP_FRACTION * expectedTimeout(),
      signal,
      onProgress: (p) => {
        this.lastLoss = p.loss;
        this.emit('progress', { round: r, ...p });
        if (Date.now() - this.lastHeartbeat >= HEARTBEAT_INTERVAL_MS) {
          const rate = p.samples / Math.max(1e-3, (Date.now() - start) / 1000);
          void this.heartbeat({
            step: this.stepsDone + p.steps,
            samples: this.samplesDone + p.samples,
            rate,
          });
        }
      },
    });
    const innerMs = Date.now() - start;
    this.stepsDone += inner.steps;
    this.samplesDone += inner.samples;
    this.samplesPerSec = inner.samples / Math.max(1e-3, innerMs / 1000);
    this.lastLoss = inner.loss;

    // Pseudo-gradient Δ = θ_anchor − θ_local, compressed with error feedback.
    const local = this.trainer.readShared();
    const deltas = this.shared.map((t, i) => {
      const a = this.anchor.subarray(this.offsets[i], this.offsets[i] + t.length);
      const d = new Float32Array(t.length);
      for (let j = 0; j < t.length; j++) d[j] = a[j] - local[i][j];
      return { name: t.name, values: d };
    });
    const { bytes, decoded } = this.feedback.compressTensors(deltas);
    const anchorHash = this.anchorHash();
    const own: Contribution = {
      sender: this.node.peerId,
      round: r,
      samples: Math.max(1, inner.samples),
      anchorHash,
      values: concat(
        decoded.map((d) => d.values),
        this.total,
      ),
    };
    if (this.node.topicPeers('updates').length > 0) {
      await this.node.publishUpdate({
        round: r,
        samples: own.samples,
        anchorHash,
        codec: this.opts.codec,
        bytes,
      });
    }

    // Peers that already closed round r did so without this update: they will fold it, as a late
    // one, into the round they are in when it arrives. When most did, do the same, so that all
    // anchors stay identical without a re-sync (which costs a whole snapshot). Peers that finished
    // and left after closing round r count too (the last round of a run). Claims beyond the late
    // window are not believed.
    const now = Date.now();
    const others = [...new Set([...this.activePeers(now), ...this.members.recentlyLeft(now)])];
    const closedWithoutUs = others.filter((id) => {
      const their = this.members.roundOf(id);
      return their > r && their <= r + this.opts.lateRounds;
    });
    const othersOfRound = this.book.receivedFor(r).length + this.book.lateCount();
    const ownIsLate = othersOfRound > 0 && 2 * closedWithoutUs.length > others.length;
    if (ownIsLate) {
      // They fold it, as every late update, at a fixed round after its own.
      own.foldAt = this.book.foldRound(r);
      this.emit('notice', {
        message: `round ${r}: ${closedWithoutUs.length} of ${others.length} peers closed it before this peer's update; it joins round ${own.foldAt} as a late update, as they will count it`,
      });
    }

    // Wait for every peer expected in this round, or the timeout.
    const waitStart = Date.now();
    const timeout = this.roundTimeout(innerMs);
    const expected = () => this.members.expected(Date.now(), this.roundNo, this.connectedSet());
    let complete = this.haveAll(r, expected());
    while (!complete && Date.now() - waitStart < timeout) {
      signal?.throwIfAborted();
      await this.waitForMessage(Math.min(250, timeout - (Date.now() - waitStart)), signal);
      // Heartbeats while waiting keep this peer active in the eyes of non-neighbours.
      if (Date.now() - this.lastHeartbeat >= HEARTBEAT_INTERVAL_MS) await this.heartbeat();
      complete = this.haveAll(r, expected());
    }
    const waitMs = Date.now() - waitStart;
    const silent = expected().filter((id) => !this.book.has(r, id));

    const { contributions, kept, outliers, method, ownIncluded } = this.closeRound(r, own, ownIsLate);
    const trafficAfter = this.node.traffic();
    // Counted later, where the others count it.
    if (!ownIncluded) this.book.keepOwnLate({ ...own, foldAt: this.book.foldRound(r) });
    const report: RoundReport = {
      round: r,
      steps: inner.steps,
      samples: inner.samples,
      loss: inner.loss,
      contributors: kept.length,
      late: contributions.filter((c) => c.round < r).length,
      outliers: outliers.map((c) => c.sender),
      method,
      innerMs,
      waitMs,
      complete,
      anchorHash: this.anchorHash(),
      peersSeen: this.knownPeers().length,
      bytesSent: trafficAfter.totalSent - trafficBefore.totalSent,
      bytesReceived: trafficAfter.totalReceived - trafficBefore.totalReceived,
      updateBytes: bytes.length,
    };
    for (const o of report.outliers)
      this.emit('notice', { message: `dropped an outlier update from ${o} (round ${r})` });
    if (silent.length > 0) {
      this.emit('notice', {
        message: `round ${r}: no update in time from ${silent.length} expected peer(s)`,
      });
    }
    if (kept.length === 1 && this.knownPeers().length > 0) {
      this.emit('notice', {
        message: `round ${r} closed with this peer's update only, though ${this.knownPeers().length} peer(s) are known: no update arrived in time`,
      });
    }
    this.emit('round', report);
    await this.heartbeat();
    return report;
  }

  /**
   * Aggregates round r's updates (this peer's `own` unless it is late, those received, the late ones
   * due) and takes the outer step. Peers that aggregate the same updates get bit-identical anchors.
   * Whether the others counted this peer's update in round r is a race (they may close just before
   * it arrives); when a strict majority of the others already claim an anchor for round r + 1, the
   * choice (with or without it) that yields their anchor is taken.
   */
  private closeRound(r: number, own: Contribution | undefined, ownIsLate = false) {
    const { contributions: base } = this.book.close(r, []);
    const withOwn = own ? sortByRoundAndSender([own, ...base]) : base;
    const variants = own === undefined ? [base] : ownIsLate ? [base, withOwn] : [withOwn, base];
    const target = this.majorityClaim(r + 1);
    const momentum = this.outer.state();
    let chosen = variants[0];
    let step = { next: this.anchor, result: undefined as ReturnType<typeof combine> | undefined };
    let matches = false;
    for (const variant of target === undefined ? variants.slice(0, 1) : variants) {
      this.outer.loadState(momentum);
      [chosen, step] = [variant, this.outerStepWith(variant)];
      matches = target !== undefined && anchorHashOf(step.next) === target;
      if (target === undefined || matches) break;
    }
    if (target !== undefined && !matches && chosen !== variants[0]) {
      // Neither matches: keep the default choice.
      this.outer.loadState(momentum);
      [chosen, step] = [variants[0], this.outerStepWith(variants[0])];
    }
    this.setAnchor(step.next, r + 1);
    this.book.enter(this.roundNo, this.anchorHashValue);
    return {
      contributions: chosen,
      kept: step.result?.kept ?? [],
      outliers: step.result?.outliers ?? [],
      method: step.result?.method ?? 'none',
      ownIncluded: own !== undefined && chosen.includes(own),
    };
  }

  /**
   * The anchor after the outer step with `contributions`' robust aggregate (from the momentum loaded
   * now); with none (this peer's own update is late and nothing else arrived), the anchor stays.
   */
  private outerStepWith(contributions: Contribution[]): {
    next: Float32Array;
    result: ReturnType<typeof combine> | undefined;
  } {
    if (contributions.length === 0) return { next: this.anchor, result: undefined };
    const result = combine(contributions, {
      aggregator: this.opts.aggregator,
      outlierFactor: this.opts.outlierFactor,
      maxSamples: this.opts.maxSamplesPerUpdate,
    });
    const next = this.anchor.slice();
    this.outer.step(next, result.values);
    return { next, result };
  }

  /** The anchor hash closing round `r` from what this peer holds (without its own update) would give. */
  private previewAnchorHash(r: number): string {
    const momentum = this.outer.state();
    const { next } = this.outerStepWith(this.book.peek(r));
    this.outer.loadState(momentum);
    return next === this.anchor ? this.anchorHashValue : anchorHashOf(next);
  }

  /** The anchor hash a strict majority of the other active peers claim for `round`, if any. */
  private majorityClaim(round: number): string | undefined {
    const input = this.voteInput(false);
    const counts = new Map<string, number>();
    for (const v of input.votes)
      if (v.round === round) counts.set(v.anchorHash, (counts.get(v.anchorHash) ?? 0) + 1);
    for (const [hash, n] of counts) if (2 * n > input.electorate.length) return hash;
    return undefined;
  }

  /**
   * A peer a round behind (a strict majority of the others have closed its current round) closes
   * that round from the updates it received, without training: the same aggregate the others took,
   * so the anchors agree without fetching a snapshot (8 bytes per parameter, against 1/8 for a sign
   * update). A peer slower than the round timeout thus trains every other round instead of
   * re-syncing in every one. Returns the number of rounds closed this way.
   */
  private catchUp(): number {
    let closed = 0;
    for (;;) {
      const active = this.activePeers(Date.now());
      const ahead = majorityClosed(
        this.roundNo,
        active.map((peer) => ({ peer, round: this.members.roundOf(peer) })),
        this.opts.maxRoundsAhead,
      );
      if (ahead === undefined) return closed;
      const r = this.roundNo;
      if (!ahead.every((id) => this.book.hasOnAnchor(r, id))) return closed;
      // Claims of being ahead are only claims: when a strict majority of the others claim an anchor
      // for the next round, close the round only if what this peer holds gives that anchor.
      const target = this.majorityClaim(r + 1);
      if (target !== undefined && this.previewAnchorHash(r) !== target) return closed;
      const got = this.book.receivedFor(r).length;
      this.closeRound(r, undefined);
      closed++;
      this.emit('notice', {
        message: `round ${r}: ${ahead.length} of ${active.length} peers had closed it; closed it from their ${got} update(s) without training, to catch up`,
      });
    }
  }

  /**
   * After the last round: waits a little for the peers to report their anchors and adopts the
   * majority's if this peer's differs, so that all peers end on the same model.
   */
  async settle(settleMs = 5_000, signal?: AbortSignal): Promise<void> {
    await this.heartbeat();
    const deadline = Date.now() + settleMs;
    const reported = () => {
      // Every active peer has claimed an anchor for this round or a later one.
      return this.activePeers(Date.now()).every((id) => this.members.claimedFrom(id, this.roundNo));
    };
    while (Date.now() < deadline && !reported()) await this.waitForMessage(200, signal);
    await this.checkDrift(signal);
    await this.heartbeat();
    // Stay a moment so that peers on a minority anchor can still fetch the majority's state.
    const linger = Date.now() + LINGER_MS;
    while (Date.now() < linger && !signal?.aborted) await this.waitForMessage(200, signal);
  }

  /** Gossips this peer's progress (what the inspector reads) and its vote on the anchor. */
  async heartbeat(live?: { step: number; samples: number; rate: number }): Promise<void> {
    if (this.node.topicPeers('heartbeats').length === 0) return;
    const t = this.node.traffic();
    this.lastHeartbeat = Date.now();
    await this.node
      .publishHeartbeat({
        round: this.roundNo,
        step: live?.step ?? this.stepsDone,
        samplesDone: live?.samples ?? this.samplesDone,
        loss: this.lastLoss !== null && Number.isFinite(this.lastLoss) ? this.lastLoss : null,
        samplesPerSec: live?.rate ?? this.samplesPerSec,
        bytesIn: t.totalReceived,
        bytesOut: t.totalSent,
        hardware: this.opts.hardware ?? { provider: 'cpu', deviceName: 'unknown', cores: 1 },
        fingerprint: Float32Array.from(anchorFingerprint(this.anchor)),
        anchorHash: this.anchorHashValue,
        role: 'trainer',
        name: this.opts.name,
      })
      .catch(() => undefined);
  }

  /** Announces departure and stops listening. The node itself is the caller's to stop. */
  async leave(reason = 'leaving'): Promise<void> {
    this.node.removeEventListener('message', this.onMessage as EventListener);
    if (this.node.topicPeers('heartbeats').length > 0)
      await this.node.publishLeave(this.roundNo, reason).catch(() => undefined);
  }

  // ---- message handling ----

  /**
   * The gossip validator: outside the late window, ignored (not forwarded, no penalty); another codec,
   * a payload larger than this model's update can be, or inline bytes that do not decode to this model's
   * shapes with finite values: rejected (the sender's score drops).
   */
  private validateUpdate(m: UpdateMessage, _from: string): GossipVerdict {
    if (m.round < this.roundNo - this.opts.lateRounds || m.round > this.roundNo + this.opts.lateRounds)
      return 'ignore';
    if (m.codec !== this.opts.codec) return 'reject';
    if (m.payload.kind === 'hash') return m.payload.byteLength <= this.maxUpdateBytes ? 'accept' : 'reject';
    if (m.payload.bytes.length > this.maxUpdateBytes || !this.decodeUpdate(m.payload.bytes)) return 'reject';
    return 'accept';
  }

  /** Decodes and checks an update's bytes; undefined when malformed or non-finite. */
  private decodeUpdate(bytes: Uint8Array): Float32Array | undefined {
    try {
      const tensors = decodeTensors(
        bytes,
        this.shared.map((t) => ({ name: t.name, length: t.length })),
      );
      const values = concat(
        tensors.map((t) => t.values),
        this.total,
      );
      for (let i = 0; i < values.length; i++) if (values[i] - values[i] !== 0) return undefined;
      return values;
    } catch (e) {
      if (isCompressError(e) || e instanceof AveragingError) return undefined;
      throw e;
    }
  }

  private handle(e: SwarmMessageEvent): void {
    const now = Date.now();
    if (e.topic === 'heartbeats') {
      const m = e.message;
      if (m.type === 'leave') this.members.leave(e.from, now);
      else this.members.heartbeat(e.from, m, now, this.roundNo);
      this.wake?.();
      return;
    }
    void this.acceptUpdate(e.message, e.from).catch((err: unknown) => {
      // Nothing a peer sends may stop this one: report and go on.
      this.emit('notice', { message: `could not take an update from ${e.from}: ${(err as Error).message}` });
    });
  }

  private async acceptUpdate(m: UpdateMessage, from: string): Promise<void> {
    if (m.round > MAX_ROUND) return;
    if (this.book.has(m.round, from)) {
      this.node.penalize(from, 'duplicate-update');
      this.emit('notice', { message: `dropped a second update from ${from} for round ${m.round}` });
      return;
    }
    if (m.round >= this.roundNo) this.firstOtherUpdateAt ??= Date.now();
    let bytes: Uint8Array;
    try {
      bytes = await this.node.resolveUpdatePayload(m, { maxBytes: this.maxUpdateBytes });
    } catch (err) {
      this.emit('notice', {
        message: `could not fetch the update of ${from} (round ${m.round}): ${(err as Error).message}`,
      });
      return;
    }
    const values = this.decodeUpdate(bytes);
    if (!values) {
      this.node.penalize(from, 'malformed-update');
      this.emit('notice', { message: `rejected a malformed update from ${from} (round ${m.round})` });
      return;
    }
    const result = this.book.offer({
      sender: from,
      round: m.round,
      samples: m.samples,
      anchorHash: m.anchorHash,
      values,
    });
    if (result === 'duplicate') this.node.penalize(from, 'duplicate-update');
    // Whatever became of it, the update tells which anchor its sender is on and that it trains.
    this.members.update(from, m.round, m.anchorHash, Date.now(), this.roundNo);
    if (result !== 'accepted' && result !== 'wrong-anchor') {
      this.emit('notice', { message: `dropped an update from ${from} (round ${m.round}): ${result}` });
    }
    this.wake?.();
  }

  // ---- coordination without a coordinator ----

  private connectedSet(): Set<string> {
    return new Set(this.node.connectedPeers());
  }

  private activePeers(now: number): string[] {
    return this.members.active(now, this.roundNo, this.connectedSet());
  }

  private haveAll(round: number, expected: readonly string[]): boolean {
    return expected.every((id) => this.book.has(round, id));
  }

  private roundTimeout(innerMs: number): number {
    return this.opts.roundTimeoutMs ?? defaultRoundTimeoutMs(innerMs);
  }

  /** What the anchor vote is taken on: this peer, the active peers and their recent claims. */
  private voteInput(selfVotes: boolean): ChooseAnchorInput {
    const electorate = this.activePeers(Date.now());
    return {
      self: { round: this.roundNo, anchorHash: this.anchorHashValue },
      selfVotes,
      electorate,
      votes: this.members.votes(electorate),
      maxRoundsAhead: this.opts.maxRoundsAhead,
    };
  }

  /** The anchor a strict majority of the active peers vouch for, when it is not this peer's. */
  private anchorChoice(selfVotes: boolean): AnchorChoice | undefined {
    return chooseAnchor(this.voteInput(selfVotes));
  }

  /** Whether any active peer claims a round ahead of this one (a swarm is running). */
  private anyAhead(): boolean {
    return this.activePeers(Date.now()).some((id) => this.members.claimedFrom(id, this.roundNo + 1));
  }

  /**
   * Drift detection: closes the rounds a majority already closed (catch-up), then, when a strict
   * majority of the active peers vouch for another anchor, takes it.
   */
  private async checkDrift(signal?: AbortSignal): Promise<void> {
    if (this.catchUp() > 0) await this.heartbeat();
    if (!this.anchorChoice(true)) return;
    try {
      await this.resync('drift', signal);
    } catch (e) {
      // Peers that moved on mid-fetch, or a bad snapshot, are no reason to stop training: stay on
      // this anchor and try again at the next round's drift check.
      if (signal?.aborted) throw e;
      this.emit('notice', {
        message: `could not re-sync (${(e as Error).message}); continuing on this peer's anchor`,
      });
    }
  }

  /**
   * Fetches the state a strict majority vouches for from the peers that vouch for it, checks every field
   * (bounds, finite values, sizes) and that the state fetched is itself vouched for by a strict majority
   * (round and anchor hash), and only then adopts all of it at once. A peer that served a malformed
   * snapshot, or another anchor than it vouched for at that round, is penalised; the fetch is tried again.
   */
  /**
   * Takes the state a strict majority of the active peers vouch for: a joiner (which does not vote)
   * or a drifted peer (which does). The swarm's state moves on at every outer step, so a fetch that
   * straddles one fails and is tried again, with the vote taken anew each time.
   */
  private async resync(reason: 'join' | 'drift', signal?: AbortSignal): Promise<string[]> {
    const selfVotes = reason === 'drift';
    const attempts = reason === 'join' ? JOIN_SYNC_ATTEMPTS : DRIFT_SYNC_ATTEMPTS;
    const refused = new Set<string>();
    return retryWithBackoff(() => this.takeVouchedSnapshot(selfVotes, refused, signal), {
      attempts,
      baseMs: RESYNC_BACKOFF_MS,
      maxMs: RESYNC_MAX_BACKOFF_MS,
      signal,
      onRetry: (e, attempt, waitMs) =>
        this.emit('notice', {
          message: `could not take the swarm's state (${(e as Error).message}); trying again in ${(waitMs / 1000).toFixed(1)} s (${attempt}/${attempts})`,
        }),
    });
  }

  /** One try of {@link resync}: fetch, check and adopt the vouched state, or throw why not. */
  private async takeVouchedSnapshot(
    selfVotes: boolean,
    refused: Set<string>,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const choice = this.anchorChoice(selfVotes);
    if (choice === undefined)
      throw new AveragingError('no majority of the active peers vouches for one state');
    const candidates = choice.peers.filter((p) => !refused.has(p));
    if (candidates.length === 0)
      throw new AveragingError('every peer vouching for the majority state served a bad snapshot');
    const result = await this.node.fetchSnapshot(candidates.slice(0, 3), {
      quorum: Math.min(2, candidates.length),
      signal,
    });
    let s: ReturnType<typeof decodeSnapshot>;
    try {
      s = decodeSnapshot(result.bytes, this.total);
    } catch (e) {
      this.refuseSnapshot(result.source, (e as Error).message, refused);
      throw e;
    }
    const hash = anchorHashOf(s.anchor);
    if (!isVouched(this.voteInput(selfVotes), s.round, hash)) {
      const error = new AveragingError(
        `the state at round ${s.round} (anchor ${hash.slice(0, 12)}…) served by ${result.source} is not vouched for by a majority`,
      );
      // At the round it vouched for, a peer serves the anchor it vouched for, or it lies.
      if (s.round === choice.round) this.refuseSnapshot(result.source, error.message, refused);
      throw error;
    }
    const before = this.roundNo;
    this.outer.loadState([{ key: '', momentum: s.momentum }]);
    this.setAnchor(s.anchor, s.round);
    this.book.reset(s.round, this.anchorHashValue);
    this.trainer.resetOptimizer();
    await this.heartbeat();
    this.emit('notice', {
      message: `took the swarm's state at round ${s.round} from ${result.agreeing.length} agreeing peer(s) of ${choice.peers.length} vouching (was at round ${before})`,
    });
    return result.agreeing;
  }

  private refuseSnapshot(peer: string, why: string, refused: Set<string>): void {
    refused.add(peer);
    this.node.penalize(peer, 'bad-snapshot');
    this.emit('notice', { message: `refused the snapshot of ${peer}: ${why}` });
  }

  private waitForMessage(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}

function concat(parts: Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    if (o + p.length > total) throw new AveragingError(`expected ${total} shared values, got more`);
    out.set(p, o);
    o += p.length;
  }
  if (o !== total) throw new AveragingError(`expected ${total} shared values, got ${o}`);
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
