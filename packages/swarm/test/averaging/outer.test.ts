import { describe, expect, it } from 'vitest';
import { AggregationError, OuterNesterov, TOPK_OUTER_OPTIONS } from '../../src/averaging/index.ts';
import { gaussianArray, rng } from './random.ts';

/** Scalar reference: one coordinate at a time, plain numbers, the formula from the protocol brief. */
function reference(theta0: number[], deltas: number[][], lr: number, mu: number): number[] {
  return theta0.map((t0, i) => {
    let theta = t0;
    let m = 0;
    for (const D of deltas) {
      m = mu * m + D[i];
      theta = theta - lr * (D[i] + mu * m);
    }
    return theta;
  });
}

describe('OuterNesterov', () => {
  it.each([
    [0.7, 0.9],
    [0.5, 0.5],
    [1, 0],
  ])('matches the scalar reference loop over 20 rounds (lr %s, momentum %s)', (lr, mu) => {
    const r = rng(Math.round(lr * 10 + mu * 100));
    const n = 1000;
    const theta0 = gaussianArray(n, r);
    const deltas = Array.from({ length: 20 }, () => gaussianArray(n, r, 0.01));
    const params = theta0.slice();
    const opt = new OuterNesterov({ lr, momentum: mu });
    for (const D of deltas) opt.step(params, D);
    const ref = reference(
      Array.from(theta0),
      deltas.map((d) => Array.from(d)),
      lr,
      mu,
    );
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(params[i] - ref[i]));
    expect(worst).toBeLessThan(1e-5);
    if (mu === 0) expect(opt.state()).toEqual([]); // no momentum kept
  });

  it('defaults to lr 0.7 and momentum 0.9, and has top-k settings without momentum', () => {
    const opt = new OuterNesterov();
    expect([opt.lr, opt.momentum]).toEqual([0.7, 0.9]);
    const p = new Float32Array([1]);
    opt.step(p, new Float32Array([0.1]));
    expect(p[0]).toBeCloseTo(1 - 0.7 * (0.1 + 0.9 * 0.1), 6);
    const topk = new OuterNesterov(TOPK_OUTER_OPTIONS);
    const q = new Float32Array([1]);
    topk.step(q, new Float32Array([0.25]));
    topk.step(q, new Float32Array([0.25]));
    expect(q[0]).toBeCloseTo(0.5, 6);
  });

  it('keeps momentum per key and restores it from a snapshot', () => {
    const r = rng(9);
    const a = gaussianArray(50, r);
    const b = gaussianArray(7, r);
    const opt = new OuterNesterov();
    opt.step(a, gaussianArray(50, r, 0.1), 'a');
    opt.step(b, gaussianArray(7, r, 0.1), 'b');
    const restored = new OuterNesterov();
    restored.loadState(opt.state());
    const D = gaussianArray(50, r, 0.1);
    const a1 = a.slice();
    const a2 = a.slice();
    opt.step(a1, D, 'a');
    restored.step(a2, D, 'a');
    expect(a2).toEqual(a1);
    expect(() => opt.step(new Float32Array(8), new Float32Array(8), 'b')).toThrow(AggregationError);
    expect(() => opt.step(new Float32Array(8), new Float32Array(9))).toThrow(AggregationError);
    expect(() => new OuterNesterov({ momentum: 1 })).toThrow(/momentum/);
    expect(() => new OuterNesterov({ lr: 0 })).toThrow(/lr/);
  });
});
