/**
 * IEEE 754 binary16 conversion. `toHalf` rounds to nearest, ties to even, produces subnormals,
 * overflows to ±Infinity and keeps NaN a (quiet) NaN. `fromHalf` is exact (table lookup).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Largest finite half-precision value. */
export const HALF_MAX = 65504;

/** Converts one number to the bit pattern of the nearest binary16 value (round to nearest even). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays Inf; NaN becomes a quiet NaN that keeps the top payload bits.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: rounds to (signed) zero
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let q = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (q & 1) === 1)) q++;
    return sign | q; // q may carry into 0x400, the smallest normal: still correct
  }
  let q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1) === 1)) q++; // carry may reach 0x7c00 = Inf: correct
  return sign | q;
}

let table: Float32Array | undefined;

/** Table of all 65536 half values as float32 (built on first use, 256 KiB). */
export function halfTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 0x1f) v = mant === 0 ? Infinity : Number.NaN;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    t[h] = sign * v;
  }
  table = t;
  return t;
}

/** Converts a binary16 bit pattern to its exact value. */
export function fromHalf(bits: number): number {
  return halfTable()[bits & 0xffff];
}

/** True when the half bit pattern is Inf or NaN. */
export function isHalfNonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}
