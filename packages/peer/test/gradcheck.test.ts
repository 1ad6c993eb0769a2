import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type GradientRule, type GradientRules, gradientRules } from '@enjambre/autograd';
import { createModel } from '@enjambre/models';
import { gradcheckModel } from '@enjambre/peer';
import { exportInferenceModel } from '@enjambre/runtime';
import { afterAll, describe, expect, it } from 'vitest';

const TORCH_MLP = resolve(import.meta.dirname, '../../models/test/fixtures/torch-mlp.onnx');
const dir = mkdtempSync(join(tmpdir(), 'enjambre-gradcheck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The project's own export of a zoo MLP, as `enjambre export` writes it (weights and metadata). */
function exportMlp(name: string, built: ReturnType<typeof createModel>): string {
  const params = Object.fromEntries(
    built.graph.initializers.map((t) => [t.name, { dtype: t.dtype, dims: t.dims, data: t.data }]),
  );
  const { bytes } = exportInferenceModel(built.graph, params, { metadata: built.metadata });
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** An iris classifier: 4 features, 3 classes. */
const irisExport = () =>
  exportMlp(
    'iris-mlp.onnx',
    createModel(
      { kind: 'mlp', hidden: [10] },
      { inputs: { dtype: 'float32', shape: [4] }, labels: { dtype: 'int64', shape: [] }, numClasses: 3 },
    ),
  );

/** A copy of the registered rules in which `op`'s input gradients are scaled by `factor` (a deliberate bug). */
function withScaledRule(op: string, factor: number): GradientRules {
  const rules = new Map(gradientRules());
  const rule = rules.get(op);
  if (!rule) throw new Error(`no rule for ${op}`);
  const wrong: GradientRule = {
    op,
    grad: (ctx, dOut) => rule.grad(ctx, dOut).map((g) => g && ctx.op('Mul', [g, ctx.scalar(factor, g)])),
  };
  rules.set(op, wrong);
  return rules;
}

describe('gradcheckModel on imported models, with the model’s own loss', () => {
  const iris = irisExport();

  it.each([
    ['a PyTorch-exported MLP (Erf lowered to float64 ops)', TORCH_MLP],
    ['the project’s own iris export', iris],
  ])('%s passes in float64 with every relative error < 1e-6', async (_name, file) => {
    const r = await gradcheckModel(file, { samplesPerParam: 6 });
    expect(r.dtype).toBe('float64');
    expect(r.lossKind).toBe('cross-entropy');
    expect(r.params.length).toBeGreaterThanOrEqual(4);
    for (const p of r.params) expect(p.maxRelError, p.name).toBeLessThan(1e-6);
    expect(r.passed).toBe(true);
  });

  it('an exported regressor is checked with its own loss (MSE, float64 targets)', async () => {
    const file = exportMlp(
      'regressor.onnx',
      createModel(
        { kind: 'mlp', hidden: [8], outputs: 2 },
        {
          inputs: { dtype: 'float32', shape: [5] },
          labels: { dtype: 'float32', shape: [2] },
          task: 'regression',
        },
      ),
    );
    const r = await gradcheckModel(file, { samplesPerParam: 6 });
    expect(r.lossKind).toBe('mse');
    expect(r.dtype).toBe('float64');
    expect(r.passed, JSON.stringify(r.params)).toBe(true);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });
});

describe('a 1% error in one gradient rule fails gradcheck in both precisions', () => {
  const cases: [string, string, 'float32' | 'float64'][] = [
    ['mlp', 'MatMul', 'float64'],
    ['mlp', 'MatMul', 'float32'],
    ['mlp', 'Relu', 'float64'],
    ['mlp', 'Relu', 'float32'],
    ['torch-mlp.onnx', 'Gemm', 'float64'],
    ['torch-mlp.onnx', 'Gemm', 'float32'],
    ['cnn', 'Conv', 'float32'],
  ];
  it.each(cases)('%s with a wrong %s rule, %s', async (name, op, precision) => {
    const model = name === 'torch-mlp.onnx' ? TORCH_MLP : name;
    const right = await gradcheckModel(model, { precision, samplesPerParam: 4 });
    const wrong = await gradcheckModel(model, {
      precision,
      samplesPerParam: 4,
      rules: withScaledRule(op, 1.01),
    });
    expect(right.passed, JSON.stringify(right.params)).toBe(true);
    expect(wrong.passed).toBe(false);
    // The error is seen at its size (≈1%), not as noise just over the bound.
    expect(wrong.maxRelError).toBeGreaterThan(2 * wrong.rtol);
    expect(wrong.maxRelError).toBeLessThan(0.1);
  });
});
