import { existsSync } from 'node:fs';
import {
  type GradcheckReport,
  gradcheck,
  type HostTensor,
  meanSquaredError,
  mulberry32,
  softmaxCrossEntropy,
} from '@enjambre/autograd';
import { type BuiltModel, createModel } from '@enjambre/models';
import { cloneGraph, type DataType, type Graph, GraphBuilder, inferTypes } from '@enjambre/onnx';
import { compileRunner } from '@enjambre/runtime';
import { PeerSetupError } from './errors.ts';

/** Ops that onnxruntime's CPU provider runs in float32 only: a graph with them is checked in float32. */
const FLOAT32_ONLY = new Set(['Erf', 'Conv', 'ConvTranspose', 'OneHot', 'AveragePool']);

export interface ModelGradcheckOptions {
  /** Coordinates checked per parameter. Default 8. */
  samplesPerParam?: number;
  /** Examples in the random batch. Default 2. */
  batch?: number;
  seed?: number;
  /** Finite-difference step (relative to max(1, |θ|)). Default: gradcheck's per-precision default. */
  epsilon?: number;
}

export interface ModelGradcheckReport extends GradcheckReport {
  model: string;
  summary: string;
}

/**
 * Checks every trainable parameter's gradient against central finite differences: a zoo model
 * (by name, with its default architecture) or an .onnx file (all float initializers trainable).
 * Runs in float64 whenever the graph's ops allow it.
 */
export async function gradcheckModel(
  model: string,
  opts: ModelGradcheckOptions = {},
): Promise<ModelGradcheckReport> {
  const built = buildForCheck(model);
  const rand = mulberry32(opts.seed ?? 1);
  const batch = opts.batch ?? 2;
  const precise = toFloat64(built.graph);
  const graph = precise ?? cloneGraph(built.graph);
  const dtype = precise ? 'float64' : 'float32';
  const types = inferTypes(graph).types;

  const feeds: Record<string, HostTensor> = {};
  for (const name of built.dataInputs) {
    const t = types.get(name)!;
    feeds[name] = randomTensor(t.dtype, concreteDims(t.shape ?? [], batch), rand, vocabOf(built));
  }
  const b = new GraphBuilder(graph);
  const labelDims = concreteDims(built.labels.shape, batch);
  b.input(built.labels.name, built.labels.dtype, built.labels.shape);
  const classes = classCount(types.get(built.output)?.shape);
  feeds[built.labels.name] =
    built.loss === 'cross-entropy'
      ? randomTensor('int64', labelDims, rand, classes)
      : randomTensor(dtype, labelDims, rand);
  const loss =
    built.loss === 'cross-entropy'
      ? softmaxCrossEntropy(b, built.output, built.labels.name)
      : meanSquaredError(b, built.output, built.labels.name);
  const report = await gradcheck(
    graph,
    {
      loss,
      feeds,
      params: built.trainable,
      samplesPerParam: opts.samplesPerParam ?? 8,
      seed: opts.seed,
      epsilon: opts.epsilon ?? (precise ? undefined : 1e-3),
    },
    compileRunner({ providers: ['cpu'], graphOptimizationLevel: 'disabled' }),
  );
  return { ...report, model, summary: built.summary };
}

function buildForCheck(model: string): BuiltModel {
  if (model.endsWith('.onnx')) {
    if (!existsSync(model)) throw new PeerSetupError(`gradcheck: the model file ${model} does not exist`);
    return createModel({ kind: 'onnx', path: model, loss: 'mse' });
  }
  switch (model) {
    case 'mlp':
      return createModel(
        { kind: 'mlp', dtype: 'float64' },
        { inputs: { dtype: 'float32', shape: [784] }, labels: { dtype: 'int64', shape: [] }, numClasses: 10 },
      );
    case 'cnn':
      return createModel(
        { kind: 'cnn' },
        {
          inputs: { dtype: 'float32', shape: [1, 28, 28] },
          labels: { dtype: 'int64', shape: [] },
          numClasses: 10,
        },
      );
    case 'char-transformer':
      return createModel(
        {
          kind: 'char-transformer',
          dtype: 'float64',
          gelu: 'tanh',
          layers: 2,
          width: 32,
          heads: 4,
          context: 16,
        },
        {
          inputs: { dtype: 'int64', shape: [16] },
          labels: { dtype: 'int64', shape: [16] },
          vocabSize: 65,
        },
      );
    default:
      throw new PeerSetupError(
        `gradcheck: unknown model '${model}'; give a zoo name (mlp, cnn, char-transformer) or a path ending in .onnx`,
      );
  }
}

/**
 * The same graph computing in float64, or undefined when an op has no float64 kernel on the
 * CPU provider. Integer values (token ids, shapes) keep their types.
 */
export function toFloat64(graph: Graph): Graph | undefined {
  if (graph.nodes.some((n) => FLOAT32_ONLY.has(n.op))) return undefined;
  const g = cloneGraph(graph);
  const f64 = <T extends { dtype: DataType }>(t: T): T =>
    t.dtype === 'float32' ? { ...t, dtype: 'float64' } : t;
  g.inputs = g.inputs.map((v) => ({ ...v, type: f64(v.type) }));
  g.outputs = g.outputs.map((v) => ({ ...v, type: f64(v.type) }));
  g.valueInfo = g.valueInfo.map((v) => ({ ...v, type: f64(v.type) }));
  g.initializers = g.initializers.map((t) =>
    t.dtype === 'float32' ? { ...t, dtype: 'float64', data: Float64Array.from(t.data as Float32Array) } : t,
  );
  for (const n of g.nodes) {
    const value = n.attrs.value;
    if (n.op === 'Constant' && value?.type === 'tensor' && value.value.dtype === 'float32') {
      n.attrs.value = {
        type: 'tensor',
        value: {
          ...value.value,
          dtype: 'float64',
          data: Float64Array.from(value.value.data as Float32Array),
        },
      };
    }
    const to = n.attrs.to;
    if (n.op === 'Cast' && to?.type === 'int' && to.value === 1) n.attrs.to = { type: 'int', value: 11 };
  }
  return g;
}

function concreteDims(shape: readonly (number | string)[], batch: number): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : batch));
}

function randomTensor(dtype: DataType, dims: number[], rand: () => number, intRange = 2): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (dtype === 'int64')
    return {
      dtype,
      dims,
      data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * intRange))),
    };
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rand() * 2 - 1;
  return { dtype, dims, data };
}

function vocabOf(m: BuiltModel): number {
  const opts = m.metadata['enjambre.model.options'];
  const vocab = opts ? (JSON.parse(opts) as { vocabSize?: number }).vocabSize : undefined;
  return vocab ?? 2;
}

function classCount(shape: readonly (number | string)[] | undefined): number {
  const last = shape?.[shape.length - 1];
  return typeof last === 'number' ? last : 2;
}
