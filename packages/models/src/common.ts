import type { LossKind } from '@enjambre/autograd';
import { DEFAULT_DTYPE } from '@enjambre/config';
import { type Graph, isFloat, numElements } from '@enjambre/onnx';
import { ModelOptionError } from './errors.ts';
import {
  type BuiltModel,
  METADATA_KIND,
  METADATA_OPTIONS,
  type ModelDType,
  type ModelKind,
  type ParameterInfo,
} from './types.ts';

/** Default PRNG seed of weight initialisation. */
export const DEFAULT_SEED = 0;
/** Name of the data input of zoo models. */
export const INPUT_NAME = 'input';
/** Name of the label input the compiler adds for zoo models. */
export const LABELS_NAME = 'labels';
/** Symbolic name of the batch dimension. */
export const BATCH_DIM = 'batch';

export function checkPositiveInt(value: unknown, option: string, model: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ModelOptionError(
      `${model}: ${option} must be a positive integer, got ${JSON.stringify(value)}`,
      option,
    );
  }
  return value;
}

export function checkSeed(value: unknown, model: string): number {
  const seed = value ?? DEFAULT_SEED;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ModelOptionError(
      `${model}: seed must be an integer in [0, 2^32), got ${JSON.stringify(value)}`,
      'seed',
    );
  }
  return seed;
}

export function checkDType(
  value: unknown,
  model: string,
  allowed: readonly ModelDType[] = ['float32', 'float64'],
): ModelDType {
  const dtype = value ?? DEFAULT_DTYPE;
  if (typeof dtype !== 'string' || !allowed.includes(dtype as ModelDType)) {
    throw new ModelOptionError(
      `${model}: dtype must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
      'dtype',
    );
  }
  return dtype as ModelDType;
}

export function checkEnum<T extends string>(
  value: unknown,
  option: string,
  model: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = value ?? fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new ModelOptionError(
      `${model}: ${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`,
      option,
    );
  }
  return v as T;
}

/** Float initializers of a graph, with their trainable flag. */
export function parameterInfo(graph: Graph, trainable: readonly string[]): ParameterInfo[] {
  const set = new Set(trainable);
  return graph.initializers
    .filter((t) => isFloat(t.dtype))
    .map((t) => ({ name: t.name, dims: [...t.dims], trainable: set.has(t.name) }));
}

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Fills in the derived fields of a {@link BuiltModel}. */
export function finishModel(parts: {
  kind: ModelKind;
  graph: Graph;
  dataInputs: string[];
  output: string;
  loss: LossKind;
  labels: BuiltModel['labels'];
  trainable: string[];
  options: object;
  describe: string;
  extraMetadata?: Record<string, string>;
}): BuiltModel {
  const parameters = parameterInfo(parts.graph, parts.trainable);
  const parameterCount = parameters.reduce((s, p) => s + numElements(p.dims), 0);
  const trainableParameterCount = parameters.reduce((s, p) => s + (p.trainable ? numElements(p.dims) : 0), 0);
  const counts =
    trainableParameterCount === parameterCount
      ? `${formatCount(parameterCount)} parameters`
      : `${formatCount(parameterCount)} parameters (${formatCount(trainableParameterCount)} trainable)`;
  return {
    kind: parts.kind,
    graph: parts.graph,
    dataInputs: parts.dataInputs,
    output: parts.output,
    loss: parts.loss,
    labels: parts.labels,
    trainable: parts.trainable,
    parameterCount,
    trainableParameterCount,
    parameters,
    summary: `${parts.describe}, ${counts}`,
    metadata: {
      [METADATA_KIND]: parts.kind,
      [METADATA_OPTIONS]: JSON.stringify(parts.options),
      ...parts.extraMetadata,
    },
  };
}
