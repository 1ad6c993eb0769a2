import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gradcheck, lowerErfToFloat64, softmaxCrossEntropy, toFloat64 } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import {
  cloneGraph,
  GraphBuilder,
  type Model,
  parseModel,
  serializeModel,
  upgradeOpset,
} from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { hostTensor, randomValues, TOL_F32, TOL_F64 } from './helpers.ts';
import { ortRunner } from './ort-runner.ts';

/** Written by scripts/fixtures/export-torch-mlp.py with PyTorch 1.13's torch.onnx.export (opset 17). */
const FIXTURES = path.resolve(import.meta.dirname, '../../models/test/fixtures');
const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, 'torch-mlp.onnx')));
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'torch-mlp.expected.json'), 'utf8')) as {
  x_dims: number[];
  x: number[];
  logits_dims: number[];
  logits: number[];
};
const BATCH = expected.x_dims[0];

async function logitsOf(model: Model): Promise<Float32Array> {
  const runner = await ortRunner(model);
  const out = await runner.run({ x: hostTensor('float32', expected.x_dims, expected.x) });
  return out.logits.data as Float32Array;
}

/** The imported graph with softmax cross-entropy on its logits against random labels. */
function withLoss(model: Model) {
  const graph = cloneGraph(model.graph);
  const b = new GraphBuilder(graph);
  const labels = b.input('labels', 'int64', ['batch']);
  const loss = softmaxCrossEntropy(b, 'logits', labels);
  const rand = uniformSource(3);
  const labelValues = Array.from({ length: BATCH }, () => Math.floor(rand() * 4));
  return { graph, loss, labels: hostTensor('int64', [BATCH], labelValues) };
}

describe('a model exported by PyTorch', () => {
  const model = parseModel(bytes);

  it('parses: producer, opset 17, dynamic batch, float32 initializers', () => {
    expect(model.producerName).toBe('pytorch');
    expect(model.opsetImports.find((o) => o.domain === '')?.version).toBe(17);
    expect(model.graph.inputs).toEqual([{ name: 'x', type: { dtype: 'float32', shape: ['batch', 8] } }]);
    expect(model.graph.outputs[0].type.shape).toEqual(['batch', 4]);
    expect(model.graph.initializers.map((t) => [t.name, t.dims])).toEqual([
      ['1.weight', [16, 8]],
      ['1.bias', [16]],
      ['3.weight', [16]],
      ['3.bias', [16]],
      ['4.weight', [4, 16]],
      ['4.bias', [4]],
    ]);
    // The opset-17 form upgradeOpset has to convert.
    const mean = model.graph.nodes.find((n) => n.op === 'ReduceMean');
    expect(mean?.attrs.axes).toEqual({ type: 'ints', value: [-1] });
  });

  it('upgradeOpset brings it to 18 and onnxruntime gives the same logits as the original and PyTorch', async () => {
    const up = upgradeOpset(model);
    expect(up.opsetImports.find((o) => o.domain === '')?.version).toBe(18);
    const mean = up.graph.nodes.find((n) => n.op === 'ReduceMean')!;
    expect(mean.attrs.axes).toBeUndefined();
    expect(mean.inputs).toHaveLength(2);

    const original = await logitsOf(parseModel(bytes));
    const upgraded = await logitsOf(parseModel(serializeModel(up)));
    expect(Array.from(upgraded)).toEqual(Array.from(original));
    expect(upgraded.length).toBe(expected.logits.length);
    expected.logits.forEach((v, i) => {
      expect(Math.abs(upgraded[i] - v)).toBeLessThan(1e-5 * Math.max(1, Math.abs(v)));
    });
  });

  it('gradcheck on every initializer in float32, loss = softmax cross-entropy of the logits', async () => {
    const { graph, loss, labels } = withLoss(upgradeOpset(model));
    const rand = uniformSource(11);
    const x = hostTensor('float32', [BATCH, 8], randomValues(rand, BATCH * 8, { lo: -2, hi: 2 }));
    const report = await gradcheck(graph, { loss, feeds: { x, labels }, samplesPerParam: 12 }, ortRunner);
    expect(report.dtype).toBe('float32');
    expect(report.params.map((p) => p.name)).toHaveLength(6);
    if (process.env.GRADCHECK_LOG) process.stdout.write(`torch f32: ${JSON.stringify(report)}\n`);
    expect(report.maxRelError).toBeLessThan(TOL_F32);
  });

  it('gradcheck in float64, the Erf rule included (Erf lowered to an exact float64 series after differentiation)', async () => {
    const up = upgradeOpset(model);
    const g64 = toFloat64(up.graph);
    expect(g64.nodes.some((n) => n.op === 'Erf')).toBe(true);
    expect(lowerErfToFloat64(g64).nodes.some((n) => n.op === 'Erf')).toBe(false);
    const { graph, loss, labels } = withLoss({ ...up, graph: g64 });
    const rand = uniformSource(12);
    const x = hostTensor('float64', [BATCH, 8], randomValues(rand, BATCH * 8, { lo: -2, hi: 2 }));
    const report = await gradcheck(
      graph,
      { loss, feeds: { x, labels }, samplesPerParam: 12, lower: lowerErfToFloat64 },
      ortRunner,
    );
    expect(report.dtype).toBe('float64');
    if (process.env.GRADCHECK_LOG) process.stdout.write(`torch f64: ${JSON.stringify(report)}\n`);
    expect(report.maxRelError).toBeLessThan(TOL_F64);
  });
});
