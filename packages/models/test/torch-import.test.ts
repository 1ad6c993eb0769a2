import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel, PatternMatchError } from '../src/index.ts';
import { checkGradients, randomFloats, randomInts, runForward } from './helpers.ts';

/** Written by PyTorch 1.13's exporter (scripts/fixtures/export-torch-mlp.py): centre → Linear(8,16) → GELU → LayerNorm(16) → Linear(16,4), opset 17. */
const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/torch-mlp.onnx');
const data = {
  inputs: { dtype: 'float32', shape: [8] },
  labels: { dtype: 'int64', shape: [] },
  numClasses: 4,
} as const;

/** Inputs and logits computed by PyTorch itself when the fixture was written: the oracle. */
const EXPECTED = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, 'fixtures/torch-mlp.expected.json'), 'utf8'),
) as {
  x_dims: number[];
  x: number[];
  logits_dims: number[];
  logits: number[];
};

describe('import of a PyTorch-exported model', () => {
  it('imports at opset 17, upgrades it to 18 and reproduces the logits PyTorch computed', async () => {
    const m = createModel({ kind: 'onnx', path: FIXTURE }, data);
    expect(m.trainable).toEqual(['1.weight', '1.bias', '3.weight', '3.bias', '4.weight', '4.bias']);
    expect(m.parameterCount).toBe(16 * 8 + 16 + 16 + 16 + 4 * 16 + 4);
    expect(m.labels).toEqual({ name: 'labels', dtype: 'int64', shape: ['batch'] });
    // The exporter wrote ReduceMean with an axes attribute (opset 17); at 18 it is an input.
    expect(m.graph.nodes.find((n) => n.op === 'ReduceMean')?.inputs.length).toBe(2);
    const out = await runForward(m, {
      x: { dtype: 'float32', dims: EXPECTED.x_dims, data: Float32Array.from(EXPECTED.x) },
    });
    expect(out.logits.dims).toEqual(EXPECTED.logits_dims);
    const got = out.logits.data as Float32Array;
    EXPECTED.logits.forEach((v, i) => {
      expect(Math.abs(got[i] - v)).toBeLessThan(1e-5);
    });
  });

  it('fine-tunes selected layers: gradient check in float32 through Gemm, Erf and LayerNormalization', async () => {
    const bytes = readFileSync(FIXTURE);
    const m = createModel(
      { kind: 'onnx', bytes, fileName: 'torch-mlp.onnx', trainable: ['1.*', '3.*', '4.weight'] },
      data,
    );
    expect(m.trainable).toEqual(['1.weight', '1.bias', '3.weight', '3.bias', '4.weight']);
    expect(m.parameters.find((p) => p.name === '4.bias')?.trainable).toBe(false);
    const report = await checkGradients(m, { x: randomFloats([4, 8], 3), labels: randomInts([4], 4, 1) });
    expect(report.dtype).toBe('float32');
    // Stated float32 tolerance (central differences with a 1e-2 relative step in single precision).
    expect(report.maxRelError).toBeLessThan(5e-2);
  });

  it('names the fixture in pattern errors', () => {
    expect(() => createModel({ kind: 'onnx', path: FIXTURE, trainable: ['fc.*'] }, data)).toThrow(
      PatternMatchError,
    );
    expect(() => createModel({ kind: 'onnx', path: FIXTURE, trainable: ['fc.*'] }, data)).toThrow(
      "torch-mlp.onnx: trainable pattern 'fc.*' matches no initializer; float initializers are: 1.weight, 1.bias, 3.weight, 3.bias, 4.weight, 4.bias",
    );
  });
});
