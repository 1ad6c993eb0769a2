/**
 * Versioned, size-bounded binary wire format of the gossip messages.
 *
 * Layout (little-endian):
 * ```
 * magic   2 bytes  'E' 'J'
 * version u8       WIRE_VERSION
 * type    u8       1 = update, 2 = heartbeat, 3 = leave
 * runId   u8 len + UTF-8 (1..64 bytes, [A-Za-z0-9._-])
 * compat  u8 len + bytes (1..64 bytes; the model/config compatibility hash, hex in the API)
 * body    per type (see encodeUpdate / encodeHeartbeat / encodeLeave below)
 * ```
 * Decoding checks every length against the remaining input and against the configured maxima before using it,
 * and rejects trailing bytes; all failures are {@link WireDecodeError}s naming the field.
 */
import { fromString } from 'uint8arrays';
import { ByteReader, ByteWriter, fromHex, toHex } from './binary.ts';
import { WireDecodeError, WireEncodeError } from './errors.ts';

/** Current wire-format version. Decoders refuse any other version. */
export const WIRE_VERSION = 2;
/** Default bound of one encoded gossip message: 4 MiB, the gossipsub v2 default. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Maximum length of a run id (UTF-8 bytes). */
export const MAX_RUN_ID_BYTES = 64;
/** Maximum length of a compatibility hash (bytes). */
export const MAX_COMPAT_HASH_BYTES = 64;
/** Maximum length of a peer id string. */
export const MAX_SENDER_BYTES = 128;
/** Maximum length of a codec name. */
export const MAX_CODEC_NAME_BYTES = 32;
/** Maximum number of values in an anchor fingerprint. */
export const MAX_FINGERPRINT_LENGTH = 256;
/** Maximum length of the hardware provider / device name strings. */
export const MAX_PROVIDER_BYTES = 32;
export const MAX_DEVICE_NAME_BYTES = 128;
/** Longest node name in a heartbeat, bytes. */
export const MAX_NODE_NAME_BYTES = 64;
/** Most listen addresses a heartbeat carries, and the longest one (bytes). */
export const MAX_HEARTBEAT_ADDRS = 8;
export const MAX_ADDR_BYTES = 255;
/** Maximum length of a departure reason. */
export const MAX_REASON_BYTES = 256;
/** Length of a sha256 hash in bytes (anchor hash, content hash). */
export const HASH_BYTES = 32;

const MAGIC0 = 0x45; // 'E'
const MAGIC1 = 0x4a; // 'J'
const RUN_ID_RE = /^[A-Za-z0-9._-]+$/;
const HEX_RE = /^(?:[0-9a-f]{2})+$/;

const TYPE_CODES = { update: 1, heartbeat: 2, leave: 3 } as const;

/** Message types carried on gossip. */
export type MessageType = keyof typeof TYPE_CODES;

/** Fields every message carries. */
export interface Envelope {
  /** Run id: names the topics; 1..64 chars of [A-Za-z0-9._-]. */
  runId: string;
  /** Model-architecture + training-config compatibility hash, lowercase hex (1..64 bytes). */
  compatHash: string;
}

/** An update's payload: inline bytes, or a content hash to fetch over the blob protocol. */
export type UpdatePayload =
  | { kind: 'inline'; bytes: Uint8Array }
  | { kind: 'hash' /** sha256, lowercase hex */; hash: string; byteLength: number };

/** A compressed pseudo-gradient contribution for one round. */
export interface UpdateMessage extends Envelope {
  type: 'update';
  round: number;
  /** Peer id (string) of the peer that computed the update; must equal the signed gossip origin. */
  sender: string;
  /** Number of training samples the update was computed on (> 0). */
  samples: number;
  /** sha256 (hex) of the anchor parameters the update started from. */
  anchorHash: string;
  /** Codec name, e.g. `sign1`, `fp16`, `int8`, `topk`. */
  codec: string;
  payload: UpdatePayload;
}

/** Hardware summary carried in heartbeats. */
export interface HardwareSummary {
  /** Execution provider, e.g. `cpu`, `cuda`, `webgpu`. */
  provider: string;
  deviceName: string;
  cores: number;
}

/** Role of a peer in the swarm. */
export type PeerRole = 'trainer' | 'observer';

