/**
 * Seeded randomness that gives the same results on every machine: integer arithmetic only
 * (`Math.imul`, shifts, xor) for every index decision. Gaussian draws use `Math.log`, `Math.sqrt` and
 * `Math.cos`, which V8 implements in software (fdlibm ports), so they too are platform independent
 * for a given Node major version.
 */
import { InvalidSpecError } from './errors.ts';

const TWO_32 = 4294967296;

/** MurmurHash3's 32-bit finaliser: a bijective avalanche mix of a uint32. */
export function fmix32(h: number): number {
  h >>>= 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash a list of numbers (each reduced modulo 2^32, safe integers split into two words) to a uint32. */
export function hashWords(...words: number[]): number {
  let h = 0x243f6a88;
  for (const w of words) {
    const lo = w >>> 0;
    const hi = Math.floor(w / TWO_32) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

/** Check that `seed` is a safe integer; `field` names it in the error. */
export function checkSeed(seed: unknown, field: string): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new InvalidSpecError(field, seed, 'a safe integer seed');
  }
  return seed;
}

/**
 * Small fast PRNG (sfc32) seeded from any list of numbers. Deterministic across machines.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seedWords: number[]) {
    this.a = hashWords(1, ...seedWords);
    this.b = hashWords(2, ...seedWords);
    this.c = hashWords(3, ...seedWords);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Next uniform uint32. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.u32() >>> 5;
    const lo = this.u32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased, for 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    if (n <= 1) return 0;
    const limit = TWO_32 - (TWO_32 % n);
    let x = this.u32();
    while (x >= limit) x = this.u32();
    return x % n;
  }

  /** Standard normal draw (Box–Muller, one value per call). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/**
 * A pseudo-random permutation of `[0, size)` computed index by index, in O(1) memory: a 4-round
 * balanced Feistel network on the smallest even-bit power of two ≥ size, with cycle walking. Works
 * for any size up to 2^52 (e.g. every byte offset of a file far larger than memory).
 */
export class FeistelPermutation {
  readonly size: number;
  private readonly halfBits: number;
  private readonly halfSize: number;
  private readonly mask: number;
  private readonly keys: readonly number[];

  constructor(size: number, ...seedWords: number[]) {
    if (!Number.isSafeInteger(size) || size < 1 || size > 2 ** 52) {
      throw new RangeError(`permutation size must be an integer in [1, 2^52], got ${size}`);
    }
    this.size = size;
    let bits = 2;
    while (2 ** bits < size) bits += 2;
    this.halfBits = bits / 2;
    this.halfSize = 2 ** this.halfBits;
    this.mask = this.halfSize - 1;
    this.keys = [0, 1, 2, 3].map((r) => hashWords(0x5eed, r, ...seedWords));
  }

  /** The image of `index` (an integer in `[0, size)`). */
  at(index: number): number {
    let x = index;
    do {
      x = this.round(x);
    } while (x >= this.size);
    return x;
  }

  private round(x: number): number {
    let left = Math.floor(x / this.halfSize);
    let right = x - left * this.halfSize;
    for (const key of this.keys) {
      const f = fmix32(fmix32(right ^ key) + key) & this.mask;
      const next = (left ^ f) >>> 0;
      left = right;
      right = next & this.mask;
    }
    return left * this.halfSize + right;
  }
}
