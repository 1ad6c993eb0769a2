import { gradcheck, type HostTensor } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { type DataType, GraphBuilder, makeModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import {
  compileRunner,
  createRunner,
  fromOrtTensor,
  SessionError,
  SessionReleasedError,
  toOrtTensor,
} from '../src/index.ts';

const rand = uniformSource(20261126);
const randoms = (n: number) => Float64Array.from({ length: n }, () => rand() * 2 - 1);

describe('createRunner', () => {
  it('is a CompileRunner: autograd gradients of a real graph match finite differences through it', async () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', 'float64', [5, 3]);
    b.initializer('w1', 'float64', [3, 4], randoms(12));
    b.initializer('b1', 'float64', [4], randoms(4));
    b.initializer('w2', 'float64', [4, 1], randoms(4));
    const h = b.op('Tanh', [b.op('Add', [b.op('MatMul', [x, 'w1']), 'b1'])]);
    const loss = b.op('ReduceSum', [b.op('Mul', [b.op('MatMul', [h, 'w2']), b.op('MatMul', [h, 'w2'])])], {
      keepdims: 0,
    });
    b.output(loss, 'float64', []);
    const report = await gradcheck(
      b.graph,
      { loss, feeds: { x: { dtype: 'float64', dims: [5, 3], data: randoms(15) } }, samplesPerParam: 4 },
      compileRunner({ providers: ['cpu'], intraOpThreads: 1 }),
    );
    expect(report.params.map((p) => p.name).sort()).toEqual(['b1', 'w1', 'w2']);
    expect(report.maxRelError).toBeLessThan(1e-5);
  });

  it('passes every supported dtype through unchanged; inputs are not copied', async () => {
    const cases: [DataType, HostTensor['data']][] = [
      ['float32', Float32Array.from(randoms(6))],
      ['float64', randoms(6)],
      ['float16', Uint16Array.from({ length: 6 }, () => Math.floor(rand() * 0x7bff))],
      ['int64', BigInt64Array.from({ length: 6 }, () => BigInt(Math.floor(rand() * 2 ** 40) - 2 ** 39))],
      ['int32', Int32Array.from({ length: 6 }, () => Math.floor(rand() * 2 ** 31))],
      ['int8', Int8Array.from({ length: 6 }, () => Math.floor(rand() * 256) - 128)],
      ['uint8', Uint8Array.from({ length: 6 }, () => Math.floor(rand() * 256))],
      ['bool', Uint8Array.from({ length: 6 }, (_, i) => i % 2)],
    ];
    const b = new GraphBuilder('identity');
    for (const [dtype] of cases) {
      const x = b.input(`in_${dtype}`, dtype, [2, 3]);
      b.output(b.op('Identity', [x], {}, { hint: `out_${dtype}` }), dtype, [2, 3]);
    }
    const r = await createRunner(makeModel(b.graph));
    const feeds = Object.fromEntries(
      cases.map(([dtype, data]) => [`in_${dtype}`, { dtype, dims: [2, 3], data }]),
    );
    for (const [name, t] of Object.entries(feeds)) expect(toOrtTensor(t, name).data).toBe(t.data);
    const out = await r.run(feeds);
    for (const [dtype, data] of cases) {
      const o = out[`out_${dtype}`];
      expect(o.dtype).toBe(dtype);
      expect(o.dims).toEqual([2, 3]);
      expect(o.data.constructor).toBe(data.constructor);
      expect(Array.from(o.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
    }
    await r.release();
  });

  it('returns outputs that stay valid after later runs and release, and can be fed back as inputs', async () => {
    const b = new GraphBuilder('step');
    const x = b.input('x', 'float32', [4]);
    b.output(b.op('Mul', [x, b.scalar('float32', 0.5)], {}, { hint: 'y' }), 'float32', [4]);
    const r = await createRunner(makeModel(b.graph), { intraOpThreads: 1 });
    expect(r.inputNames).toEqual(['x']);
    const x0 = Float32Array.from(randoms(4));
    const first = await r.run({ x: { dtype: 'float32', dims: [4], data: x0 } });
    const snapshot = Array.from(first.y.data as Float32Array);
    const second = await r.run({ x: first.y }); // fed back without conversion
    expect(Array.from(first.y.data as Float32Array)).toEqual(snapshot);
    for (let i = 0; i < 4; i++) {
      expect(first.y.data[i]).toBeCloseTo(x0[i] * 0.5, 6);
      expect(second.y.data[i]).toBeCloseTo(x0[i] * 0.25, 6);
    }
    await r.release();
    expect(Array.from(second.y.data as Float32Array)).toEqual(
      Array.from(x0, (v) => Math.fround(Math.fround(v * 0.5) * 0.5)),
    );
  });

  it('computes only the requested fetches', async () => {
    const b = new GraphBuilder('two');
    const x = b.input('x', 'float64', [3]);
    b.output(b.op('Neg', [x], {}, { hint: 'neg' }), 'float64', [3]);
    b.output(b.op('Exp', [x], {}, { hint: 'exp' }), 'float64', [3]);
    const r = await createRunner(makeModel(b.graph));
    const data = randoms(3);
    const out = await r.run({ x: { dtype: 'float64', dims: [3], data } }, { fetches: ['exp'] });
    expect(Object.keys(out)).toEqual(['exp']);
    for (let i = 0; i < 3; i++) expect(out.exp.data[i]).toBeCloseTo(Math.exp(data[i]), 12);
    await r.release();
  });

  it('rejects bad feeds and fetches with errors that name them', async () => {
    const b = new GraphBuilder('neg');
    const x = b.input('x', 'float32', [2, 2]);
    b.output(b.op('Neg', [x], {}, { hint: 'y' }), 'float32', [2, 2]);
    const r = await createRunner(makeModel(b.graph));
    const good: HostTensor = { dtype: 'float32', dims: [2, 2], data: Float32Array.from(randoms(4)) };
    await expect(r.run({})).rejects.toThrow(/missing feeds for model inputs: x/);
    await expect(r.run({ x: good, z: good })).rejects.toThrow(
      /feed z is not an input of the model \(inputs: x\)/,
    );
    await expect(r.run({ x: { ...good, dims: [3, 2] } })).rejects.toThrow(
      /feed x: dims \[3, 2\] hold 6 elements but the data has 4/,
    );
    await expect(r.run({ x: { ...good, data: randoms(4) } })).rejects.toThrow(
      /feed x: dtype float32 needs a Float32Array, got Float64Array/,
    );
    await expect(r.run({ x: { ...good, dtype: 'float64', data: randoms(4) } })).rejects.toThrow(SessionError);
    await expect(r.run({ x: good }, { fetches: ['nope'] })).rejects.toThrow(/fetch nope is not an output/);
    await r.release();
  });

  it('release waits for in-flight runs, is idempotent, and later runs fail clearly', async () => {
    const b = new GraphBuilder('mm');
    const x = b.input('x', 'float64', [64, 64]);
    b.output(b.op('MatMul', [x, x], {}, { hint: 'y' }), 'float64', [64, 64]);
    const r = await createRunner(makeModel(b.graph));
    const feed = { x: { dtype: 'float64' as const, dims: [64, 64], data: randoms(64 * 64) } };
    const running = r.run(feed);
    const released = r.release();
    expect(r.released).toBe(true);
    const out = await running;
    expect(out.y.dims).toEqual([64, 64]);
    await released;
    await r.release();
    await expect(r.run(feed)).rejects.toBeInstanceOf(SessionReleasedError);
  });

  it('fromOrtTensor rejects element types Enjambre does not handle', async () => {
    const ort = await import('onnxruntime-node');
    expect(() => fromOrtTensor(new ort.Tensor('string', ['a'], [1]), 'out')).toThrow(
      /out: unsupported onnxruntime tensor type string/,
    );
  });
});
