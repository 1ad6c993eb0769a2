/**
 * The swarm status model: a pure, bounded view of a swarm built from the heartbeats and leave messages its
 * peers gossip. No I/O and no clock of its own: every input carries the time it was received, and
 * {@link SwarmStatus.snapshot} takes the current time, so the model is fully deterministic under test.
 */
import {
  DEFAULT_FORGET_AFTER_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_LOSS_CURVE_POINTS,
  DEFAULT_LOSS_SAMPLE_INTERVAL_MS,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_PEERS,
  DEFAULT_STALE_AFTER_MISSED,
  MAX_NAME_CHARS,
  MAX_PEER_ID_CHARS,
} from './constants.ts';
import { InvalidHeartbeatError, InvalidOptionError } from './errors.ts';
import { Ring } from './ring.ts';

/** Role of a peer: trainers train, observers only watch. */
export type PeerRole = 'trainer' | 'observer';

/** Hardware summary of a peer, as carried in its heartbeat. */
export interface HardwareInfo {
  /** Execution provider, e.g. `cpu`, `cuda`, `webgpu`. */
  provider: string;
  /** Device name (CPU model, GPU name). */
  deviceName: string;
  /** CPU cores. */
  cores: number;
}

/**
 * What the model reads from a heartbeat. A `HeartbeatMessage` of `@enjambre/swarm` fits (extra fields such as
 * the fingerprint are ignored); `name` is used when a future wire version carries it.
 */
export interface HeartbeatInfo {
  round: number;
  step: number;
  samplesDone: number;
  /** Latest training loss, or null when none yet. */
  loss: number | null;
  samplesPerSec: number;
  bytesIn: number;
  bytesOut: number;
  hardware: HardwareInfo;
  role: PeerRole;
  /** Display name of the peer. Default: resolved by {@link SwarmStatusOptions.resolveName}. */
  name?: string;
}

/** What the model reads from a leave message. */
export interface LeaveInfo {
  round: number;
  reason: string;
}

/** State of a peer. `stale`: no heartbeat for N intervals; `left`: announced its departure. */
export type PeerState = 'active' | 'stale' | 'left';

/** One peer in a {@link SwarmSnapshot}. Times are ms since the Unix epoch. */
export interface PeerSnapshot {
  id: string;
  name: string;
  role: PeerRole;
  provider: string;
  deviceName: string;
  cores: number;
  round: number;
  step: number;
  samplesDone: number;
  loss: number | null;
  samplesPerSec: number;
  bytesIn: number;
  bytesOut: number;
  firstSeen: number;
  lastSeen: number;
  /** Heartbeats received from this peer. */
  heartbeats: number;
  /** Estimated heartbeat interval of this peer, ms. */
  intervalMs: number;
  state: PeerState;
  /** Departure reason, when `state` is `left`. */
  leftReason?: string;
}

/** One point of the swarm loss curve: mean of the active trainers' latest losses. */
export interface LossPoint {
  time: number;
  /** Majority round at that time. */
  round: number;
  loss: number;
  /** Trainers whose loss went into the mean. */
  peers: number;
}

/** Kind of a swarm event. */
export type SwarmEventKind = 'join' | 'leave' | 'stale' | 'return';

/** One entry of the join/leave log. */
export interface SwarmEvent {
  time: number;
  kind: SwarmEventKind;
  peer: string;
  name: string;
  /** Departure reason (`leave`). */
  reason?: string;
}

/** Swarm-wide totals over the active trainers. */
export interface SwarmTotals {
  /** Highest round reported by an active trainer (0 when none). */
  maxRound: number;
  /** Round reported by most active trainers (ties: the higher round; 0 when none). */
  majorityRound: number;
  activePeers: number;
  stalePeers: number;
  leftPeers: number;
  /** Active peers with role `trainer`. */
  trainers: number;
  /** Active peers with role `observer`. */
  observers: number;
  /** Sum of the active trainers' samples/s. */
  samplesPerSec: number;
  /** Sum of the samples done by every known trainer. */
  samplesDone: number;
  /** Sum of bytes received by every known peer. */
  bytesIn: number;
  /** Sum of bytes sent by every known peer. */
  bytesOut: number;
  /** Mean of the active trainers' latest losses, or null when none reported one. */
  meanLoss: number | null;
}

