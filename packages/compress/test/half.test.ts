import { describe, expect, it } from 'vitest';
import { fromHalf, HALF_MAX, toHalf } from '../src/half.ts';
import { rng } from './random.ts';

// Oracle: all finite non-negative half values in increasing order (bit patterns 0..0x7bff are monotone).
const positives: number[] = [];
for (let h = 0; h <= 0x7bff; h++) positives.push(fromHalf(h));

/** Nearest half bit pattern by exhaustive search with ties to even: independent of toHalf's bit tricks. */
function oracle(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // Values at or beyond the midpoint between HALF_MAX and 2^16 round to Inf.
  if (a >= (HALF_MAX + 65536) / 2) return sign | 0x7c00;
  let lo = 0;
  let hi = positives.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (positives[mid] <= a) lo = mid;
    else hi = mid;
  }
  if (positives[hi] <= a) return sign | hi;
  const dl = a - positives[lo];
  const dh = positives[hi] - a;
  if (dl < dh) return sign | lo;
  if (dh < dl) return sign | hi;
  return sign | (lo % 2 === 0 ? lo : hi);
}

describe('toHalf / fromHalf', () => {
  it('round-trips every finite half value exactly', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) !== 0x7c00 && toHalf(fromHalf(h)) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('rounds random float32 values (normal, subnormal, overflow) like the exhaustive oracle', () => {
    const r = rng(11);
    const buf = new Float32Array(1);
    for (let t = 0; t < 20000; t++) {
      buf[0] = (r() - 0.5) * 2 ** Math.floor(r() * 46 - 28); // up to ±2^16: includes overflow
      expect(toHalf(buf[0])).toBe(oracle(buf[0]));
    }
  });

  it('breaks exact ties to even, including across the subnormal/normal boundary and into Inf', () => {
    const r = rng(12);
    for (let t = 0; t < 5000; t++) {
      const h = Math.floor(r() * 0x7bff);
      const mid = Math.fround((fromHalf(h) + fromHalf(h + 1)) / 2); // exact in float32
      const expected = h % 2 === 0 ? h : h + 1;
      expect(toHalf(mid)).toBe(expected);
      expect(toHalf(-mid)).toBe(expected | 0x8000);
    }
    expect(toHalf(65520)).toBe(0x7c00); // midpoint of 65504 and 2^16: even side is Inf
    expect(toHalf(65519.99)).toBe(0x7bff);
    expect(toHalf(2 ** -25)).toBe(0); // half the smallest subnormal: tie to even zero
    expect(toHalf(Math.fround(2 ** -25 * 1.0001))).toBe(1);
  });

  it('handles Inf, NaN, signed zero', () => {
    expect(toHalf(Infinity)).toBe(0x7c00);
    expect(toHalf(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
    expect(toHalf(-0)).toBe(0x8000);
    expect(Object.is(fromHalf(0x8000), -0)).toBe(true);
  });

  it('has relative error at most 2^-11 in the normal range', () => {
    const r = rng(13);
    for (let t = 0; t < 20000; t++) {
      const x = Math.fround((r() + 0.01) * 2 ** Math.floor(r() * 28 - 14));
      if (x > HALF_MAX || x < 2 ** -14) continue;
      expect(Math.abs(fromHalf(toHalf(x)) - x)).toBeLessThanOrEqual(x * 2 ** -11);
    }
  });
});
