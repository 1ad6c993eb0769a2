/**
 * Export of an Enjambre checkpoint as a plain ONNX inference model: the model is rebuilt from the
 * checkpoint's metadata, its trained parameters replace the initial weights, and the forward graph
 * in inference mode (Dropout off, no loss, no optimizer) is written out for any onnxruntime.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type HostTensor, inferenceGraph } from '@enjambre/autograd';
import { type BuiltModel, METADATA_KIND, METADATA_SHA256, modelFromMetadata } from '@enjambre/models';
import type { Dim } from '@enjambre/onnx';
import { CheckpointError, ExportError, exportInferenceModel, readCheckpoint } from '@enjambre/runtime';

/** Prefix of the optimizer-state tensors in a checkpoint (left out of the export). */
export const OPTIMIZER_PREFIX = 'optimizer/';
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
    if (!name.startsWith(OPTIMIZER_PREFIX)) trained[name] = t;
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
  const exported = exportInferenceModel(graph, trained, {
    outputs: [model.output],
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
    parameterCount: g.initializers.reduce(
      (n, t) => n + (t.dtype.startsWith('float') ? t.dims.reduce((a, b) => a * b, 1) : 0),
      0,
    ),
  };
}
