import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFileNotFoundError, DataFormatError, InvalidSpecError } from '../src/errors.ts';
import { loadMnist, readIdx } from '../src/mnist.ts';
import type { MnistSpec } from '../src/spec.ts';

// The fixture: MNIST's first 1500 training and 500 test examples (fixtures/datasets/mnist/SOURCE.md).
const DIR = path.resolve(import.meta.dirname, '../../../fixtures/datasets/mnist');
const TRAIN_IMAGES = path.join(DIR, 'train-images-idx3-ubyte.gz');
const TRAIN_LABELS = path.join(DIR, 'train-labels-idx1-ubyte.gz');
const TEST_IMAGES = path.join(DIR, 't10k-images-idx3-ubyte.gz');
const TEST_LABELS = path.join(DIR, 't10k-labels-idx1-ubyte.gz');

// Independent oracle: the raw decompressed files, read once.
const rawTestImages = gunzipSync(readFileSync(TEST_IMAGES));
const rawTestLabels = gunzipSync(readFileSync(TEST_LABELS));
const rawTrainLabels = gunzipSync(readFileSync(TRAIN_LABELS));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'enjambre-data-mnist-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** An idx file: magic, dims, then `data` (defaults to the first bytes of the real test images). */
function idx(type: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  for (const [i, d] of dims.entries()) head.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([head, data]);
}

describe('readIdx', () => {
  it('reads header and the first entries of a gzipped file without decoding the rest', async () => {
    const images = await readIdx(TEST_IMAGES, { limit: 5, expectDims: 3 });
    expect(images.headerDims).toEqual([500, 28, 28]);
    expect(images.dims).toEqual([5, 28, 28]);
    expect(Buffer.from(images.data)).toEqual(rawTestImages.subarray(16, 16 + 5 * 784));
  });
});

describe('loadMnist', () => {
  it('decodes test pixels and labels exactly (checked against the raw bytes)', async () => {
    const data = await loadMnist({
      format: 'mnist',
      trainImages: TRAIN_IMAGES,
      trainLabels: TRAIN_LABELS,
      testImages: TEST_IMAGES,
      testLabels: TEST_LABELS,
      limit: 300,
    });
    const val = data.validation!;
    expect(val.size).toBe(300);
    expect(val.inputs).toEqual({ dtype: 'float32', shape: [1, 28, 28] });
    expect(val.labels).toEqual({ dtype: 'int64', shape: [] });
    const idxs = [0, 1, 17, 299, 17];
    const batch = val.batch(idxs);
    expect(batch.inputs.dims).toEqual([5, 1, 28, 28]);
    expect(batch.labels.dims).toEqual([5]);
    const x = batch.inputs.data as Float32Array;
    idxs.forEach((k, b) => {
      for (let p = 0; p < 784; p++) {
        expect(x[b * 784 + p]).toBe(Math.fround(rawTestImages[16 + k * 784 + p] / 255));
      }
      expect(batch.labels.data[b]).toBe(BigInt(rawTestLabels[8 + k]));
    });
    // canonical facts: the first test digit is a 7, the first training digit a 5
    expect(batch.labels.data[0]).toBe(7n);
    expect(data.train.batch([0]).labels.data[0]).toBe(5n);
    let max = 0;
    let sum = 0;
    for (const v of x) {
      max = Math.max(max, v);
      sum += v;
    }
    expect(max).toBe(1);
    expect(sum).toBeGreaterThan(100);
    expect(data.info).toEqual({
      format: 'mnist',
      task: 'classification',
      numClasses: 10,
      imageSize: [28, 28],
      layout: 'image',
    });
  });

  it('flat layout gives [N, 784]', async () => {
    const data = await loadMnist({
      format: 'mnist',
      trainImages: TEST_IMAGES,
      trainLabels: TEST_LABELS,
      layout: 'flat',
      limit: 10,
    });
    expect(data.train.inputs.shape).toEqual([784]);
    const batch = data.train.batch([3, 4]);
    expect(batch.inputs.dims).toEqual([2, 784]);
    expect(batch.inputs.data[784 + 200]).toBe(Math.fround(rawTestImages[16 + 4 * 784 + 200] / 255));
  });

  it('loads the whole training file', async () => {
    const data = await loadMnist({ format: 'mnist', trainImages: TRAIN_IMAGES, trainLabels: TRAIN_LABELS });
    expect(data.train.size).toBe(1500);
    expect(data.validation).toBeUndefined();
    const histogram = (labels: Iterable<number | bigint>) => {
      const counts = new Array(10).fill(0);
      for (const l of labels) counts[Number(l)]++;
      return counts;
    };
    const labels = data.train.batch(Array.from({ length: 1500 }, (_, i) => i)).labels.data;
    // against the raw label bytes, and the counts SOURCE.md states for the fixture
    expect(histogram(labels as BigInt64Array)).toEqual(histogram(rawTrainLabels.subarray(8)));
    expect(histogram(labels as BigInt64Array)).toEqual([140, 172, 144, 142, 160, 137, 141, 177, 134, 153]);
  });

  it('splits a validation fraction off deterministically', async () => {
    const spec: MnistSpec = {
      format: 'mnist',
      trainImages: TEST_IMAGES,
      trainLabels: TEST_LABELS,
      limit: 500,
      validationFraction: 0.1,
      seed: 3,
    };
    const a = await loadMnist(spec);
    const b = await loadMnist(spec);
    expect(a.train.size).toBe(450);
    expect(a.validation!.size).toBe(50);
    const all = (d: typeof a.train) => d.batch(Array.from({ length: d.size }, (_, i) => i));
    expect(all(a.validation!)).toEqual(all(b.validation!));
    // train + validation is the original set: compare per-label counts
    const hist = (ls: BigInt64Array) => {
      const h = new Array(10).fill(0);
      for (const l of ls) h[Number(l)]++;
      return h;
    };
    const ht = hist(all(a.train).labels.data as BigInt64Array);
    const hv = hist(all(a.validation!).labels.data as BigInt64Array);
    const ho = hist(BigInt64Array.from(rawTestLabels.subarray(8, 508), BigInt));
    expect(ht.map((v, i) => v + hv[i])).toEqual(ho);
  });

  it('reads uncompressed idx files too (detected by magic, not name)', async () => {
    const images = path.join(tmp, 'images.gz');
    const labels = path.join(tmp, 'labels.idx');
    await writeFile(images, idx(8, [20, 28, 28], rawTestImages.subarray(16, 16 + 20 * 784)));
    await writeFile(labels, idx(8, [20], rawTestLabels.subarray(8, 28)));
    const data = await loadMnist({ format: 'mnist', trainImages: images, trainLabels: labels });
    expect(data.train.size).toBe(20);
    expect(data.train.batch([19]).inputs.data[400]).toBe(
      Math.fround(rawTestImages[16 + 19 * 784 + 400] / 255),
    );
  });
});

