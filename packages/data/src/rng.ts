/**
 * Seeded choices over datasets: seeds checked as data-spec fields, and index permutations. The
 * generator itself is `@enjambre/core`'s {@link Rng}; every index decision uses integer arithmetic
 * only, so it is the same on every machine.
 */
import { fmix32, hashWords } from '@enjambre/core';
import { InvalidSpecError } from './errors.ts';

export { Rng } from '@enjambre/core';

/** Check that `seed` is a safe integer; `field` names it in the error. */
export function checkSeed(seed: unknown, field: string): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new InvalidSpecError(field, seed, 'a safe integer seed');
  }
  return seed;
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
