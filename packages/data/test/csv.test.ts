import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../src/csv.ts';
import { CsvRowError, DataFileNotFoundError, EmptyDatasetError, UnknownColumnError } from '../src/errors.ts';
import type { Dataset } from '../src/types.ts';

const DATA = path.resolve(import.meta.dirname, '../../../fixtures/datasets');
const IRIS = path.join(DATA, 'iris/iris.csv');
const PENGUINS = path.join(DATA, 'penguins/penguins.csv');

/** Independent oracle: a naive parse (these two files have no quoting). */
function naive(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  return { header, rows };
}

function all(ds: Dataset) {
  return ds.batch(Array.from({ length: ds.size }, (_, i) => i));
}

/** Column means and population stds of a [n, w] float32 matrix. */
function columnStats(x: Float32Array, w: number): { mean: number[]; std: number[] } {
  const n = x.length / w;
  const mean = new Array(w).fill(0);
  const std = new Array(w).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) mean[j] += x[i * w + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) std[j] += (x[i * w + j] - mean[j]) ** 2 / n;
  return { mean, std: std.map(Math.sqrt) };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'enjambre-data-csv-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('iris', () => {
  it('encodes every row as (value - mean) / std with class indices (checked by hand)', async () => {
    const data = await loadCsv({ format: 'csv', path: IRIS, target: 'species', validationFraction: 0 });
    const { header, rows } = naive(IRIS);
    expect(data.train.size).toBe(150);
    expect(data.validation).toBeUndefined();
    expect(data.info.numClasses).toBe(3);
    expect(data.info.encoding.target).toEqual({
      name: 'species',
      task: 'classification',
      classes: ['setosa', 'versicolor', 'virginica'],
    });
    expect(data.info.featureNames).toEqual(header.slice(0, 4));
    const cols = [0, 1, 2, 3].map((j) => rows.map((r) => Number(r[j])));
    const means = cols.map((c) => c.reduce((a, b) => a + b, 0) / c.length);
    const stds = cols.map((c, j) => Math.sqrt(c.reduce((a, b) => a + (b - means[j]) ** 2, 0) / c.length));
    const { inputs, labels } = all(data.train);
    expect(inputs.dims).toEqual([150, 4]);
    expect(labels.dims).toEqual([150]);
    rows.forEach((r, i) => {
      for (let j = 0; j < 4; j++)
        expect(inputs.data[i * 4 + j]).toBeCloseTo((Number(r[j]) - means[j]) / stds[j], 5);
      expect(labels.data[i]).toBe(BigInt(['setosa', 'versicolor', 'virginica'].indexOf(r[4])));
    });
  });

  it('default split: 20% seeded random rows, standardised with train statistics', async () => {
    const a = await loadCsv({ format: 'csv', path: IRIS, target: 'species' });
    const b = await loadCsv({ format: 'csv', path: IRIS, target: 'species' });
    const c = await loadCsv({ format: 'csv', path: IRIS, target: 'species', seed: 9 });
    expect(a.train.size).toBe(120);
    expect(a.validation!.size).toBe(30);
    expect(all(a.validation!)).toEqual(all(b.validation!));
    expect(all(a.validation!)).not.toEqual(all(c.validation!));
    const { mean, std } = columnStats(all(a.train).inputs.data as Float32Array, 4);
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-5);
    for (const s of std) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    // a class-sorted file still gives every class to validation
    const valClasses = new Set(all(a.validation!).labels.data as BigInt64Array);
    expect(valClasses.size).toBe(3);
  });
});

