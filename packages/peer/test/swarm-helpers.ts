import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Config, configFromObject } from '@enjambre/config';
import { setupTraining, type TrainingSetup } from '@enjambre/peer';

/** The repository's small copies of the reference datasets (fixtures/datasets/README.md). */
export const FIXTURES = resolve(import.meta.dirname, '../../../fixtures/datasets');

/** A fresh temp folder for one test's peers. */
export function tempDir(prefix = 'enjambre-swarm-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A small synthetic classification task: quick to train, each peer on its own shard. */
export function syntheticConfig(dir: string, peer: number, extra: Record<string, unknown> = {}): Config {
  return configFromObject(
    {
      node: { name: `peer-${peer}`, workDir: join(dir, `peer-${peer}`) },
      // Several peers share this process's two cores: one thread each avoids oversubscription.
      hardware: { intraOpThreads: 1 },
      model: { kind: 'mlp', hidden: [64] },
      data: { format: 'synthetic', seed: 3, examples: 4000, features: 16, classes: 4, shard: peer },
      training: { batchSize: 32, stepsPerRun: 10, evalBatches: 4, optimizer: { kind: 'adamw', lr: 3e-3 } },
      swarm: {
        runId: 'test-run',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        mdns: false,
        averaging: { innerSteps: 20, roundTimeoutMs: 3000 },
      },
      ...extra,
    },
    { baseDir: dir, fileName: `peer-${peer}.yaml` },
  );
}

/** mnist-mlp on the MNIST fixture (the first 1500 training and 500 test digits); each peer shuffles with its own seed. */
export function mnistConfig(dir: string, peer: number): Config {
  return configFromObject(
    {
      node: { name: `peer-${peer}`, workDir: join(dir, `peer-${peer}`) },
      // Several peers share this process's two cores: one thread each avoids oversubscription.
      hardware: { intraOpThreads: 1 },
      model: { kind: 'mlp', hidden: [256, 256] },
      data: {
        format: 'mnist',
        seed: 100 + peer,
        trainImages: join(FIXTURES, 'mnist/train-images-idx3-ubyte.gz'),
        trainLabels: join(FIXTURES, 'mnist/train-labels-idx1-ubyte.gz'),
        testImages: join(FIXTURES, 'mnist/t10k-images-idx3-ubyte.gz'),
        testLabels: join(FIXTURES, 'mnist/t10k-labels-idx1-ubyte.gz'),
      },
      training: { batchSize: 64, stepsPerRun: 10, evalBatches: 4, optimizer: { kind: 'adamw', lr: 1e-3 } },
      swarm: {
        runId: 'mnist-test',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        mdns: false,
        averaging: { innerSteps: 50, roundTimeoutMs: 10_000 },
      },
    },
    { baseDir: dir, fileName: `peer-${peer}.yaml` },
  );
}

export async function setups(configs: Config[]): Promise<TrainingSetup[]> {
  return Promise.all(configs.map((c) => setupTraining(c)));
}
