import {
  type CompiledTraining,
  compileTraining,
  type HostTensor,
  type OptimizerConfig,
  type TrainableModel,
} from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { GraphBuilder } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { ortRunner } from './ort-runner.ts';

const rand = uniformSource(20261126);
const uniform = (n: number, scale = 1) => Float64Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

/** A small 2-layer MLP classifier in float64, parameters as initializers. */
function mlp(): TrainableModel {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float64', ['N', 4]);
  const w1 = b.initializer('w1', 'float64', [4, 6], uniform(24, 0.5));
  const b1 = b.initializer('b1', 'float64', [6], uniform(6, 0.1));
  const w2 = b.initializer('w2', 'float64', [6, 3], uniform(18, 0.5));
  const b2 = b.initializer('b2', 'float64', [3], uniform(3, 0.1));
  const h = b.op('Tanh', [b.op('Add', [b.op('MatMul', [x, w1]), b1])]);
  const logits = b.op('Add', [b.op('MatMul', [h, w2]), b2]);
  return {
    graph: b.graph,
    dataInputs: [x],
    output: logits,
    loss: 'cross-entropy',
    labels: { name: 'labels', dtype: 'int64', shape: ['N'] },
    trainable: ['w1', 'b1', 'w2', 'b2'],
  };
}

const batch = (n: number) => ({
  x: { dtype: 'float64' as const, dims: [n, 4], data: uniform(n * 4) },
  labels: {
    dtype: 'int64' as const,
    dims: [n],
    data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * 3))),
  },
});

function initialFeeds(c: CompiledTraining, model: TrainableModel): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const p of c.params) {
    const t = model.graph.initializers.find((i) => i.name === p.name)!;
    feeds[p.name] = { dtype: p.dtype, dims: p.dims, data: t.data.slice() };
  }
  for (const s of c.state)
    feeds[s.name] = {
      dtype: s.dtype,
      dims: s.dims,
      data: new Float64Array(s.dims.reduce((a, b) => a * b, 1)),
    };
  return feeds;
}

async function runSingleSteps(
  c: CompiledTraining,
  model: TrainableModel,
  batches: ReturnType<typeof batch>[],
  lrs: number[],
) {
  const runner = await ortRunner(c.trainStep);
  let feeds = initialFeeds(c, model);
  const losses: number[] = [];
  for (let i = 0; i < batches.length; i++) {
    const out = await runner.run({
      ...feeds,
      ...batches[i],
      lr: { dtype: 'float64', dims: [], data: Float64Array.of(lrs[i]) },
      step: { dtype: 'float64', dims: [], data: Float64Array.of(i + 1) },
    });
    losses.push(Number(out[c.names.loss].data[0]));
    const next: Record<string, HostTensor> = {};
    for (const t of [...c.params, ...c.state]) next[t.name] = out[c.names.newName[t.name]];
    feeds = next;
  }
  return { feeds, losses };
}

/** Plain TypeScript AdamW (PyTorch's formulation) as the oracle. */
function adamwReference(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  lr: number,
  t: number,
  decay: boolean,
) {
  const [b1, b2, eps, wd] = [0.9, 0.999, 1e-8, 0.01];
  for (let i = 0; i < p.length; i++) {
    if (decay) p[i] *= 1 - lr * wd;
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    const mhat = m[i] / (1 - b1 ** t);
    const vhat = v[i] / (1 - b2 ** t);
    p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
  }
}

