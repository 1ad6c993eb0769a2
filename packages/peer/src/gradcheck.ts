import { existsSync, readFileSync } from 'node:fs';
import {
  type GradcheckReport,
  type GradientRules,
  gradcheck,
  type HostTensor,
  type LossKind,
  lowerErfToFloat64,
  meanSquaredError,
  softmaxCrossEntropy,
  toFloat64,
} from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { type BuiltModel, createModel, METADATA_OPTIONS } from '@enjambre/models';
import {
  cloneGraph,
  type DataType,
  type Graph,
  GraphBuilder,
  inferTypes,
  isFloat,
  parseModel,
} from '@enjambre/onnx';
import { compileRunner } from '@enjambre/runtime';
import { PeerSetupError } from './errors.ts';

/**
 * Ops that onnxruntime's CPU provider runs in float32 only: a graph with them is checked in
 * float32. (Erf is not among them: it is lowered to float64 primitives after differentiation.)
 */
const FLOAT32_ONLY = new Set(['Conv', 'ConvTranspose', 'OneHot', 'AveragePool']);

export interface ModelGradcheckOptions {
  /** Comparisons per parameter (see the autograd package's `gradcheck`). Default 8. */
  samplesPerParam?: number;
  /** Examples in the random batch. Default 4. */
  batch?: number;
  seed?: number;
  /** Finite-difference step. Default: gradcheck's per-precision steps. */
  epsilon?: number;
  /** Precision of the check. Default: float64 whenever every op has a float64 kernel, else float32. */
  precision?: 'float32' | 'float64';
  /**
   * Loss of an .onnx model. Default: the one its metadata names (a model exported by Enjambre),
   * else the import default (cross-entropy on the first output).
   */
  loss?: LossKind;
  /** The gradient rules to check. Default: the registered ones (a library hook: tests swap a rule). */
  rules?: GradientRules;
}

export interface ModelGradcheckReport extends GradcheckReport {
  model: string;
  summary: string;
  /** The loss the check differentiates. */
  lossKind: LossKind;
  /** What the check changed to run at its precision (e.g. Erf lowered to float64 ops). */
  notes: string[];
}

/**
 * Checks every trainable parameter's gradient against central finite differences, with the
 * model's own loss on a random batch (labels drawn over every class, token ids over the whole
 * vocabulary): a zoo model (by name, with its default architecture) or an .onnx file (all
 * float initializers trainable). Runs in float64 whenever the graph's ops allow it.
 */
export async function gradcheckModel(
  model: string,
  opts: ModelGradcheckOptions = {},
): Promise<ModelGradcheckReport> {
  const built = buildForCheck(model, opts.loss);
  const rand = uniformSource(opts.seed ?? 1);
  const batch = opts.batch ?? 4;
  const float32Only = [...new Set(built.graph.nodes.filter((n) => FLOAT32_ONLY.has(n.op)).map((n) => n.op))];
  if (opts.precision === 'float64' && float32Only.length > 0) {
    throw new PeerSetupError(
      `gradcheck: ${model} cannot be checked in float64: onnxruntime runs ${float32Only.join(', ')} in float32 only`,
    );
  }
  const dtype = opts.precision ?? (float32Only.length > 0 ? 'float32' : 'float64');
  const graph = dtype === 'float64' ? toFloat64(built.graph) : toFloat32(built.graph);
  const notes: string[] = [];
  const hasErf = graph.nodes.some((n) => n.op === 'Erf');
  if (dtype === 'float64' && hasErf) {
    notes.push(
      'Erf runs as float64 primitive ops (a series exact to rounding): onnxruntime has no float64 Erf',
    );
  }
  const types = inferTypes(graph).types;

  const feeds: Record<string, HostTensor> = {};
  for (const name of built.dataInputs) {
    const t = types.get(name)!;
    const dims = concreteDims(t.shape ?? [], batch);
    feeds[name] =
      t.dtype === 'int64'
        ? randomInts(dims, rand, tokenRange(graph, name, built, model))
        : randomFloats(isFloat(t.dtype) ? dtype : t.dtype, dims, rand);
  }
  const b = new GraphBuilder(graph);
  const labelDims = concreteDims(built.labels.shape, batch);
  let loss: string;
  if (built.loss === 'cross-entropy') {
    b.input(built.labels.name, 'int64', built.labels.shape);
    const classes = classCount(types.get(built.output)?.shape, model);
    feeds[built.labels.name] = randomInts(labelDims, rand, classes);
    loss = softmaxCrossEntropy(b, built.output, built.labels.name);
  } else {
    b.input(built.labels.name, dtype, built.labels.shape);
    feeds[built.labels.name] = randomFloats(dtype, labelDims, rand);
    loss = meanSquaredError(b, built.output, built.labels.name);
  }
  const report = await gradcheck(
    graph,
    {
      loss,
      feeds,
      params: built.trainable,
      samplesPerParam: opts.samplesPerParam ?? 8,
      seed: opts.seed,
      epsilon: opts.epsilon,
      rules: opts.rules,
      lower: dtype === 'float64' && hasErf ? lowerErfToFloat64 : undefined,
    },
    compileRunner({ providers: ['cpu'], graphOptimizationLevel: 'disabled' }),
  );
  return { ...report, model, summary: built.summary, lossKind: built.loss, notes };
}

