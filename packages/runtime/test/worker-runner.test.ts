import type { HostTensor } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { GraphBuilder, makeModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { createRunner, createWorkerRunner, SessionReleasedError } from '../src/index.ts';

const rand = uniformSource(7_112_026);
const randoms = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

/** A chain of `depth` n×n matmuls with tanh. */
function chain(depth: number, n = 256) {
  const b = new GraphBuilder('chain');
  let y = b.input('x', 'float32', [n, n]);
  for (let i = 0; i < depth; i++) {
    b.initializer(
      `w${i}`,
      'float32',
      [n, n],
      randoms(n * n).map((v) => v / 16),
    );
    y = b.op('Tanh', [b.op('MatMul', [y, `w${i}`])]);
  }
  b.output(b.op('Identity', [y], {}, { hint: 'y' }), 'float32', [n, n]);
  b.output(b.op('ReduceSum', [y], { keepdims: 0 }, { hint: 'sum' }), 'float32', []);
  return {
    model: makeModel(b.graph),
    feed: { x: { dtype: 'float32', dims: [n, n], data: randoms(n * n) } as HostTensor },
  };
}

/** Ticks of a 5 ms interval while `work` runs. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe('createWorkerRunner (onnxruntime in a worker thread)', () => {
  it('computes exactly what the in-thread runner computes, fetches included', async () => {
    const { model, feed } = chain(4);
    const here = await createRunner(model, { intraOpThreads: 1 });
    const there = await createWorkerRunner(model, { intraOpThreads: 1 });
    expect(there.provider).toBe('cpu');
    expect([...there.inputNames]).toEqual([...here.inputNames]);
    expect([...there.outputNames]).toEqual([...here.outputNames]);
    const a = await here.run(feed);
    const b = await there.run(feed);
    expect(b.y.dims).toEqual([256, 256]);
    expect(Array.from(b.y.data as Float32Array)).toEqual(Array.from(a.y.data as Float32Array));
    expect(b.sum.data[0]).toBe(a.sum.data[0]);
    const only = await there.run(feed, { fetches: ['sum'] });
    expect(Object.keys(only)).toEqual(['sum']);
    // The feed was copied to the worker, not taken from the caller.
    expect((feed.x.data as Float32Array).length).toBe(256 * 256);
    await here.release();
    await there.release();
    await expect(there.run(feed)).rejects.toBeInstanceOf(SessionReleasedError);
  });

  it('reports bad feeds with the same errors, from the worker', async () => {
    const { model, feed } = chain(1);
    const r = await createWorkerRunner(model);
    await expect(r.run({})).rejects.toThrow(/missing feeds for model inputs: x/);
    await expect(r.run(feed, { fetches: ['nope'] })).rejects.toThrow(/fetch nope is not an output/);
    await expect(createWorkerRunner(new Uint8Array([1, 2, 3]))).rejects.toThrow();
    await r.release();
  });

  it('leaves the event loop free while a long graph runs (the in-thread runner blocks it)', async () => {
    const { model, feed } = chain(32, 768);
    const here = await createRunner(model, { intraOpThreads: 1 });
    const there = await createWorkerRunner(model, { intraOpThreads: 1 });
    const t0 = performance.now();
    const blocked = await ticksDuring(() => here.run(feed));
    const runMs = performance.now() - t0;
    const free = await ticksDuring(() => there.run(feed));
    // A run of tens of ms or more: in-thread, the 5 ms timer cannot fire until it ends.
    expect(runMs).toBeGreaterThan(20);
    expect(blocked).toBeLessThanOrEqual(1);
    expect(free).toBeGreaterThanOrEqual(3);
    await here.release();
    await there.release();
  });
});
