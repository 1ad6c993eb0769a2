/**
 * Seeded, bit-reproducible random numbers for weight initialisation. Peers of a swarm must start
 * from the same anchor, so every value is computed with exact integer arithmetic and at most one
 * IEEE-rounded multiply (no Math.log/cos, whose last bits may differ between platforms).
 */

/** 32-bit FNV-1a hash of a string (UTF-16 code units). */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A small PRNG (sfc32) returning uint32 values. `seed` and a `stream` name (the parameter's
 * name) select an independent stream, so adding a layer does not change the others' weights.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = '') {
    this.a = hashString(stream, 0x9e3779b9 ^ (seed >>> 0));
    this.b = hashString(stream, 0x85ebca6b ^ Math.imul(seed >>> 0, 0x27d4eb2f));
    this.c = (seed >>> 0) ^ 0xc2b2ae35;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1), a multiple of 2^-32 (exact in float64). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Approximately standard-normal: Irwin–Hall sum of 12 uniforms minus 6 (mean 0, variance 1,
   * support ±6). The sum is exact in float64, so the value is identical on every machine.
   */
  normal(): number {
    let s = 0;
    for (let i = 0; i < 12; i++) s += this.nextUint32();
    return s / 4294967296 - 6;
  }
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
  const rng = new Rng(seed, name);
  const out = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  return out;
}

/** A tensor of `size` values ~ N(0, std²) (see {@link Rng.normal}), from the stream (`seed`, `name`). */
export function normalTensor(
  dtype: FloatDType,
  size: number,
  std: number,
  seed: number,
  name: string,
): Float32Array | Float64Array {
  const rng = new Rng(seed, name);
  const out = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

/** A tensor filled with `value`. */
export function filledTensor(dtype: FloatDType, size: number, value: number): Float32Array | Float64Array {
  const out = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  out.fill(value);
  return out;
}
