import { uniformSource } from '@enjambre/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  emptyGraph,
  float,
  GraphBuilder,
  graphAttr,
  type Model,
  makeModel,
  type Node,
  OpsetUpgradeError,
  serializeModel,
  upgradeOpset,
} from '../src/index.ts';

function rng(seed: number): () => number {
  return uniformSource(seed);
}
const rand = rng(17);

const X_DIMS = [2, 3, 4];
const xValues = Float32Array.from({ length: 24 }, () => rand() * 4 - 2);

async function run(model: Model): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(serializeModel(model), { graphOptimizationLevel: 'disabled' });
  const out = await s.run({ x: new ort.Tensor('float32', xValues, X_DIMS) });
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
  return res;
}

/** Builds a graph in a given opset's forms. `nodes` returns the outputs to expose. */
function legacy(opset: number, nodes: (b: GraphBuilder, x: string) => string[]): Model {
  const b = new GraphBuilder('legacy');
  const x = b.input('x', 'float32', X_DIMS);
  for (const o of nodes(b, x)) b.output(o, 'float32');
  return makeModel(b.graph, { opset });
}

const allNodes = (m: Model): Node[] => {
  const out: Node[] = [];
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      out.push(n);
      for (const a of Object.values(n.attrs)) if (a.type === 'graph') walk(a.value.nodes);
    }
  };
  walk(m.graph.nodes);
  return out;
};

/** Upgrades, checks no attribute-form remains, and checks onnxruntime computes the same outputs. */
async function expectSameOutputs(model: Model): Promise<Model> {
  const snapshot = serializeModel(model);
  const up = upgradeOpset(model);
  // The input model is untouched.
  expect(serializeModel(model)).toEqual(snapshot);
  expect(up.opsetImports.find((o) => o.domain === '')?.version).toBe(18);
  expect(up.irVersion).toBeGreaterThanOrEqual(8);
  for (const n of allNodes(up)) {
    if (/^Reduce|^Squeeze$|^Unsqueeze$/.test(n.op)) expect(n.attrs.axes, `${n.name}`).toBeUndefined();
    if (n.op === 'Split') expect(n.attrs.split).toBeUndefined();
    if (n.op === 'Dropout') expect(n.attrs.ratio).toBeUndefined();
  }
  const [a, b] = [await run(model), await run(up)];
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) expect(Array.from(b[k])).toEqual(Array.from(a[k]));
  return up;
}

describe('upgradeOpset', () => {
  it('opset 17 → 18: Reduce* axes attributes become inputs (keepdims 0/1, no axes)', async () => {
    const model = legacy(17, (b, x) => [
      b.op('ReduceMean', [x], { axes: [1], keepdims: 0 }),
      b.op('ReduceMax', [x], { axes: [0, -1] }),
      b.op('ReduceMin', [x], { axes: [2], keepdims: 0 }),
      b.op('ReduceProd', [x], { axes: [1] }),
      b.op('ReduceSumSquare', [x], { axes: [0] }),
      b.op('ReduceL1', [x], { axes: [2] }),
      b.op('ReduceL2', [x], { axes: [1] }),
      b.op('ReduceLogSumExp', [x], { axes: [-1], keepdims: 0 }),
      b.op('ReduceLogSum', [b.op('Abs', [x])], { axes: [1] }),
      b.op('ReduceMean', [x], { keepdims: 0 }),
      // ReduceSum moved at 13: at 17 it already has the input form.
      b.op('ReduceSum', [x, b.ints([1])], { keepdims: 0 }),
      // Split without sizes needs num_outputs at 18.
      ...b.opN('Split', [x], 2, { axis: 2 }),
    ]);
    const up = await expectSameOutputs(model);
    const split = up.graph.nodes.find((n) => n.op === 'Split')!;
    expect(split.attrs.num_outputs).toEqual({ type: 'int', value: 2 });
  });

  it('opset 13 → 18, including reductions inside an If branch', async () => {
    const model = legacy(13, (b, x) => {
      const thenB = new GraphBuilder(emptyGraph('then'));
      thenB.output(thenB.op('ReduceMean', [x], { axes: [2], keepdims: 1 }), 'float32');
      const elseB = new GraphBuilder(emptyGraph('else'));
      elseB.output(elseB.op('ReduceMax', [x], { axes: [2], keepdims: 1 }), 'float32');
      const cond = b.op('Greater', [b.op('ReduceSum', [x], { keepdims: 0 }), b.scalar('float32', 0)]);
      return [
        b.op('If', [cond], { then_branch: graphAttr(thenB.graph), else_branch: graphAttr(elseB.graph) }),
        b.op('Softmax', [x], { axis: 1 }),
      ];
    });
    await expectSameOutputs(model);
  });

  it('opset 11/12 → 18: Squeeze/Unsqueeze/Split/ReduceSum attributes, Dropout ratio', async () => {
    for (const opset of [11, 12]) {
      const model = legacy(opset, (b, x) => {
        const u = b.op('Unsqueeze', [x], { axes: [0, 3] });
        const s = b.op('Squeeze', [u], { axes: [0] });
        const parts = b.opN('Split', [s], 3, { axis: 3, split: [1, 2, 1] });
        const noSizes = b.opN('Split', [x], 2, { axis: 0 });
        const dropped = b.op('Dropout', [x], opset === 11 ? { ratio: float(0.25) } : {});
        return [
          s,
          ...parts,
          ...noSizes,
          b.op('ReduceSum', [x], { axes: [0, 2], keepdims: 1 }),
          b.op('ReduceMean', [x], { axes: [1] }),
          b.op('Squeeze', [b.op('ReduceMax', [x], { axes: [1] })]),
          dropped,
        ];
      });
      await expectSameOutputs(model);
    }
  });

  it('opset 12 → 18: Softmax-family coercion to 2-D is written out when axis is not the last', async () => {
    const model = legacy(12, (b, x) => [
      b.op('Softmax', [x]), // default axis 1: over the 12 values of each batch row
      b.op('LogSoftmax', [x], { axis: 0 }),
      b.op('Hardmax', [x], { axis: 1 }),
      b.op('Softmax', [x], { axis: 2 }), // last axis: same as the one-axis op
      b.op('LogSoftmax', [x], { axis: -1 }),
    ]);
    const up = await expectSameOutputs(model);
    expect(up.graph.nodes.filter((n) => n.op === 'Flatten')).toHaveLength(3);
  });

  it('a model already at 18 comes back equal, as a copy', () => {
    const model = legacy(18, (b, x) => [b.op('ReduceMean', [x, b.ints([1])])]);
    const up = upgradeOpset(model);
    expect(up).toEqual(model);
    expect(up.graph).not.toBe(model.graph);
  });

  it('refuses what it cannot convert with OpsetUpgradeError', () => {
    const at = (opset: number) => legacy(opset, (b, x) => [b.op('Relu', [x])]);
    expect(() => upgradeOpset(at(10))).toThrow(OpsetUpgradeError);
    expect(() => upgradeOpset(at(10))).toThrow(/opset 10.*11/);
    expect(() => upgradeOpset(at(19))).toThrow(/above the target 18/);
    expect(() => upgradeOpset(at(13), 19)).toThrow(/newest supported is 18/);
    const noDefault = at(13);
    noDefault.opsetImports = [{ domain: 'com.microsoft', version: 1 }];
    expect(() => upgradeOpset(noDefault)).toThrow(/no default-domain/);
    const badAxes = legacy(13, (b, x) => [b.op('ReduceMean', [x], { axes: 'one' })]);
    expect(() => upgradeOpset(badAxes)).toThrow(/ReduceMean node .* axes attribute is not a list/);
  });
});
