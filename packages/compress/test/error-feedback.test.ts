import { describe, expect, it } from 'vitest';
import { decode, type EncodeOptions, ErrorFeedback, TensorMismatchError } from '../src/index.ts';
import { gaussian, rng } from './random.ts';

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}
function same(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('ErrorFeedback', () => {
  const cases: [string, EncodeOptions, number][] = [
    ['sign', { codec: 'sign' }, 10],
    ['topk k=2%', { codec: 'topk', fraction: 0.02 }, 50],
    ['int8', { codec: 'int8' }, 1],
  ];

  it.each(cases)('%s: the sum of decoded updates tracks the sum of the originals', (_, options, bound) => {
    const n = 9000; // two full chunks and a partial one
    const rounds = 160;
    const r = rng(31);
    const drift = Float32Array.from({ length: n }, () => gaussian(r) * 0.01); // shared direction
    const ef = new ErrorFeedback(options);
    const sumDelta = new Float64Array(n);
    const sumDecoded = new Float64Array(n);
    let maxResidual = 0;
    let deltaNorm = 0;
    let relQuarter = 0;
    const relError = () => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < n; i++) {
        num += (sumDelta[i] - sumDecoded[i]) ** 2;
        den += sumDelta[i] ** 2;
      }
      return Math.sqrt(num / den);
    };
    for (let t = 0; t < rounds; t++) {
      const delta = Float32Array.from(drift, (d) => d + gaussian(r) * 0.01);
      const before = delta.slice();
      const { bytes, decoded } = ef.compress('w', delta);
      expect(same(delta, before)).toBe(true); // input untouched
      expect(same(decoded, decode(bytes))).toBe(true); // exactly what receivers will see
      for (let i = 0; i < n; i++) {
        sumDelta[i] += delta[i];
        sumDecoded[i] += decoded[i];
      }
      deltaNorm = norm(delta);
      maxResidual = Math.max(maxResidual, norm(ef.residual('w')!));
      if (t === rounds / 4 - 1) relQuarter = relError();
    }
    // Invariant: Σ Δ − Σ decoded = e_T (up to float32 rounding of the residual updates).
    const e = ef.residual('w')!;
    const gap = Float64Array.from(sumDelta, (s, i) => s - sumDecoded[i] - e[i]);
    expect(norm(gap)).toBeLessThan(1e-3 * norm(sumDelta));
    // The residual stays within a bounded multiple of one update's norm (it grows far slower than Σ Δ),
    // so the relative tracking error keeps shrinking as rounds go by.
    expect(maxResidual).toBeLessThan(bound * deltaNorm);
    expect(relError()).toBeLessThan(0.7 * relQuarter);
    expect(relError()).toBeLessThan(bound / 50);
  });

  it('without error feedback, sign compression drifts away from the sum (control)', () => {
    const n = 8192;
    const r = rng(5);
    const drift = Float32Array.from({ length: n }, () => gaussian(r) * 0.01);
    const withEf = new ErrorFeedback({ codec: 'sign' });
    const sumDelta = new Float64Array(n);
    const sumEf = new Float64Array(n);
    const sumPlain = new Float64Array(n);
    for (let t = 0; t < 100; t++) {
      const delta = Float32Array.from(drift, (d) => d + gaussian(r) * 0.01);
      const plain = new ErrorFeedback({ codec: 'sign' }).compress('w', delta).decoded; // fresh: no residual
      const fed = withEf.compress('w', delta).decoded;
      for (let i = 0; i < n; i++) {
        sumDelta[i] += delta[i];
        sumEf[i] += fed[i];
        sumPlain[i] += plain[i];
      }
    }
    const rel = (s: Float64Array) => norm(Float64Array.from(sumDelta, (v, i) => v - s[i])) / norm(sumDelta);
    expect(rel(sumEf)).toBeLessThan(rel(sumPlain) / 5);
  });

  it('keeps residuals per tensor, exports/loads them, and rejects a resized tensor', () => {
    const r = rng(8);
    const a = Float32Array.from({ length: 5000 }, () => gaussian(r));
    const b = Float32Array.from({ length: 100 }, () => gaussian(r));
    const ef = new ErrorFeedback({ codec: 'sign' });
    const { decoded } = ef.compressTensors([
      { name: 'a', values: a },
      { name: 'b', values: b },
    ]);
    expect(decoded.map((t) => t.values.length)).toEqual([5000, 100]);
    const saved = ef.residuals();
    expect(saved.map((t) => t.name)).toEqual(['a', 'b']);
    const copy = new ErrorFeedback({ codec: 'sign' });
    copy.loadResiduals(saved);
    expect(copy.compress('a', a).decoded).toEqual(ef.compress('a', a).decoded);
    expect(() => ef.compress('b', new Float32Array(101).fill(0.5))).toThrow(TensorMismatchError);
    ef.reset();
    expect(ef.residual('a')).toBeUndefined();
  });
});
