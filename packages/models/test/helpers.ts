import {
  type GradcheckReport,
  gradcheck,
  type HostTensor,
  meanSquaredError,
  softmaxCrossEntropy,
} from '@enjambre/autograd';
import { cloneGraph, type Graph, GraphBuilder, makeModel } from '@enjambre/onnx';
import { ortRunner } from '../../autograd/test/ort-runner.ts';
import type { BuiltModel } from '../src/index.ts';

export { ortRunner };

/** The model's forward graph with its labels input and the loss from losses.ts attached. */
export function withLoss(model: BuiltModel): { graph: Graph; loss: string } {
  const graph = cloneGraph(model.graph);
  const b = new GraphBuilder(graph, 'test/');
  b.input(model.labels.name, model.labels.dtype, model.labels.shape);
  const loss =
    model.loss === 'cross-entropy'
      ? softmaxCrossEntropy(b, model.output, model.labels.name)
      : meanSquaredError(b, model.output, model.labels.name);
  return { graph, loss };
}

/** Options of {@link checkGradients}. */
export interface CheckOptions {
  /** Coordinates checked per parameter. Default 6. */
  samples?: number;
  /** Replaces the symbolic batch dimension with this size. Default: kept symbolic. */
  batch?: number;
  /** Finite-difference step (see gradcheck). Default: gradcheck's. */
  epsilon?: number;
}

/** Gradient check of every trainable parameter of `model` on real onnxruntime runs. */
export function checkGradients(
  model: BuiltModel,
  feeds: Record<string, HostTensor>,
  opts: CheckOptions = {},
): Promise<GradcheckReport> {
  const { graph, loss } = withLoss(model);
  if (opts.batch !== undefined) {
    for (const v of graph.inputs) v.type.shape = v.type.shape?.map((d) => (d === 'batch' ? opts.batch! : d));
  }
  return gradcheck(
    graph,
    {
      loss,
      feeds,
      params: model.trainable,
      samplesPerParam: opts.samples ?? 6,
      epsilon: opts.epsilon,
      seed: 11,
    },
    ortRunner,
  );
}

/** Runs the forward graph once and returns every output. */
export async function runForward(
  model: BuiltModel,
  feeds: Record<string, HostTensor>,
): Promise<Record<string, HostTensor>> {
  const runner = await ortRunner(makeModel(model.graph));
  return runner.run(feeds);
}

/** A seeded uniform float32 tensor in [-1, 1). */
export function randomFloats(dims: number[], seed: number): HostTensor {
  let s = seed >>> 0;
  const n = dims.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296) * 2 - 1;
  }
  return { dtype: 'float32', dims, data };
}

/** A seeded int64 tensor of values in [0, max). */
export function randomInts(dims: number[], max: number, seed: number): HostTensor {
  let s = seed >>> 0;
  const n = dims.reduce((a, d) => a * d, 1);
  const data = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = BigInt(Math.floor((s / 4294967296) * max));
  }
  return { dtype: 'int64', dims, data };
}

/** A copy of an initializer's values, widened to float64. */
export function initializer(model: BuiltModel, name: string): Float64Array {
  const t = model.graph.initializers.find((i) => i.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  return Float64Array.from(t.data as Float32Array | Float64Array);
}

/**
 * Moves a freshly initialised model away from its special starting point for a gradient check:
 * weights scaled by `scale`, biases and layer-norm parameters set to seeded random values, so
 * that every gradient is well above finite-difference noise and no term is trivially zero.
 */
export function perturb(model: BuiltModel, scale: number, seed = 1): void {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  };
  for (const t of model.graph.initializers) {
    const a = t.data as Float32Array | Float64Array;
    const isNorm = /(^|\.)ln/.test(t.name);
    for (let i = 0; i < a.length; i++) {
      if (isNorm && t.name.endsWith('.weight')) a[i] = 1 + 0.3 * next();
      else if (t.name.endsWith('.bias')) a[i] = 0.2 * next();
      else a[i] *= scale;
    }
  }
}
