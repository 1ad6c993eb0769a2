import { describe, expect, it } from 'vitest';
import { EmptyDatasetError, InvalidSpecError } from '../src/errors.ts';
import { randomSplit, SubsetDataset, shardDataset } from '../src/split.ts';
import { TabularDataset } from '../src/tabular.ts';

/** Example i has features [i, -i] and class i % 7: every example is recognisable. */
function numbered(n: number): TabularDataset {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
  }
  return new TabularDataset(x, 2, { kind: 'class', values: Int32Array.from({ length: n }, (_, i) => i % 7) });
}

function ids(ds: {
  size: number;
  batch: (i: number[]) => { inputs: { data: ArrayLike<unknown> } };
}): number[] {
  const data = ds.batch(Array.from({ length: ds.size }, (_, i) => i)).inputs.data as Float32Array;
  return Array.from({ length: ds.size }, (_, i) => data[2 * i]);
}

describe('split helpers', () => {
  it('SubsetDataset maps indices to the base examples', () => {
    const base = numbered(50);
    const sub = new SubsetDataset(base, [7, 3, 49]);
    const batch = sub.batch([2, 0, 0]);
    expect(Array.from(batch.inputs.data as Float32Array)).toEqual([49, -49, 7, -7, 7, -7]);
    expect(Array.from(batch.labels.data as BigInt64Array)).toEqual([0n, 0n, 0n]);
    expect(sub.inputs).toEqual(base.inputs);
    expect(() => new SubsetDataset(base, [50])).toThrow(/out of range/);
    expect(() => new SubsetDataset(base, [])).toThrow(EmptyDatasetError);
  });

  it('randomSplit partitions deterministically', () => {
    const base = numbered(1000);
    const a = randomSplit(base, 0.15, 4);
    const b = randomSplit(base, 0.15, 4);
    expect(a.validation.size).toBe(150);
    expect(ids(a.validation)).toEqual(ids(b.validation));
    expect([...ids(a.train), ...ids(a.validation)].sort((p, q) => p - q)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    expect(ids(randomSplit(base, 0.15, 5).validation)).not.toEqual(ids(a.validation));
    expect(() => randomSplit(base, 1)).toThrow(InvalidSpecError);
  });

  it('shards are disjoint, balanced and cover the dataset', () => {
    const base = numbered(1003);
    const shards = Array.from({ length: 8 }, (_, index) => shardDataset(base, { index, count: 8, seed: 9 }));
    const all = shards.flatMap(ids);
    expect(all.sort((p, q) => p - q)).toEqual(Array.from({ length: 1003 }, (_, i) => i));
    for (const s of shards) expect([125, 126]).toContain(s.size);
    expect(ids(shardDataset(base, { index: 3, count: 8, seed: 9 }))).toEqual(ids(shards[3]));
    // not a contiguous block: a random choice spread over the whole range
    const first = ids(shards[0]);
    expect(first[0]).toBeLessThan(50);
    expect(first.at(-1)).toBeGreaterThan(950);
    expect(() => shardDataset(base, { index: 8, count: 8 })).toThrow(/index/);
  });
});
