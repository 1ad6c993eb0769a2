import type { HostTensor } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { type Graph, GraphBuilder, makeModel, parseModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { createRunner, ExportError, exportInferenceModel } from '../src/index.ts';

const rand = uniformSource(77);
const f32 = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
const BATCH = 5;

/**
 * x[batch,4] → MatMul w1 + b1 → Relu → Dropout(ratio, training mode) → MatMul w2 + b2 → logits,
 * plus a training tail (labels, MSE loss) that export must drop.
 */
function forwardGraph(opts: { ratio?: number; useMask?: boolean } = {}): { graph: Graph; logits: string } {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['batch', 4]);
  b.initializer('w1', 'float32', [4, 8], f32(32));
  b.initializer('b1', 'float32', [8], f32(8));
  b.initializer('w2', 'float32', [8, 3], f32(24));
  b.initializer('b2', 'float32', [3], f32(3));
  const h = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, 'w1']), 'b1'])]);
  const ratio = b.scalar('float32', opts.ratio ?? 0.5);
  const training = b.constant('bool', [], [1], 'training_mode');
  const [dropped, mask] = b.opN('Dropout', [h, ratio, training], 2, { seed: 3 }, { hint: 'dropout' });
  let z = dropped;
  if (opts.useMask) z = b.op('Mul', [z, b.op('Cast', [mask], { to: 1 })]);
  const logits = b.op('Add', [b.op('MatMul', [z, 'w2']), 'b2'], {}, { hint: 'logits' });
  b.output(logits, 'float32', ['batch', 3]);
  const labels = b.input('labels', 'float32', ['batch', 3]);
  const diff = b.op('Sub', [logits, labels]);
  const loss = b.op('ReduceMean', [b.op('Mul', [diff, diff])], { keepdims: 0 }, { hint: 'loss' });
  b.output(loss, 'float32', []);
  return { graph: b.graph, logits };
}

function trained(): Record<string, HostTensor> {
  return {
    w1: { dtype: 'float32', dims: [4, 8], data: f32(32, 2) },
    b1: { dtype: 'float32', dims: [8], data: f32(8) },
    w2: { dtype: 'float32', dims: [8, 3], data: f32(24, 2) },
    b2: { dtype: 'float32', dims: [3], data: f32(3) },
  };
}

/** Plain JS reference of the inference computation (Dropout is the identity at inference). */
function reference(x: Float32Array, p: Record<string, HostTensor>): Float64Array {
  const [w1, b1, w2, b2] = ['w1', 'b1', 'w2', 'b2'].map((k) => p[k].data as Float32Array);
  const out = new Float64Array(BATCH * 3);
  for (let n = 0; n < BATCH; n++) {
    const h = new Float64Array(8);
    for (let j = 0; j < 8; j++) {
      let acc = b1[j];
      for (let k = 0; k < 4; k++) acc += x[n * 4 + k] * w1[k * 8 + j];
      h[j] = Math.max(0, acc);
    }
    for (let c = 0; c < 3; c++) {
      let acc = b2[c];
      for (let j = 0; j < 8; j++) acc += h[j] * w2[j * 3 + c];
      out[n * 3 + c] = acc;
    }
  }
  return out;
}

async function runLogits(
  bytesOrGraph: Uint8Array | Graph,
  feeds: Record<string, HostTensor>,
  output: string,
) {
  const model = bytesOrGraph instanceof Uint8Array ? bytesOrGraph : makeModel(bytesOrGraph);
  const r = await createRunner(model, { intraOpThreads: 1 });
  const out = await r.run(feeds, { fetches: [output] });
  await r.release();
  return out[output].data as Float32Array;
}