describe('train-step compiler', () => {
  it('runs K steps in one Loop graph with the same result as K single steps', async () => {
    const model = mlp();
    const c = compileTraining(model, { optimizer: { kind: 'adamw' }, stepsPerRun: 5, gradClip: 1.0 });
    const batches = Array.from({ length: 5 }, () => batch(8));
    const lrs = [0.01, 0.02, 0.015, 0.01, 0.005];
    const single = await runSingleSteps(c, model, batches, lrs);

    const loop = await ortRunner(c.trainLoop!);
    const stack = (key: 'x' | 'labels') => {
      const parts = batches.map((bt) => bt[key]);
      const data = key === 'x' ? new Float64Array(5 * 32) : new BigInt64Array(5 * 8);
      for (const [i, p] of parts.entries()) data.set(p.data as never, i * p.data.length);
      return { dtype: parts[0].dtype, dims: [5, ...parts[0].dims], data } as HostTensor;
    };
    const out = await loop.run({
      ...initialFeeds(c, model),
      x: stack('x'),
      labels: stack('labels'),
      lr: { dtype: 'float64', dims: [5], data: Float64Array.from(lrs) },
      step: { dtype: 'float64', dims: [], data: Float64Array.of(1) },
    });
    expect(Array.from(out[c.names.loss].data as Float64Array)).toEqual(
      single.losses.map((l) => expect.closeTo(l, 12)),
    );
    for (const t of [...c.params, ...c.state]) {
      const a = out[c.names.newName[t.name]].data as Float64Array;
      const s = single.feeds[t.name].data as Float64Array;
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(s[i], 12);
    }
  });

  it('AdamW matches a plain TypeScript reference on the same gradients', async () => {
    const model = mlp();
    const c = compileTraining(model, { optimizer: { kind: 'adamw' } });
    // Gradients come from the graph (checked against finite differences elsewhere); the update must match.
    const gradModel = compileTraining(model, { optimizer: { kind: 'sgd' } });
    const runner = await ortRunner(c.trainStep);
    const sgd = await ortRunner(gradModel.trainStep);
    let feeds = initialFeeds(c, model);
    const ref = new Map(
      c.params.map((p) => [
        p.name,
        {
          p: (feeds[p.name].data as Float64Array).slice(),
          m: new Float64Array(feeds[p.name].data.length),
          v: new Float64Array(feeds[p.name].data.length),
        },
      ]),
    );
    for (let t = 1; t <= 3; t++) {
      const bt = batch(8);
      const lr = 0.05 * t;
      // With plain SGD and lr = 1, p - p' is exactly the gradient.
      const probe = await sgd.run({
        ...Object.fromEntries(c.params.map((p) => [p.name, feeds[p.name]])),
        ...bt,
        lr: { dtype: 'float64', dims: [], data: Float64Array.of(1) },
        step: { dtype: 'float64', dims: [], data: Float64Array.of(t) },
      });
      const out = await runner.run({
        ...feeds,
        ...bt,
        lr: { dtype: 'float64', dims: [], data: Float64Array.of(lr) },
        step: { dtype: 'float64', dims: [], data: Float64Array.of(t) },
      });
      for (const p of c.params) {
        const before = feeds[p.name].data as Float64Array;
        const after = probe[gradModel.names.newName[p.name]].data as Float64Array;
        const grad = before.map((v, i) => v - after[i]);
        const r = ref.get(p.name)!;
        adamwReference(r.p, grad, r.m, r.v, lr, t, p.dims.length >= 2);
        const got = out[c.names.newName[p.name]].data as Float64Array;
        for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(r.p[i], 12);
      }
      const next: Record<string, HostTensor> = {};
      for (const s of [...c.params, ...c.state]) next[s.name] = out[c.names.newName[s.name]];
      feeds = next;
    }
  });

  it.each<OptimizerConfig>([
    { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.001 },
    { kind: 'sgd', momentum: 0.9, nesterov: false },
  ])('SGD %o matches a plain TypeScript reference', async (cfg) => {
    const model = mlp();
    const c = compileTraining(model, { optimizer: cfg });
    const plain = compileTraining(model, { optimizer: { kind: 'sgd' } });
    const runner = await ortRunner(c.trainStep);
    const gradRunner = await ortRunner(plain.trainStep);
    let feeds = initialFeeds(c, model);
    const refP = new Map(c.params.map((p) => [p.name, (feeds[p.name].data as Float64Array).slice()]));
    const refBuf = new Map(c.params.map((p) => [p.name, new Float64Array(feeds[p.name].data.length)]));
    const mu = cfg.kind === 'sgd' ? (cfg.momentum ?? 0) : 0;
    const wd = cfg.kind === 'sgd' ? (cfg.weightDecay ?? 0) : 0;
    const nesterov = cfg.kind === 'sgd' && cfg.nesterov;
    for (let t = 1; t <= 3; t++) {
      const bt = batch(8);
      const lr = 0.1;
      const probe = await gradRunner.run({
        ...Object.fromEntries(c.params.map((p) => [p.name, feeds[p.name]])),
        ...bt,
        lr: { dtype: 'float64', dims: [], data: Float64Array.of(1) },
        step: { dtype: 'float64', dims: [], data: Float64Array.of(t) },
      });
      const out = await runner.run({
        ...feeds,
        ...bt,
        lr: { dtype: 'float64', dims: [], data: Float64Array.of(lr) },
        step: { dtype: 'float64', dims: [], data: Float64Array.of(t) },
      });
      for (const p of c.params) {
        const before = feeds[p.name].data as Float64Array;
        const after = probe[plain.names.newName[p.name]].data as Float64Array;
        const decay = p.dims.length >= 2;
        const P = refP.get(p.name)!;
        const B = refBuf.get(p.name)!;
        for (let i = 0; i < P.length; i++) {
          const g = before[i] - after[i] + (decay ? wd * P[i] : 0);
          B[i] = mu * B[i] + g;
          P[i] -= lr * (nesterov ? g + mu * B[i] : B[i]);
        }
        const got = out[c.names.newName[p.name]].data as Float64Array;
        for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(P[i], 12);
      }
      const next: Record<string, HostTensor> = {};
      for (const s of [...c.params, ...c.state]) next[s.name] = out[c.names.newName[s.name]];
      feeds = next;
    }
  });

  it('global-norm clipping caps the update direction and reports the norm', async () => {
    const model = mlp();
    const clipped = compileTraining(model, { optimizer: { kind: 'sgd' }, gradClip: 1e-3 });
    const runner = await ortRunner(clipped.trainStep);
    const feeds = initialFeeds(clipped, model);
    const out = await runner.run({
      ...feeds,
      ...batch(8),
      lr: { dtype: 'float64', dims: [], data: Float64Array.of(1) },
      step: { dtype: 'float64', dims: [], data: Float64Array.of(1) },
    });
    let sq = 0;
    for (const p of clipped.params) {
      const a = feeds[p.name].data as Float64Array;
      const b = out[clipped.names.newName[p.name]].data as Float64Array;
      for (let i = 0; i < a.length; i++) sq += (a[i] - b[i]) ** 2;
    }
    expect(Number(out[clipped.names.gradNorm].data[0])).toBeGreaterThan(1e-3);
    expect(Math.sqrt(sq)).toBeCloseTo(1e-3, 8);
  });

  it('evaluation reports loss and accuracy without updating', async () => {
    const model = mlp();
    const c = compileTraining(model, { optimizer: { kind: 'adamw' } });
    const runner = await ortRunner(c.evalStep);
    const feeds = initialFeeds(c, model);
    const bt = batch(16);
    const out = await runner.run({
      ...Object.fromEntries(c.params.map((p) => [p.name, feeds[p.name]])),
      ...bt,
    });
    const loss = Number(out[c.names.evalLoss].data[0]);
    const acc = Number(out[c.names.accuracy!].data[0]);
    expect(loss).toBeGreaterThan(0);
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    // Accuracy on 16 rows is a multiple of 1/16.
    expect(Math.abs(acc * 16 - Math.round(acc * 16))).toBeLessThan(1e-9);
  });
});
