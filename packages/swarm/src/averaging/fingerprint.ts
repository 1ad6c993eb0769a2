/**
 * Anchor fingerprints: a fixed, seeded random ±1 projection of the parameters to a few numbers, identical
 * on every machine (integer hashing only, float64 sums in a fixed order), so peers can compare anchors in
 * heartbeats.
 */
import { DEFAULT_FINGERPRINT_DIMS, DEFAULT_FINGERPRINT_SEED, MAX_FINGERPRINT_DIMS } from './constants.ts';
import { AggregationError } from './errors.ts';

/** 32-bit integer mixer (xorshift-multiply, "lowbias32" constants). */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Projects the parameters (one flat array or a list of tensors, taken as concatenated) onto `dims`
 * seeded random ±1 directions, scaled by 1/√n: fᵢ = Σⱼ sᵢⱼ θⱼ / √n.
 * @param dims number of outputs, 1..256. Default {@link DEFAULT_FINGERPRINT_DIMS} (16).
 * @param seed projection seed (u32). Default {@link DEFAULT_FINGERPRINT_SEED}.
 */
export function anchorFingerprint(
  params: Float32Array | readonly Float32Array[],
  dims: number = DEFAULT_FINGERPRINT_DIMS,
  seed: number = DEFAULT_FINGERPRINT_SEED,
): Float64Array {
  if (!Number.isInteger(dims) || dims < 1 || dims > MAX_FINGERPRINT_DIMS) {
    throw new AggregationError('dims', `expected an integer in [1, ${MAX_FINGERPRINT_DIMS}], got ${dims}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new AggregationError('seed', `expected an integer in [0, 2^32), got ${seed}`);
  }
  const tensors = params instanceof Float32Array ? [params] : params;
  const words = Math.ceil(dims / 32);
  const acc = new Float64Array(dims);
  const seedMix = mix(seed ^ 0x9e3779b9);
  let n = 0;
  let j = 0;
  for (const t of tensors) {
    n += t.length;
    for (let i = 0; i < t.length; i++, j++) {
      const x = t[i];
      const base = mix((j ^ seedMix) >>> 0);
      for (let w = 0; w < words; w++) {
        const bits = w === 0 ? base : mix((base + Math.imul(w, 0x85ebca6b)) >>> 0);
        const end = Math.min(dims, (w + 1) * 32);
        for (let d = w * 32; d < end; d++) {
          if ((bits >>> (d & 31)) & 1) acc[d] -= x;
          else acc[d] += x;
        }
      }
    }
  }
  const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let d = 0; d < dims; d++) acc[d] *= scale;
  return acc;
}

/**
 * Distance between two fingerprints: √(Σ (aᵢ − bᵢ)² / dims). For fingerprints of the same seed and
 * size it estimates the root-mean-square difference between the two parameter vectors.
 */
export function fingerprintDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) {
    throw new AggregationError('fingerprint', `lengths differ or are zero (${a.length} vs ${b.length})`);
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s / a.length);
}
