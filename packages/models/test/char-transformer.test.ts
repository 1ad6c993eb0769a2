import { appendGradients, softmaxCrossEntropy } from '@enjambre/autograd';
import { cloneGraph, GraphBuilder } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import {
  type CharTransformerOptions,
  createModel,
  type DataInfo,
  DataShapeError,
  ModelOptionError,
} from '../src/index.ts';
import { checkGradients, initializer, perturb, randomInts, runForward } from './helpers.ts';

const tiny: CharTransformerOptions = { kind: 'char-transformer', layers: 2, heads: 2, width: 8, context: 5 };
const text: DataInfo = {
  inputs: { dtype: 'int64', shape: [5] },
  labels: { dtype: 'int64', shape: [5] },
  task: 'language-model',
  vocabSize: 7,
};

describe('char-transformer', () => {
  it('takes the vocabulary and context from the data and has nanoGPT parameters', () => {
    const m = createModel(tiny, text);
    expect(m.labels).toEqual({ name: 'labels', dtype: 'int64', shape: ['batch', 5] });
    const names = m.parameters.map((p) => p.name);
    expect(names).toContain('wte');
    expect(names).toContain('h.1.attn.proj.weight');
    expect(names).toContain('lm_head.weight');
    // wte 7·8, wpe 5·8, per block: 2 LN (2·16) + 4 attn (4·72) + fc 8·32+32 + proj 32·8+8, ln_f 16, head 8·7.
    const block = 2 * 16 + 4 * 72 + (256 + 32) + (256 + 8);
    expect(m.parameterCount).toBe(56 + 40 + 2 * block + 16 + 56);
    expect(m.summary).toMatch(
      /^char-transformer 2 layers × 2 heads, width 8, context 5, vocab 7 float32, 1,912 parameters$/,
    );
    const tied = createModel({ ...tiny, tieWeights: true, bias: false }, text);
    expect(tied.parameters.map((p) => p.name)).not.toContain('lm_head.weight');
    expect(tied.parameters.some((p) => p.name.endsWith('.bias'))).toBe(false);
  });

  it('initialises as nanoGPT, deterministically', () => {
    const opts = { ...tiny, width: 64, heads: 4, layers: 3 };
    const a = createModel(opts, text);
    const b = createModel(opts, text);
    expect(a.graph.initializers).toEqual(b.graph.initializers);
    const std = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std(initializer(a, 'h.0.mlp.fc.weight'))).toBeCloseTo(0.02, 3);
    expect(std(initializer(a, 'h.0.mlp.proj.weight'))).toBeCloseTo(0.02 / Math.sqrt(6), 3);
    expect(std(initializer(a, 'h.2.attn.proj.weight'))).toBeCloseTo(0.02 / Math.sqrt(6), 3);
    expect(Array.from(initializer(a, 'h.0.ln_1.weight')).every((v) => v === 1)).toBe(true);
    expect(Array.from(initializer(a, 'h.0.attn.q.bias')).every((v) => v === 0)).toBe(true);
    const pinned = createModel({
      kind: 'char-transformer',
      layers: 1,
      heads: 1,
      width: 4,
      context: 3,
      vocabSize: 5,
      seed: 42,
    });
    expect(Array.from(initializer(pinned, 'wte').slice(0, 3))).toEqual([
      0.01218393910676241, 0.005264940671622753, -0.011361176148056984,
    ]);
  });

  it('runs on onnxruntime with logits [N, T, vocab]', async () => {
    for (const tieWeights of [false, true]) {
      const m = createModel({ ...tiny, tieWeights }, text);
      const out = await runForward(m, { input: randomInts([3, 5], 7, 1) });
      expect(out[m.output].dims).toEqual([3, 5, 7]);
      expect(Array.from(out[m.output].data as Float32Array).every(Number.isFinite)).toBe(true);
    }
  });

  it('is causal: changing a later token leaves earlier logits unchanged', async () => {
    // Larger init so that attention really mixes positions.
    const m = createModel({ ...tiny, seed: 5 }, text);
    perturb(m, 20);
    const a = randomInts([2, 5], 7, 3);
    const b = { ...a, data: (a.data as BigInt64Array).slice() };
    const bd = b.data as BigInt64Array;
    bd[3] = (bd[3] + 1n) % 7n; // row 0, position 3
    bd[5 + 2] = (bd[5 + 2] + 3n) % 7n; // row 1, position 2
    const la = (await runForward(m, { input: a }))[m.output].data as Float32Array;
    const lb = (await runForward(m, { input: b }))[m.output].data as Float32Array;
    const at = (l: Float32Array, n: number, t: number) =>
      Array.from(l.slice((n * 5 + t) * 7, (n * 5 + t + 1) * 7));
    for (let t = 0; t < 5; t++) {
      if (t < 3) expect(at(lb, 0, t)).toEqual(at(la, 0, t));
      else expect(at(lb, 0, t)).not.toEqual(at(la, 0, t));
      if (t < 2) expect(at(lb, 1, t)).toEqual(at(la, 1, t));
      else expect(at(lb, 1, t)).not.toEqual(at(la, 1, t));
    }
  });

  it('passes a float64 gradient check (tanh GELU; untied and tied, with and without bias)', async () => {
    for (const variant of [{}, { tieWeights: true, bias: false }]) {
      const m = createModel({ ...tiny, ...variant, dtype: 'float64', gelu: 'tanh', seed: 2 }, text);
      perturb(m, 20);
      const report = await checkGradients(
        m,
        { input: randomInts([2, 5], 7, 4), labels: randomInts([2, 5], 7, 6) },
        { samples: 4 },
      );
      expect(report.dtype).toBe('float64');
      expect(report.params.length).toBe(m.trainable.length);
      expect(report.maxRelError).toBeLessThan(1e-6);
    }
  });

  it('passes a float32 gradient check with the exact (Erf) GELU', async () => {
    const m = createModel({ ...tiny, layers: 1, seed: 3 }, text);
    // Weights large enough that every gradient is well above float32 noise.
    perturb(m, 25);
    const report = await checkGradients(
      m,
      { input: randomInts([2, 5], 7, 4), labels: randomInts([2, 5], 7, 6) },
      { samples: 4 },
    );
    expect(report.dtype).toBe('float32');
    // Stated float32 tolerance (GRADCHECK_TOLERANCES.float32): allclose on directional slopes.
    expect(report.passed).toBe(true);
  });

  it('builds training-mode dropout that the autodiff and onnxruntime accept', async () => {
    const m = createModel({ ...tiny, dropout: 0.2 }, text);
    const drops = m.graph.nodes.filter((n) => n.op === 'Dropout');
    expect(drops.length).toBe(1 + 2 * 3);
    for (const d of drops) expect(d.outputs[1]).toBeTruthy();
    const out = await runForward(m, { input: randomInts([2, 5], 7, 1) });
    expect(out[m.output].dims).toEqual([2, 5, 7]);
    const g = cloneGraph(m.graph);
    const b = new GraphBuilder(g, 'test/');
    b.input('labels', 'int64', ['batch', 5]);
    const loss = softmaxCrossEntropy(b, m.output, 'labels');
    expect(appendGradients(g, { loss, wrt: m.trainable }).grads.length).toBe(m.trainable.length);
  });

  it('reports bad options and data clearly', () => {
    expect(() => createModel({ ...tiny, heads: 3 }, text)).toThrow(/heads must divide width/);
    expect(() => createModel({ ...tiny, dtype: 'float64' }, text)).toThrow(/gelu 'tanh' for float64/);
    expect(() => createModel({ ...tiny, dropout: 1 }, text)).toThrow(ModelOptionError);
    expect(() => createModel({ ...tiny, context: 6 }, text)).toThrow(DataShapeError);
    expect(() => createModel(tiny)).toThrow(/vocabSize is required/);
    expect(() => createModel(tiny, { ...text, inputs: { dtype: 'float32', shape: [5] } })).toThrow(
      /int64 token ids/,
    );
  });
});