describe('exportInferenceModel', () => {
  it('gives the same output as the forward graph run with the same weights', async () => {
    const params = trained();
    const x: HostTensor = { dtype: 'float32', dims: [BATCH, 4], data: f32(BATCH * 4) };
    const labels: HostTensor = { dtype: 'float32', dims: [BATCH, 3], data: f32(BATCH * 3) };

    // Oracle 1: the forward graph itself, parameters fed as inputs, Dropout at ratio 0 (the identity).
    const { graph: oracle, logits } = forwardGraph({ ratio: 0 });
    oracle.inputs.push(
      ...oracle.initializers.map((t) => ({ name: t.name, type: { dtype: t.dtype, shape: t.dims } })),
    );
    oracle.initializers = [];
    const expected = await runLogits(oracle, { x, labels, ...params }, logits);

    const { graph } = forwardGraph();
    const { model, bytes } = exportInferenceModel(graph, params, {
      outputs: [logits],
      name: 'mlp_inference',
    });
    const got = await runLogits(bytes, { x }, logits);
    expect(got.length).toBe(BATCH * 3);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    // Oracle 2: a plain JS implementation.
    const ref = reference(x.data as Float32Array, params);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);

    // A plain inference graph: only x in, logits out, trained weights as initializers, no Dropout or loss.
    const parsed = parseModel(bytes);
    expect(parsed.graph.name).toBe('mlp_inference');
    expect(parsed.graph.inputs.map((v) => v.name)).toEqual(['x']);
    expect(parsed.graph.outputs.map((v) => v.name)).toEqual([logits]);
    expect(parsed.graph.nodes.map((n) => n.op).sort()).toEqual([
      'Add',
      'Add',
      'Identity',
      'MatMul',
      'MatMul',
      'Relu',
    ]);
    for (const [name, t] of Object.entries(params)) {
      const init = parsed.graph.initializers.find((i) => i.name === name)!;
      expect(Array.from(init.data as Float32Array)).toEqual(Array.from(t.data as Float32Array));
    }
    expect(model.graph.initializers).toHaveLength(4);
    // The source graph is untouched.
    expect(graph.nodes.some((n) => n.op === 'Dropout')).toBe(true);
  });

  it('runs deterministically and turns a used Dropout mask into all-true', async () => {
    const params = trained();
    const { graph, logits } = forwardGraph({ useMask: true });
    const { bytes } = exportInferenceModel(graph, new Map(Object.entries(params)), { outputs: [logits] });
    const x: HostTensor = { dtype: 'float32', dims: [BATCH, 4], data: f32(BATCH * 4) };
    const a = await runLogits(bytes, { x }, logits);
    const b = await runLogits(bytes, { x }, logits);
    expect(Array.from(a)).toEqual(Array.from(b));
    const ref = reference(x.data as Float32Array, params);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(ref[i], 4);
  });

  it('takes parameters that the graph holds as inputs, and keeps a Model’s opset and metadata', async () => {
    const params = trained();
    const { graph, logits } = forwardGraph();
    graph.inputs.push(
      ...graph.initializers.map((t) => ({ name: t.name, type: { dtype: t.dtype, shape: t.dims } })),
    );
    graph.initializers = [];
    const source = makeModel(graph, { opset: 18, metadata: { zoo: 'mlp' } });
    const { model, bytes } = exportInferenceModel(source, params, {
      outputs: [logits],
      metadata: { step: '42' },
    });
    expect(model.metadata).toEqual({ zoo: 'mlp', step: '42' });
    expect(model.opsetImports).toEqual([{ domain: '', version: 18 }]);
    expect(model.graph.inputs.map((v) => v.name)).toEqual(['x']);
    const x: HostTensor = { dtype: 'float32', dims: [BATCH, 4], data: f32(BATCH * 4) };
    const got = await runLogits(bytes, { x }, logits);
    const ref = reference(x.data as Float32Array, params);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(ref[i], 4);
  });

  it('rejects inconsistent requests with errors that name the culprit', () => {
    const { graph, logits } = forwardGraph();
    const p = trained();
    const cases: [Record<string, HostTensor>, object, RegExp][] = [
      [{ ...p, w9: p.w1 }, {}, /trained parameter w9 is neither an initializer nor an input of graph mlp/],
      [
        { w1: { ...p.w1, dims: [8, 4] } },
        {},
        /trained parameter w1 has shape \[8, 4\], the graph expects \[4, 8\]/,
      ],
      [
        { b1: { dtype: 'float64', dims: [8], data: new Float64Array(8) } },
        {},
        /b1 is float64, the graph expects float32/,
      ],
      [{ b1: { ...p.b1, data: f32(7) } }, {}, /b1: dims \[8\] hold 8 elements but the data has 7/],
      [p, { outputs: ['nope'] }, /output nope is not a value of graph mlp/],
    ];
    for (const [params, opts, pattern] of cases) {
      expect(() => exportInferenceModel(graph, params, opts)).toThrow(ExportError);
      expect(() => exportInferenceModel(graph, params, opts)).toThrow(pattern);
    }
    expect(() =>
      exportInferenceModel(graph, { ...p, extra: p.b1 }, { outputs: [logits], strict: false }),
    ).not.toThrow();
  });
});
