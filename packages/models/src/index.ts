import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildCharTransformer, type CharTransformerOptions } from './char-transformer.ts';
import { buildCnn, type CnnOptions } from './cnn.ts';
import { ModelFileError, ModelMetadataError, ModelOptionError } from './errors.ts';
import { buildMlp, type MlpOptions } from './mlp.ts';
import { type ImportOnnxOptions, importOnnxModel } from './onnx-import.ts';
import { type BuiltModel, type DataInfo, METADATA_KIND, METADATA_OPTIONS, type ModelKind } from './types.ts';

export * from './char-transformer.ts';
export * from './cnn.ts';
export { BATCH_DIM, DEFAULT_SEED, INPUT_NAME, LABELS_NAME } from './common.ts';
export * from './errors.ts';
export { MAX_TENSOR_ELEMENTS } from './layers.ts';
export * from './mlp.ts';
export * from './onnx-import.ts';
export { matchesPattern, patternToRegExp } from './patterns.ts';
export { initRng } from './random.ts';
export * from './types.ts';

/** Options of the `onnx` model kind: an .onnx file given by path or bytes, plus the import options. */
export interface OnnxModelOptions extends Omit<ImportOnnxOptions, 'data' | 'fileName'> {
  kind: 'onnx';
  /** Path of the .onnx file (read synchronously). Either `path` or `bytes` is required. */
  path?: string;
  /** The file's bytes, instead of `path`. */
  bytes?: Uint8Array;
  /** Name used in messages and metadata. Default: the base name of `path`, else `'model.onnx'`. */
  fileName?: string;
}

/** What to build: a zoo model's options or an .onnx file, chosen by `kind`. */
export type ModelSpec = MlpOptions | CnnOptions | CharTransformerOptions | OnnxModelOptions;

/** One entry of the model registry. */
export interface ModelEntry {
  kind: ModelKind;
  /** One line for listings. */
  description: string;
}

const DESCRIPTIONS: Record<ModelKind, string> = {
  mlp: 'Multi-layer perceptron (MatMul+Add layers; relu, tanh or gelu); classifier or regressor',
  cnn: 'Keras mnist_cnn-like convolutional network: 3x3 convs, max-pool, fc, class scores (float32)',
  'char-transformer':
    'nanoGPT-style decoder-only transformer over characters (causal attention, pre-LayerNorm)',
  onnx: 'Any .onnx model with float initializers, fine-tuned by pattern-selected parameters',
};

/** The model kinds this package can build, for listings. */
export function listModels(): ModelEntry[] {
  return (Object.keys(DESCRIPTIONS) as ModelKind[]).map((kind) => ({
    kind,
    description: DESCRIPTIONS[kind],
  }));
}

/**
 * Builds the model `spec` describes for a dataset described by `data` (input/label shapes,
 * class count, vocabulary size). Sizes left out of `spec` come from `data`.
 * @throws ModelOptionError, DataShapeError, and for `onnx` the errors of {@link importOnnxModel}
 */
export function createModel(spec: ModelSpec, data?: DataInfo): BuiltModel {
  if (typeof spec !== 'object' || spec === null)
    throw new ModelOptionError('the model spec must be an object', 'kind');
  switch (spec.kind) {
    case 'mlp':
      return buildMlp(spec, data);
    case 'cnn':
      return buildCnn(spec, data);
    case 'char-transformer':
      return buildCharTransformer(spec, data);
    case 'onnx': {
      const { kind: _kind, path, bytes, fileName, ...rest } = spec;
      const name = fileName ?? (path ? basename(path) : undefined);
      let content = bytes;
      if (!content) {
        if (!path) throw new ModelOptionError('onnx: give the model file as path or bytes', 'path');
        try {
          content = readFileSync(path);
        } catch (e) {
          throw new ModelFileError(`cannot read the model file ${path}: ${(e as Error).message}`, path, {
            cause: e,
          });
        }
      }
      return importOnnxModel(content, { ...rest, fileName: name, data });
    }
    default:
      throw new ModelOptionError(
        `unknown model kind ${JSON.stringify((spec as { kind?: unknown }).kind)}; expected one of ${listModels()
          .map((m) => `'${m.kind}'`)
          .join(', ')}`,
        'kind',
      );
  }
}

/**
 * Rebuilds a model from the metadata of a {@link BuiltModel} (as stored in a checkpoint): same
 * architecture, same initial weights. An imported model needs its file again: pass `onnx.path`
 * or `onnx.bytes` (and the same `upgrade`).
 */
export function modelFromMetadata(
  metadata: Record<string, string>,
  onnx?: Pick<OnnxModelOptions, 'path' | 'bytes' | 'upgrade'>,
): BuiltModel {
  const kind = metadata[METADATA_KIND];
  const json = metadata[METADATA_OPTIONS];
  if (!kind || json === undefined) {
    throw new ModelMetadataError(`model metadata lacks ${METADATA_KIND} or ${METADATA_OPTIONS}`);
  }
  let options: Record<string, unknown>;
  try {
    options = JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    throw new ModelMetadataError(`${METADATA_OPTIONS} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof options !== 'object' || options === null || options.kind !== kind) {
    throw new ModelMetadataError(`${METADATA_OPTIONS} does not describe a '${kind}' model`);
  }
  if (kind === 'onnx') {
    if (!onnx?.path && !onnx?.bytes)
      throw new ModelMetadataError('an imported model needs its .onnx file to be rebuilt');
    return createModel({ ...(options as unknown as OnnxModelOptions), ...onnx });
  }
  return createModel(options as unknown as ModelSpec);
}