/** Plain-JSON view of the swarm: what `--json` prints and what the web page fetches. */
export interface SwarmSnapshot {
  /** Format version of this object. */
  version: 1;
  /** When the snapshot was taken, ms since the epoch. */
  time: number;
  /** Run id, when known. */
  runId: string | null;
  /** Peer id of the observer that built the view, when known. */
  observer: string | null;
  swarm: SwarmTotals;
  /** Peers: active first, then stale, then left; by name within a state. */
  peers: PeerSnapshot[];
  /** Oldest first. */
  lossCurve: LossPoint[];
  /** Oldest first. */
  events: SwarmEvent[];
}

/** Options of {@link SwarmStatus}. */
export interface SwarmStatusOptions {
  /** Heartbeat interval assumed for a peer until two of its heartbeats were seen, ms. Default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  heartbeatIntervalMs?: number;
  /** Missed heartbeat intervals after which a peer is `stale`. Default {@link DEFAULT_STALE_AFTER_MISSED}. */
  staleAfterMissed?: number;
  /** Stale and departed peers are dropped after this long without a heartbeat, ms. Default {@link DEFAULT_FORGET_AFTER_MS}. */
  forgetAfterMs?: number;
  /** Most peers kept; beyond it the least recently seen is dropped. Default {@link DEFAULT_MAX_PEERS}. */
  maxPeers?: number;
  /** Points kept in the loss curve. Default {@link DEFAULT_LOSS_CURVE_POINTS}. */
  lossCurvePoints?: number;
  /** At most one loss-curve point per this interval, ms (0: one per heartbeat). Default {@link DEFAULT_LOSS_SAMPLE_INTERVAL_MS}. */
  lossSampleIntervalMs?: number;
  /** Events kept in the join/leave log. Default {@link DEFAULT_MAX_EVENTS}. */
  maxEvents?: number;
  /** Run id shown in snapshots. Default: none. */
  runId?: string;
  /** Peer id of the observer, shown in snapshots. Default: none. */
  observer?: string;
  /** Display name of a peer whose heartbeat carries none. Default: {@link shortPeerId}. */
  resolveName?: (peerId: string) => string;
}

interface PeerRecord {
  id: string;
  name: string;
  hb: HeartbeatInfo;
  firstSeen: number;
  lastSeen: number;
  heartbeats: number;
  /** EWMA of the gaps between heartbeats; undefined until two were seen. */
  intervalMs: number | undefined;
  state: PeerState;
  leftAt?: number;
  leftReason?: string;
}

/** Weight of the newest gap in the heartbeat-interval estimate. */
const INTERVAL_EWMA_ALPHA = 0.3;
// C0 and C1 control characters and DEL: never shown (terminal escape injection).
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;

/** Last 8 characters of a peer id, as a short display name. */
export function shortPeerId(peerId: string): string {
  return peerId.length <= 8 ? peerId : peerId.slice(-8);
}

/** Removes control characters and cuts to `max` characters. */
export function sanitizeText(text: string, max: number): string {
  const clean = text.replace(CONTROL_RE, '');
  return clean.length <= max ? clean : clean.slice(0, max);
}