describe('MNIST errors name the file', () => {
  const img = (n: number) => idx(8, [n, 28, 28], rawTestImages.subarray(16, 16 + n * 784));
  const lab = (n: number) => idx(8, [n], rawTestLabels.subarray(8, 8 + n));

  async function load(images: Buffer, labels: Buffer, extra: Partial<MnistSpec> = {}) {
    const i = path.join(tmp, `i-${Math.random()}.idx`);
    const l = path.join(tmp, `l-${Math.random()}.idx`);
    await writeFile(i, images);
    await writeFile(l, labels);
    return { promise: loadMnist({ format: 'mnist', trainImages: i, trainLabels: l, ...extra }), i, l };
  }

  it('bad magic', async () => {
    const bad = Buffer.from(img(3));
    bad[0] = 0x12;
    const { promise, i } = await load(bad, lab(3));
    const err = await promise.catch((e) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(i);
    expect(err.message).toMatch(/magic/);
  });

  it('labels given as images (wrong dimension count)', async () => {
    const { promise, i } = await load(lab(3), lab(3));
    await expect(promise).rejects.toThrow(new RegExp(`${i.replace(/[.]/g, '\\.')}.*expected 0x00000803`));
  });

  it('unsupported element type', async () => {
    const bad = Buffer.from(img(3));
    bad[2] = 0x0d;
    await expect((await load(bad, lab(3))).promise).rejects.toThrow(/element type 0xd/);
  });

  it('truncated data, trailing data, count mismatch, label out of range, corrupt gzip', async () => {
    await expect((await load(img(3).subarray(0, 16 + 2 * 784), lab(3))).promise).rejects.toThrow(/truncated/);
    await expect((await load(Buffer.concat([img(3), Buffer.from([1, 2])]), lab(3))).promise).rejects.toThrow(
      /2 bytes after/,
    );
    await expect((await load(img(3), lab(4))).promise).rejects.toThrow(/4 labels but .* 3 images/);
    const badLabel = lab(3);
    badLabel[9] = 10;
    await expect((await load(img(3), badLabel)).promise).rejects.toThrow(/label 10 at index 1/);
    const gz = gzipSync(img(3));
    await expect((await load(gz.subarray(0, gz.length - 30), lab(3))).promise).rejects.toThrow(
      DataFormatError,
    );
    await expect((await load(Buffer.from([0, 0]), lab(3))).promise).rejects.toThrow(/too short/);
  });

  it('missing file and mismatched test pair', async () => {
    const err = await loadMnist(
      { format: 'mnist', trainImages: 'x.gz', trainLabels: TRAIN_LABELS },
      { baseDir: tmp, fieldPrefix: 'dataset' },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileNotFoundError);
    expect(err.message).toContain(path.join(tmp, 'x.gz'));
    expect(err.message).toContain("'dataset.trainImages'");
    await expect(
      loadMnist({
        format: 'mnist',
        trainImages: TRAIN_IMAGES,
        trainLabels: TRAIN_LABELS,
        testImages: TEST_IMAGES,
      }),
    ).rejects.toThrow(InvalidSpecError);
  });
});
