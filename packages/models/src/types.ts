import type { TrainableModel } from '@enjambre/autograd';

/** Names of the models this package can build. */
export type ModelKind = 'mlp' | 'cnn' | 'char-transformer' | 'onnx';

/** Element type of a model's parameters. */
export type ModelDType = 'float32' | 'float64';

/** Shape and dtype of ONE example (no batch dimension); structurally the data package's `TensorSpec`. */
export interface ExampleSpec {
  readonly dtype: 'float32' | 'float64' | 'int64';
  readonly shape: readonly number[];
}

/**
 * What a model needs to know about its dataset: per-example input and label specs (the data
 * package's `Dataset.inputs` / `Dataset.labels`), the task, and the class count or vocabulary size.
 */
export interface DataInfo {
  readonly inputs: ExampleSpec;
  readonly labels: ExampleSpec;
  /** Default: `'classification'` when `numClasses` is set, `'language-model'` when `vocabSize` is set. */
  readonly task?: 'classification' | 'regression' | 'language-model';
  /** Number of classes (classification). */
  readonly numClasses?: number;
  /** Vocabulary size (language models). */
  readonly vocabSize?: number;
}

/** A parameter of a built model, for listings. */
export interface ParameterInfo {
  name: string;
  dims: number[];
  trainable: boolean;
}

/** A model built by this package: a {@link TrainableModel} plus what listings and checkpoints need. */
export interface BuiltModel extends TrainableModel {
  kind: ModelKind;
  /** Number of floating-point parameter values (all float initializers). */
  parameterCount: number;
  /** Number of values in {@link TrainableModel.trainable} parameters. */
  trainableParameterCount: number;
  /** Every float initializer, in graph order. */
  parameters: ParameterInfo[];
  /** One line, e.g. `mlp 784-256-256-10 relu float32, 269,322 parameters`. */
  summary: string;
  /**
   * `enjambre.model.kind` (the zoo name) and `enjambre.model.options` (the resolved options as
   * JSON, data-derived sizes included) so that {@link modelFromMetadata} rebuilds the same model.
   */
  metadata: Record<string, string>;
}

/** Metadata key holding the zoo name. */
export const METADATA_KIND = 'enjambre.model.kind';
/** Metadata key holding the resolved options as JSON. */
export const METADATA_OPTIONS = 'enjambre.model.options';
/** Metadata key holding the SHA-256 of an imported .onnx file (hex). */
export const METADATA_SHA256 = 'enjambre.model.sha256';
