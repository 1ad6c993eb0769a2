import type { DataType, Dim, Graph } from '@enjambre/onnx';

export type LossKind = 'cross-entropy' | 'mse';

/**
 * A model ready to be compiled into training graphs: its forward graph (parameters are the
 * graph's initializers), where data enters, where the loss attaches, and what is trained.
 */
export interface TrainableModel {
  /**
   * Forward graph for training. Dropout nodes, if any, run in training mode (constant
   * `training_mode` true, mask output present); the eval graph turns them into Identity.
   */
  graph: Graph;
  /** Graph inputs fed from the dataset, e.g. `['x']` (first dimension is the batch). */
  dataInputs: string[];
  /** The value the loss attaches to (logits for cross-entropy: class scores on the last axis). */
  output: string;
  loss: LossKind;
  /** The label input the compiler adds: int64 class indices for cross-entropy, floats for MSE. */
  labels: { name: string; dtype: DataType; shape: Dim[] };
  /** Initializers the optimizer updates; every other initializer is frozen. */
  trainable: string[];
  /** Free-form description stored with checkpoints (zoo name and options). */
  metadata?: Record<string, string>;
}
