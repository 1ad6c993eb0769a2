import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DATASETS, type DatasetName, getDataset } from '@enjambre/data';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromObject, loadConfig, trainingConfigHash } from '../src/index.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');
const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/datasets');
const EXPECTED = [
  'iris.yaml',
  'mnist-cnn.yaml',
  'mnist-mlp.yaml',
  'penguins.yaml',
  'shakespeare-char-gpu.yaml',
  'shakespeare-char.yaml',
  'synthetic.yaml',
];

// A datasets folder holding the registry datasets whose fixtures are the full, pinned files
// (fetched through the fixtures as a mirror, so verified); MNIST's fixture is a subset and is not.
const DATASETS_DIR = mkdtempSync(path.join(tmpdir(), 'enjambre-examples-'));
const SHARED_IN_FIXTURES: DatasetName[] = ['iris', 'penguins', 'tinyshakespeare'];
beforeAll(async () => {
  for (const name of SHARED_IN_FIXTURES) await getDataset(name, { dir: DATASETS_DIR, from: FIXTURES });
});

const savedXdg = process.env.XDG_CACHE_HOME;
afterEach(() => {
  if (savedXdg === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedXdg;
});

describe('example configs', () => {
  it('has one example per reference workload', () => {
    expect(
      readdirSync(EXAMPLES)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual(EXPECTED);
  });

  for (const name of EXPECTED) {
    it(`${name} validates, reads a registry dataset from the cache and says how to use your own files`, async () => {
      const file = path.join(EXAMPLES, name);
      const text = readFileSync(file, 'utf8');
      const dataset = /^ {2}dataset: (\S+)$/m.exec(text)?.[1];
      const cached = SHARED_IN_FIXTURES.includes(dataset as DatasetName);
      const config = await loadConfig(file, { datasetsDir: DATASETS_DIR, checkPaths: cached });
      expect(trainingConfigHash(config)).toMatch(/^[0-9a-f]{64}$/);
      if (config.data.format === 'synthetic') return;
      expect(dataset).toBeDefined();
      expect(text).toMatch(/your own/);
      expect(text).toContain(`\`enjambre data get ${dataset}\``);
      expect(config.data.format).toBe(DATASETS[dataset as DatasetName].spec.format);
      const paths = Object.entries(config.data).filter(([k]) => /path|Images|Labels/.test(k));
      expect(paths.length).toBeGreaterThan(0);
      for (const [, p] of paths)
        expect(String(p).startsWith(path.join(DATASETS_DIR, dataset!, '/'))).toBe(true);
    });
  }

  it('a dataset that is not downloaded is an error naming the command that downloads it', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'enjambre-empty-cache-'));
    process.env.XDG_CACHE_HOME = cache;
    const err = await loadConfig(path.join(EXAMPLES, 'mnist-mlp.yaml')).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const missing = path.join(cache, 'enjambre/datasets/mnist/train-images-idx3-ubyte.gz');
    expect(err.message).toContain(
      `data.dataset: dataset 'mnist' is not downloaded (${missing} is missing): run \`enjambre data get mnist\``,
    );
    // A folder other than the cache's is named in the command too.
    const other = await loadConfig(path.join(EXAMPLES, 'iris.yaml'), { datasetsDir: cache }).catch((e) => e);
    expect(other.message).toContain(`run \`enjambre data get iris --dir ${cache}\``);
  });

  it('a dataset by name trains exactly like its files named by hand (same config hash)', () => {
    const base = { model: { kind: 'mlp' }, swarm: { runId: 'r' } };
    const named = configFromObject(
      { ...base, data: { dataset: 'penguins', validFraction: 0.3 } },
      {
        datasetsDir: DATASETS_DIR,
      },
    );
    const byHand = configFromObject({
      ...base,
      data: {
        format: 'csv',
        path: path.join(DATASETS_DIR, 'penguins/penguins.csv'),
        target: 'species',
        validFraction: 0.3,
      },
    });
    expect(named.data).toEqual(byHand.data);
    expect(trainingConfigHash(named)).toBe(trainingConfigHash(byHand));
  });

  it('refuses options a dataset does not have and names that are not in the registry', () => {
    const load = (data: unknown) =>
      (() => {
        try {
          configFromObject({ model: { kind: 'mlp' }, data }, { checkPaths: false });
        } catch (e) {
          return (e as Error).message;
        }
        return 'loaded';
      })();
    expect(load({ dataset: 'mnist', byteLevel: true })).toMatch(
      /data\.byteLevel: not an option of dataset 'mnist'/,
    );
    expect(load({ dataset: 'mnsit' })).toMatch(/data\.dataset: unknown value; did you mean "mnist"\?/);
    expect(load({ dataset: 'tinyshakespeare', byteLevel: true })).toBe('loaded');
  });

  it('shakespeare-char is nanoGPT’s CPU config', async () => {
    const c = await loadConfig(path.join(EXAMPLES, 'shakespeare-char.yaml'), { datasetsDir: DATASETS_DIR });
    expect(c.model).toMatchObject({
      kind: 'char-transformer',
      layers: 4,
      heads: 4,
      width: 128,
      context: 64,
      dropout: 0,
    });
    expect(c.training).toMatchObject({ batchSize: 12, maxSteps: 2000 });
    expect(c.training.optimizer).toMatchObject({ kind: 'adamw', lr: 1e-3, beta2: 0.99 });
    expect(c.training.lrSchedule).toMatchObject({ kind: 'cosine', minLr: 1e-4 });
    expect(c.data).toMatchObject({
      format: 'text',
      validFraction: 0.1,
      path: path.join(DATASETS_DIR, 'tinyshakespeare/input.txt'),
    });
  });

  it('shakespeare-char-gpu is nanoGPT’s GPU config', async () => {
    const c = await loadConfig(path.join(EXAMPLES, 'shakespeare-char-gpu.yaml'), {
      datasetsDir: DATASETS_DIR,
    });
    expect(c.model).toMatchObject({
      kind: 'char-transformer',
      layers: 6,
      heads: 6,
      width: 384,
      context: 256,
      dropout: 0.2,
    });
    expect(c.training).toMatchObject({ batchSize: 64, maxSteps: 5000 });
    expect(c.hardware.executionProviders).toEqual(['cuda', 'webgpu', 'cpu']);
  });

  it('mnist-mlp and mnist-cnn match the workload table', async () => {
    const mlp = await loadConfig(path.join(EXAMPLES, 'mnist-mlp.yaml'), { checkPaths: false });
    expect(mlp.model).toMatchObject({ kind: 'mlp', hidden: [256, 256], activation: 'relu' });
    expect(mlp.training).toMatchObject({ batchSize: 64 });
    expect(mlp.training.optimizer.lr).toBe(1e-3);
    const cnn = await loadConfig(path.join(EXAMPLES, 'mnist-cnn.yaml'), {
      datasetsDir: DATASETS_DIR,
      checkPaths: false,
    });
    expect(cnn.model).toMatchObject({ kind: 'cnn', channels: [32, 64], hidden: 128 });
    expect(cnn.data).toMatchObject({
      format: 'mnist',
      testLabels: path.join(DATASETS_DIR, 'mnist/t10k-labels-idx1-ubyte.gz'),
    });
  });
});
