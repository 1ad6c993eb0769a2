import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DataType, GraphBuilder, type Model, makeModel, serializeModel } from '@enjambre/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createModel,
  DataShapeError,
  importOnnxModel,
  METADATA_SHA256,
  ModelFileError,
  modelFromMetadata,
  NotDifferentiableError,
  PatternMatchError,
  UnknownOutputError,
} from '../src/index.ts';
import { checkGradients, randomFloats, randomInts, runForward } from './helpers.ts';

/** Seeded values in [-0.5, 0.5). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

/**
 * A small classifier as another exporter would write it: x [batch, 4] → encoder.0 (ReLU or an
 * op without a gradient rule) → encoder.1 (tanh) → head → `logits` [batch, 3], plus `probs`.
 * It also has an int64 initializer, and lists one initializer among the inputs (old IR style).
 */
function fixture(
  opts: { dtype?: DataType; act?: string; opset?: number; batch?: number | string } = {},
): Model {
  const dtype = opts.dtype ?? 'float32';
  const b = new GraphBuilder('exported');
  const f = (n: number, seed: number) =>
    dtype === 'float64' ? Float64Array.from(values(n, seed)) : Float32Array.from(values(n, seed));
  b.input('x', dtype, [opts.batch ?? 'N', 4]);
  const shape = b.initializer('shape_const', 'int64', [2], BigInt64Array.from([-1n, 4n]));
  const layer = (x: string, name: string, i: number, o: number, seed: number) => {
    const w = b.initializer(`${name}.weight`, dtype, [i, o], f(i * o, seed));
    const bias = b.initializer(`${name}.bias`, dtype, [o], f(o, seed + 1));
    return b.op('Add', [b.op('MatMul', [x, w]), bias]);
  };
  let h = b.op('Reshape', ['x', shape]);
  h = b.op(opts.act ?? 'Relu', [layer(h, 'encoder.0', 4, 6, 1)]);
  h = b.op('Tanh', [layer(h, 'encoder.1', 6, 5, 3)]);
  const logits = b.op('Identity', [layer(h, 'head', 5, 3, 5)], {}, { hint: 'logits' });
  const probs = b.op('Softmax', [logits], { axis: -1 }, { hint: 'probs' });
  b.output(logits, dtype, [opts.batch ?? 'N', 3]);
  b.output(probs, dtype, [opts.batch ?? 'N', 3]);
  b.graph.inputs.push({ name: 'head.bias', type: { dtype, shape: [3] } });
  return makeModel(b.graph, { opset: opts.opset ?? 18 });
}

