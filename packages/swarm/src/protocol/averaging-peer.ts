import { createHash } from 'node:crypto';
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
import { aggregate } from '../averaging/aggregate.ts';
import { anchorFingerprint } from '../averaging/fingerprint.ts';
import { OuterNesterov } from '../averaging/outer.ts';
import { InvalidOptionError } from '../errors.ts';
import { TypedEventTarget } from '../events.ts';
import type { GossipVerdict } from '../host.ts';
import { sleep } from '../sleep.ts';
import type { SwarmMessageEvent, SwarmNode } from '../swarm-node.ts';
import type { HardwareSummary, HeartbeatMessage, UpdateMessage } from '../wire.ts';
import { AveragingError } from './errors.ts';
import { retryWithBackoff } from './retry.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';

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
  /** 'centered-clip' (robust, the default; plain mean under 4 updates) or 'mean'. */
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

interface PeerInfo {
  lastSeen: number;
  round: number;
  role: 'trainer' | 'observer';
  fingerprintKey?: string;
  left: boolean;
}

interface Contribution {
  sender: string;
  round: number;
  samples: number;
  values: Float32Array;
  /** For this peer's own late update: the first round it is aggregated in (where the others fold it). */
  foldAt?: number;
}

export { DEFAULT_INNER_STEPS };

const DEFAULT_LATE_ROUNDS = 2;
const DEFAULT_OUTLIER_FACTOR = 10;
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

/**
 * One peer of the gossip-averaging protocol (DiLoCo rounds over gossipsub): trains H inner
 * steps from the shared anchor, publishes its compressed pseudo-gradient, waits for the peers
 * it has seen active (or a timeout), aggregates robustly and takes the outer Nesterov step.
 * No peer is special: each one decides for itself from what it hears.
 */
