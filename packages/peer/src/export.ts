/**
 * Export of an Enjambre checkpoint as a plain ONNX inference model: the model is rebuilt from the
 * checkpoint's metadata, its trained parameters replace the initial weights, and the forward graph
 * in inference mode (Dropout off, no loss, no optimizer) is written out for any onnxruntime.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type HostTensor, inferenceGraph } from '@enjambre/autograd';
import type { CsvEncoding, Vocab } from '@enjambre/data';
import { type BuiltModel, METADATA_KIND, METADATA_SHA256, modelFromMetadata } from '@enjambre/models';
import { type Dim, type Graph, GraphBuilder, renameValue, topoSort } from '@enjambre/onnx';
import { CheckpointError, ExportError, exportInferenceModel, readCheckpoint } from '@enjambre/runtime';

/** Prefix of the optimizer-state tensors in a checkpoint (left out of the export). */
export const OPTIMIZER_PREFIX = 'optimizer/';
/** Prefix of a swarm peer's outer-optimizer state in its checkpoint (left out of the export). */
export const OUTER_PREFIX = 'outer/';
/** Checkpoint tensors that are training state, not model parameters. */
const STATE_PREFIXES = [OPTIMIZER_PREFIX, OUTER_PREFIX];

/** Metadata key of the exported model's {@link Preprocessing} (JSON). */
export const PREPROCESSING_KEY = 'enjambre.preprocessing';
/** Input of an exported CSV model: the raw feature columns, one float per column. */
export const RAW_FEATURES_INPUT = 'features';
/** Extra output of an exported classifier: the softmax of the logits. */
export const PROBABILITIES_OUTPUT = 'probabilities';

/** A raw input column of an exported CSV model. */
export type RawColumn =
  | { name: string; kind: 'numeric' }
  /** Given as the index of its category in `categories` (NaN or any other value: missing or unseen). */
  | { name: string; kind: 'categorical'; categories: string[] };

/**
 * What a program needs to turn raw data into the exported graph's input and its output back into
 * labels or text. Stored as JSON in the model's `metadata_props` under {@link PREPROCESSING_KEY}.
 */
export type Preprocessing =
  | {
      format: 'csv';
      /** The graph input: float32 [batch, columns.length], the columns in this order. */
      input: string;
      columns: RawColumn[];
      /** The cell values a CSV file uses for a missing value (given to the graph as NaN). */
      missingValues: string[];
      target:
        | { name: string; task: 'classification'; classes: string[] }
        | { name: string; task: 'regression' };
      /** The logits (classification) or the predicted value (regression). */
      output: string;
      /** Softmax of the logits (classification only). */
      probabilities?: string;
    }
  | {
      format: 'text';
      /** The graph input: int64 token ids [batch, context]. */
      input: string;
      /** Characters (token i is chars[i]) or bytes (token b is byte b). */
      vocab: Vocab;
      context: number;
      /** Logits [batch, context, vocabulary size]: position t predicts token t + 1. */
      output: string;
    };
/** Metadata keys the exported .onnx carries besides the model's own. */
export const EXPORT_METADATA = {
  step: 'enjambre.checkpoint.step',
  configHash: 'enjambre.checkpoint.configHash',
  data: 'enjambre.data',
} as const;

/** Options of {@link exportCheckpoint}. */
export interface CheckpointExportOptions {
  /**
   * The original .onnx file of an imported model (checkpoint of model kind `onnx`): its graph is
   * not in the checkpoint, only its trained weights. Required for that kind; ignored for zoo models.
   * Default: none.
   */
  onnxModel?: string;
  signal?: AbortSignal;
}

/** A value the exported graph reads or returns. */
export interface ExportedValue {
  name: string;
  dtype: string;
  shape: Dim[];
}

/** What {@link exportCheckpoint} produced. */
export interface CheckpointExport {
  /** The `.onnx` bytes. */
  bytes: Uint8Array;
  /** Model kind (`mlp`, `cnn`, `char-transformer`, `onnx`). */
  kind: string;
  /** One line describing the model. */
  summary: string;
  /** Optimizer steps the checkpoint had trained, when recorded. */
  step?: number;
  /** Training-config hash of the run, when recorded. */
  configHash?: string;
  inputs: ExportedValue[];
  outputs: ExportedValue[];
  /** Trained tensors written into the graph. */
  trainedTensors: number;
  /** Number of parameter values in the exported graph. */
  parameterCount: number;
  /** How raw data becomes the graph's input (also in the model's metadata), when the data say. */
  preprocessing?: Preprocessing;
}

