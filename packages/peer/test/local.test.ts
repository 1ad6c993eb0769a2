import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromObject } from '@enjambre/config';
import { setupTraining, trainLocally } from '@enjambre/peer';
import { readCheckpoint } from '@enjambre/runtime';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from './swarm-helpers.ts';

/** A tiny char-level language model on the first part of Tiny Shakespeare. */
function textConfig(dir: string) {
  return configFromObject(
    {
      node: { workDir: dir },
      hardware: { intraOpThreads: 1 },
      model: { kind: 'char-transformer', layers: 1, heads: 2, width: 16, context: 16 },
      data: { format: 'text', path: join(FIXTURES, 'tinyshakespeare/input.txt'), seed: 11 },
      training: {
        batchSize: 4,
        stepsPerRun: 5,
        evalEvery: 0,
        evalBatches: 2,
        maxSteps: 30,
        optimizer: { kind: 'adamw', lr: 3e-3 },
        lrSchedule: { kind: 'cosine', warmupSteps: 5 },
      },
    },
    { baseDir: dir },
  );
}

describe('local training', () => {
  it('resuming from a checkpoint continues the exact same run', async () => {
    const straightDir = tempDir('enjambre-straight-');
    const straight = await setupTraining(textConfig(straightDir));
    const losses: number[] = [];
    const full = await trainLocally(straight, { maxSteps: 30, onProgress: (p) => losses.push(p.loss) });
    await straight.data.close();

    const resumedDir = tempDir('enjambre-resumed-');
    const first = await setupTraining(textConfig(resumedDir));
    const half = await trainLocally(first, { maxSteps: 15 });
    await first.data.close();
    expect(half.steps).toBe(15);
    const second = await setupTraining(textConfig(resumedDir));
    // Neither resume nor overwrite: the checkpoint is left as it is.
    const before = readFileSync(half.checkpoint!);
    await expect(trainLocally(second, { maxSteps: 30 })).rejects.toThrow(
      /already exists: continue training from it with --resume, or start afresh and overwrite it with --force/,
    );
    expect(readFileSync(half.checkpoint!).equals(before)).toBe(true);
    const rest = await trainLocally(second, { maxSteps: 30, resume: true });
    await second.data.close();

    expect(rest.steps).toBe(30);
    // Same parameters and optimizer state, bit for bit, and the same final losses.
    const a = await readCheckpoint(full.checkpoint!);
    const b = await readCheckpoint(rest.checkpoint!);
    expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
    for (const [name, t] of Object.entries(a.tensors)) {
      expect(Array.from(b.tensors[name].data as Float32Array), name).toEqual(
        Array.from(t.data as Float32Array),
      );
    }
    expect(rest.valLoss).toBe(full.valLoss);
    expect(rest.trainLoss).not.toBeNaN();
    expect(losses.length).toBeGreaterThan(0);
  });

  it('training in a worker thread (offThread) gives the very same run as on the event loop', async () => {
    const runs = [];
    for (const offThread of [false, true]) {
      const setup = await setupTraining(textConfig(tempDir('enjambre-offthread-')), { offThread });
      expect(setup.offThread).toBe(offThread);
      const result = await trainLocally(setup, { maxSteps: 20 });
      runs.push({ result, params: setup.trainer.parameters() });
      await setup.data.close();
    }
    const [here, there] = runs;
    expect(there.result.valLoss).toBe(here.result.valLoss);
    for (const [name, t] of Object.entries(here.params)) {
      expect(Array.from(there.params[name].data as Float32Array), name).toEqual(
        Array.from(t.data as Float32Array),
      );
    }
  });

  it('--max-steps ends the cosine schedule where training ends', async () => {
    const dir = tempDir();
    const config = textConfig(dir); // cosine over training.maxSteps = 30, minLr 0.1 × lr
    const setup = await setupTraining(config, { maxSteps: 10 });
    await setup.data.close();
    const { lr, minLr } = { lr: config.training.optimizer.lr, minLr: config.training.lrSchedule.minLr };
    expect(setup.lr(0)).toBeLessThan(lr); // warm-up
    expect(setup.lr(5)).toBeCloseTo(lr, 12); // warm-up over, cosine starts at lr
    expect(setup.lr(10)).toBeCloseTo(minLr, 12);
    const whole = await setupTraining(config);
    await whole.data.close();
    expect(whole.lr(10)).toBeGreaterThan(minLr + 0.5 * (lr - minLr));
  });

  it('refuses a model whose training state exceeds hardware.memoryBudgetMB', async () => {
    const dir = tempDir();
    const config = (budget: number) =>
      configFromObject(
        {
          node: { workDir: dir },
          hardware: { memoryBudgetMB: budget },
          model: { kind: 'mlp', hidden: [1024, 1024] }, // ≈ 1.1 M parameters: ≈ 17 MiB with grads and Adam state
          data: { format: 'synthetic', examples: 100, features: 16, classes: 4 },
        },
        { baseDir: dir },
      );
    await expect(setupTraining(config(8))).rejects.toThrow(/memoryBudgetMB.*1[67]\.\d MiB.*budget of 8 MiB/);
    const ok = await setupTraining(config(64));
    await ok.data.close();
  });

  it('a model that does not fit the data is a clear error naming both', async () => {
    const dir = tempDir();
    const config = configFromObject(
      {
        node: { workDir: dir },
        model: { kind: 'cnn' },
        data: { format: 'synthetic', examples: 100, features: 16, classes: 4 },
      },
      { baseDir: dir },
    );
    await expect(setupTraining(config)).rejects.toThrow(/image|shape|16/);
  });
});