export class AveragingPeer extends TypedEventTarget<AveragingEvents> {
  private readonly offsets: number[] = [];
  private readonly total: number;
  private anchor: Float32Array;
  private roundNo = 0;
  private readonly outer: OuterNesterov;
  private readonly feedback: ErrorFeedback;
  private readonly peers = new Map<string, PeerInfo>();
  private readonly received = new Map<number, Map<string, Contribution>>();
  private readonly late: Contribution[] = [];
  private readonly opts: Required<
    Omit<
      AveragingOptions,
      'roundTimeoutMs' | 'topkFraction' | 'hardware' | 'name' | 'minPeers' | 'minPeersTimeoutMs'
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
    readonly node: SwarmNode,
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
      ...stripUndefined(options),
    };
    let offset = 0;
    for (const t of shared) {
      this.offsets.push(offset);
      offset += t.length;
    }
    this.total = offset;
    this.anchor = concat(initialAnchor, this.total);
    this.outer = new OuterNesterov({ lr: this.opts.outerLr, momentum: this.opts.outerMomentum });
    this.feedback = new ErrorFeedback({
      codec: this.opts.codec,
      fraction: this.opts.codec === 'topk' ? this.opts.topkFraction : undefined,
    });
    node.setValidator('updates', (m, from) => this.validateUpdate(m, from));
    node.setSnapshotProvider(() => encodeSnapshot(this.snapshot()));
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
    return sha256(this.anchor);
  }

  /** Every trainer peer heard of since this peer started, gone ones included. */
  seenPeers(): string[] {
    return [...this.peers].filter(([, p]) => p.role === 'trainer').map(([id]) => id);
  }

  /** Trainer peers heard of (heartbeat or update) and not known to have left. */
  knownPeers(): string[] {
    return [...this.peers].filter(([, p]) => p.role === 'trainer' && !p.left).map(([id]) => id);
  }

  snapshot() {
    const momentum = this.outer.state().find((s) => s.key === '')?.momentum ?? new Float32Array(this.total);
    return { round: this.roundNo, anchor: this.anchor, momentum };
  }

  /**
   * Restores this peer's own saved state (round, anchor, outer momentum: a checkpoint) before
   * {@link join}. A swarm that runs ahead still wins: join and the drift check re-sync from it.
   * @throws InvalidOptionError when the state does not fit the shared parameters.
   */
  restore(state: { round: number; anchor: Float32Array; momentum: Float32Array }): void {
    if (state.anchor.length !== this.total || state.momentum.length !== this.total)
      throw new InvalidOptionError(
        'restore',
        `the state has ${state.anchor.length} anchor and ${state.momentum.length} momentum values, the shared parameters ${this.total}`,
      );
    if (!Number.isInteger(state.round) || state.round < 0)
      throw new InvalidOptionError('restore', `round must be an integer ≥ 0, got ${state.round}`);
    this.anchor = Float32Array.from(state.anchor);
    this.outer.loadState([{ key: '', momentum: Float32Array.from(state.momentum) }]);
    this.roundNo = state.round;
  }

  /**
   * Joins: listens briefly for a running swarm; if one is ahead of round 0, takes its state
   * from two or three peers whose snapshots agree. Otherwise starts from the initial anchor.
   */
  async join(signal?: AbortSignal): Promise<{ joined: boolean; round: number; from: string[] }> {
    const deadline = Date.now() + this.opts.joinWaitMs;
    await this.heartbeat();
    while (Date.now() < deadline && !this.peersAhead().length) {
      signal?.throwIfAborted();
      await sleep(100, signal);
    }
    const ahead = this.peersAhead();
    if (ahead.length === 0) {
      const until = Date.now() + (this.opts.minPeersTimeoutMs ?? 60_000);
      while (
        this.knownPeers().length + 1 < (this.opts.minPeers ?? 1) &&
        Date.now() < until &&
        !this.peersAhead().length
      ) {
        signal?.throwIfAborted();
        await this.heartbeat();
        await sleep(250, signal);
      }
      if (!this.peersAhead().length) return { joined: false, round: this.roundNo, from: [] };
    }
    try {
      const from = await this.resync(this.peersAhead(), 'join', signal);
      return { joined: true, round: this.roundNo, from };
    } catch (e) {
      // The peers that were ahead left meanwhile: there is no running swarm to join.
      if (this.activePeers().length > 0 || signal?.aborted) throw e;
      this.emit('notice', {
        message: `the running swarm left before its state could be fetched; starting afresh`,
      });
      return { joined: false, round: this.roundNo, from: [] };
    }
  }

  /**
   * Brings this peer's anchor in line with the swarm's before a round: closes rounds the others
   * already closed from their updates, or re-syncs from a snapshot when the anchor drifted.
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
    this.firstOtherUpdateAt = this.received.get(r)?.size ? start : undefined;
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
    const own: Contribution = {
      sender: this.node.peerId,
      round: r,
      samples: Math.max(1, inner.samples),
      values: concat(
        decoded.map((d) => d.values),
        this.total,
      ),
    };
    const anchorHash = this.anchorHash();
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
    // and left after closing round r count too (the last round of a run).
    const others = [...new Set([...this.activePeers(), ...this.recentlyLeft()])];
    const closedWithoutUs = others.filter((id) => (this.peers.get(id)?.round ?? 0) > r);
    const othersOfRound = (this.received.get(r)?.size ?? 0) + this.late.length;
    const ownIsLate = othersOfRound > 0 && 2 * closedWithoutUs.length > others.length;
    if (ownIsLate) {
      // They fold it into the round they are in when it arrives: most likely the median one.
      const rounds = closedWithoutUs.map((id) => this.peers.get(id)?.round ?? r + 1).sort((a, b) => a - b);
      own.foldAt = rounds[Math.floor((rounds.length - 1) / 2)];
      this.emit('notice', {
        message: `round ${r}: ${closedWithoutUs.length} of ${others.length} peers closed it before this peer's update; it joins round ${own.foldAt} as a late update, as they will count it`,
      });
    }

    // Wait for every trainer peer seen active recently, or the timeout.
    const waitStart = Date.now();
    const timeout = this.roundTimeout(innerMs);
    let complete = this.haveAll(r);
    while (!complete && Date.now() - waitStart < timeout) {
      signal?.throwIfAborted();
      await this.waitForMessage(Math.min(250, timeout - (Date.now() - waitStart)), signal);
      // Heartbeats while waiting keep this peer active in the eyes of non-neighbours.
      if (Date.now() - this.lastHeartbeat >= HEARTBEAT_INTERVAL_MS) await this.heartbeat();
      complete = this.haveAll(r);
    }
    const waitMs = Date.now() - waitStart;

    const { contributions, kept, outliers, result } = this.closeRound(r, ownIsLate ? [] : [own]);
    const trafficAfter = this.node.traffic();
    // Counted next round, where the others count it.
    if (ownIsLate) this.late.push(own);
    const report: RoundReport = {
      round: r,
      steps: inner.steps,
      samples: inner.samples,
      loss: inner.loss,
      contributors: kept.length,
      late: contributions.filter((c) => c.round < r).length,
      outliers: outliers.map((c) => c.sender),
      method: result.method,
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
   * Aggregates round r's updates (this peer's `own`, those received, the late ones) and takes the
   * outer step. Contributions are sorted into a canonical order: peers that aggregate the same
   * updates get bit-identical anchors.
   */
  private closeRound(r: number, own: Contribution[]) {
    const isDue = (c: Contribution) => (c.foldAt ?? r) <= r;
    const due = this.late.filter(isDue);
    this.late.splice(0, this.late.length, ...this.late.filter((c) => !isDue(c)));
    const contributions = [...own, ...(this.received.get(r)?.values() ?? []), ...due].sort(
      (a, b) => a.round - b.round || (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0),
    );
    const { kept, outliers } = dropOutliers(contributions, this.opts.outlierFactor);
    const result = aggregate(
      kept.map((c) => ({ values: c.values, weight: c.samples })),
      { method: this.opts.aggregator === 'mean' ? 'weighted-mean' : 'auto' },
    );
    this.outer.step(this.anchor, result.values);
    this.received.delete(r);
    this.roundNo = r + 1;
    return { contributions, kept, outliers, result };
  }

  /**
   * A peer a round behind (most peers have closed its current round) closes that round from the
   * updates it received, without training: the same aggregate the others took, so the anchors
   * agree without fetching a snapshot (8 bytes per parameter, against 1/8 for a sign update). A
   * peer slower than the round timeout thus trains every other round instead of re-syncing in
   * every one. Returns the number of rounds closed this way.
   */
  private catchUp(): number {
    let closed = 0;
    for (;;) {
      const active = this.activePeers();
      const ahead = this.peersAhead();
      if (ahead.length === 0 || 2 * ahead.length < active.length) return closed;
      const got = this.received.get(this.roundNo);
      if (got === undefined || !ahead.every((id) => got.has(id))) return closed;
      const r = this.roundNo;
      this.closeRound(r, []);
      closed++;
      this.emit('notice', {
        message: `round ${r}: ${ahead.length} of ${active.length} peers had closed it; closed it from their ${got.size} update(s) without training, to catch up`,
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
    const reported = () =>
      this.activePeers().every((id) => {
        const p = this.peers.get(id);
        return p !== undefined && p.round >= this.roundNo && p.fingerprintKey !== undefined;
      });
    while (Date.now() < deadline && !reported()) await this.waitForMessage(200, signal);
    await this.checkDrift(signal);
    await this.heartbeat();
    // Stay a moment so that peers on a minority anchor can still fetch the majority's state.
    const linger = Date.now() + LINGER_MS;
    while (Date.now() < linger && !signal?.aborted) await this.waitForMessage(200, signal);
  }

  /** Gossips this peer's progress (what the inspector reads and what drift detection compares). */
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

  private validateUpdate(m: UpdateMessage, _from: string): GossipVerdict {
    if (m.round < this.roundNo - this.opts.lateRounds || m.round > this.roundNo + this.opts.lateRounds)
      return 'ignore';
    if (m.payload.kind === 'inline') {
      const values = this.decodeUpdate(m.payload.bytes);
      if (!values) return 'reject';
    }
    return 'accept';
  }

  /** Decodes and checks an update's bytes; undefined when malformed or non-finite. */
  private decodeUpdate(bytes: Uint8Array): Float32Array | undefined {
    try {
      const tensors = decodeTensors(
        bytes,
        this.shared.map((t) => ({ name: t.name, length: t.length })),
      );
      return concat(
        tensors.map((t) => t.values),
        this.total,
      );
    } catch (e) {
      if (isCompressError(e)) return undefined;
      throw e;
    }
  }

  private handle(e: SwarmMessageEvent): void {
    const now = Date.now();
    if (e.topic === 'heartbeats') {
      const m = e.message;
      if (m.type === 'leave') {
        const p = this.peers.get(e.from);
        if (p) {
          p.left = true;
          p.lastSeen = now;
        }
      } else {
        this.peers.set(e.from, {
          lastSeen: now,
          round: m.round,
          role: m.role,
          fingerprintKey: fingerprintKey(m),
          left: false,
        });
      }
      this.wake?.();
      return;
    }
    void this.acceptUpdate(e.message, e.from);
  }

  private async acceptUpdate(m: UpdateMessage, from: string): Promise<void> {
    const p = this.peers.get(from);
    this.peers.set(from, {
      lastSeen: Date.now(),
      round: Math.max(p?.round ?? 0, m.round),
      role: 'trainer',
      fingerprintKey: p?.fingerprintKey,
      left: false,
    });
    if (m.round >= this.roundNo) this.firstOtherUpdateAt ??= Date.now();
    let bytes: Uint8Array;
    try {
      bytes = await this.node.resolveUpdatePayload(m);
    } catch (err) {
      this.emit('notice', {
        message: `could not fetch the update of ${from} (round ${m.round}): ${(err as Error).message}`,
      });
      return;
    }
    const values = this.decodeUpdate(bytes);
    if (!values) {
      this.emit('notice', { message: `rejected a malformed update from ${from} (round ${m.round})` });
      return;
    }
    const c: Contribution = { sender: from, round: m.round, samples: m.samples, values };
    if (m.round < this.roundNo) {
      // Its round has closed here: fold it into the next aggregation.
      if (m.round >= this.roundNo - this.opts.lateRounds) this.late.push(c);
    } else {
      const map = this.received.get(m.round) ?? new Map<string, Contribution>();
      this.received.set(m.round, map);
      map.set(from, c);
    }
    this.wake?.();
  }

  // ---- coordination without a coordinator ----

  private activePeers(): string[] {
    const now = Date.now();
    return (
      [...this.peers]
        .filter(([, p]) => p.role === 'trainer' && !p.left && now - p.lastSeen < this.opts.peerStaleMs)
        // A neighbour counts while connected; any other peer while its messages keep arriving
        // through gossip. A killed neighbour drops at once, a vanished non-neighbour after a few seconds.
        .filter(([id, p]) => this.node.connectedPeers().includes(id) || now - p.lastSeen < RECENT_MS)
        .filter(([, p]) => p.round >= this.roundNo - this.opts.lateRounds)
        .map(([id]) => id)
    );
  }

  /** Trainer peers that announced their departure within the last {@link RECENT_MS}. */
  private recentlyLeft(): string[] {
    const now = Date.now();
    return [...this.peers]
      .filter(([, p]) => p.role === 'trainer' && p.left && now - p.lastSeen < RECENT_MS)
      .map(([id]) => id);
  }

  private haveAll(round: number): boolean {
    const got = this.received.get(round);
    return this.activePeers().every((id) => got?.has(id));
  }

  private peersAhead(): string[] {
    return this.activePeers().filter((id) => (this.peers.get(id)?.round ?? 0) > this.roundNo);
  }

  private roundTimeout(innerMs: number): number {
    return this.opts.roundTimeoutMs ?? defaultRoundTimeoutMs(innerMs);
  }

  /**
   * Drift detection: when the peers at this round agree on an anchor (by fingerprint) that is
   * not ours, or a majority is ahead of us, take their state.
   */
  private async checkDrift(signal?: AbortSignal): Promise<void> {
    if (this.catchUp() > 0) await this.heartbeat();
    const mine = fingerprintOf(this.anchor);
    const groups = new Map<string, string[]>([[mine, [this.node.peerId]]]);
    for (const id of this.activePeers()) {
      const p = this.peers.get(id)!;
      if (p.round !== this.roundNo || !p.fingerprintKey) continue;
      const list = groups.get(p.fingerprintKey) ?? [];
      list.push(id);
      groups.set(p.fingerprintKey, list);
    }
    // Every peer ranks the groups the same way (size, then smallest peer id), so all agree on
    // which anchor wins without anyone deciding for the others.
    const rank = (ids: string[]) => [...ids].sort()[0];
    const [bestKey, bestIds] = [...groups].sort(
      (a, b) => b[1].length - a[1].length || (rank(a[1]) < rank(b[1]) ? -1 : 1),
    )[0];
    const ahead = this.peersAhead();
    const from =
      bestKey !== mine
        ? bestIds
        : ahead.length > 0 && ahead.length >= this.activePeers().length / 2
          ? ahead
          : undefined;
    if (!from) return;
    try {
      await this.resync(from, 'drift', signal);
    } catch (e) {
      // Peers that moved on mid-fetch (no two snapshots agree) are no reason to stop training:
      // stay on this anchor and try again at the next round's drift check.
      if (signal?.aborted) throw e;
      this.emit('notice', {
        message: `could not re-sync (${(e as Error).message}); continuing on this peer's anchor`,
      });
    }
  }

  private async resync(
    candidates: string[],
    reason: 'join' | 'drift',
    signal?: AbortSignal,
  ): Promise<string[]> {
    const quorum = Math.min(2, candidates.length);
    const attempts = reason === 'join' ? JOIN_SYNC_ATTEMPTS : DRIFT_SYNC_ATTEMPTS;
    // The swarm's state moves on at every outer step: a fetch that straddles one sees the
    // snapshot change (or peers disagree for a moment), so try again. A joiner asks the peers
    // ahead at each try (the first ones may have left).
    const sources = () => {
      const ahead = reason === 'join' ? this.peersAhead() : [];
      return (ahead.length >= quorum ? ahead : candidates).slice(0, 3);
    };
    const result = await retryWithBackoff(
      (attempt) =>
        this.node.fetchSnapshot(attempt === 1 ? candidates.slice(0, 3) : sources(), { quorum, signal }),
      {
        attempts,
        baseMs: RESYNC_BACKOFF_MS,
        maxMs: RESYNC_MAX_BACKOFF_MS,
        signal,
        onRetry: (e, attempt, waitMs) =>
          this.emit('notice', {
            message: `could not fetch the swarm's state (${(e as Error).message}); trying again in ${(waitMs / 1000).toFixed(1)} s (${attempt}/${attempts})`,
          }),
      },
    );
    const s = decodeSnapshot(result.bytes, this.total);
    const before = this.roundNo;
    this.anchor = s.anchor;
    this.outer.loadState([{ key: '', momentum: s.momentum }]);
    this.roundNo = s.round;
    this.late.length = 0;
    for (const r of this.received.keys()) if (r < s.round) this.received.delete(r);
    this.trainer.resetOptimizer();
    await this.heartbeat();
    this.emit('notice', {
      message: `took the swarm's state at round ${s.round} from ${result.agreeing.length} agreeing peer(s) (was at round ${before})`,
    });
    return result.agreeing;
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

/** Drops updates whose norm is far above the round's median (a ×100 update, say). */
function dropOutliers(
  cs: Contribution[],
  factor: number,
): { kept: Contribution[]; outliers: Contribution[] } {
  if (cs.length < 3) return { kept: cs, outliers: [] };
  const norms = cs.map((c) => l2Norm(c.values));
  const sorted = [...norms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const kept: Contribution[] = [];
  const outliers: Contribution[] = [];
  cs.forEach((c, i) => {
    (norms[i] > factor * median ? outliers : kept).push(c);
  });
  return { kept, outliers };
}

/** The L2 norm (a loop: spreading millions of values into Math.hypot would overflow the stack). */
function l2Norm(v: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

function fingerprintKey(m: HeartbeatMessage): string {
  return Buffer.from(m.fingerprint.buffer, m.fingerprint.byteOffset, m.fingerprint.byteLength).toString(
    'hex',
  );
}

function fingerprintOf(anchor: Float32Array): string {
  const f = Float32Array.from(anchorFingerprint(anchor));
  return Buffer.from(f.buffer).toString('hex');
}

function concat(parts: Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  if (o !== total) throw new AveragingError(`expected ${total} shared values, got ${o}`);
  return out;
}

function sha256(a: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
