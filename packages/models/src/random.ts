/**
 * Seeded, bit-reproducible random numbers for weight initialisation. Peers of a swarm must start
 * from the same anchor, so every value is computed with exact integer arithmetic and at most one
 * IEEE-rounded multiply (no Math.log/cos, whose last bits may differ between platforms).
 */
import { hashString, Rng } from '@enjambre/core';

/**
 * The generator of one parameter's initial values: `seed` and a `stream` name (the parameter's name)
 * select an independent stream, so adding a layer does not change the others' weights. The seeding
 * is the one every model and checkpoint so far was made with.
 */
export function initRng(seed: number, stream = ''): Rng {
  return Rng.fromState(
    hashString(stream, 0x9e3779b9 ^ (seed >>> 0)),
    hashString(stream, 0x85ebca6b ^ Math.imul(seed >>> 0, 0x27d4eb2f)),
    (seed >>> 0) ^ 0xc2b2ae35,
  );
}

export type FloatDType = 'float32' | 'float64';

/** A tensor of `size` values uniform in [−bound, bound), from the stream (`seed`, `name`). */
export function uniformTensor(
  dtype: FloatDType,
  size: number,
  bound: number,
  seed: number,
  name: string,
): Float32Array | Float64Array {
  const rng = initRng(seed, name);
  const out = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  // u32 / 2^32 is a multiple of 2^-32, exact in float64.
  for (let i = 0; i < size; i++) out[i] = (2 * (rng.u32() / 4294967296) - 1) * bound;
  return out;
}

/** A tensor of `size` values ~ N(0, std²) (see {@link Rng.exactNormal}), from the stream (`seed`, `name`). */
export function normalTensor(
  dtype: FloatDType,
  size: number,
  std: number,
  seed: number,
  name: string,
): Float32Array | Float64Array {
  const rng = initRng(seed, name);
  const out = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.exactNormal() * std;
  return out;
}

/** A tensor filled with `value`. */
export function filledTensor(dtype: FloatDType, size: number, value: number): Float32Array | Float64Array {
  const out = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  out.fill(value);
  return out;
}
