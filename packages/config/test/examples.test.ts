import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, trainingConfigHash } from '../src/index.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');
const SHARED = path.resolve(import.meta.dirname, '../../../../shared/data');
const EXPECTED = [
  'iris.yaml',
  'mnist-cnn.yaml',
  'mnist-mlp.yaml',
  'penguins.yaml',
  'shakespeare-char-gpu.yaml',
  'shakespeare-char.yaml',
  'synthetic.yaml',
];

describe('example configs', () => {
  it('has one example per reference workload', () => {
    expect(
      readdirSync(EXAMPLES)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual(EXPECTED);
  });

  for (const name of EXPECTED) {
    it(`${name} validates and tells users to point data at their own files`, async () => {
      const file = path.join(EXAMPLES, name);
      const config = await loadConfig(file);
      expect(trainingConfigHash(config)).toMatch(/^[0-9a-f]{64}$/);
      const text = readFileSync(file, 'utf8');
      if (config.data.format !== 'synthetic') {
        expect(text).toMatch(/your own/);
        expect(text).toContain('../../shared/data/');
      }
      const paths = Object.entries(config.data).filter(([k]) => /path|Images|Labels/.test(k));
      for (const [, p] of paths) expect(String(p).startsWith(`${SHARED}/`)).toBe(true);
    });
  }

  it('shakespeare-char is nanoGPT’s CPU config', async () => {
    const c = await loadConfig(path.join(EXAMPLES, 'shakespeare-char.yaml'));
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
      path: path.join(SHARED, 'tinyshakespeare/input.txt'),
    });
  });

  it('shakespeare-char-gpu is nanoGPT’s GPU config', async () => {
    const c = await loadConfig(path.join(EXAMPLES, 'shakespeare-char-gpu.yaml'));
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
    const mlp = await loadConfig(path.join(EXAMPLES, 'mnist-mlp.yaml'));
    expect(mlp.model).toMatchObject({ kind: 'mlp', hidden: [256, 256], activation: 'relu' });
    expect(mlp.training).toMatchObject({ batchSize: 64 });
    expect(mlp.training.optimizer.lr).toBe(1e-3);
    const cnn = await loadConfig(path.join(EXAMPLES, 'mnist-cnn.yaml'));
    expect(cnn.model).toMatchObject({ kind: 'cnn', channels: [32, 64], hidden: 128 });
    expect(cnn.data).toMatchObject({
      format: 'mnist',
      testLabels: path.join(SHARED, 'mnist/t10k-labels-idx1-ubyte.gz'),
    });
  });
});
