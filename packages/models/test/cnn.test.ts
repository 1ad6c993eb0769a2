import { describe, expect, it } from 'vitest';
import { createModel, type DataInfo, DataShapeError, ModelOptionError } from '../src/index.ts';
import { checkGradients, initializer, perturb, randomFloats, randomInts, runForward } from './helpers.ts';

const mnist: DataInfo = {
  inputs: { dtype: 'float32', shape: [1, 28, 28] },
  labels: { dtype: 'int64', shape: [] },
  task: 'classification',
  numClasses: 10,
};

describe('cnn', () => {
  it('defaults to the Keras mnist_cnn architecture', () => {
    const m = createModel({ kind: 'cnn' }, mnist);
    // conv 1→32 (3×3), conv 32→64, pool 24→12, fc 9216→128, fc 128→10.
    expect(m.parameterCount).toBe(320 + 18_496 + 1_179_776 + 1_290);
    expect(m.summary).toBe('cnn [1,28,28] conv3×3 32-64 pool2 fc128 → 10 float32, 1,199,882 parameters');
    expect(m.graph.nodes.map((n) => n.op)).toEqual([
      'Conv',
      'Relu',
      'Conv',
      'Relu',
      'MaxPool',
      'Flatten',
      'MatMul',
      'Add',
      'Relu',
      'MatMul',
      'Add',
    ]);
  });

  it('runs on onnxruntime with class scores [N, classes], from [1,28,28] or flat [784] images', async () => {
    const m = createModel({ kind: 'cnn', channels: [4, 8], hidden: 16 }, mnist);
    const out = await runForward(m, { input: randomFloats([2, 1, 28, 28], 1) });
    expect(out[m.output].dims).toEqual([2, 10]);
    const flat = createModel(
      { kind: 'cnn', channels: [4, 8], hidden: 16 },
      { ...mnist, inputs: { dtype: 'float32', shape: [784] } },
    );
    const x = randomFloats([2, 784], 1);
    const outFlat = await runForward(flat, { input: x });
    // Same seed, same weights, same pixels: the flat layout is only reshaped.
    expect(outFlat[flat.output].data).toEqual(out[m.output].data);
  });

  const small = (channels: number[]) => {
    const m = createModel(
      { kind: 'cnn', channels, hidden: 6, classes: 4, seed: 4 },
      {
        ...mnist,
        inputs: { dtype: 'float32', shape: [1, 12, 12] },
        numClasses: 4,
      },
    );
    perturb(m, 1);
    return m;
  };
  const feeds = () => ({ input: randomFloats([2, 1, 12, 12], 3), labels: randomInts([2], 4, 5) });

  it('passes a float32 gradient check on 2×1×12×12 images (one and two conv layers)', async () => {
    for (const channels of [[3], [2, 3]]) {
      // A 1e-3 step: with two ReLU layers after conv.0, a 1e-2 step crosses activation kinks.
      const report = await checkGradients(small(channels), feeds(), { samples: 5, epsilon: 1e-3 });
      expect(report.dtype).toBe('float32');
      // Stated float32 tolerance: 5e-2 relative (float32 central differences with a 1e-3 step).
      expect(report.maxRelError).toBeLessThan(5e-2);
    }
  });

  it('initialises deterministically with He-uniform weights', () => {
    const a = createModel({ kind: 'cnn', channels: [4], hidden: 8, seed: 7 }, mnist);
    const b = createModel({ kind: 'cnn', channels: [4], hidden: 8, seed: 7 }, mnist);
    expect(a.graph.initializers).toEqual(b.graph.initializers);
    const w = initializer(a, 'conv.0.weight');
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 9));
  });

  it('reports bad options and data clearly', () => {
    expect(() => createModel({ kind: 'cnn', dtype: 'float64' as never }, mnist)).toThrow(
      /dtype must be one of 'float32'/,
    );
    expect(() => createModel({ kind: 'cnn', channels: [] }, mnist)).toThrow(ModelOptionError);
    expect(() =>
      createModel({ kind: 'cnn' }, { ...mnist, inputs: { dtype: 'float32', shape: [4, 4] } }),
    ).toThrow(/too small/);
    expect(() =>
      createModel({ kind: 'cnn' }, { ...mnist, inputs: { dtype: 'float32', shape: [700] } }),
    ).toThrow(DataShapeError);
    expect(() => createModel({ kind: 'cnn' }, { ...mnist, numClasses: undefined })).toThrow(
      /classes is required/,
    );
  });
});