/** Periodic progress report. */
export interface HeartbeatMessage extends Envelope {
  type: 'heartbeat';
  round: number;
  step: number;
  samplesDone: number;
  /** Latest training loss, or null when none yet (or not finite). */
  loss: number | null;
  samplesPerSec: number;
  bytesIn: number;
  bytesOut: number;
  hardware: HardwareSummary;
  /** Small random projection of θ_anchor (at most {@link MAX_FINGERPRINT_LENGTH} float32 values). */
  fingerprint: Float32Array;
  role: PeerRole;
  /** The node's display name (config node.name), when it has one. */
  name?: string;
  /**
   * Multiaddrs the sender listens on: peers that are not connected to it learn how to dial it
   * (to fetch a blob or a snapshot from it). Empty or absent: none given.
   */
  addrs?: string[];
  /**
   * sha256 (hex) of the sender's θ_anchor at `round`: its vote on the swarm's state (a peer moves to another
   * anchor only when a strict majority of the active peers vouch for it). Absent: no vote.
   */
  anchorHash?: string;
}

/** Departure announcement. */
export interface LeaveMessage extends Envelope {
  type: 'leave';
  round: number;
  reason: string;
}

/** Any gossip message. */
export type WireMessage = UpdateMessage | HeartbeatMessage | LeaveMessage;

