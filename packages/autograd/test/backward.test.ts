import { appendGradients, GradientError, type HostTensor, UnsupportedOpError } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { type Graph, GraphBuilder, makeModel, tensorValues } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { hostTensor, randomValues } from './helpers.ts';
import { ortRunner } from './ort-runner.ts';

const rand = uniformSource(99);
const param = (b: GraphBuilder, name: string, dims: number[]) =>
  b.initializer(
    name,
    'float64',
    dims,
    tensorValues(
      'float64',
      randomValues(
        rand,
        dims.reduce((a, d) => a * d, 1),
      ),
    ),
  );

/** x [4,3] → MatMul W1 [3,5] → Relu → MatMul W2 [5,2] → ReduceSum loss. */
function twoLayer() {
  const b = new GraphBuilder('two-layer');
  const x = b.input('x', 'float64', [4, 3]);
  const w1 = param(b, 'W1', [3, 5]);
  const w2 = param(b, 'W2', [5, 2]);
  const pre = b.op('MatMul', [x, w1], {}, { hint: 'pre' });
  const h = b.op('Relu', [pre], {}, { hint: 'h' });
  const y = b.op('MatMul', [h, w2]);
  const loss = b.op('ReduceSum', [b.op('Mul', [y, y])], { keepdims: 0 });
  return { b, x, w1, w2, pre, h, loss };
}

const backwardNodes = (g: Graph, before: number) => g.nodes.slice(before);

describe('appendGradients: what gets differentiated', () => {
  it('an op without a rule on the path to the loss throws UnsupportedOpError naming op and node', () => {
    const b = new GraphBuilder('g');
    const w = param(b, 'w', [3]);
    const s = b.op('Softplus', [w]);
    const node = b.graph.nodes[b.graph.nodes.length - 1];
    const loss = b.op('ReduceSum', [s], { keepdims: 0 });
    let err: unknown;
    try {
      appendGradients(b.graph, { loss, wrt: [w] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOpError);
    const u = err as UnsupportedOpError;
    expect(u.code).toBe('ERR_UNSUPPORTED_OP');
    expect(u.op).toBe('Softplus');
    expect(u.node).toBe(node.name);
    expect(u.message).toContain('Softplus');
    expect(u.message).toContain(node.name);
  });

  it('an op without a rule on a frozen-only path is not an error', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float64', [3]);
    const w = param(b, 'w', [3]);
    const frozen = param(b, 'frozen', [3]);
    const s = b.op('Softplus', [b.op('Add', [x, frozen])]);
    const loss = b.op('ReduceSum', [b.op('Mul', [s, w])], { keepdims: 0 });
    const before = b.graph.nodes.length;
    const { grads } = appendGradients(b.graph, { loss, wrt: [w] });
    expect(grads).toHaveLength(1);
    expect(backwardNodes(b.graph, before).some((n) => n.op === 'Softplus')).toBe(false);
  });

  it('frozen parameters and data get no gradient work', () => {
    const full = twoLayer();
    const fullBefore = full.b.graph.nodes.length;
    appendGradients(full.b.graph, { loss: full.loss, wrt: [full.w1, full.w2] });
    const fullAdded = full.b.graph.nodes.length - fullBefore;

    const t = twoLayer();
    const before = t.b.graph.nodes.length;
    const { grads } = appendGradients(t.b.graph, { loss: t.loss, wrt: [t.w2] });
    const added = backwardNodes(t.b.graph, before);
    expect(grads).toHaveLength(1);
    expect(added.length).toBeGreaterThan(0);
    expect(added.length).toBeLessThan(fullAdded);
    // Nothing behind the frozen layer is read: not the data, not W1, not the pre-activation
    // (Relu's gradient would need it), and no gradient flows into h's producer.
    const frozenOnly = new Set([t.x, t.w1, t.pre]);
    for (const n of added) {
      for (const i of n.inputs) expect(frozenOnly.has(i), `${n.op} ${n.name} reads ${i}`).toBe(false);
    }
    expect(added.some((n) => n.op === 'Where' || n.op === 'Greater')).toBe(false);
  });

  it('with nothing trainable on the path, the only backward work is the zero gradient', () => {
    const t = twoLayer();
    const b = t.b;
    const unused = param(b, 'unused', [2, 3]);
    const before = b.graph.nodes.length;
    const { grads } = appendGradients(b.graph, { loss: t.loss, wrt: [unused] });
    const added = backwardNodes(b.graph, before);
    // The loss seed (a Constant) plus zerosLike: Constant 0 and one Mul.
    expect(added.every((n) => n.op === 'Constant' || n.op === 'Mul')).toBe(true);
    expect(added.filter((n) => n.op === 'Mul')).toHaveLength(1);
    expect(grads).toHaveLength(1);
  });

  it('a parameter that does not reach the loss (or only through ArgMax) gets zeros of its shape', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float64', [4, 3]);
    const w = param(b, 'w', [3, 2]);
    const unused = param(b, 'unused', [2, 5]);
    const viaArgMax = param(b, 'viaArgMax', [4, 3]);
    const y = b.op('MatMul', [x, w]);
    const pick = b.op('Cast', [b.op('ArgMax', [b.op('Add', [x, viaArgMax])], { axis: 1 })], { to: 11 });
    const loss = b.op(
      'Add',
      [b.op('ReduceSum', [y], { keepdims: 0 }), b.op('ReduceSum', [pick], { keepdims: 0 })],
      {},
      { hint: 'loss' },
    );
    const { grads } = appendGradients(b.graph, { loss, wrt: [w, unused, viaArgMax] });
    b.graph.outputs = grads.map((g) => ({ name: g, type: { dtype: 'float64' as const } }));
    const runner = await ortRunner(makeModel(b.graph));
    const xv = randomValues(rand, 12);
    const out = await runner.run({ x: hostTensor('float64', [4, 3], xv) });
    const [gw, gu, ga] = grads.map((g) => out[g]) as HostTensor[];
    // d/dw Σ x·w = column sums of x, repeated for each of w's 2 columns.
    for (let i = 0; i < 3; i++) {
      const colSum = xv[i] + xv[3 + i] + xv[6 + i] + xv[9 + i];
      expect(gw.data[2 * i]).toBeCloseTo(colSum, 12);
      expect(gw.data[2 * i + 1]).toBeCloseTo(colSum, 12);
    }
    expect(gu.dims).toEqual([2, 5]);
    expect((gu.data as Float64Array).every((v) => v === 0)).toBe(true);
    expect(ga.dims).toEqual([4, 3]);
    expect((ga.data as Float64Array).every((v) => v === 0)).toBe(true);
  });

  it('rejects a non-scalar loss and unknown parameters with GradientError', () => {
    const t = twoLayer();
    expect(() => appendGradients(t.b.graph, { loss: t.h, wrt: [t.w2] })).toThrow(GradientError);
    expect(() => appendGradients(t.b.graph, { loss: t.h, wrt: [t.w2] })).toThrow(/must be a scalar/);
    expect(() => appendGradients(t.b.graph, { loss: t.loss, wrt: ['nope'] })).toThrow(/nope/);
    expect(() => appendGradients(t.b.graph, { loss: 'missing', wrt: [t.w2] })).toThrow(/missing/);
  });
});
