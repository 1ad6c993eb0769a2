import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BatchSampler,
  DataFileNotFoundError,
  type DatasetSpec,
  InvalidSpecError,
  loadDataset,
} from '../src/index.ts';

const DATA = path.resolve(import.meta.dirname, '../../../fixtures/datasets');

const specs: DatasetSpec[] = [
  { format: 'text', path: 'tinyshakespeare/input.txt', context: 16 },
  {
    format: 'mnist',
    trainImages: 'mnist/t10k-images-idx3-ubyte.gz',
    trainLabels: 'mnist/t10k-labels-idx1-ubyte.gz',
    layout: 'flat',
    limit: 200,
    validationFraction: 0.25,
  },
  { format: 'csv', path: 'penguins/penguins.csv', target: 'species' },
  { format: 'synthetic', trainSize: 300, testSize: 100, peerIndex: 2 },
];

describe('loadDataset', () => {
  for (const spec of specs) {
    it(`${spec.format}: a trainer loop gets batches matching the declared specs`, async () => {
      const data = await loadDataset(spec, { baseDir: DATA });
      expect(data.info.format).toBe(spec.format);
      for (const ds of [data.train, data.validation!]) {
        expect(ds.size).toBeGreaterThan(0);
        const sampler = new BatchSampler({ size: ds.size, batchSize: 8, seed: 1 });
        for (let step = 0; step < 3; step++) {
          const batch = ds.batch(sampler.next());
          expect(batch.inputs.dtype).toBe(ds.inputs.dtype);
          expect(batch.labels.dtype).toBe(ds.labels.dtype);
          expect(batch.inputs.dims).toEqual([8, ...ds.inputs.shape]);
          expect(batch.labels.dims).toEqual([8, ...ds.labels.shape]);
          const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
          expect(batch.inputs.data.length).toBe(count(batch.inputs.dims));
          expect(batch.labels.data.length).toBe(count(batch.labels.dims));
          expect(batch.inputs.data).toBeInstanceOf(
            ds.inputs.dtype === 'float32' ? Float32Array : BigInt64Array,
          );
        }
      }
      expect(JSON.parse(JSON.stringify(data.info))).toEqual(data.info);
      await data.close();
    });
  }

  it('rejects an unknown format and a non-object spec', async () => {
    await expect(
      loadDataset({ format: 'parquet' } as unknown as DatasetSpec, { fieldPrefix: 'data' }),
    ).rejects.toThrow(/'data.format'.*'text', 'mnist', 'csv', 'synthetic'.*"parquet"/);
    await expect(loadDataset(null as unknown as DatasetSpec)).rejects.toThrow(InvalidSpecError);
  });

  it('names the config field of a missing file', async () => {
    const err = await loadDataset(
      { format: 'csv', path: 'iris/nope.csv', target: 'species' },
      { baseDir: DATA, fieldPrefix: 'peer.data' },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileNotFoundError);
    expect(err.path).toBe(path.join(DATA, 'iris/nope.csv'));
    expect(err.message).toBe(
      `data file not found: ${path.join(DATA, 'iris/nope.csv')} (from config field 'peer.data.path')`,
    );
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(loadDataset({ format: 'synthetic' }, { signal: controller.signal })).rejects.toThrow(
      /abort/i,
    );
    await expect(
      loadDataset(
        { format: 'text', path: 'tinyshakespeare/input.txt' },
        { baseDir: DATA, signal: controller.signal },
      ),
    ).rejects.toThrow(/abort/i);
  });
});
