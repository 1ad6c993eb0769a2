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
  const floats = new Float32Array(bytes.slice(HEADER_BYTES).buffer);
  const anchor = floats.slice(0, length);
  const momentum = floats.slice(length);
  for (const v of anchor)
    if (!Number.isFinite(v)) throw new AveragingError('snapshot anchor has non-finite values');
  return { round: view.getUint32(8, true), anchor, momentum };
}