function positiveInt(option: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(option, `expected an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

function checkNonNegative(field: string, v: unknown, integer: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isSafeInteger(v))) {
    throw new InvalidHeartbeatError(
      field,
      `expected a finite ${integer ? 'integer' : 'number'} ≥ 0, got ${String(v)}`,
    );
  }
}

function checkString(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string') throw new InvalidHeartbeatError(field, `expected a string, got ${typeof v}`);
  return sanitizeText(v, max);
}

function checkPeerId(from: unknown): string {
  if (typeof from !== 'string' || from.length === 0 || from.length > MAX_PEER_ID_CHARS) {
    throw new InvalidHeartbeatError('fromPeerId', `expected 1..${MAX_PEER_ID_CHARS} characters`);
  }
  if (sanitizeText(from, MAX_PEER_ID_CHARS) !== from) {
    throw new InvalidHeartbeatError('fromPeerId', 'contains control characters');
  }
  return from;
}

function checkTime(v: unknown, field = 'receivedAt'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidHeartbeatError(field, `expected a time in ms ≥ 0, got ${String(v)}`);
  }
  return v;
}

/** Validates and copies a heartbeat (strings sanitized). Throws {@link InvalidHeartbeatError}. */
function checkHeartbeat(hb: unknown): HeartbeatInfo {
  if (hb === null || typeof hb !== 'object')
    throw new InvalidHeartbeatError('heartbeat', 'expected an object');
  const h = hb as Record<string, unknown>;
  checkNonNegative('heartbeat.round', h.round, true);
  checkNonNegative('heartbeat.step', h.step, true);
  checkNonNegative('heartbeat.samplesDone', h.samplesDone, true);
  if (h.loss !== null && (typeof h.loss !== 'number' || !Number.isFinite(h.loss))) {
    throw new InvalidHeartbeatError(
      'heartbeat.loss',
      `expected a finite number or null, got ${String(h.loss)}`,
    );
  }
  checkNonNegative('heartbeat.samplesPerSec', h.samplesPerSec, false);
  checkNonNegative('heartbeat.bytesIn', h.bytesIn, true);
  checkNonNegative('heartbeat.bytesOut', h.bytesOut, true);
  const hw = h.hardware as Record<string, unknown> | null | undefined;
  if (hw === null || typeof hw !== 'object') {
    throw new InvalidHeartbeatError('heartbeat.hardware', 'expected an object');
  }
  const provider = checkString('heartbeat.hardware.provider', hw.provider, 32);
  const deviceName = checkString('heartbeat.hardware.deviceName', hw.deviceName, 128);
  checkNonNegative('heartbeat.hardware.cores', hw.cores, true);
  if (h.role !== 'trainer' && h.role !== 'observer') {
    throw new InvalidHeartbeatError(
      'heartbeat.role',
      `expected 'trainer' or 'observer', got '${String(h.role)}'`,
    );
  }
  const out: HeartbeatInfo = {
    round: h.round as number,
    step: h.step as number,
    samplesDone: h.samplesDone as number,
    loss: h.loss as number | null,
    samplesPerSec: h.samplesPerSec as number,
    bytesIn: h.bytesIn as number,
    bytesOut: h.bytesOut as number,
    hardware: { provider, deviceName, cores: hw.cores as number },
    role: h.role,
  };
  if (h.name !== undefined) {
    const name = checkString('heartbeat.name', h.name, MAX_NAME_CHARS).trim();
    if (name.length > 0) out.name = name;
  }
  return out;
}

/**
 * The swarm as seen through its heartbeats. Memory is bounded: at most `maxPeers` peers, `lossCurvePoints`
 * curve points and `maxEvents` events.
 */
export class SwarmStatus {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly curve: Ring<LossPoint>;
  private readonly eventLog: Ring<SwarmEvent>;
  private readonly heartbeatIntervalMs: number;
  private readonly staleAfterMissed: number;
  private readonly forgetAfterMs: number;
  private readonly maxPeers: number;
  private readonly lossSampleIntervalMs: number;
  private readonly resolveName: (peerId: string) => string;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  /** Run id shown in snapshots. */
  runId: string | null;
  /** Peer id of the observer, shown in snapshots. */
  observer: string | null;

  constructor(options: SwarmStatusOptions = {}) {
    this.heartbeatIntervalMs = positiveInt(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs,
      DEFAULT_HEARTBEAT_INTERVAL_MS,
    );
    this.staleAfterMissed = positiveInt(
      'staleAfterMissed',
      options.staleAfterMissed,
      DEFAULT_STALE_AFTER_MISSED,
    );
    this.forgetAfterMs = positiveInt('forgetAfterMs', options.forgetAfterMs, DEFAULT_FORGET_AFTER_MS);
    this.maxPeers = positiveInt('maxPeers', options.maxPeers, DEFAULT_MAX_PEERS);
    this.lossSampleIntervalMs = positiveInt(
      'lossSampleIntervalMs',
      options.lossSampleIntervalMs,
      DEFAULT_LOSS_SAMPLE_INTERVAL_MS,
      0,
    );
    this.curve = new Ring(positiveInt('lossCurvePoints', options.lossCurvePoints, DEFAULT_LOSS_CURVE_POINTS));
    this.eventLog = new Ring(positiveInt('maxEvents', options.maxEvents, DEFAULT_MAX_EVENTS));
    this.resolveName = options.resolveName ?? shortPeerId;
    this.runId = options.runId ?? null;
    this.observer = options.observer ?? null;
  }

  /** Number of peers currently kept (any state). */
  get size(): number {
    return this.peers.size;
  }

  /**
   * Records a heartbeat of `fromPeerId` received at `receivedAt` (ms since the epoch). A heartbeat older than
   * the latest one of that peer is ignored. Throws {@link InvalidHeartbeatError} on malformed input.
   */
  ingest(heartbeat: HeartbeatInfo, fromPeerId: string, receivedAt: number): void {
    const hb = checkHeartbeat(heartbeat);
    const id = checkPeerId(fromPeerId);
    const time = checkTime(receivedAt);
    const name = hb.name ?? sanitizeText(this.resolveName(id), MAX_NAME_CHARS);
    const rec = this.peers.get(id);
    if (rec === undefined) {
      this.makeRoom();
      this.peers.set(id, {
        id,
        name,
        hb,
        firstSeen: time,
        lastSeen: time,
        heartbeats: 1,
        intervalMs: undefined,
        state: 'active',
      });
      this.log({ time, kind: 'join', peer: id, name });
    } else {
      if (time < rec.lastSeen) return;
      if (rec.state === 'left' && rec.leftAt !== undefined && time <= rec.leftAt) return;
      const gap = time - rec.lastSeen;
      if (rec.state === 'active' && gap > 0) {
        rec.intervalMs =
          rec.intervalMs === undefined ? gap : rec.intervalMs + INTERVAL_EWMA_ALPHA * (gap - rec.intervalMs);
      }
      if (rec.state !== 'active') {
        this.log({ time, kind: rec.state === 'left' ? 'join' : 'return', peer: id, name });
        rec.state = 'active';
        rec.leftAt = undefined;
        rec.leftReason = undefined;
      }
      rec.name = name;
      rec.hb = hb;
      rec.lastSeen = time;
      rec.heartbeats++;
    }
    this.refresh(time);
    this.sample(time);
  }

  /** Records that `fromPeerId` announced its departure. Unknown peers are ignored. */
  ingestLeave(leave: LeaveInfo, fromPeerId: string, receivedAt: number): void {
    if (leave === null || typeof leave !== 'object')
      throw new InvalidHeartbeatError('leave', 'expected an object');
    checkNonNegative('leave.round', leave.round, true);
    const reason = checkString('leave.reason', leave.reason, 256);
    const id = checkPeerId(fromPeerId);
    const time = checkTime(receivedAt);
    const rec = this.peers.get(id);
    if (rec === undefined || rec.state === 'left' || time < rec.lastSeen) return;
    rec.state = 'left';
    rec.leftAt = time;
    rec.leftReason = reason;
    this.log({ time, kind: 'leave', peer: id, name: rec.name, reason });
    this.refresh(time);
    this.sample(time);
  }

  /**
   * Brings peer states up to `now`: peers silent for `staleAfterMissed` intervals become `stale` (logged once),
   * and peers silent for `forgetAfterMs` are dropped.
   */
  refresh(now: number): void {
    checkTime(now, 'now');
    for (const rec of this.peers.values()) {
      const silent = now - rec.lastSeen;
      if (rec.state !== 'active' && silent > this.forgetAfterMs) {
        this.peers.delete(rec.id);
        continue;
      }
      if (rec.state === 'active') {
        // Peers beat faster while training and slower while waiting: never call one stale
        // before the configured interval's worth of missed beats, however fast it beat last.
        const interval = Math.max(rec.intervalMs ?? this.heartbeatIntervalMs, this.heartbeatIntervalMs);
        const limit = this.staleAfterMissed * interval;
        if (silent > limit) {
          rec.state = 'stale';
          this.log({ time: Math.round(rec.lastSeen + limit), kind: 'stale', peer: rec.id, name: rec.name });
        }
      }
    }
  }

  /** A plain-JSON snapshot of the swarm at `now` (ms since the epoch); brings states up to `now` first. */
  snapshot(now: number): SwarmSnapshot {
    this.refresh(now);
    const order: Record<PeerState, number> = { active: 0, stale: 1, left: 2 };
    const peers = [...this.peers.values()]
      .sort(
        (a, b) => order[a.state] - order[b.state] || a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
      )
      .map((r) => this.peerSnapshot(r));
    return {
      version: 1,
      time: now,
      runId: this.runId,
      observer: this.observer,
      swarm: this.totals(),
      peers,
      lossCurve: this.curve.toArray().map((p) => ({ ...p })),
      events: this.eventLog.toArray().map((e) => ({ ...e })),
    };
  }

  private peerSnapshot(r: PeerRecord): PeerSnapshot {
    const s: PeerSnapshot = {
      id: r.id,
      name: r.name,
      role: r.hb.role,
      provider: r.hb.hardware.provider,
      deviceName: r.hb.hardware.deviceName,
      cores: r.hb.hardware.cores,
      round: r.hb.round,
      step: r.hb.step,
      samplesDone: r.hb.samplesDone,
      loss: r.hb.loss,
      samplesPerSec: r.hb.samplesPerSec,
      bytesIn: r.hb.bytesIn,
      bytesOut: r.hb.bytesOut,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      heartbeats: r.heartbeats,
      intervalMs: Math.round(r.intervalMs ?? this.heartbeatIntervalMs),
      state: r.state,
    };
    if (r.leftReason !== undefined) s.leftReason = r.leftReason;
    return s;
  }

  private totals(): SwarmTotals {
    const t: SwarmTotals = {
      maxRound: 0,
      majorityRound: 0,
      activePeers: 0,
      stalePeers: 0,
      leftPeers: 0,
      trainers: 0,
      observers: 0,
      samplesPerSec: 0,
      samplesDone: 0,
      bytesIn: 0,
      bytesOut: 0,
      meanLoss: null,
    };
    const rounds = new Map<number, number>();
    let lossSum = 0;
    let lossCount = 0;
    for (const r of this.peers.values()) {
      t.bytesIn += r.hb.bytesIn;
      t.bytesOut += r.hb.bytesOut;
      if (r.hb.role === 'trainer') t.samplesDone += r.hb.samplesDone;
      if (r.state === 'stale') t.stalePeers++;
      else if (r.state === 'left') t.leftPeers++;
      else {
        t.activePeers++;
        if (r.hb.role === 'observer') {
          t.observers++;
          continue;
        }
        t.trainers++;
        t.samplesPerSec += r.hb.samplesPerSec;
        t.maxRound = Math.max(t.maxRound, r.hb.round);
        rounds.set(r.hb.round, (rounds.get(r.hb.round) ?? 0) + 1);
        if (r.hb.loss !== null) {
          lossSum += r.hb.loss;
          lossCount++;
        }
      }
    }
    let best = -1;
    for (const [round, count] of rounds) {
      if (count > best || (count === best && round > t.majorityRound)) {
        best = count;
        t.majorityRound = round;
      }
    }
    if (lossCount > 0) t.meanLoss = lossSum / lossCount;
    return t;
  }

  private sample(time: number): void {
    if (time - this.lastSampleAt < this.lossSampleIntervalMs) return;
    const t = this.totals();
    if (t.meanLoss === null) return;
    let peers = 0;
    for (const r of this.peers.values()) {
      if (r.state === 'active' && r.hb.role === 'trainer' && r.hb.loss !== null) peers++;
    }
    this.curve.push({ time, round: t.majorityRound, loss: t.meanLoss, peers });
    this.lastSampleAt = time;
  }

  private log(e: SwarmEvent): void {
    this.eventLog.push(e);
  }

  /** Drops the least recently seen peer (departed/stale first) when the model is full. */
  private makeRoom(): void {
    while (this.peers.size >= this.maxPeers) {
      let victim: PeerRecord | undefined;
      for (const r of this.peers.values()) {
        const rank = r.state === 'active' ? 1 : 0;
        const vRank = victim === undefined ? 2 : victim.state === 'active' ? 1 : 0;
        if (victim === undefined || rank < vRank || (rank === vRank && r.lastSeen < victim.lastSeen)) {
          victim = r;
        }
      }
      if (victim === undefined) return;
      this.peers.delete(victim.id);
    }
  }
}
