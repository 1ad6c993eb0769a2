import {
  type AdamWConfig,
  CompileError,
  compileTraining,
  decayedParams,
  emitOptimizer,
  type HostTensor,
  type TrainableModel,
  type WeightDecayParams,
} from '@enjambre/autograd';
import { DEFAULT_WEIGHT_DECAY_PARAMS } from '@enjambre/config';
import { uniformSource } from '@enjambre/core';
import { GraphBuilder, makeModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { ortRunner } from './ort-runner.ts';

/**
 * NOT PyTorch itself (it cannot be installed here): a plain-TypeScript transcription of the
 * non-capturable, non-amsgrad, non-maximize branch of `_single_tensor_adamw` in
 * pytorch/pytorch torch/optim/adamw.py at commit c15fcf4eb79daaf10e12cecdf7fee15cde6cc530,
 * statement for statement, for one parameter tensor in float64. Defaults are those of
 * `torch.optim.AdamW`: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2, amsgrad False.
 */
class TorchAdamWTranscription {
  step = 0;
  readonly expAvg: Float64Array;
  readonly expAvgSq: Float64Array;
  constructor(
    readonly param: Float64Array,
    readonly weightDecay = 1e-2,
    readonly lr = 1e-3,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    this.expAvg = new Float64Array(param.length);
    this.expAvgSq = new Float64Array(param.length);
  }

  update(grad: Float64Array): void {
    const { param, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay } = this;
    this.step += 1; // step_t += 1
    for (let i = 0; i < param.length; i++) param[i] *= 1 - lr * weightDecay; // param.mul_(1 - lr * weight_decay)
    // exp_avg.lerp_(grad, 1 - beta1): exp_avg + (1 - beta1) * (grad - exp_avg)
    for (let i = 0; i < param.length; i++) expAvg[i] += (1 - beta1) * (grad[i] - expAvg[i]);
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    for (let i = 0; i < param.length; i++)
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * grad[i] * grad[i];
    const biasCorrection1 = 1 - beta1 ** this.step;
    const biasCorrection2 = 1 - beta2 ** this.step;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = biasCorrection2 ** 0.5;
    for (let i = 0; i < param.length; i++) {
      const denom = Math.sqrt(expAvgSq[i]) / biasCorrection2Sqrt + eps; // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
      param[i] += -stepSize * (expAvg[i] / denom); // param.addcdiv_(exp_avg, denom, value=-step_size)
    }
  }
}

const SHAPES: Record<string, number[]> = {
  'layer.weight': [5, 4],
  'layer.bias': [4],
  'norm.weight': [4],
  'embed.weight': [3, 2, 4],
};
const STEPS = 12;

/**
 * Runs `emitOptimizer`'s AdamW graph (float64, onnxruntime) for STEPS steps on fresh random
 * gradients, next to one transcribed torch optimizer per parameter with its own weight decay.
 */
async function compareWithTorch(cfg: AdamWConfig, torchDecay: (name: string) => number) {
  const rand = uniformSource(20261206);
  const random = (n: number) => Float64Array.from({ length: n }, () => rand() * 2 - 1);
  const names = Object.keys(SHAPES);
  const size = (name: string) => SHAPES[name].reduce((a, b) => a * b, 1);
  const params = names.map((name) => ({ name, dims: SHAPES[name] }));
  const decayed = decayedParams(params, cfg.weightDecayParams);

  const b = new GraphBuilder('adamw');
  const lr = b.input('lr', 'float64', []);
  const step = b.input('step', 'float64', []);
  for (const name of names) {
    for (const prefix of ['', 'grad/', 'm/', 'v/']) b.input(`${prefix}${name}`, 'float64', SHAPES[name]);
  }
  const updated = emitOptimizer(
    b,
    cfg,
    'float64',
    lr,
    step,
    names.map((name) => ({
      param: name,
      grad: `grad/${name}`,
      state: [`m/${name}`, `v/${name}`],
      decay: decayed.has(name),
    })),
  );
  b.graph.outputs = updated
    .flatMap((u) => [u.param, ...u.state])
    .map((name) => ({ name, type: { dtype: 'float64' } }));
  const runner = await ortRunner(makeModel(b.graph));

  const tensor = (name: string, data: Float64Array): HostTensor => ({
    dtype: 'float64',
    dims: SHAPES[name],
    data,
  });
  const state = new Map(
    names.map((name) => [
      name,
      {
        p: random(size(name)) as Float64Array,
        m: new Float64Array(size(name)) as Float64Array,
        v: new Float64Array(size(name)) as Float64Array,
      },
    ]),
  );
  const torch = new Map(
    names.map((name) => [name, new TorchAdamWTranscription(state.get(name)!.p.slice(), torchDecay(name))]),
  );
  let worst = 0;
  for (let t = 1; t <= STEPS; t++) {
    const feeds: Record<string, HostTensor> = {
      lr: { dtype: 'float64', dims: [], data: Float64Array.of(1e-3) },
      step: { dtype: 'float64', dims: [], data: Float64Array.of(t) },
    };
    for (const name of names) {
      const s = state.get(name)!;
      const grad = random(size(name));
      feeds[name] = tensor(name, s.p);
      feeds[`grad/${name}`] = tensor(name, grad);
      feeds[`m/${name}`] = tensor(name, s.m);
      feeds[`v/${name}`] = tensor(name, s.v);
      torch.get(name)!.update(grad);
    }
    const out = await runner.run(feeds);
    names.forEach((name, i) => {
      const s = state.get(name)!;
      s.p = out[updated[i].param].data as Float64Array;
      s.m = out[updated[i].state[0]].data as Float64Array;
      s.v = out[updated[i].state[1]].data as Float64Array;
      const ref = torch.get(name)!;
      for (let k = 0; k < s.p.length; k++) {
        const err = Math.abs(s.p[k] - ref.param[k]) / Math.max(1e-3, Math.abs(ref.param[k]));
        worst = Math.max(worst, err);
        expect(s.m[k]).toBeCloseTo(ref.expAvg[k], 14);
      }
    });
  }
  return worst;
}

describe("AdamW against a TypeScript transcription of PyTorch's _single_tensor_adamw (not PyTorch itself)", () => {
  it("weightDecayParams 'all' with the defaults reproduces torch.optim.AdamW() step for step (12 steps, float64)", async () => {
    const worst = await compareWithTorch({ kind: 'adamw', weightDecayParams: 'all' }, () => 1e-2);
    // Rounding only (measured 7e-16): the graph folds the bias corrections into one step size.
    expect(worst).toBeLessThan(1e-14);
  });

  it("'matrices' (the default) is torch with two param groups: rank ≥ 2 decayed, the rest at weight_decay 0", async () => {
    expect(DEFAULT_WEIGHT_DECAY_PARAMS).toBe('matrices');
    const worst = await compareWithTorch({ kind: 'adamw' }, (name) => (SHAPES[name].length >= 2 ? 1e-2 : 0));
    expect(worst).toBeLessThan(1e-14);
  });

  it("'none', a glob and a /regex/ pick their parameters; the check fails when the groups differ", async () => {
    expect(await compareWithTorch({ kind: 'adamw', weightDecayParams: 'none' }, () => 0)).toBeLessThan(1e-14);
    const byPattern = await compareWithTorch(
      { kind: 'adamw', weightDecayParams: ['*.bias', '/^embed\\./'] },
      (name) => (name === 'layer.bias' || name === 'embed.weight' ? 1e-2 : 0),
    );
    expect(byPattern).toBeLessThan(1e-14);
    // The oracle is sensitive to the choice: 'matrices' is not 'all'.
    expect(
      await compareWithTorch({ kind: 'adamw', weightDecayParams: 'matrices' }, () => 1e-2),
    ).toBeGreaterThan(1e-6);
  });
});

describe('decayedParams', () => {
  const params = Object.entries(SHAPES).map(([name, dims]) => ({ name, dims }));
  it.each<[WeightDecayParams, string[]]>([
    ['all', ['layer.weight', 'layer.bias', 'norm.weight', 'embed.weight']],
    ['matrices', ['layer.weight', 'embed.weight']],
    ['none', []],
    [['*.weight'], ['layer.weight', 'norm.weight', 'embed.weight']],
    [
      ['layer.?ias', '/^norm/'],
      ['layer.bias', 'norm.weight'],
    ],
  ])('%j → %j', (set, names) => {
    expect([...decayedParams(params, set)].sort()).toEqual([...names].sort());
  });

  it('a pattern matching no parameter is an error naming it', () => {
    expect(() => decayedParams(params, ['*.bais'])).toThrow(CompileError);
    expect(() => decayedParams(params, ['*.bais'])).toThrow(/"\*\.bais" matches no trainable parameter/);
  });

  it('compileTraining applies the set: with "all" a bias decays, with "matrices" it does not', async () => {
    const b = new GraphBuilder('linear');
    const x = b.input('x', 'float64', ['N', 3]);
    const w = b.initializer('w', 'float64', [3, 2], Float64Array.of(0.3, -0.2, 0.5, 0.1, -0.4, 0.6));
    const bias = b.initializer('b', 'float64', [2], Float64Array.of(0.7, -0.9));
    const model: TrainableModel = {
      graph: b.graph,
      dataInputs: [x],
      output: b.op('Add', [b.op('MatMul', [x, w]), bias]),
      loss: 'mse',
      labels: { name: 'y', dtype: 'float64', shape: ['N', 2] },
      trainable: ['w', 'b'],
    };
    const newBias = async (weightDecayParams: WeightDecayParams) => {
      const c = compileTraining(model, { optimizer: { kind: 'adamw', weightDecay: 0.5, weightDecayParams } });
      const runner = await ortRunner(c.trainStep);
      const zeros = (dims: number[]) => new Float64Array(dims.reduce((a, d) => a * d, 1));
      const out = await runner.run({
        x: { dtype: 'float64', dims: [2, 3], data: Float64Array.of(0.1, 0.2, -0.3, 0.4, -0.5, 0.6) },
        y: { dtype: 'float64', dims: [2, 2], data: Float64Array.of(0.3, -0.1, 0.2, 0.8) },
        w: { dtype: 'float64', dims: [3, 2], data: model.graph.initializers[0].data.slice() },
        b: { dtype: 'float64', dims: [2], data: model.graph.initializers[1].data.slice() },
        lr: { dtype: 'float64', dims: [], data: Float64Array.of(0.1) },
        step: { dtype: 'float64', dims: [], data: Float64Array.of(1) },
        ...Object.fromEntries(
          c.state.map((s) => [s.name, { dtype: s.dtype, dims: s.dims, data: zeros(s.dims) }]),
        ),
      });
      return out[c.names.newName.b].data as Float64Array;
    };
    const all = await newBias('all');
    const matrices = await newBias('matrices');
    // Decoupled decay multiplies by 1 - lr·wd = 0.95 before the (identical) Adam step.
    const adamStep = matrices.map((v, i) => v - (model.graph.initializers[1].data[i] as number));
    all.forEach((v, i) => {
      expect(v).toBeCloseTo(0.95 * (model.graph.initializers[1].data[i] as number) + adamStep[i], 12);
    });
  });
});
