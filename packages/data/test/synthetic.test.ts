import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../src/errors.ts';
import { loadSynthetic } from '../src/synthetic.ts';
import type { Dataset } from '../src/types.ts';

function all(ds: Dataset) {
  return ds.batch(Array.from({ length: ds.size }, (_, i) => i));
}

/** Accuracy of a nearest-class-mean classifier fitted on `train`, evaluated on `test`. */
function nearestMeanAccuracy(train: Dataset, test: Dataset, dim: number, classes: number): number {
  const tr = all(train);
  const x = tr.inputs.data as Float32Array;
  const means = new Float64Array(classes * dim);
  const counts = new Float64Array(classes);
  for (let i = 0; i < train.size; i++) {
    const c = Number(tr.labels.data[i]);
    counts[c]++;
    for (let j = 0; j < dim; j++) means[c * dim + j] += x[i * dim + j];
  }
  for (let c = 0; c < classes; c++) for (let j = 0; j < dim; j++) means[c * dim + j] /= counts[c];
  const te = all(test);
  const xt = te.inputs.data as Float32Array;
  let ok = 0;
  for (let i = 0; i < test.size; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let c = 0; c < classes; c++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (xt[i * dim + j] - means[c * dim + j]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    if (best === Number(te.labels.data[i])) ok++;
  }
  return ok / test.size;
}

describe('synthetic task', () => {
  it('is deterministic for a seed, with a per-peer shard and a shared test set', async () => {
    const spec = { format: 'synthetic', trainSize: 2000, testSize: 500 } as const;
    const a = await loadSynthetic(spec);
    const b = await loadSynthetic(spec);
    const peer1 = await loadSynthetic({ ...spec, peerIndex: 1 });
    const otherSeed = await loadSynthetic({ ...spec, seed: 99 });
    expect(all(a.train)).toEqual(all(b.train));
    expect(all(a.validation!)).toEqual(all(peer1.validation!));
    expect(all(a.train).inputs.data).not.toEqual(all(peer1.train).inputs.data);
    expect(all(a.validation!).inputs.data).not.toEqual(all(otherSeed.validation!).inputs.data);
    expect(a.train.inputs).toEqual({ dtype: 'float32', shape: [32] });
    expect(a.train.labels).toEqual({ dtype: 'int64', shape: [] });
    expect(a.info.numClasses).toBe(10);
    expect(JSON.parse(JSON.stringify(a.info))).toEqual(a.info);
    // pinned: the label sequence depends only on integer arithmetic, so it is the same on every machine
    expect(
      Array.from(a.train.batch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).labels.data, Number),
    ).toMatchInlineSnapshot(`
      [
        1,
        8,
        4,
        5,
        2,
        7,
        1,
        6,
        4,
        9,
      ]
    `);
  });

  it('has balanced classes, non-degenerate features, and is learnable but not trivial', async () => {
    const data = await loadSynthetic({ format: 'synthetic', trainSize: 5000, testSize: 1000 });
    const tr = all(data.train);
    const counts = new Array(10).fill(0);
    for (const l of tr.labels.data) counts[Number(l)]++;
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(100);
    const x = tr.inputs.data as Float32Array;
    let ss = 0;
    for (const v of x) ss += v * v;
    expect(Math.sqrt(ss / x.length)).toBeGreaterThan(0.3);
    const acc = nearestMeanAccuracy(data.train, data.validation!, 32, 10);
    // well above chance (0.1), well below what a nonlinear model can reach
    expect(acc).toBeGreaterThan(0.3);
    expect(acc).toBeLessThan(0.8);
  });

  it('label noise 1 makes labels independent of the features', async () => {
    const data = await loadSynthetic({ format: 'synthetic', trainSize: 3000, testSize: 1000, labelNoise: 1 });
    const acc = nearestMeanAccuracy(data.train, data.validation!, 32, 10);
    expect(acc).toBeLessThan(0.16);
  });

  it('honours dim and classes, and rejects bad values naming the field', async () => {
    const data = await loadSynthetic({ format: 'synthetic', dim: 5, classes: 3, trainSize: 10, testSize: 0 });
    expect(data.train.batch([0, 9]).inputs.dims).toEqual([2, 5]);
    expect(data.validation).toBeUndefined();
    await expect(loadSynthetic({ format: 'synthetic', classes: 1 })).rejects.toThrow(/'classes'/);
    await expect(loadSynthetic({ format: 'synthetic', labelNoise: 2 })).rejects.toThrow(InvalidSpecError);
    await expect(
      loadSynthetic({ format: 'synthetic', peerIndex: -1 }, { fieldPrefix: 'data' }),
    ).rejects.toThrow(/'data.peerIndex'/);
  });
});
