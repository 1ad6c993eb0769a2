import { uniformSource } from '@enjambre/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  emptyGraph,
  float,
  floats,
  GraphBuilder,
  graphAttr,
  type Model,
  makeModel,
  OnnxParseError,
  parseModel,
  serializeModel,
} from '../src/index.ts';

/** A seeded PRNG (the core generator) so the test data is random but reproducible. */
function rng(seed: number): () => number {
  return uniformSource(seed);
}
const rand = rng(2024);
const randoms = (n: number) => Array.from({ length: n }, () => rand() * 2 - 1);

/**
 * A model that uses every attribute kind, every supported tensor dtype, symbolic dims, value
 * info, metadata, and an If with subgraphs: and that onnxruntime can still run.
 */
function richModel(): Model {
  const b = new GraphBuilder('rich');
  const x = b.input('x', 'float32', ['batch', 4]);
  const flag = b.input('flag', 'bool', []);
  const w = b.initializer('w', 'float32', [4, 3], Float32Array.from(randoms(12)));
  const w64 = b.initializer('w64', 'float64', [3], Float64Array.from(randoms(3)));
  b.initializer('i64', 'int64', [2], BigInt64Array.from([-5n, 1n << 40n]));
  b.initializer('i32', 'int32', [3], Int32Array.from([-7, 0, 123456]));
  b.initializer('i8', 'int8', [2], Int8Array.from([-128, 127]));
  b.initializer('u8', 'uint8', [2], Uint8Array.from([0, 255]));
  b.initializer('mask', 'bool', [3], Uint8Array.from([1, 0, 1]));
  b.initializer('half', 'float16', [2], Uint16Array.from([0x3c00, 0xc000]));
  const h = b.op('Gemm', [x, w], { alpha: float(0.5), beta: float(1), transB: 0 });
  const act = b.op('LeakyRelu', [h], { alpha: float(0.25) });
  const d = b.op('Cast', [act], { to: 11 });
  const y = b.op('Add', [d, w64], {}, { hint: 'y' });
  // An If whose branches read an outer value (y): subgraphs must survive the round trip too.
  const thenG = new GraphBuilder(emptyGraph('then'));
  thenG.output(thenG.op('Neg', [y]), 'float64', ['batch', 3]);
  const elseG = new GraphBuilder(emptyGraph('else'));
  elseG.output(elseG.op('Identity', [y]), 'float64', ['batch', 3]);
  const out = b.op(
    'If',
    [flag],
    { then_branch: graphAttr(thenG.graph), else_branch: graphAttr(elseG.graph) },
    { hint: 'out' },
  );
  // Attribute kinds the ops above do not use, on a node in a custom domain that nothing reads.
  b.graph.nodes.push({
    op: 'Annotate',
    domain: 'ai.enjambre.test',
    name: 'annotate',
    inputs: [],
    outputs: [],
    attrs: {
      label: { type: 'string', value: 'ünïcødé ✓' },
      weights: floats([0.5, -2, 1024]),
      shape: { type: 'ints', value: [3, -1, 0, 2 ** 40] },
      names: { type: 'strings', value: ['a', '', 'c'] },
      t: {
        type: 'tensor',
        value: { name: 'tv', dtype: 'float64', dims: [2], data: Float64Array.from([1.5, -0.25]) },
      },
    },
  });
  b.output(out, 'float64', ['batch', 3]);
  b.graph.valueInfo.push({ name: h, type: { dtype: 'float32', shape: ['batch', 3] } });
  const model = makeModel(b.graph, { metadata: { purpose: 'round trip', seed: '2024' } });
  model.opsetImports.push({ domain: 'ai.enjambre.test', version: 1 });
  return model;
}

describe('serializeModel / parseModel', () => {
  it('round-trips a model to an identical IR', () => {
    const model = richModel();
    const bytes = serializeModel(model);
    const back = parseModel(bytes);
    expect(back).toEqual(model);
    // And serialising again gives the same bytes.
    expect(serializeModel(back)).toEqual(bytes);
  });

  it('onnxruntime runs the bytes and computes what the graph says', async () => {
    const model = richModel();
    // onnxruntime refuses nodes of an unregistered domain: run the model without the annotation node.
    model.graph.nodes = model.graph.nodes.filter((n) => n.op !== 'Annotate');
    model.opsetImports = model.opsetImports.filter((o) => o.domain === '');
    const bytes = serializeModel(parseModel(serializeModel(model)));
    const session = await ort.InferenceSession.create(bytes);
    const xs = Float32Array.from(randoms(8));
    const w = model.graph.initializers.find((t) => t.name === 'w')!.data as Float32Array;
    const w64 = model.graph.initializers.find((t) => t.name === 'w64')!.data as Float64Array;
    for (const flag of [true, false]) {
      const res = await session.run({
        x: new ort.Tensor('float32', xs, [2, 4]),
        flag: new ort.Tensor('bool', Uint8Array.from([flag ? 1 : 0]), []),
      });
      const got = res[model.graph.outputs[0].name];
      expect(got.dims).toEqual([2, 3]);
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let k = 0; k < 4; k++) s += xs[r * 4 + k] * w[k * 3 + c];
          s *= 0.5;
          const v = (s > 0 ? s : 0.25 * s) + w64[c];
          expect((got.data as Float64Array)[r * 3 + c]).toBeCloseTo(flag ? -v : v, 5);
        }
      }
    }
  });

  it('float attributes are stored as float32 (as ONNX defines them)', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2]);
    b.output(b.op('LeakyRelu', [x], { alpha: float(0.1) }), 'float32', [2]);
    const back = parseModel(serializeModel(makeModel(b.graph)));
    expect(back.graph.nodes[0].attrs.alpha).toEqual({ type: 'float', value: Math.fround(0.1) });
  });

  it('rejects malformed bytes with OnnxParseError, never a crash', () => {
    const good = serializeModel(richModel());
    const cases: Uint8Array[] = [
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff]),
      good.subarray(0, Math.floor(good.length / 2)),
      new Uint8Array(0),
    ];
    const r = rng(5);
    for (let i = 0; i < 20; i++) {
      const bad = good.slice();
      for (let j = 0; j < 8; j++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
      cases.push(bad);
    }
    for (const bytes of cases) {
      try {
        parseModel(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(OnnxParseError);
      }
    }
    expect(() => parseModel(new Uint8Array(0))).toThrow(OnnxParseError);
  });
});
