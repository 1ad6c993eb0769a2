import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type CompiledTraining, compileTraining, type HostTensor } from '@enjambre/autograd';
import { describe, expect, it } from 'vitest';
import { type BuiltModel, createModel } from '../src/index.ts';
import { ortRunner } from './helpers.ts';

// The zoo models against the real consumer of TrainableModel (the train-step compiler), on real data.
const DATA = path.resolve(import.meta.dirname, '../../../fixtures/datasets');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Runs `steps` compiled AdamW steps on batches from `next`, returns the eval graph's result before and after. */
async function train(
  model: BuiltModel,
  steps: number,
  lr: number,
  next: () => Record<string, HostTensor>,
  heldOut: Record<string, HostTensor>,
) {
  const c: CompiledTraining = compileTraining(model, { optimizer: { kind: 'adamw' } });
  const trainer = await ortRunner(c.trainStep);
  const evaluator = await ortRunner(c.evalStep);
  let state: Record<string, HostTensor> = {};
  for (const p of c.params) {
    const t = model.graph.initializers.find((i) => i.name === p.name)!;
    state[p.name] = { dtype: p.dtype, dims: p.dims, data: t.data.slice() };
  }
  for (const s of c.state) {
    state[s.name] = {
      dtype: s.dtype,
      dims: s.dims,
      data: new Float32Array(s.dims.reduce((a, b) => a * b, 1)),
    };
  }
  const params = () => Object.fromEntries(c.params.map((p) => [p.name, state[p.name]]));
  const evaluate = async () => {
    const out = await evaluator.run({ ...heldOut, ...params() });
    return { loss: Number(out[c.names.evalLoss].data[0]), accuracy: Number(out[c.names.accuracy!].data[0]) };
  };
  const before = await evaluate();
  for (let i = 0; i < steps; i++) {
    const out = await trainer.run({
      ...state,
      ...next(),
      lr: { dtype: 'float32', dims: [], data: Float32Array.of(lr) },
      step: { dtype: 'float32', dims: [], data: Float32Array.of(i + 1) },
    });
    const updated: Record<string, HostTensor> = {};
    for (const t of [...c.params, ...c.state]) updated[t.name] = out[c.names.newName[t.name]];
    state = updated;
  }
  return { before, after: await evaluate() };
}

/** The first 1280 MNIST training images (idx, gzip) and their labels. */
function mnist(): { images: Uint8Array; labels: Uint8Array } {
  const images = gunzipSync(readFileSync(path.join(DATA, 'mnist/train-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(path.join(DATA, 'mnist/train-labels-idx1-ubyte.gz')));
  return { images: images.subarray(16, 16 + 1280 * 784), labels: labels.subarray(8, 8 + 1280) };
}

describe('zoo models train through the compiler', () => {
  it('char-transformer (with dropout) learns tiny Shakespeare', async () => {
    const text = readFileSync(path.join(DATA, 'tinyshakespeare/input.txt'), 'utf8').slice(0, 20_000);
    const vocab = [...new Set(text)].sort();
    const ids = Array.from(text, (ch) => vocab.indexOf(ch));
    const T = 16;
    const model = createModel(
      { kind: 'char-transformer', layers: 2, heads: 2, width: 32, dropout: 0.1, seed: 1 },
      {
        inputs: { dtype: 'int64', shape: [T] },
        labels: { dtype: 'int64', shape: [T] },
        task: 'language-model',
        vocabSize: vocab.length,
      },
    );
    const windows = (starts: number[]) => ({
      input: {
        dtype: 'int64' as const,
        dims: [starts.length, T],
        data: BigInt64Array.from(
          starts.flatMap((s) => ids.slice(s, s + T)),
          BigInt,
        ),
      },
      labels: {
        dtype: 'int64' as const,
        dims: [starts.length, T],
        data: BigInt64Array.from(
          starts.flatMap((s) => ids.slice(s + 1, s + T + 1)),
          BigInt,
        ),
      },
    });
    const rand = lcg(5);
    const split = 18_000;
    const heldOut = windows(Array.from({ length: 32 }, (_, i) => split + i * 50));
    const { before, after } = await train(
      model,
      60,
      1e-2,
      () => windows(Array.from({ length: 16 }, () => Math.floor(rand() * (split - T - 1)))),
      heldOut,
    );
    expect(before.loss).toBeGreaterThan(Math.log(vocab.length) - 0.3);
    // Character statistics alone take it well below the uniform guess.
    expect(after.loss).toBeLessThan(before.loss - 0.8);
  });

  it('mlp learns MNIST digits', async () => {
    const { images, labels } = mnist();
    const model = createModel(
      { kind: 'mlp', hidden: [64], seed: 2 },
      {
        inputs: { dtype: 'float32', shape: [784] },
        labels: { dtype: 'int64', shape: [] },
        task: 'classification',
        numClasses: 10,
      },
    );
    const batch = (from: number, n: number) => ({
      input: {
        dtype: 'float32' as const,
        dims: [n, 784],
        data: Float32Array.from(images.subarray(from * 784, (from + n) * 784), (v) => v / 255),
      },
      labels: {
        dtype: 'int64' as const,
        dims: [n],
        data: BigInt64Array.from(labels.subarray(from, from + n), BigInt),
      },
    });
    let at = 0;
    const { before, after } = await train(
      model,
      32,
      3e-3,
      () => {
        const b = batch(at, 32);
        at = (at + 32) % 1024;
        return b;
      },
      batch(1024, 256),
    );
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.7);
  });

  it('cnn (two conv layers) learns MNIST digits', async () => {
    const { images, labels } = mnist();
    const model = createModel(
      { kind: 'cnn', channels: [4, 8], hidden: 32, seed: 3 },
      {
        inputs: { dtype: 'float32', shape: [1, 28, 28] },
        labels: { dtype: 'int64', shape: [] },
        task: 'classification',
        numClasses: 10,
      },
    );
    const batch = (from: number, n: number) => ({
      input: {
        dtype: 'float32' as const,
        dims: [n, 1, 28, 28],
        data: Float32Array.from(images.subarray(from * 784, (from + n) * 784), (v) => v / 255),
      },
      labels: {
        dtype: 'int64' as const,
        dims: [n],
        data: BigInt64Array.from(labels.subarray(from, from + n), BigInt),
      },
    });
    let at = 0;
    const { before, after } = await train(
      model,
      30,
      3e-3,
      () => {
        const b = batch(at, 32);
        at = (at + 32) % 1024;
        return b;
      },
      batch(1024, 256),
    );
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.6);
  });
});
