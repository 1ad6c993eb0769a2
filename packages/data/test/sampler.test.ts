import { describe, expect, it } from 'vitest';
import { SamplerStateError } from '../src/errors.ts';
import { FeistelPermutation, Rng } from '../src/rng.ts';
import { BatchSampler, type SamplerState } from '../src/sampler.ts';

describe('FeistelPermutation', () => {
  it('is a bijection of [0, size) for many sizes', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097, 65537]) {
      const perm = new FeistelPermutation(size, 99, size);
      const seen = new Uint8Array(size);
      let outOfRange = 0;
      for (let i = 0; i < size; i++) {
        const j = perm.at(i);
        if (Number.isInteger(j) && j >= 0 && j < size) seen[j]++;
        else outOfRange++;
      }
      expect(outOfRange).toBe(0);
      expect(seen.every((c) => c === 1)).toBe(true);
    }
  });

  it('maps indices of a huge domain (2^40) into range without collisions', () => {
    const size = 2 ** 40 + 12345;
    const perm = new FeistelPermutation(size, 7);
    const out = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const j = perm.at(i * 1_000_003);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(size);
      out.add(j);
    }
    expect(out.size).toBe(5000);
  });

  it('depends on the key', () => {
    const a = new FeistelPermutation(1000, 1);
    const b = new FeistelPermutation(1000, 2);
    let same = 0;
    for (let i = 0; i < 1000; i++) if (a.at(i) === b.at(i)) same++;
    expect(same).toBeLessThan(20);
  });
});

describe('Rng', () => {
  it('gives the pinned sequence for a seed (same on every machine)', () => {
    const rng = new Rng(42);
    const first = Array.from({ length: 4 }, () => rng.u32());
    const again = new Rng(42);
    expect(Array.from({ length: 4 }, () => again.u32())).toEqual(first);
    expect(first).toMatchInlineSnapshot(`
      [
        4205433032,
        704546954,
        2805382378,
        1623049880,
      ]
    `);
  });

  it('int() is unbiased enough and normal() has unit variance', () => {
    const rng = new Rng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    let s = 0;
    let ss = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      s += x;
      ss += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(ss / n - 1)).toBeLessThan(0.05);
  });
});

function take(sampler: BatchSampler, n: number): number[][] {
  return Array.from({ length: n }, () => sampler.next());
}

describe('BatchSampler', () => {
  it('visits every example once per epoch, in a new order each epoch', () => {
    const sampler = new BatchSampler({ size: 103, batchSize: 10, seed: 5, dropLast: false });
    expect(sampler.batchesPerEpoch).toBe(11);
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const batches = take(sampler, 11);
      expect(batches.slice(0, 10).every((b) => b.length === 10)).toBe(true);
      expect(batches[10].length).toBe(3);
      const flat = batches.flat();
      expect([...flat].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
      epochs.push(flat);
    }
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(epochs[1]).not.toEqual(epochs[2]);
    expect(epochs[0]).not.toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it('drops the incomplete last batch by default, so every batch is full and unique within an epoch', () => {
    const sampler = new BatchSampler({ size: 103, batchSize: 10, seed: 5 });
    expect(sampler.batchesPerEpoch).toBe(10);
    const epoch0 = take(sampler, 10);
    expect(sampler.epoch).toBe(0);
    expect(new Set(epoch0.flat()).size).toBe(100);
    const next = sampler.next();
    expect(sampler.epoch).toBe(1);
    expect(next.length).toBe(10);
  });

  it('same seed → same batches; other seed → other batches; pinned first batch', () => {
    const a = take(new BatchSampler({ size: 1000, batchSize: 8, seed: 42 }), 300);
    const b = take(new BatchSampler({ size: 1000, batchSize: 8, seed: 42 }), 300);
    const c = take(new BatchSampler({ size: 1000, batchSize: 8, seed: 43 }), 300);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a[0]).toMatchInlineSnapshot(`
      [
        393,
        295,
        12,
        31,
        406,
        258,
        142,
        345,
      ]
    `);
  });

  it('shuffle: false visits examples in order', () => {
    const sampler = new BatchSampler({ size: 10, batchSize: 4, seed: 1, shuffle: false, dropLast: false });
    expect(take(sampler, 4)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
      [0, 1, 2, 3],
    ]);
  });

  it('restore() continues with exactly the batches an uninterrupted run gets', () => {
    const opts = { size: 577, batchSize: 32, seed: 2024 };
    const reference = take(new BatchSampler(opts), 100);
    const first = new BatchSampler(opts);
    take(first, 37);
    const saved = JSON.parse(JSON.stringify(first.state())) as SamplerState;
    const resumed = new BatchSampler(opts);
    resumed.restore(saved);
    expect(take(resumed, 63)).toEqual(reference.slice(37));
    expect(take(BatchSampler.fromState(saved), 63)).toEqual(reference.slice(37));
  });

  it('rejects a state from another configuration or a malformed one', () => {
    const state = new BatchSampler({ size: 100, batchSize: 10, seed: 1 }).state();
    expect(() => new BatchSampler({ size: 101, batchSize: 10, seed: 1 }).restore(state)).toThrow(
      SamplerStateError,
    );
    expect(() => new BatchSampler({ size: 100, batchSize: 10, seed: 2 }).restore(state)).toThrow(/seed=1/);
    expect(() => BatchSampler.fromState({ ...state, epoch: -1 })).toThrow(SamplerStateError);
    expect(() => BatchSampler.fromState({ ...state, version: 2 } as unknown as SamplerState)).toThrow(
      /version/,
    );
    expect(() => BatchSampler.fromState(null as unknown as SamplerState)).toThrow(SamplerStateError);
  });

  it('rejects bad options', () => {
    expect(() => new BatchSampler({ size: 0, batchSize: 1, seed: 1 })).toThrow(/size/);
    expect(() => new BatchSampler({ size: 10, batchSize: 11, seed: 1 })).toThrow(/batchSize/);
    expect(() => new BatchSampler({ size: 10, batchSize: 2, seed: 1.5 })).toThrow(/seed/);
  });

  it('first positions are spread uniformly over epochs', () => {
    const sampler = new BatchSampler({ size: 10, batchSize: 10, seed: 77 });
    const counts = new Array(10).fill(0);
    for (let e = 0; e < 5000; e++) counts[sampler.next()[0]]++;
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(110);
  });
});
