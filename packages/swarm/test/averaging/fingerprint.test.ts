import { describe, expect, it } from 'vitest';
import { AggregationError, anchorFingerprint, fingerprintDistance } from '../../src/averaging/index.ts';
import { gaussianArray, rng } from './random.ts';

describe('anchorFingerprint', () => {
  it('is deterministic, and pinned so that every machine and version computes the same projection', () => {
    // Parameters from integer arithmetic only, so the input is bit-identical everywhere.
    const params = Float32Array.from(
      { length: 10_000 },
      (_, i) => ((Math.imul(i, 2654435761) >>> 0) % 2001) / 1000 - 1,
    );
    const f = anchorFingerprint(params);
    expect(f.length).toBe(16);
    expect(anchorFingerprint(params.slice())).toEqual(f);
    // a tensor list is the concatenation
    expect(anchorFingerprint([params.subarray(0, 1234), params.subarray(1234)])).toEqual(f);
    expect(Array.from(f.slice(0, 4), (x) => x.toFixed(12))).toMatchInlineSnapshot(`
      [
        "-0.064440013291",
        "0.952520005128",
        "-1.074740007876",
        "0.166639989184",
      ]
    `);
    expect(anchorFingerprint(params, 16, 1)).not.toEqual(f);
    expect(anchorFingerprint(params, 40).slice(0, 16)).not.toEqual(new Float64Array(16));
  });

  it('distance estimates the RMS parameter difference, and is 0 for identical anchors', () => {
    const r = rng(3);
    const n = 200_000;
    const a = gaussianArray(n, r, 0.05);
    for (const eps of [1e-4, 1e-2]) {
      const b = Float32Array.from(a, (v) => v + (r() - 0.5) * 2 * eps * Math.sqrt(3)); // RMS diff = eps
      const d = fingerprintDistance(anchorFingerprint(a), anchorFingerprint(b));
      expect(d / eps).toBeGreaterThan(0.4);
      expect(d / eps).toBeLessThan(1.6);
    }
    expect(fingerprintDistance(anchorFingerprint(a), anchorFingerprint(a.slice()))).toBe(0);
  });

  it('validates dims, seed and lengths', () => {
    const p = new Float32Array([1, 2, 3]);
    expect(() => anchorFingerprint(p, 0)).toThrow(AggregationError);
    expect(() => anchorFingerprint(p, 300)).toThrow(AggregationError);
    expect(() => anchorFingerprint(p, 16, -1)).toThrow(AggregationError);
    expect(() => fingerprintDistance([1, 2], [1])).toThrow(AggregationError);
  });
});