describe('penguins (categorical columns and missing values)', () => {
  it('leaves ignored columns out of the features, and names an unknown one', async () => {
    const data = await loadCsv({
      format: 'csv',
      path: PENGUINS,
      target: 'species',
      ignore: ['island', 'sex'],
    });
    expect(data.info.featureNames).toEqual([
      'bill_length_mm',
      'bill_depth_mm',
      'flipper_length_mm',
      'body_mass_g',
    ]);
    expect(data.train.inputs.shape).toEqual([4]);
    await expect(
      loadCsv({ format: 'csv', path: PENGUINS, target: 'species', ignore: ['colour'] }),
    ).rejects.toThrow(/colour/);
  });

  it('one-hot rows sum to 1, numeric train columns are standardised, NA imputed', async () => {
    const data = await loadCsv({ format: 'csv', path: PENGUINS, target: 'species' });
    const enc = data.info.encoding;
    expect(enc.features.map((f) => `${f.name}:${f.kind}`)).toEqual([
      'island:categorical',
      'bill_length_mm:numeric',
      'bill_depth_mm:numeric',
      'flipper_length_mm:numeric',
      'body_mass_g:numeric',
      'sex:categorical',
    ]);
    expect(data.info.featureNames).toEqual([
      'island=Biscoe',
      'island=Dream',
      'island=Torgersen',
      'island=?',
      'bill_length_mm',
      'bill_depth_mm',
      'flipper_length_mm',
      'body_mass_g',
      'sex=FEMALE',
      'sex=MALE',
      'sex=?',
    ]);
    expect(data.info.numClasses).toBe(3);
    expect(data.train.size + data.validation!.size).toBe(344);
    const w = 11;
    for (const ds of [data.train, data.validation!]) {
      const x = all(ds).inputs.data as Float32Array;
      for (let i = 0; i < ds.size; i++) {
        const row = x.subarray(i * w, i * w + w);
        expect(row[0] + row[1] + row[2] + row[3]).toBe(1);
        expect(row[8] + row[9] + row[10]).toBe(1);
        for (const k of [0, 1, 2, 3, 8, 9, 10]) expect(row[k] === 0 || row[k] === 1).toBe(true);
      }
    }
    const { mean, std } = columnStats(all(data.train).inputs.data as Float32Array, w);
    for (const j of [4, 5, 6, 7]) {
      expect(Math.abs(mean[j])).toBeLessThan(1e-5);
      expect(Math.abs(std[j] - 1)).toBeLessThan(1e-5);
    }
  });

  it('row 4 (all features missing) encodes as numeric 0 and the missing-sex slot', async () => {
    const data = await loadCsv({ format: 'csv', path: PENGUINS, target: 'species', validationFraction: 0 });
    const x = all(data.train).inputs.data as Float32Array;
    // data row 3 (file line 5) is "Adelie,Torgersen,,,,,": Torgersen, 4 × mean → 0, sex → ? slot
    expect(Array.from(x.subarray(3 * 11, 4 * 11))).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    // data row 2 (file line 4) is FEMALE
    expect(Array.from(x.subarray(2 * 11 + 8, 3 * 11))).toEqual([1, 0, 0]);
    // the training means stored in the encoding are the means of the present values
    const { rows } = naive(PENGUINS);
    const present = rows
      .map((r) => r[2])
      .filter((v) => v !== '' && v !== 'NA')
      .map(Number);
    const feature = data.info.encoding.features[1];
    expect(feature.kind === 'numeric' && feature.fill).toBeCloseTo(
      present.reduce((a, b) => a + b, 0) / present.length,
      10,
    );
  });

  it('regression target: float labels [B, 1], rows with a missing target dropped', async () => {
    const data = await loadCsv({
      format: 'csv',
      path: PENGUINS,
      target: 'body_mass_g',
      task: 'regression',
      validationFraction: 0,
    });
    expect(data.info.droppedRows).toEqual({ train: 2, validation: 0 });
    expect(data.train.size).toBe(342);
    expect(data.train.labels).toEqual({ dtype: 'float32', shape: [1] });
    const b = data.train.batch([0, 1]);
    expect(b.labels.dims).toEqual([2, 1]);
    expect(Array.from(b.labels.data as Float32Array)).toEqual([3750, 3800]);
    expect(data.info.featureNames).not.toContain('body_mass_g');
  });

  it('a saved encoding encodes a separate file the same way; unseen categories go to the ? slot', async () => {
    const first = await loadCsv({ format: 'csv', path: PENGUINS, target: 'species', validationFraction: 0 });
    const encoding = JSON.parse(JSON.stringify(first.info.encoding));
    const other = path.join(tmp, 'penguins-subset.csv');
    const text = readFileSync(PENGUINS, 'utf8').split('\n');
    // same rows, columns in another order, one unseen island
    const header = text[0].split(',');
    const order = [6, 0, 5, 1, 2, 3, 4];
    const lines = text
      .slice(1, 11)
      .map((l) => l.split(','))
      .map((r, i) => order.map((j) => (i === 9 && j === 1 ? 'Atlantis' : r[j])).join(','));
    await writeFile(other, [order.map((j) => header[j]).join(','), ...lines].join('\n'));
    const again = await loadCsv({
      format: 'csv',
      path: other,
      target: 'species',
      validationFraction: 0,
      encoding,
    });
    const x0 = all(first.train).inputs.data.subarray(0, 9 * 11);
    expect(all(again.train).inputs.data.subarray(0, 9 * 11)).toEqual(x0);
    await expect(
      loadCsv({ format: 'csv', path: other, target: 'island', validationFraction: 0, encoding }),
    ).rejects.toThrow(/'target'.*'species'/);
    const last = (all(again.train).inputs.data as Float32Array).subarray(9 * 11, 10 * 11);
    expect(Array.from(last.subarray(0, 4))).toEqual([0, 0, 0, 1]);
  });
});

