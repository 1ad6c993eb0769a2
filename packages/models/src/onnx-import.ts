import { createHash } from 'node:crypto';
import {
  appendGradients,
  GradientError,
  type LossKind,
  meanSquaredError,
  softmaxCrossEntropy,
  UnsupportedOpError,
} from '@enjambre/autograd';
import {
  cloneGraph,
  type DataType,
  type Dim,
  type Graph,
  GraphBuilder,
  inferTypes,
  isFloat,
  type Model,
  parseModel,
  type TypeTable,
  upgradeOpset,
} from '@enjambre/onnx';
import { checkEnum, finishModel, formatCount, LABELS_NAME } from './common.ts';
import {
  DataShapeError,
  ModelFileError,
  ModelOptionError,
  NotDifferentiableError,
  PatternMatchError,
  UnknownOutputError,
} from './errors.ts';
import { matchesPattern } from './patterns.ts';
import { type BuiltModel, type DataInfo, METADATA_SHA256 } from './types.ts';

/** Default patterns of trainable initializers: every floating-point initializer. */
export const DEFAULT_TRAINABLE_PATTERNS: readonly string[] = ['*'];
/** Default patterns of frozen initializers: none. */
export const DEFAULT_FROZEN_PATTERNS: readonly string[] = [];
/** Default loss attached to the output. */
export const DEFAULT_IMPORT_LOSS: LossKind = 'cross-entropy';
/** The opset imported models are brought to (backward nodes are written at this opset). */
export const IMPORT_OPSET = 18;
/** File name used in messages when none is given. */
export const DEFAULT_MODEL_FILE_NAME = 'model.onnx';

/** Options of {@link importOnnxModel}. */
export interface ImportOnnxOptions {
  /** Name of the file, used in error messages and metadata. Default `'model.onnx'`. */
  fileName?: string;
  /**
   * Patterns (`*` any run of characters, `?` one character) of the float initializers to train.
   * Each must match at least one. Default `['*']`: every float initializer.
   */
  trainable?: readonly string[];
  /** Patterns of initializers kept fixed even when `trainable` matches them. Each must match at least one. Default `[]`. */
  frozen?: readonly string[];
  /** Graph output (or any value of the graph) the loss attaches to. Default: the first graph output. */
  output?: string;
  /** Loss on that output: `'cross-entropy'` (logits, class axis last) or `'mse'`. Default `'cross-entropy'`. */
  loss?: LossKind;
  /**
   * Shape of the label input, batch dimension included. Default: the output's shape without its
   * last axis for cross-entropy, the output's shape for MSE (a leading `'batch'` when unknown).
   */
  labelShape?: readonly Dim[];
  /** When given, the model's data input must accept these examples (dtype and shape). */
  data?: DataInfo;
  /** Brings a parsed model at another opset to opset 18. Default: the onnx package's `upgradeOpset`. */
  upgrade?: (model: Model, opset: number) => Model;
}

/** Resolved options of an imported model, as stored in its metadata. */
export interface ResolvedOnnxOptions {
  kind: 'onnx';
  fileName: string;
  trainable: string[];
  frozen: string[];
  output: string;
  loss: LossKind;
  labelShape: Dim[];
}

function defaultOpset(model: Model): number | undefined {
  return model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
}

/**
 * Imports an .onnx model for training: parses it, brings it to opset 18, picks the trainable
 * initializers by pattern, attaches the loss to the chosen output and checks, by differentiating
 * a probe copy once, that every op on the trainable path has a gradient rule.
 * @throws ModelFileError, PatternMatchError, UnknownOutputError, NotDifferentiableError, DataShapeError, ModelOptionError
 */
