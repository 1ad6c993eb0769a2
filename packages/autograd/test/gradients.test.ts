import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  GradientError,
  gradientOutputName,
  gradients,
  type HostTensor,
  lowerErfToFloat64,
  toFloat64,
} from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { GraphBuilder, type Model, makeModel, parseModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { ortRunner } from './ort-runner.ts';

const TORCH_MLP = path.resolve(import.meta.dirname, '../../models/test/fixtures/torch-mlp.onnx');

/** The model with one initializer value replaced (a fresh copy). */
function withValue(model: Model, name: string, index: number, value: number): Model {
  const initializers = model.graph.initializers.map((t) => {
    if (t.name !== name) return t;
    const data = (t.data as Float64Array).slice();
    data[index] = value;
    return { ...t, data };
  });
  return { ...model, graph: { ...model.graph, initializers } };
}

describe('gradients(model, { wrt, loss }): the gradient graph of an ONNX model', () => {
  it('of a PyTorch export, with cross-entropy attached, matches central differences in float64', async () => {
    const exported = parseModel(new Uint8Array(readFileSync(TORCH_MLP)));
    const g = gradients(exported, { loss: { kind: 'cross-entropy' } });
    // Every float initializer by default, in graph order, after the loss.
    expect(g.graph.outputs.map((o) => o.name)).toEqual([
      g.graph.outputs[0].name,
      ...exported.graph.initializers.map((t) => gradientOutputName(t.name)),
    ]);
    expect(g.graph.inputs.map((v) => v.name)).toEqual(['x', 'labels']);
    expect(g.opsetImports.find((o) => o.domain === '')?.version).toBe(18);

    // Checked in float64 (Erf lowered to an exact series after differentiation).
    const g64: Model = { ...g, graph: lowerErfToFloat64(toFloat64(g.graph)) };
    const rand = uniformSource(99);
    const batch = 3;
    const feeds: Record<string, HostTensor> = {
      x: {
        dtype: 'float64',
        dims: [batch, 8],
        data: Float64Array.from({ length: batch * 8 }, () => rand() * 4 - 2),
      },
      labels: {
        dtype: 'int64',
        dims: [batch],
        data: BigInt64Array.from({ length: batch }, () => BigInt(Math.floor(rand() * 4))),
      },
    };
    const lossName = g.graph.outputs[0].name;
    const analytic = await (await ortRunner(g64)).run(feeds);
    // The forward-only model (loss as output) evaluated at perturbed weights.
    const lossOnly: Model = { ...g64, graph: { ...g64.graph, outputs: [g64.graph.outputs[0]] } };
    const lossAt = async (m: Model) => Number((await (await ortRunner(m)).run(feeds))[lossName].data[0]);
    let worst = 0;
    for (const t of lossOnly.graph.initializers.filter((i) => i.dtype === 'float64' && i.dims.length > 0)) {
      const grad = analytic[gradientOutputName(t.name)].data as Float64Array;
      expect(grad.length).toBe(t.data.length);
      for (let k = 0; k < 3; k++) {
        const c = Math.floor(rand() * t.data.length);
        const v = t.data[c] as number;
        const h = 1e-5 * Math.max(1, Math.abs(v));
        const numeric =
          ((await lossAt(withValue(lossOnly, t.name, c, v + h))) -
            (await lossAt(withValue(lossOnly, t.name, c, v - h)))) /
          (2 * h);
        worst = Math.max(worst, Math.abs(numeric - grad[c]) / Math.max(Math.abs(grad[c]), 1e-4));
      }
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('takes the graph’s own scalar output as the loss, and any value as wrt (here a data input)', async () => {
    const b = new GraphBuilder('quadratic');
    const x = b.input('x', 'float64', [3]);
    const a = b.initializer('a', 'float64', [3], Float64Array.of(0.5, -1.5, 2));
    const y = b.op('ReduceSum', [b.op('Mul', [b.op('Mul', [x, x]), a])], { keepdims: 0 });
    b.graph.outputs = [{ name: y, type: { dtype: 'float64', shape: [] } }];
    const g = gradients(makeModel(b.graph), { wrt: ['x', 'a'] });
    const out = await (await ortRunner(g)).run({
      x: { dtype: 'float64', dims: [3], data: Float64Array.of(0.3, 0.7, -1.1) },
    });
    // d/dx Σ a·x² = 2·a·x, d/da = x²
    expect(Array.from(out['x.grad'].data as Float64Array)).toEqual([
      2 * 0.5 * 0.3,
      2 * -1.5 * 0.7,
      2 * 2 * -1.1,
    ]);
    expect(Array.from(out['a.grad'].data as Float64Array)).toEqual([0.3 * 0.3, 0.7 * 0.7, 1.1 * 1.1]);
  });

  it('asks for a loss when the model has no scalar output, naming the fix', () => {
    const exported = parseModel(new Uint8Array(readFileSync(TORCH_MLP)));
    expect(() => gradients(exported)).toThrow(GradientError);
    expect(() => gradients(exported)).toThrow(/no single scalar output.*loss: \{ kind/);
    expect(() => gradients(exported, { wrt: ['nope'], loss: { kind: 'cross-entropy' } })).toThrow(
      /nope: no such value/,
    );
  });
});