describe('CSV errors name file and line', () => {
  async function csv(name: string, text: string): Promise<string> {
    const file = path.join(tmp, name);
    await writeFile(file, text);
    return file;
  }

  it('wrong number of fields', async () => {
    const file = await csv('short.csv', 'a,b,y\n1,2,x\n3,4,y\n5,6\n7,8,x\n');
    const err = await loadCsv({ format: 'csv', path: file, target: 'y' }).catch((e) => e);
    expect(err).toBeInstanceOf(CsvRowError);
    expect(err.line).toBe(4);
    expect(err.message).toContain(`${file}:4:`);
  });

  it('unclosed quote', async () => {
    const file = await csv('quote.csv', 'a,b,y\n1,2,x\n3,"4,y\n5,6,x\n');
    await expect(loadCsv({ format: 'csv', path: file, target: 'y' })).rejects.toThrow(CsvRowError);
  });

  it('text in a numeric column', async () => {
    const err = await loadCsv({
      format: 'csv',
      path: PENGUINS,
      target: 'species',
      categorical: ['sex'],
      validationFraction: 0,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CsvRowError);
    expect(err.message).toMatch(/penguins\.csv:2: column 'island' holds "Torgersen"/);
    const file = await csv('val-bad.csv', 'a,y\n1,x\n2,y\n');
    const val = await csv('val-bad2.csv', 'a,y\n1,x\noops,y\n');
    await expect(loadCsv({ format: 'csv', path: file, validationPath: val, target: 'y' })).rejects.toThrow(
      /val-bad2\.csv:3: column 'a' holds "oops"/,
    );
  });

  it('a validation class the training data lacks', async () => {
    const train = await csv('t.csv', 'a,y\n1,x\n2,y\n');
    const val = await csv('v.csv', 'a,y\n1,x\n\n2,z\n');
    await expect(loadCsv({ format: 'csv', path: train, validationPath: val, target: 'y' })).rejects.toThrow(
      /v\.csv:4: target 'y' has class "z"/,
    );
  });

  it('unknown columns', async () => {
    const err = await loadCsv({ format: 'csv', path: IRIS, target: 'kind' }, { fieldPrefix: 'data' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(UnknownColumnError);
    expect(err.message).toContain("'kind'");
    expect(err.message).toContain("'data.target'");
    expect(err.message).toContain("'species'");
    await expect(
      loadCsv({ format: 'csv', path: IRIS, target: 'species', features: ['petal_size'] }),
    ).rejects.toThrow(/petal_size.*'features'/);
    await expect(
      loadCsv({ format: 'csv', path: IRIS, target: 'species', categorical: ['colour'] }),
    ).rejects.toThrow(UnknownColumnError);
  });

  it('empty file, header only, missing file', async () => {
    await expect(loadCsv({ format: 'csv', path: await csv('empty.csv', ''), target: 'y' })).rejects.toThrow(
      EmptyDatasetError,
    );
    await expect(
      loadCsv({ format: 'csv', path: await csv('header.csv', 'a,y\n'), target: 'y' }),
    ).rejects.toThrow(/no data rows/);
    await expect(
      loadCsv({
        format: 'csv',
        path: await csv('na.csv', 'a,y\n1,NA\n2,\n'),
        target: 'y',
        validationFraction: 0,
      }),
    ).rejects.toThrow(EmptyDatasetError);
    await expect(
      loadCsv({ format: 'csv', path: path.join(tmp, 'missing.csv'), target: 'y' }),
    ).rejects.toThrow(DataFileNotFoundError);
  });
});
