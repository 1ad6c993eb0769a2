import { describe, expect, it } from 'vitest';
import {
  createModel,
  type DataInfo,
  DataShapeError,
  ModelOptionError,
  modelFromMetadata,
} from '../src/index.ts';
import { checkGradients, initializer, perturb, randomFloats, randomInts, runForward } from './helpers.ts';

const mnistLike: DataInfo = {
  inputs: { dtype: 'float32', shape: [1, 6, 6] },
  labels: { dtype: 'int64', shape: [] },
  task: 'classification',
  numClasses: 5,
};

/** Plain TypeScript forward pass of the MLP: the oracle for onnxruntime's result. */
function referenceMlp(
  x: Float32Array,
  batch: number,
  layers: { w: ArrayLike<number>; b: ArrayLike<number>; out: number }[],
  act: (v: number) => number,
): Float64Array {
  let h = Float64Array.from(x);
  let width = x.length / batch;
  layers.forEach((layer, li) => {
    const next = new Float64Array(batch * layer.out);
    for (let n = 0; n < batch; n++)
      for (let j = 0; j < layer.out; j++) {
        let s = layer.b[j];
        for (let i = 0; i < width; i++) s += h[n * width + i] * layer.w[i * layer.out + j];
        next[n * layer.out + j] = li < layers.length - 1 ? act(s) : s;
      }
    h = next;
    width = layer.out;
  });
  return h;
}

