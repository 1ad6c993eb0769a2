import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

const run = (args: string[]) =>
  spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 120_000 });

/** The ops the design requires the autodiff to cover (GELU is differentiated through Erf/Tanh, or as the Gelu op). */
const REQUIRED = [
  'MatMul',
  'Gemm',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Pow',
  'Sqrt',
  'Exp',
  'Log',
  'Tanh',
  'Sigmoid',
  'Relu',
  'Erf',
  'Gelu',
  'Softmax',
  'LogSoftmax',
  'ReduceSum',
  'ReduceMean',
  'Reshape',
  'Flatten',
  'Transpose',
  'Unsqueeze',
  'Squeeze',
  'Expand',
  'Concat',
  'Slice',
  'Split',
  'Gather',
  'Where',
  'LayerNormalization',
  'Conv',
  'MaxPool',
  'Dropout',
  'Identity',
  'Cast',
];

describe('enjambre ops and gradcheck', () => {
  it('ops --json lists every op the design requires', () => {
    const r = run(['ops', '--json']);
    expect(r.status).toBe(0);
    const { ops } = JSON.parse(r.stdout) as { ops: string[] };
    expect(ops).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each([
    ['mlp', 'float64'],
    ['char-transformer', 'float64'],
    ['cnn', 'float32'],
    [resolve(import.meta.dirname, '../../models/test/fixtures/torch-mlp.onnx'), 'float32'],
  ])('gradcheck --model %s --json passes in %s', (model, dtype) => {
    const r = run(['gradcheck', '--model', model, '--samples', '4', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { dtype: string; passed: boolean; params: { passed: boolean }[] };
    expect(report.dtype).toBe(dtype);
    expect(report.passed).toBe(true);
    expect(report.params.length).toBeGreaterThan(1);
    expect(report.params.every((p) => p.passed)).toBe(true);
  });

  it('an unknown model name is a one-line error', () => {
    const r = run(['gradcheck', '--model', 'resnet']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^enjambre: gradcheck: unknown model 'resnet'/);
  });
});
