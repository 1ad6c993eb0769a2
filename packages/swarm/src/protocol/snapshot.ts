import { createHash } from 'node:crypto';
import { MAX_ROUND } from './core/limits.ts';
import { AveragingError } from './errors.ts';

/** What a joining peer needs to take part in the next round: the shared state of the swarm. */
export interface AveragingSnapshot {
  /** The round the swarm runs next. */
  round: number;
  /** θ_anchor, all shared tensors concatenated. */
  anchor: Float32Array;
  /** Outer Nesterov momentum, same layout. */
  momentum: Float32Array;
}

const MAGIC = 0x534a4e45; // 'ENJS'
const VERSION = 1;
const HEADER_BYTES = 16;

/**
 * Layout (little-endian): magic u32, version u32, round u32, length u32, then `length` float32
 * anchor values and `length` float32 momentum values. Identical states give identical bytes,
 * which is what the quorum of state sync compares.
 */
export function encodeSnapshot(s: AveragingSnapshot): Uint8Array {
  if (s.anchor.length !== s.momentum.length)
    throw new AveragingError('snapshot anchor and momentum differ in length');
  const out = new Uint8Array(HEADER_BYTES + 8 * s.anchor.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, s.round, true);
  view.setUint32(12, s.anchor.length, true);
  const floats = new Float32Array(out.buffer, HEADER_BYTES, 2 * s.anchor.length);
  floats.set(s.anchor, 0);
  floats.set(s.momentum, s.anchor.length);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array, expectedLength: number): AveragingSnapshot {
  if (bytes.length < HEADER_BYTES) throw new AveragingError(`snapshot of ${bytes.length} bytes is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new AveragingError('snapshot has a wrong magic number');
  if (view.getUint32(4, true) !== VERSION)
    throw new AveragingError(`snapshot version ${view.getUint32(4, true)} is unknown`);
  const length = view.getUint32(12, true);
  if (length !== expectedLength) {
    throw new AveragingError(`snapshot holds ${length} parameters, this model has ${expectedLength}`);
  }
  if (bytes.length !== HEADER_BYTES + 8 * length)
    throw new AveragingError('snapshot size does not match its header');
  const round = view.getUint32(8, true);
  if (round > MAX_ROUND)
    throw new AveragingError(`snapshot round ${round} is beyond the highest accepted round ${MAX_ROUND}`);
  const floats = new Float32Array(bytes.slice(HEADER_BYTES).buffer);
  const anchor = floats.slice(0, length);
  const momentum = floats.slice(length);
  assertFinite('anchor', anchor);
  assertFinite('momentum', momentum);
  return { round, anchor, momentum };
}

function assertFinite(field: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) throw new AveragingError(`snapshot ${field}[${i}] is not finite (${v})`);
  }
}

/** sha256 (hex) of an anchor's float32 bytes: what peers vouch for in heartbeats and updates. */
export function anchorHashOf(anchor: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(anchor.buffer, anchor.byteOffset, anchor.byteLength))
    .digest('hex');
}

/**
 * Decodes a snapshot and checks it is the state the peers vouched for: every field bounded and finite
 * ({@link decodeSnapshot}), at the vouched round, with an anchor whose sha256 is the vouched hash. Throws
 * {@link AveragingError} naming the field; nothing is adopted before this returns.
 */
export function decodeVouchedSnapshot(
  bytes: Uint8Array,
  expectedLength: number,
  vouched: { round: number; anchorHash: string },
): AveragingSnapshot {
  const s = decodeSnapshot(bytes, expectedLength);
  if (s.round !== vouched.round)
    throw new AveragingError(`snapshot round ${s.round} differs from the vouched round ${vouched.round}`);
  const hash = anchorHashOf(s.anchor);
  if (hash !== vouched.anchorHash) {
    throw new AveragingError(
      `snapshot anchor hashes to ${hash.slice(0, 12)}…, the peers vouched for ${vouched.anchorHash.slice(0, 12)}…`,
    );
  }
  return s;
}