describe('mlp', () => {
  it('derives sizes from the data, counts parameters and summarises itself', () => {
    const m = createModel({ kind: 'mlp', hidden: [16, 8] }, mnistLike);
    expect(m.parameterCount).toBe(36 * 16 + 16 + 16 * 8 + 8 + 8 * 5 + 5);
    expect(m.trainableParameterCount).toBe(m.parameterCount);
    expect(m.summary).toBe('mlp 36-16-8-5 relu float32, 773 parameters');
    expect(m.loss).toBe('cross-entropy');
    expect(m.labels).toEqual({ name: 'labels', dtype: 'int64', shape: ['batch'] });
    expect(m.trainable).toEqual([
      'hidden.0.weight',
      'hidden.0.bias',
      'hidden.1.weight',
      'hidden.1.bias',
      'output.weight',
      'output.bias',
    ]);
  });

  it('matches a TypeScript reference forward pass on onnxruntime', async () => {
    for (const activation of ['relu', 'tanh', 'gelu'] as const) {
      const m = createModel({ kind: 'mlp', hidden: [16, 8], activation, seed: 3 }, mnistLike);
      // Non-zero biases so that they are exercised too.
      perturb(m, 1);
      const x = randomFloats([3, 1, 6, 6], 5);
      const out = await runForward(m, { input: x });
      expect(out[m.output].dims).toEqual([3, 5]);
      const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      const act =
        activation === 'relu' ? (v: number) => Math.max(0, v) : activation === 'tanh' ? Math.tanh : gelu;
      const ref = referenceMlp(
        x.data as Float32Array,
        3,
        [
          { w: initializer(m, 'hidden.0.weight'), b: initializer(m, 'hidden.0.bias'), out: 16 },
          { w: initializer(m, 'hidden.1.weight'), b: initializer(m, 'hidden.1.bias'), out: 8 },
          { w: initializer(m, 'output.weight'), b: initializer(m, 'output.bias'), out: 5 },
        ],
        act,
      );
      const got = out[m.output].data as Float32Array;
      for (let i = 0; i < ref.length; i++) expect(got[i]).toBeCloseTo(ref[i], 5);
    }
  });

  it('passes a float64 gradient check for each activation (classifier and regressor)', async () => {
    for (const activation of ['relu', 'tanh', 'gelu'] as const) {
      const m = createModel(
        { kind: 'mlp', dtype: 'float64', hidden: [6, 5], activation, seed: 1 },
        mnistLike,
      );
      const report = await checkGradients(m, {
        input: randomFloats([4, 1, 6, 6], 9),
        labels: randomInts([4], 5, 2),
      });
      expect(report.dtype).toBe('float64');
      expect(report.maxRelError).toBeLessThan(1e-6);
    }
    const reg = createModel(
      { kind: 'mlp', dtype: 'float64', hidden: [7], activation: 'tanh' },
      {
        inputs: { dtype: 'float32', shape: [3] },
        labels: { dtype: 'float32', shape: [2] },
        task: 'regression',
      },
    );
    expect(reg.loss).toBe('mse');
    expect(reg.labels).toEqual({ name: 'labels', dtype: 'float64', shape: ['batch', 2] });
    const y = randomFloats([5, 2], 4);
    const report = await checkGradients(
      reg,
      {
        input: randomFloats([5, 3], 8),
        labels: { dtype: 'float64', dims: [5, 2], data: Float64Array.from(y.data as Float32Array) },
      },
      {},
    );
    expect(report.maxRelError).toBeLessThan(1e-6);
  });

  it('scalar regression labels give a [batch] output', async () => {
    const reg = createModel(
      { kind: 'mlp', hidden: [4] },
      {
        inputs: { dtype: 'float32', shape: [3] },
        labels: { dtype: 'float32', shape: [] },
        task: 'regression',
      },
    );
    const out = await runForward(reg, { input: randomFloats([6, 3], 1) });
    expect(out[reg.output].dims).toEqual([6]);
  });

  it('initialises deterministically from the seed, within the He bound', () => {
    const a = createModel({ kind: 'mlp', hidden: [32], seed: 42 }, mnistLike);
    const b = createModel({ kind: 'mlp', hidden: [32], seed: 42 }, mnistLike);
    const c = createModel({ kind: 'mlp', hidden: [32], seed: 43 }, mnistLike);
    expect(initializer(a, 'hidden.0.weight')).toEqual(initializer(b, 'hidden.0.weight'));
    expect(initializer(a, 'hidden.0.weight')).not.toEqual(initializer(c, 'hidden.0.weight'));
    const w = initializer(a, 'hidden.0.weight');
    const bound = Math.sqrt(6 / 36);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    // Pinned values: the stream must never change, or peers running different versions diverge.
    expect(Array.from(w.slice(0, 3))).toEqual([
      0.15015503764152527, -0.26732099056243896, 0.32778263092041016,
    ]);
  });

  it('rebuilds the same model from its metadata', () => {
    const a = createModel({ kind: 'mlp', hidden: [8], activation: 'tanh', seed: 9 }, mnistLike);
    const b = modelFromMetadata(a.metadata);
    expect(b.summary).toBe(a.summary);
    expect(b.graph.initializers).toEqual(a.graph.initializers);
    expect(b.graph.nodes.map((n) => n.op)).toEqual(a.graph.nodes.map((n) => n.op));
  });

  it('reports bad options and data clearly', () => {
    expect(() => createModel({ kind: 'mlp', hidden: [8, 0] }, mnistLike)).toThrow(
      /hidden\.1 must be a positive integer/,
    );
    expect(() => createModel({ kind: 'mlp', activation: 'swish' as never }, mnistLike)).toThrow(
      ModelOptionError,
    );
    expect(() => createModel({ kind: 'mlp', inputSize: 10 }, mnistLike)).toThrow(DataShapeError);
    expect(() =>
      createModel(
        { kind: 'mlp' },
        { inputs: { dtype: 'float32', shape: [4] }, labels: { dtype: 'int64', shape: [] } },
      ),
    ).toThrow(/cannot tell the output size/);
    // Absurd sizes are refused before any allocation is tried.
    expect(() => createModel({ kind: 'mlp', hidden: [2 ** 30] }, mnistLike)).toThrow(
      /parameter hidden\.0\.weight \[36,1073741824\] would hold \d+ values, more than the limit/,
    );
  });
});