function buildForCheck(model: string, loss: LossKind | undefined): BuiltModel {
  if (model.endsWith('.onnx')) {
    if (!existsSync(model)) throw new PeerSetupError(`gradcheck: the model file ${model} does not exist`);
    return createModel({ kind: 'onnx', path: model, loss: loss ?? lossFromMetadata(model) });
  }
  switch (model) {
    case 'mlp':
      return createModel(
        { kind: 'mlp' },
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

/** The loss named by the metadata of a model exported by Enjambre: mse for a regressor, else undefined. */
function lossFromMetadata(path: string): LossKind | undefined {
  const json = parseModel(readFileSync(path)).metadata[METADATA_OPTIONS];
  if (!json) return undefined;
  try {
    const options = JSON.parse(json) as { loss?: unknown; outputs?: unknown; classes?: unknown };
    if (options.loss === 'mse' || options.loss === 'cross-entropy') return options.loss;
    if (options.outputs !== undefined && options.classes === undefined) return 'mse';
  } catch {
    // Metadata that is not ours: the import default applies.
  }
  return undefined;
}

/** The graph with float64 values narrowed to float32 (zoo models are built in float32 already). */
function toFloat32(graph: Graph): Graph {
  const hasF64 =
    graph.initializers.some((t) => t.dtype === 'float64') ||
    graph.inputs.some((v) => v.type.dtype === 'float64');
  if (hasF64) throw new PeerSetupError('gradcheck: float32 checking of a float64 model is not supported');
  return cloneGraph(graph);
}

function concreteDims(shape: readonly (number | string)[], batch: number): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : batch));
}

function randomInts(dims: number[], rand: () => number, range: number): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return {
    dtype: 'int64',
    dims,
    data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * range))),
  };
}

function randomFloats(dtype: DataType, dims: number[], rand: () => number): HostTensor {
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new PeerSetupError(`gradcheck: cannot draw random data of type ${dtype}`);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rand() * 2 - 1;
  return { dtype, dims, data };
}

/**
 * The number of valid token ids of an integer input: the rows of the embedding tables it
 * indexes (Gather on an initializer), else the vocabulary size in the model's metadata.
 */
function tokenRange(graph: Graph, input: string, built: BuiltModel, model: string): number {
  const rows = graph.nodes
    .filter((n) => n.op === 'Gather' && n.inputs[1] === input)
    .map((n) => graph.initializers.find((t) => t.name === n.inputs[0])?.dims[0])
    .filter((d): d is number => d !== undefined);
  if (rows.length > 0) return Math.min(...rows);
  const json = built.metadata[METADATA_OPTIONS];
  const vocab = json ? (JSON.parse(json) as { vocabSize?: unknown }).vocabSize : undefined;
  if (typeof vocab === 'number' && vocab > 0) return vocab;
  throw new PeerSetupError(
    `gradcheck: ${model}: cannot tell the range of integer input ${input} (it indexes no embedding table)`,
  );
}

function classCount(shape: readonly (number | string)[] | undefined, model: string): number {
  const last = shape?.[shape.length - 1];
  if (typeof last !== 'number' || last < 2)
    throw new PeerSetupError(
      `gradcheck: ${model}: the output's last axis (the classes) must have a static size ≥ 2`,
    );
  return last;
}