const dir = mkdtempSync(path.join(tmpdir(), 'enjambre-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function writeModel(name: string, model: Model): string {
  const file = path.join(dir, name);
  writeFileSync(file, serializeModel(model));
  return file;
}

const data = {
  inputs: { dtype: 'float32', shape: [4] },
  labels: { dtype: 'int64', shape: [] },
  numClasses: 3,
} as const;

describe('importOnnxModel', () => {
  it('imports an .onnx file, training every float initializer by default', async () => {
    const file = writeModel('classifier.onnx', fixture());
    const m = createModel({ kind: 'onnx', path: file }, data);
    expect(m.kind).toBe('onnx');
    expect(m.dataInputs).toEqual(['x']);
    expect(m.output).toBe('logits');
    expect(m.loss).toBe('cross-entropy');
    expect(m.labels).toEqual({ name: 'labels', dtype: 'int64', shape: ['N'] });
    expect(m.trainable).toEqual([
      'encoder.0.weight',
      'encoder.0.bias',
      'encoder.1.weight',
      'encoder.1.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(m.parameterCount).toBe(4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3);
    expect(m.summary).toMatch(
      /^onnx classifier\.onnx \(.* x \[N,4\] → logits, cross-entropy\), 83 parameters$/,
    );
    expect(m.metadata[METADATA_SHA256]).toMatch(/^[0-9a-f]{64}$/);
    const out = await runForward(m, { x: randomFloats([5, 4], 2) });
    expect(out.logits.dims).toEqual([5, 3]);
  });

  it('selects trainable parameters by pattern and passes a float64 gradient check', async () => {
    const file = writeModel('classifier64.onnx', fixture({ dtype: 'float64' }));
    const m = createModel({
      kind: 'onnx',
      path: file,
      trainable: ['encoder.1.*', 'head.*'],
      frozen: ['head.b?as'],
    });
    expect(m.trainable).toEqual(['encoder.1.weight', 'encoder.1.bias', 'head.weight']);
    expect(m.trainableParameterCount).toBe(30 + 5 + 15);
    expect(m.summary).toMatch(/83 parameters \(50 trainable\)$/);
    expect(m.parameters.find((p) => p.name === 'head.bias')?.trainable).toBe(false);
    const x = randomFloats([6, 4], 1);
    const report = await checkGradients(m, {
      x: { dtype: 'float64', dims: x.dims, data: Float64Array.from(x.data as Float32Array) },
      labels: randomInts([6], 3, 2),
    });
    expect(report.params.map((p) => p.name)).toEqual(m.trainable);
    expect(report.maxRelError).toBeLessThan(1e-6);
  });

  it('attaches MSE to another output, with a label shape', async () => {
    const m = importOnnxModel(serializeModel(fixture({ dtype: 'float64' })), {
      output: 'probs',
      loss: 'mse',
    });
    expect(m.output).toBe('probs');
    expect(m.labels).toEqual({ name: 'labels', dtype: 'float64', shape: ['N', 3] });
    const x = randomFloats([4, 4], 3);
    const y = randomFloats([4, 3], 4);
    const report = await checkGradients(m, {
      x: { dtype: 'float64', dims: x.dims, data: Float64Array.from(x.data as Float32Array) },
      labels: { dtype: 'float64', dims: y.dims, data: Float64Array.from(y.data as Float32Array) },
    });
    expect(report.maxRelError).toBeLessThan(1e-6);
  });

  it('re-imports a zoo model written as .onnx, and rebuilds from metadata with the file', () => {
    const zoo = createModel({ kind: 'mlp', hidden: [8] }, data);
    const file = writeModel('zoo-mlp.onnx', makeModel(zoo.graph));
    const m = createModel({ kind: 'onnx', path: file, trainable: ['output.*'] }, data);
    expect(m.trainable).toEqual(['output.weight', 'output.bias']);
    expect(m.graph.initializers).toEqual(zoo.graph.initializers);
    const again = modelFromMetadata(m.metadata, { path: file });
    expect(again.trainable).toEqual(m.trainable);
    expect(again.metadata).toEqual(m.metadata);
    expect(() => modelFromMetadata(m.metadata)).toThrow(/needs its \.onnx file/);
  });

  it('reports a pattern that matches nothing, naming the pattern and the candidates', () => {
    const bytes = serializeModel(fixture());
    const call = () =>
      importOnnxModel(bytes, { fileName: 'net.onnx', trainable: ['encoder.*', 'decoder.*'] });
    expect(call).toThrow(PatternMatchError);
    expect(call).toThrow(
      "net.onnx: trainable pattern 'decoder.*' matches no initializer; float initializers are: encoder.0.weight",
    );
    expect(() => importOnnxModel(bytes, { frozen: ['head.weights'] })).toThrow(
      /frozen pattern 'head.weights' matches no/,
    );
    expect(() => importOnnxModel(bytes, { trainable: ['shape_*'] })).toThrow(
      /matches only non-float initializers/,
    );
    expect(() => importOnnxModel(bytes, { trainable: ['head.*'], frozen: ['head.*'] })).toThrow(
      /nothing would be trained/,
    );
    expect(() => importOnnxModel(bytes, { trainable: 'head.*' as never })).toThrow(
      'model.onnx: trainable must be a list of non-empty name patterns',
    );
  });

  it('reports an output that does not exist', () => {
    const call = () => importOnnxModel(serializeModel(fixture()), { fileName: 'net.onnx', output: 'scores' });
    expect(call).toThrow(UnknownOutputError);
    expect(call).toThrow(
      "net.onnx: output 'scores' does not exist; the graph's outputs are 'logits', 'probs'",
    );
  });

  it('reports an op without a gradient rule on the trainable path, and accepts it when frozen', () => {
    const bytes = serializeModel(fixture({ act: 'Softplus' }));
    let error: unknown;
    try {
      importOnnxModel(bytes, { fileName: 'softplus.onnx' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotDifferentiableError);
    expect((error as NotDifferentiableError).op).toBe('Softplus');
    expect((error as NotDifferentiableError).file).toBe('softplus.onnx');
    expect((error as Error).message).toMatch(
      /^softplus\.onnx: cannot train this model: no gradient rule for op Softplus/,
    );
    // Nothing before the Softplus is trained: the op is off the trainable path.
    const m = importOnnxModel(bytes, { frozen: ['encoder.0.*'] });
    expect(m.trainable).toEqual(['encoder.1.weight', 'encoder.1.bias', 'head.weight', 'head.bias']);
  });

  it('reports data that does not fit the model input', () => {
    const file = writeModel('shape.onnx', fixture());
    const call = () =>
      createModel({ kind: 'onnx', path: file }, { ...data, inputs: { dtype: 'float32', shape: [5] } });
    expect(call).toThrow(DataShapeError);
    expect(call).toThrow(
      "shape.onnx: input 'x' has shape [N,4] but the data's examples have shape [5] (batches [batch,5])",
    );
    expect(() =>
      createModel({ kind: 'onnx', path: file }, { ...data, inputs: { dtype: 'int64', shape: [4] } }),
    ).toThrow(/takes float32 but the data's inputs are int64/);
  });

  it('brings older opsets to 18, and reports the ones it cannot', async () => {
    // Opset 12: ReduceMean takes its axes as an attribute and Softmax coerces to 2-D; both change by 18.
    const b = new GraphBuilder('old');
    b.input('x', 'float32', ['N', 4]);
    const w = b.initializer('w', 'float32', [4, 3], Float32Array.from(values(12, 1)));
    const centred = b.op('Sub', ['x', b.op('ReduceMean', ['x'], { axes: [1], keepdims: 1 })]);
    const logits = b.op('Softmax', [b.op('MatMul', [centred, w])], { axis: 1 }, { hint: 'scores' });
    b.output(logits, 'float32', ['N', 3]);
    const m = importOnnxModel(serializeModel(makeModel(b.graph, { opset: 12 })), { fileName: 'old.onnx' });
    expect(m.trainable).toEqual(['w']);
    expect(m.graph.nodes.find((n) => n.op === 'ReduceMean')?.inputs.length).toBe(2);
    const out = await runForward(m, { x: randomFloats([2, 4], 1) });
    expect(out[m.output].dims).toEqual([2, 3]);

    expect(() =>
      importOnnxModel(serializeModel(fixture({ opset: 9 })), { fileName: 'ancient.onnx' }),
    ).toThrow(/^ancient\.onnx: cannot bring the model from opset 9 to 18: .*upgrades start at opset 11/);
    const seen: number[] = [];
    importOnnxModel(serializeModel(fixture({ opset: 17 })), {
      upgrade: (model, opset) => {
        seen.push(opset);
        return { ...model, opsetImports: [{ domain: '', version: opset }] };
      },
    });
    expect(seen).toEqual([18]);
  });

  it('reports unreadable files', () => {
    expect(() =>
      importOnnxModel(new Uint8Array([8, 1, 0xff, 0xff, 0xff]), { fileName: 'junk.onnx' }),
    ).toThrow(ModelFileError);
    expect(() =>
      importOnnxModel(new Uint8Array([8, 1, 0xff, 0xff, 0xff]), { fileName: 'junk.onnx' }),
    ).toThrow(/^junk\.onnx: /);
    expect(() => createModel({ kind: 'onnx', path: path.join(dir, 'missing.onnx') })).toThrow(
      /cannot read the model file/,
    );
  });
});