/** Size bounds used by the encoder and decoder. */
export interface WireLimits {
  /** Maximum encoded message size in bytes. Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
}

/** Result of {@link safeDecodeMessage}. */
export type DecodeResult = { ok: true; message: WireMessage } | { ok: false; error: WireDecodeError };

function maxBytesOf(limits?: WireLimits): number {
  return limits?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
}

// ---------------------------------------------------------------------------------------------------------------
// encoding

/** Encodes a message; throws {@link WireEncodeError} when a field is out of range or the result too large. */
export function encodeMessage(msg: WireMessage, limits?: WireLimits): Uint8Array {
  const w = new ByteWriter(
    msg.type === 'update' && msg.payload.kind === 'inline' ? msg.payload.bytes.length + 512 : 512,
  );
  writeEnvelope(w, msg);
  switch (msg.type) {
    case 'update':
      writeUpdate(w, msg, maxBytesOf(limits));
      break;
    case 'heartbeat':
      writeHeartbeat(w, msg);
      break;
    case 'leave':
      w.u32('leave.round', msg.round);
      w.str16('leave.reason', msg.reason, MAX_REASON_BYTES);
      break;
    default:
      throw new WireEncodeError('type', `unknown message type '${String((msg as { type: unknown }).type)}'`);
  }
  const max = maxBytesOf(limits);
  if (w.length > max) {
    throw new WireEncodeError(msg.type, `encoded size ${w.length} bytes exceeds the limit of ${max} bytes`);
  }
  return w.finish();
}

function writeEnvelope(w: ByteWriter, msg: WireMessage): void {
  const code = TYPE_CODES[msg.type];
  if (code === undefined) throw new WireEncodeError('type', `unknown message type '${String(msg.type)}'`);
  w.u8('magic', MAGIC0).u8('magic', MAGIC1).u8('version', WIRE_VERSION).u8('type', code);
  checkRunId('runId', msg.runId, WireEncodeError);
  w.str8('runId', msg.runId, MAX_RUN_ID_BYTES);
  const compat = parseCompatHash('compatHash', msg.compatHash);
  w.u8('compatHash.length', compat.length).raw('compatHash', compat);
}

function writeUpdate(w: ByteWriter, m: UpdateMessage, maxBytes: number): void {
  w.u32('update.round', m.round);
  if (typeof m.sender !== 'string' || m.sender.length === 0) {
    throw new WireEncodeError('update.sender', 'expected a non-empty peer id string');
  }
  w.str8('update.sender', m.sender, MAX_SENDER_BYTES);
  if (!Number.isSafeInteger(m.samples) || m.samples <= 0) {
    throw new WireEncodeError('update.samples', `expected a positive integer, got ${String(m.samples)}`);
  }
  w.uint53('update.samples', m.samples);
  w.raw('update.anchorHash', fromHex('update.anchorHash', m.anchorHash, HASH_BYTES));
  if (typeof m.codec !== 'string' || m.codec.length === 0) {
    throw new WireEncodeError('update.codec', 'expected a non-empty codec name');
  }
  w.str8('update.codec', m.codec, MAX_CODEC_NAME_BYTES);
  const p = m.payload;
  if (p?.kind === 'inline') {
    w.u8('update.payload.kind', 0);
    w.bytes('update.payload.bytes', p.bytes, maxBytes);
  } else if (p?.kind === 'hash') {
    w.u8('update.payload.kind', 1);
    w.raw('update.payload.hash', fromHex('update.payload.hash', p.hash, HASH_BYTES));
    w.uint53('update.payload.byteLength', p.byteLength);
  } else {
    throw new WireEncodeError('update.payload.kind', `expected 'inline' or 'hash'`);
  }
}

function writeHeartbeat(w: ByteWriter, m: HeartbeatMessage): void {
  w.u32('heartbeat.round', m.round);
  w.uint53('heartbeat.step', m.step);
  w.uint53('heartbeat.samplesDone', m.samplesDone);
  w.f64('heartbeat.loss', m.loss === null || !Number.isFinite(m.loss) ? Number.NaN : m.loss);
  finiteNonNegative('heartbeat.samplesPerSec', m.samplesPerSec);
  w.f64('heartbeat.samplesPerSec', m.samplesPerSec);
  w.uint53('heartbeat.bytesIn', m.bytesIn);
  w.uint53('heartbeat.bytesOut', m.bytesOut);
  w.str8('heartbeat.hardware.provider', m.hardware?.provider, MAX_PROVIDER_BYTES);
  w.str8('heartbeat.hardware.deviceName', m.hardware?.deviceName, MAX_DEVICE_NAME_BYTES);
  w.u16('heartbeat.hardware.cores', m.hardware?.cores);
  const fp = m.fingerprint;
  if (fp == null || typeof fp.length !== 'number' || fp.length > MAX_FINGERPRINT_LENGTH) {
    throw new WireEncodeError('heartbeat.fingerprint', `expected at most ${MAX_FINGERPRINT_LENGTH} values`);
  }
  w.u16('heartbeat.fingerprint.length', fp.length);
  for (let i = 0; i < fp.length; i++) {
    const v = fp[i];
    if (!Number.isFinite(v)) throw new WireEncodeError(`heartbeat.fingerprint[${i}]`, `not finite: ${v}`);
    w.f32(`heartbeat.fingerprint[${i}]`, v);
  }
  if (m.role !== 'trainer' && m.role !== 'observer') {
    throw new WireEncodeError('heartbeat.role', `expected 'trainer' or 'observer', got '${String(m.role)}'`);
  }
  w.u8('heartbeat.role', m.role === 'trainer' ? 0 : 1);
  w.str8('heartbeat.name', m.name ?? '', MAX_NODE_NAME_BYTES);
  const addrs = m.addrs ?? [];
  if (!Array.isArray(addrs) || addrs.length > MAX_HEARTBEAT_ADDRS) {
    throw new WireEncodeError('heartbeat.addrs', `expected at most ${MAX_HEARTBEAT_ADDRS} addresses`);
  }
  w.u8('heartbeat.addrs.length', addrs.length);
  addrs.forEach((a, i) => {
    w.str8(`heartbeat.addrs[${i}]`, a, MAX_ADDR_BYTES);
  });
  // Trailing and optional: [u8 1][32 bytes] when the heartbeat carries an anchor hash.
  if (m.anchorHash !== undefined) {
    w.u8('heartbeat.anchorHash.present', 1);
    w.raw('heartbeat.anchorHash', fromHex('heartbeat.anchorHash', m.anchorHash, HASH_BYTES));
  }
}

function finiteNonNegative(field: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new WireEncodeError(field, `expected a finite number ≥ 0, got ${String(v)}`);
  }
}

function checkRunId(
  field: string,
  runId: unknown,
  Err: typeof WireEncodeError | typeof WireDecodeError,
): asserts runId is string {
  if (
    typeof runId !== 'string' ||
    runId.length === 0 ||
    runId.length > MAX_RUN_ID_BYTES ||
    !RUN_ID_RE.test(runId)
  ) {
    throw new Err(
      field,
      `expected 1..${MAX_RUN_ID_BYTES} characters of [A-Za-z0-9._-], got '${String(runId).slice(0, 80)}'`,
    );
  }
}

/** Validates a run id (throws {@link WireEncodeError} naming `field`). */
export function assertRunId(runId: unknown, field = 'runId'): asserts runId is string {
  checkRunId(field, runId, WireEncodeError);
}

