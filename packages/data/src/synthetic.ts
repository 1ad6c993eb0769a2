/**
 * The built-in demo task: a seeded, nonlinear classification problem.
 *
 * Generator, all from `seed`: each class `c` owns `clustersPerClass` Gaussian clusters with centres
 * `μ[c,k] ~ N(0, s² I)` in a `dim`-dimensional latent space; a latent point `z = μ[c,k] + ε`,
 * `ε ~ N(0, I)`, is mapped through a random 2-layer tanh network,
 * `x = W₂ · tanh(W₁ z + b₁) + b₂`, to the features; then, with probability `labelNoise`, the label is
 * replaced by a uniformly random class. The classes overlap and are not linearly separable, so an MLP
 * keeps improving for a while, and the label noise caps accuracy below 100%.
 *
 * Streams: the task (centres and map) from `(seed, 'task')`; a peer's training shard from
 * `(seed, 'train', peerIndex)`; the shared test set from `(seed, 'test')`.
 */
import { fieldName, makeContext, optionalNumber } from './common.ts';
import {
  DEFAULT_SYNTHETIC_CLUSTERS_PER_CLASS,
  DEFAULT_SYNTHETIC_DIM,
  DEFAULT_SYNTHETIC_LABEL_NOISE,
  DEFAULT_SYNTHETIC_SEED,
  DEFAULT_SYNTHETIC_TASK_CLASSES,
  DEFAULT_SYNTHETIC_TEST_SIZE,
  DEFAULT_SYNTHETIC_TRAIN_SIZE,
} from './constants.ts';
import { checkSeed, Rng } from './rng.ts';
import type { LoadOptions, SyntheticSpec } from './spec.ts';
import { TabularDataset } from './tabular.ts';
import type { LoadedData } from './types.ts';

/** Spread of the cluster centres relative to the unit cluster noise. */
const CENTRE_SCALE = 0.8;
/** Hidden width of the random map, relative to `dim`. */
const HIDDEN_FACTOR = 2;
/** Gain of the first layer of the random map (> 1 makes the tanh bend the space noticeably). */
const MAP_GAIN = 1.5;

const STREAM_TASK = 1;
const STREAM_TRAIN = 2;
const STREAM_TEST = 3;

/** Fully resolved parameters of a synthetic task. */
export interface SyntheticOptions {
  seed: number;
  peerIndex: number;
  classes: number;
  dim: number;
  trainSize: number;
  testSize: number;
  labelNoise: number;
  clustersPerClass: number;
}

/** `info` of the synthetic dataset. */
export interface SyntheticInfo extends SyntheticOptions {
  readonly format: 'synthetic';
  readonly task: 'classification';
  readonly numClasses: number;
}

/** The random task: cluster centres and the 2-layer map. */
class SyntheticTask {
  readonly centres: Float64Array;
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
  readonly hidden: number;

  constructor(readonly o: SyntheticOptions) {
    const rng = new Rng(o.seed, STREAM_TASK);
    const d = o.dim;
    const h = d * HIDDEN_FACTOR;
    this.hidden = h;
    this.centres = fill(new Float64Array(o.classes * o.clustersPerClass * d), rng, CENTRE_SCALE);
    this.w1 = fill(new Float64Array(h * d), rng, MAP_GAIN / Math.sqrt(d));
    this.b1 = fill(new Float64Array(h), rng, 0.5);
    this.w2 = fill(new Float64Array(d * h), rng, 1 / Math.sqrt(h));
    this.b2 = fill(new Float64Array(d), rng, 0.1);
  }

  /** Draw `n` examples from `rng`. */
  sample(n: number, rng: Rng): TabularDataset {
    const { dim: d, classes, clustersPerClass, labelNoise } = this.o;
    const h = this.hidden;
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    const z = new Float64Array(d);
    const a = new Float64Array(h);
    for (let i = 0; i < n; i++) {
      const c = rng.int(classes);
      const k = rng.int(clustersPerClass);
      const centre = (c * clustersPerClass + k) * d;
      for (let j = 0; j < d; j++) z[j] = this.centres[centre + j] + rng.normal();
      for (let u = 0; u < h; u++) {
        let s = this.b1[u];
        for (let j = 0; j < d; j++) s += this.w1[u * d + j] * z[j];
        a[u] = Math.tanh(s);
      }
      for (let j = 0; j < d; j++) {
        let s = this.b2[j];
        for (let u = 0; u < h; u++) s += this.w2[j * h + u] * a[u];
        x[i * d + j] = s;
      }
      y[i] = rng.uniform() < labelNoise ? rng.int(classes) : c;
    }
    return new TabularDataset(x, d, { kind: 'class', values: y });
  }
}

function fill(out: Float64Array, rng: Rng, scale: number): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * scale;
  return out;
}

/** Resolve a {@link SyntheticSpec} against the defaults, checking every field. */
export function resolveSyntheticSpec(spec: SyntheticSpec, options: LoadOptions = {}): SyntheticOptions {
  const ctx = makeContext(options);
  const int = (v: unknown, f: string, d: number, min: number, max = 2 ** 31): number =>
    optionalNumber(ctx, v, f, d, { integer: true, min, max });
  return {
    seed: spec.seed === undefined ? DEFAULT_SYNTHETIC_SEED : checkSeed(spec.seed, fieldName(ctx, 'seed')),
    peerIndex: int(spec.peerIndex, 'peerIndex', 0, 0),
    classes: int(spec.classes, 'classes', DEFAULT_SYNTHETIC_TASK_CLASSES, 2, 65536),
    dim: int(spec.dim, 'dim', DEFAULT_SYNTHETIC_DIM, 1, 4096),
    trainSize: int(spec.trainSize, 'trainSize', DEFAULT_SYNTHETIC_TRAIN_SIZE, 1, 10_000_000),
    testSize: int(spec.testSize, 'testSize', DEFAULT_SYNTHETIC_TEST_SIZE, 0, 10_000_000),
    labelNoise: optionalNumber(ctx, spec.labelNoise, 'labelNoise', DEFAULT_SYNTHETIC_LABEL_NOISE, {
      min: 0,
      max: 1,
    }),
    clustersPerClass: int(
      spec.clustersPerClass,
      'clustersPerClass',
      DEFAULT_SYNTHETIC_CLUSTERS_PER_CLASS,
      1,
      1024,
    ),
  };
}

/** Generate the synthetic dataset: this peer's training shard and the shared test set (as validation). */
export async function loadSynthetic(
  spec: SyntheticSpec,
  options: LoadOptions = {},
): Promise<LoadedData<SyntheticInfo>> {
  options.signal?.throwIfAborted();
  const o = resolveSyntheticSpec(spec, options);
  const task = new SyntheticTask(o);
  const train = task.sample(o.trainSize, new Rng(o.seed, STREAM_TRAIN, o.peerIndex));
  const validation = o.testSize > 0 ? task.sample(o.testSize, new Rng(o.seed, STREAM_TEST)) : undefined;
  const info: SyntheticInfo = { format: 'synthetic', task: 'classification', numClasses: o.classes, ...o };
  return { train, validation, info, close: async () => undefined };
}