function parseModelMetadata(json: string | undefined, file: string): Record<string, string> {
  if (json === undefined) {
    throw new CheckpointError(
      `${file} is not an Enjambre checkpoint: its __metadata__ has no 'model' entry (the model's kind and options)`,
      file,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new CheckpointError(`${file}: metadata 'model' is not JSON: ${(e as Error).message}`, file);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(`${file}: metadata 'model' must be a JSON object of strings`, file);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      throw new CheckpointError(`${file}: metadata model.${k} must be a string`, file);
    out[k] = v;
  }
  return out;
}

async function rebuild(
  metadata: Record<string, string>,
  file: string,
  opts: CheckpointExportOptions,
): Promise<BuiltModel> {
  if (metadata[METADATA_KIND] !== 'onnx') return modelFromMetadata(metadata);
  if (opts.onnxModel === undefined) {
    throw new ExportError(
      `${file} holds an imported ONNX model: the checkpoint stores its trained weights but not its graph, so the model cannot be rebuilt from the metadata alone; give the original .onnx file (enjambre export --model PATH.onnx)`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(opts.onnxModel, { signal: opts.signal });
  } catch (e) {
    opts.signal?.throwIfAborted();
    throw new ExportError(`cannot read the model file ${opts.onnxModel}: ${(e as Error).message}`);
  }
  const expected = metadata[METADATA_SHA256];
  if (expected !== undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== expected) {
      throw new ExportError(
        `${opts.onnxModel} is not the .onnx file this checkpoint was trained from (sha256 ${actual.slice(0, 16)}…, the checkpoint's ${expected.slice(0, 16)}…)`,
      );
    }
  }
  return modelFromMetadata(metadata, { bytes, path: opts.onnxModel });
}

/**
 * Reads a checkpoint and builds the inference model with its trained weights.
 * @throws CheckpointError for an unreadable file or one that is not an Enjambre checkpoint.
 * @throws ExportError for an imported model without `onnxModel` (or with the wrong file), or
 *   trained tensors that do not fit the rebuilt model.
 * @throws ModelMetadataError when the model metadata cannot rebuild a model.
 */
export async function exportCheckpoint(
  checkpoint: string,
  opts: CheckpointExportOptions = {},
): Promise<CheckpointExport> {
  const ck = await readCheckpoint(checkpoint, { signal: opts.signal });
  const meta = parseModelMetadata(ck.metadata.model, checkpoint);
  const model = await rebuild(meta, checkpoint, opts);

  const trained: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (!STATE_PREFIXES.some((p) => name.startsWith(p))) trained[name] = t;
  }
  const missing = model.trainable.filter((n) => !(n in trained));
  if (missing.length > 0) {
    throw new ExportError(
      `${checkpoint} lacks ${missing.length} trained parameter(s) of the ${model.kind} model: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
    );
  }

  const step = ck.metadata.step !== undefined ? Number(ck.metadata.step) : undefined;
  const extra: Record<string, string> = {};
  if (step !== undefined && Number.isFinite(step)) extra[EXPORT_METADATA.step] = String(step);
  if (ck.metadata.configHash !== undefined) extra[EXPORT_METADATA.configHash] = ck.metadata.configHash;
  if (ck.metadata.data !== undefined) extra[EXPORT_METADATA.data] = ck.metadata.data;

  const graph = inferenceGraph(model.graph);
  graph.name = `${model.kind}_inference`;
  const outputs = [model.output];
  const data = ck.metadata.data !== undefined ? parseDataInfo(ck.metadata.data, checkpoint) : undefined;
  let preprocessing: Preprocessing | undefined;
  if (data?.format === 'csv') {
    preprocessing = addCsvPreprocessing(graph, model, data.encoding as CsvEncoding, checkpoint);
    if (preprocessing.format === 'csv' && preprocessing.probabilities)
      outputs.push(preprocessing.probabilities);
  } else if (data?.format === 'text') {
    preprocessing = textPreprocessing(graph, model, data, checkpoint);
  }
  if (preprocessing) extra[PREPROCESSING_KEY] = JSON.stringify(preprocessing);
  const exported = exportInferenceModel(graph, trained, {
    outputs,
    metadata: { ...meta, ...extra },
  });
  const g = exported.model.graph;
  const value = (v: { name: string; type: { dtype: string; shape?: readonly Dim[] } }): ExportedValue => ({
    name: v.name,
    dtype: v.type.dtype,
    shape: [...(v.type.shape ?? [])],
  });
  return {
    bytes: exported.bytes,
    kind: model.kind,
    summary: model.summary,
    ...(step !== undefined && Number.isFinite(step) ? { step } : {}),
    ...(ck.metadata.configHash !== undefined ? { configHash: ck.metadata.configHash } : {}),
    inputs: g.inputs.map(value),
    outputs: g.outputs.map(value),
    trainedTensors: Object.keys(trained).length,
    ...(preprocessing ? { preprocessing } : {}),
    parameterCount: g.initializers.reduce(
      (n, t) => n + (t.dtype.startsWith('float') ? t.dims.reduce((a, b) => a * b, 1) : 0),
      0,
    ),
  };
}

function parseDataInfo(json: string, file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CheckpointError(`${file}: metadata 'data' must be a JSON object (the data's encoding)`, file);
}

/** The model's single data input (the graph input that is not a parameter). */
function dataInput(graph: Graph, model: BuiltModel, file: string) {
  const params = new Set(graph.initializers.map((t) => t.name));
  const inputs = graph.inputs.filter((v) => !params.has(v.name) && !model.trainable.includes(v.name));
  if (inputs.length !== 1) {
    throw new ExportError(
      `${file}: the ${model.kind} model has ${inputs.length} data inputs; raw-input preprocessing needs exactly one`,
    );
  }
  return inputs[0];
}

/**
 * Puts the CSV encoding the model was trained with in front of its graph: the new input takes the
 * feature columns as raw floats (categorical ones as category indices), fills missing values (NaN)
 * with the training mean, standardises numeric columns and one-hot encodes categorical ones,
 * exactly as the data package encodes training rows.
 */
function addCsvPreprocessing(
  graph: Graph,
  model: BuiltModel,
  encoding: CsvEncoding,
  file: string,
): Preprocessing {
  const bad = (what: string) => new CheckpointError(`${file}: metadata data.encoding ${what}`, file);
  if (!encoding || !Array.isArray(encoding.features) || encoding.features.length === 0)
    throw bad('has no features');
  if (!encoding.target || typeof encoding.target.name !== 'string') throw bad('has no target');
  const input = dataInput(graph, model, file);
  const encoded = 'enjambre/encoded';
  renameValue(graph, input.name, encoded);
  graph.inputs = graph.inputs.filter((v) => v.name !== encoded);
  const b = new GraphBuilder(graph, 'pre/');
  const batch = input.type.shape?.[0] ?? 'batch';
  b.input(RAW_FEATURES_INPUT, 'float32', [batch, encoding.features.length]);
  const parts: string[] = [];
  encoding.features.forEach((f, j) => {
    const column = b.op(
      'Slice',
      [RAW_FEATURES_INPUT, b.ints([j]), b.ints([j + 1]), b.ints([1])],
      {},
      {
        hint: `${f.name}/raw`,
      },
    );
    if (f.kind === 'numeric') {
      for (const [k, v] of [
        ['fill', f.fill],
        ['center', f.center],
        ['scale', f.scale],
      ] as const) {
        if (!Number.isFinite(v) || (k === 'scale' && v === 0))
          throw bad(`feature ${f.name}: ${k} must be a finite number`);
      }
      // NaN is the one value not equal to itself.
      const present = b.op('Equal', [column, column]);
      const filled = b.op('Where', [present, column, b.constant('float32', [1], [f.fill])]);
      const centred = b.op('Sub', [filled, b.constant('float32', [1], [f.center])]);
      parts.push(b.op('Div', [centred, b.constant('float32', [1], [f.scale])], {}, { hint: f.name }));
    } else {
      if (!Array.isArray(f.categories)) throw bad(`feature ${f.name} has no categories`);
      const k = f.categories.length;
      const codes = b.constant(
        'float32',
        [k],
        Array.from({ length: k }, (_, i) => i),
      );
      const hot = b.op('Cast', [b.op('Equal', [column, codes])], { to: 1 });
      const seen = b.op('ReduceSum', [hot, b.ints([1])], { keepdims: 1 });
      const unseen = b.op('Sub', [b.constant('float32', [1], [1]), seen]);
      parts.push(b.op('Concat', [hot, unseen], { axis: 1 }, { hint: f.name }));
    }
  });
  graph.nodes.push({
    op: 'Concat',
    domain: '',
    name: 'pre/encode',
    inputs: parts,
    outputs: [encoded],
    attrs: { axis: { type: 'int', value: 1 } },
  });
  const classification = encoding.target.task === 'classification';
  if (classification) {
    graph.nodes.push({
      op: 'Softmax',
      domain: '',
      name: 'post/softmax',
      inputs: [model.output],
      outputs: [PROBABILITIES_OUTPUT],
      attrs: { axis: { type: 'int', value: -1 } },
    });
  }
  graph.nodes = topoSort(graph);
  return {
    format: 'csv',
    input: RAW_FEATURES_INPUT,
    columns: encoding.features.map((f) =>
      f.kind === 'numeric'
        ? { name: f.name, kind: 'numeric' }
        : { name: f.name, kind: 'categorical', categories: [...f.categories] },
    ),
    missingValues: [...encoding.missingValues],
    target:
      encoding.target.task === 'classification'
        ? { name: encoding.target.name, task: 'classification', classes: [...encoding.target.classes] }
        : { name: encoding.target.name, task: 'regression' },
    output: model.output,
    ...(classification ? { probabilities: PROBABILITIES_OUTPUT } : {}),
  };
}

/** A text model takes token ids: the export carries the vocabulary that maps text to them. */
function textPreprocessing(
  graph: Graph,
  model: BuiltModel,
  info: Record<string, unknown>,
  file: string,
): Preprocessing {
  const input = dataInput(graph, model, file);
  const context = input.type.shape?.[1];
  if (typeof context !== 'number')
    throw new ExportError(`${file}: the text model's input has no fixed context length`);
  const vocab = info.vocab as Vocab | undefined;
  if (!vocab || (vocab.kind !== 'char' && vocab.kind !== 'byte'))
    throw new CheckpointError(`${file}: metadata data.vocab is missing or not a vocabulary`, file);
  return { format: 'text', input: input.name, vocab, context, output: model.output };
}