export function importOnnxModel(bytes: Uint8Array, options: ImportOnnxOptions = {}): BuiltModel {
  const file = options.fileName ?? DEFAULT_MODEL_FILE_NAME;
  let model: Model;
  try {
    model = parseModel(bytes);
  } catch (e) {
    throw new ModelFileError(`${file}: not a readable ONNX model: ${(e as Error).message}`, file, {
      cause: e,
    });
  }
  const opset = defaultOpset(model);
  if (opset !== IMPORT_OPSET) {
    const upgrade = options.upgrade ?? upgradeOpset;
    try {
      model = upgrade(model, IMPORT_OPSET);
    } catch (e) {
      throw new ModelFileError(
        `${file}: cannot bring the model from opset ${opset ?? '(none)'} to ${IMPORT_OPSET}: ${(e as Error).message}`,
        file,
        { cause: e },
      );
    }
  }
  const graph = cloneGraph(model.graph);
  const loss = checkEnum(options.loss, 'loss', 'onnx', ['cross-entropy', 'mse'], DEFAULT_IMPORT_LOSS);

  // Old exporters list initializers among the graph inputs too: those are parameters, not data.
  const initNames = new Set(graph.initializers.map((t) => t.name));
  graph.inputs = graph.inputs.filter((v) => !initNames.has(v.name));
  const dataInputs = graph.inputs.map((v) => v.name);
  if (dataInputs.length === 0) throw new ModelFileError(`${file}: the graph has no data input`, file);

  const trainablePatterns = patternList(options.trainable, DEFAULT_TRAINABLE_PATTERNS, 'trainable', file);
  const frozenPatterns = patternList(options.frozen, DEFAULT_FROZEN_PATTERNS, 'frozen', file);
  const trainable = selectTrainable(graph, file, trainablePatterns, frozenPatterns);

  let table: TypeTable;
  try {
    table = inferTypes(graph);
  } catch (e) {
    throw new NotDifferentiableError(
      `${file}: cannot infer the graph's shapes: ${(e as Error).message}`,
      file,
      undefined,
      {
        cause: e,
      },
    );
  }
  const output = options.output ?? graph.outputs[0]?.name;
  if (!output) throw new UnknownOutputError(`${file}: the graph has no outputs`, '');
  const outType = table.types.get(output);
  if (!outType) {
    throw new UnknownOutputError(
      `${file}: output '${output}' does not exist; the graph's outputs are ${graph.outputs.map((o) => `'${o.name}'`).join(', ')}`,
      output,
    );
  }
  if (!isFloat(outType.dtype)) {
    throw new UnknownOutputError(
      `${file}: output '${output}' is ${outType.dtype}; the loss needs a float output`,
      output,
    );
  }
  if (!graph.outputs.some((o) => o.name === output)) graph.outputs.push({ name: output, type: outType });

  const labelShape = options.labelShape ? [...options.labelShape] : defaultLabelShape(outType.shape, loss);
  const labels = {
    name: freshName(graph, LABELS_NAME),
    dtype: (loss === 'cross-entropy' ? 'int64' : outType.dtype) as DataType,
    shape: labelShape,
  };
  if (options.data) checkData(graph, file, options.data);
  probeGradients(graph, file, output, loss, labels, trainable);

  const resolved: ResolvedOnnxOptions = {
    kind: 'onnx',
    fileName: file,
    trainable: trainablePatterns,
    frozen: frozenPatterns,
    output,
    loss,
    labelShape,
  };
  const inputsDesc = graph.inputs.map((v) => `${v.name} [${v.type.shape ?? '?'}]`).join(', ');
  return finishModel({
    kind: 'onnx',
    graph,
    dataInputs,
    output,
    loss,
    labels,
    trainable,
    options: resolved,
    describe: `onnx ${file} (${graph.nodes.length} nodes, ${inputsDesc} → ${output}, ${loss})`,
    extraMetadata: { [METADATA_SHA256]: createHash('sha256').update(bytes).digest('hex') },
  });
}