function parseCompatHash(field: string, hex: unknown): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex) || hex.length > MAX_COMPAT_HASH_BYTES * 2) {
    throw new WireEncodeError(
      field,
      `expected 2..${MAX_COMPAT_HASH_BYTES * 2} lowercase hex characters, got '${String(hex).slice(0, 80)}'`,
    );
  }
  return fromString(hex, 'base16');
}

/** Validates a compatibility hash (lowercase hex, 1..64 bytes); throws {@link WireEncodeError}. */
export function assertCompatHash(hex: unknown, field = 'compatHash'): asserts hex is string {
  parseCompatHash(field, hex);
}

// ---------------------------------------------------------------------------------------------------------------
// decoding

/**
 * Decodes and validates a message. Throws only {@link WireDecodeError}. Inline payload bytes are a view into
 * `data` (no copy).
 */
export function decodeMessage(data: Uint8Array, limits?: WireLimits): WireMessage {
  try {
    return decodeUnchecked(data, limits);
  } catch (err) {
    if (err instanceof WireDecodeError) throw err;
    throw new WireDecodeError('message', `unexpected decoder failure: ${String(err)}`);
  }
}

/** Like {@link decodeMessage} but returns a result instead of throwing. */
export function safeDecodeMessage(data: Uint8Array, limits?: WireLimits): DecodeResult {
  try {
    return { ok: true, message: decodeMessage(data, limits) };
  } catch (err) {
    return { ok: false, error: err as WireDecodeError };
  }
}

/** Reads only the envelope (type, run id, compat hash) of a message; throws {@link WireDecodeError}. */
export function peekEnvelope(data: Uint8Array): Envelope & { type: MessageType } {
  const r = new ByteReader(data);
  return readEnvelope(r);
}

function readEnvelope(r: ByteReader): Envelope & { type: MessageType } {
  if (r.u8('magic') !== MAGIC0 || r.u8('magic') !== MAGIC1) {
    throw new WireDecodeError('magic', 'not an enjambre message (bad magic bytes)');
  }
  const version = r.u8('version');
  if (version !== WIRE_VERSION) {
    throw new WireDecodeError(
      'version',
      `unsupported wire version ${version}, this peer speaks ${WIRE_VERSION}`,
    );
  }
  const code = r.u8('type');
  const type = (Object.keys(TYPE_CODES) as MessageType[]).find((k) => TYPE_CODES[k] === code);
  if (type === undefined) throw new WireDecodeError('type', `unknown message type code ${code}`);
  const runId = r.str8('runId', MAX_RUN_ID_BYTES);
  checkRunId('runId', runId, WireDecodeError);
  const compatLen = r.u8('compatHash.length');
  if (compatLen === 0 || compatLen > MAX_COMPAT_HASH_BYTES) {
    throw new WireDecodeError('compatHash', `length ${compatLen} not in 1..${MAX_COMPAT_HASH_BYTES}`);
  }
  const compatHash = toHex(r.raw('compatHash', compatLen));
  return { type, runId, compatHash };
}

function decodeUnchecked(data: Uint8Array, limits?: WireLimits): WireMessage {
  if (!(data instanceof Uint8Array)) throw new WireDecodeError('message', 'expected a Uint8Array');
  const max = maxBytesOf(limits);
  if (data.length > max)
    throw new WireDecodeError('message', `${data.length} bytes exceeds the limit of ${max}`);
  const r = new ByteReader(data);
  const env = readEnvelope(r);
  let msg: WireMessage;
  switch (env.type) {
    case 'update':
      msg = readUpdate(r, env, max);
      break;
    case 'heartbeat':
      msg = readHeartbeat(r, env);
      break;
    case 'leave':
      msg = {
        type: 'leave',
        runId: env.runId,
        compatHash: env.compatHash,
        round: r.u32('leave.round'),
        reason: r.str16('leave.reason', MAX_REASON_BYTES),
      };
      break;
  }
  r.end(env.type);
  return msg;
}

