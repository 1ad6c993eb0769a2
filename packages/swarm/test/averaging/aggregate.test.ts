import { describe, expect, it } from 'vitest';
import {
  AggregationError,
  aggregate,
  centeredClip,
  coordinateMedian,
  type WeightedUpdate,
  weightedMean,
} from '../../src/averaging/index.ts';
import { dist, gaussianArray, norm, rng } from './random.ts';

/** 8 peers: honest ones send signal + noise with random sample counts. */
function honestRound(seed: number, peers: number, n: number) {
  const r = rng(seed);
  const signal = gaussianArray(n, r, 0.01);
  const updates: WeightedUpdate[] = [];
  for (let p = 0; p < peers; p++) {
    const noise = gaussianArray(n, r, 0.005);
    updates.push({
      values: Float32Array.from(signal, (s, i) => s + noise[i]),
      weight: 500 + Math.floor(r() * 1000),
    });
  }
  return updates;
}

describe('weightedMean', () => {
  it.each([
    [1, 10],
    [3, 1000],
    [8, 4097],
  ])('matches a hand computation (%i updates of %i values)', (k, n) => {
    const r = rng(k * 7 + n);
    const updates = Array.from({ length: k }, () => ({ values: gaussianArray(n, r), weight: 1 + r() * 100 }));
    const got = weightedMean(updates);
    const W = updates.reduce((s, u) => s + u.weight, 0);
    let worst = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (const u of updates) s += u.weight * u.values[j];
      worst = Math.max(worst, Math.abs(got[j] - s / W) / (Math.abs(s / W) + 1e-6));
    }
    expect(worst).toBeLessThan(1e-6); // float32 output rounding only
  });

  it('rejects empty, mismatched, badly weighted and non-finite inputs', () => {
    const a = { values: new Float32Array([1, 2]), weight: 1 };
    expect(() => weightedMean([])).toThrow(AggregationError);
    expect(() => weightedMean([a, { values: new Float32Array(3).fill(1), weight: 1 }])).toThrow(
      /updates\[1\]\.values/,
    );
    expect(() => weightedMean([a, { ...a, weight: 0 }])).toThrow(/updates\[1\]\.weight/);
    expect(() => weightedMean([a, { ...a, weight: Number.NaN }])).toThrow(AggregationError);
    expect(() => weightedMean([a, { values: new Float32Array([1, Infinity]), weight: 1 }])).toThrow(
      /values\[1\]/,
    );
  });
});

describe('centeredClip', () => {
  const n = 5000;

  it('starts from the coordinate-wise median and uses the median distance as tau', () => {
    const updates = honestRound(1, 5, 300);
    const med = coordinateMedian(updates);
    for (let j = 0; j < 300; j += 37) {
      const col = updates.map((u) => u.values[j]).sort((a, b) => a - b);
      expect(med[j]).toBe(col[2]);
    }
    const dists = updates.map((u) => dist(u.values, med)).sort((a, b) => a - b);
    const r0 = centeredClip(updates, { iterations: 0 });
    expect(r0.values).toEqual(med);
    expect(r0.tau).toBeCloseTo(dists[2], 6);
  });

  it('equals the weighted mean when tau is large enough that nothing is clipped', () => {
    const updates = honestRound(2, 6, 1000);
    const mean = weightedMean(updates);
    // with tau = ∞, each iteration moves 100% of the way to the weighted mean
    const r = centeredClip(updates, { tau: 1e9, iterations: 1 });
    expect(dist(r.values, mean)).toBeLessThan(1e-6 * norm(mean));
    expect(r.clipFactors.every((f) => f === 1)).toBe(true);
  });

  it.each([
    ['-10x', -10],
    ['x100', 100],
  ])(
    'stays near the honest mean when one of 8 peers sends %s its update; the plain mean does not',
    (_, factor) => {
      const updates = honestRound(3, 8, n);
      const honestMean = weightedMean(updates.slice(0, 7));
      updates[7] = {
        values: Float32Array.from(updates[7].values, (v) => v * factor),
        weight: updates[7].weight,
      };
      const plain = weightedMean(updates);
      const robust = aggregate(updates);
      expect(robust.method).toBe('centered-clip');
      const scale = norm(honestMean);
      expect(dist(plain, honestMean) / scale).toBeGreaterThan(0.5);
      expect(dist(robust.values, honestMean) / scale).toBeLessThan(0.15);
      // the attacker is the one that got clipped hardest
      const f = robust.clipFactors!;
      expect(f.indexOf(Math.min(...f))).toBe(7);
      expect(f[7]).toBeLessThan(0.1);
    },
  );

  it('resists two colluding attackers among 8 and a peer that claims a huge sample count', () => {
    const updates = honestRound(4, 8, n);
    const honestMean = weightedMean(updates.slice(0, 6));
    const attack = Float32Array.from(honestMean, (v) => -10 * v);
    updates[6] = { values: attack, weight: 1e9 };
    updates[7] = { values: attack.slice(), weight: 800 };
    const robust = centeredClip(updates);
    expect(dist(robust.values, honestMean) / norm(honestMean)).toBeLessThan(0.5);
    expect(dist(weightedMean(updates), honestMean) / norm(honestMean)).toBeGreaterThan(10);
  });

  it('validates its options', () => {
    const updates = honestRound(5, 4, 10);
    expect(() => centeredClip(updates, { iterations: -1 })).toThrow(/iterations/);
    expect(() => centeredClip(updates, { tau: Number.NaN })).toThrow(/tau/);
    expect(() => centeredClip(updates, { maxWeightRatio: 0.5 })).toThrow(/maxWeightRatio/);
  });
});

describe('aggregate', () => {
  it('uses the weighted mean below 4 updates and CenteredClip from 4, unless told otherwise', () => {
    const three = honestRound(6, 3, 100);
    const four = honestRound(7, 4, 100);
    expect(aggregate(three).method).toBe('weighted-mean');
    expect(aggregate(three).values).toEqual(weightedMean(three));
    expect(aggregate(four).method).toBe('centered-clip');
    expect(aggregate(four, { method: 'weighted-mean' }).method).toBe('weighted-mean');
    expect(aggregate(three, { method: 'centered-clip' }).method).toBe('centered-clip');
    expect(aggregate(four, { minRobustUpdates: 5 }).method).toBe('weighted-mean');
    expect(() => aggregate(four, { method: 'median' as 'auto' })).toThrow(AggregationError);
  });
});