function selectTrainable(graph: Graph, file: string, trainable: string[], frozen: string[]): string[] {
  const floats = graph.initializers.filter((t) => isFloat(t.dtype)).map((t) => t.name);
  const all = graph.initializers.map((t) => t.name);
  const available = () => {
    const shown = floats.slice(0, 12).join(', ');
    return floats.length > 12 ? `${shown}, … (${formatCount(floats.length)} in all)` : shown || '(none)';
  };
  for (const [option, patterns, pool] of [
    ['trainable', trainable, floats],
    ['frozen', frozen, all],
  ] as const) {
    for (const p of patterns) {
      if (!pool.some((n) => matchesPattern(n, p))) {
        const nonFloat = option === 'trainable' && all.some((n) => matchesPattern(n, p));
        throw new PatternMatchError(
          nonFloat
            ? `${file}: ${option} pattern '${p}' matches only non-float initializers, which cannot be trained`
            : `${file}: ${option} pattern '${p}' matches no initializer; float initializers are: ${available()}`,
          p,
        );
      }
    }
  }
  const picked = floats.filter(
    (n) => trainable.some((p) => matchesPattern(n, p)) && !frozen.some((p) => matchesPattern(n, p)),
  );
  if (picked.length === 0) {
    throw new PatternMatchError(
      `${file}: the frozen patterns exclude every trainable initializer; nothing would be trained`,
      frozen[0] ?? '',
    );
  }
  return picked;
}

function patternList(
  value: readonly string[] | undefined,
  fallback: readonly string[],
  option: string,
  file: string,
): string[] {
  const list = value ?? fallback;
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw new ModelOptionError(`${file}: ${option} must be a list of non-empty name patterns`, option);
  }
  return [...list];
}

function defaultLabelShape(shape: Dim[] | undefined, loss: LossKind): Dim[] {
  if (!shape || shape.length === 0) return ['batch'];
  return loss === 'cross-entropy' ? shape.slice(0, -1) : [...shape];
}

function freshName(graph: Graph, hint: string): string {
  const used = new Set<string>([
    ...graph.inputs.map((v) => v.name),
    ...graph.initializers.map((t) => t.name),
    ...graph.nodes.flatMap((n) => n.outputs),
  ]);
  let name = hint;
  for (let i = 1; used.has(name); i++) name = `${hint}_${i}`;
  return name;
}

function checkData(graph: Graph, file: string, data: DataInfo): void {
  if (graph.inputs.length !== 1) {
    throw new DataShapeError(
      `${file}: the model has ${graph.inputs.length} data inputs (${graph.inputs.map((v) => v.name).join(', ')}); the dataset provides one`,
    );
  }
  const input = graph.inputs[0];
  const want = ['batch', ...data.inputs.shape];
  if (input.type.dtype !== data.inputs.dtype) {
    throw new DataShapeError(
      `${file}: input '${input.name}' takes ${input.type.dtype} but the data's inputs are ${data.inputs.dtype}`,
    );
  }
  const shape = input.type.shape;
  if (!shape) return;
  const fits =
    shape.length === want.length && shape.every((d, i) => i === 0 || typeof d !== 'number' || d === want[i]);
  if (!fits) {
    throw new DataShapeError(
      `${file}: input '${input.name}' has shape [${shape}] but the data's examples have shape [${data.inputs.shape}] (batches [${want}])`,
    );
  }
}

function probeGradients(
  graph: Graph,
  file: string,
  output: string,
  loss: LossKind,
  labels: { name: string; dtype: DataType; shape: Dim[] },
  trainable: string[],
): void {
  const probe = cloneGraph(graph);
  const b = new GraphBuilder(probe, 'probe/');
  b.input(labels.name, labels.dtype, labels.shape);
  const value =
    loss === 'cross-entropy'
      ? softmaxCrossEntropy(b, output, labels.name)
      : meanSquaredError(b, output, labels.name);
  try {
    appendGradients(probe, { loss: value, wrt: trainable });
  } catch (e) {
    if (e instanceof UnsupportedOpError) {
      throw new NotDifferentiableError(
        `${file}: cannot train this model: ${e.message}. Freeze the parameters before that op (frozen patterns) or pick an earlier output`,
        file,
        e.op,
        { cause: e },
      );
    }
    const why = e instanceof GradientError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
    throw new NotDifferentiableError(
      `${file}: cannot differentiate the loss on '${output}': ${why}`,
      file,
      undefined,
      {
        cause: e,
      },
    );
  }
}