function readUpdate(r: ByteReader, env: Envelope, max: number): UpdateMessage {
  const round = r.u32('update.round');
  const sender = r.str8('update.sender', MAX_SENDER_BYTES);
  if (sender.length === 0) throw new WireDecodeError('update.sender', 'empty');
  const samples = r.uint53('update.samples');
  if (samples === 0) throw new WireDecodeError('update.samples', 'must be > 0');
  const anchorHash = toHex(r.raw('update.anchorHash', HASH_BYTES));
  const codec = r.str8('update.codec', MAX_CODEC_NAME_BYTES);
  if (codec.length === 0) throw new WireDecodeError('update.codec', 'empty');
  const kind = r.u8('update.payload.kind');
  let payload: UpdatePayload;
  if (kind === 0) {
    payload = { kind: 'inline', bytes: r.bytes('update.payload.bytes', max) };
  } else if (kind === 1) {
    payload = {
      kind: 'hash',
      hash: toHex(r.raw('update.payload.hash', HASH_BYTES)),
      byteLength: r.uint53('update.payload.byteLength'),
    };
  } else {
    throw new WireDecodeError('update.payload.kind', `unknown payload kind ${kind}`);
  }
  return {
    type: 'update',
    runId: env.runId,
    compatHash: env.compatHash,
    round,
    sender,
    samples,
    anchorHash,
    codec,
    payload,
  };
}

function readHeartbeat(r: ByteReader, env: Envelope): HeartbeatMessage {
  const round = r.u32('heartbeat.round');
  const step = r.uint53('heartbeat.step');
  const samplesDone = r.uint53('heartbeat.samplesDone');
  const lossRaw = r.f64('heartbeat.loss');
  if (!Number.isNaN(lossRaw) && !Number.isFinite(lossRaw)) {
    throw new WireDecodeError('heartbeat.loss', `expected a finite number or NaN (none), got ${lossRaw}`);
  }
  const samplesPerSec = r.nonNegative('heartbeat.samplesPerSec');
  const bytesIn = r.uint53('heartbeat.bytesIn');
  const bytesOut = r.uint53('heartbeat.bytesOut');
  const provider = r.str8('heartbeat.hardware.provider', MAX_PROVIDER_BYTES);
  const deviceName = r.str8('heartbeat.hardware.deviceName', MAX_DEVICE_NAME_BYTES);
  const cores = r.u16('heartbeat.hardware.cores');
  const n = r.u16('heartbeat.fingerprint.length');
  if (n > MAX_FINGERPRINT_LENGTH) {
    throw new WireDecodeError(
      'heartbeat.fingerprint',
      `length ${n} exceeds the maximum ${MAX_FINGERPRINT_LENGTH}`,
    );
  }
  if (r.remaining < n * 4)
    throw new WireDecodeError('heartbeat.fingerprint', `truncated: needs ${n * 4} bytes`);
  const fingerprint = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = r.f32(`heartbeat.fingerprint[${i}]`);
    if (!Number.isFinite(v)) throw new WireDecodeError(`heartbeat.fingerprint[${i}]`, `not finite: ${v}`);
    fingerprint[i] = v;
  }
  const roleCode = r.u8('heartbeat.role');
  if (roleCode > 1) throw new WireDecodeError('heartbeat.role', `unknown role code ${roleCode}`);
  const name = r.str8('heartbeat.name', MAX_NODE_NAME_BYTES);
  const addrCount = r.u8('heartbeat.addrs.length');
  if (addrCount > MAX_HEARTBEAT_ADDRS) {
    throw new WireDecodeError(
      'heartbeat.addrs',
      `${addrCount} addresses exceed the maximum ${MAX_HEARTBEAT_ADDRS}`,
    );
  }
  const addrs = Array.from({ length: addrCount }, (_, i) => r.str8(`heartbeat.addrs[${i}]`, MAX_ADDR_BYTES));
  let anchorHash: string | undefined;
  // Exactly [u8 1][32 bytes] left: the anchor hash; anything else is left to the trailing-bytes check.
  if (r.remaining === 1 + HASH_BYTES) {
    const present = r.u8('heartbeat.anchorHash.present');
    if (present !== 1)
      throw new WireDecodeError('heartbeat.anchorHash.present', `expected 1, got ${present}`);
    anchorHash = toHex(r.raw('heartbeat.anchorHash', HASH_BYTES));
  }
  return {
    type: 'heartbeat',
    runId: env.runId,
    compatHash: env.compatHash,
    round,
    step,
    samplesDone,
    loss: Number.isNaN(lossRaw) ? null : lossRaw,
    samplesPerSec,
    bytesIn,
    bytesOut,
    hardware: { provider, deviceName, cores },
    fingerprint,
    role: roleCode === 0 ? 'trainer' : 'observer',
    ...(name ? { name } : {}),
    ...(addrs.length ? { addrs } : {}),
    ...(anchorHash !== undefined ? { anchorHash } : {}),
  };
}
