import type { GraphBuilder } from '@enjambre/onnx';

/**
 * Mean softmax cross-entropy of `logits` [..., classes] against integer `labels` [...]
 * (int64 class indices), built from differentiable ops. Returns the scalar loss.
 */
export function softmaxCrossEntropy(b: GraphBuilder, logits: string, labels: string): string {
  const logp = b.op('LogSoftmax', [logits], { axis: -1 });
  const picked = b.op('GatherElements', [logp, b.op('Unsqueeze', [labels, b.ints([-1])])], { axis: -1 });
  return b.op('Neg', [b.op('ReduceMean', [picked], { keepdims: 0 })], {}, { hint: 'loss' });
}

/** Mean squared error between `prediction` and `target` of the same shape. Returns the scalar loss. */
export function meanSquaredError(b: GraphBuilder, prediction: string, target: string): string {
  const d = b.op('Sub', [prediction, target]);
  return b.op('ReduceMean', [b.op('Mul', [d, d])], { keepdims: 0 }, { hint: 'loss' });
}

/** Fraction of rows whose arg-max over the last axis equals the label. */
export function accuracy(
  b: GraphBuilder,
  logits: string,
  labels: string,
  dtype: 'float32' | 'float64',
): string {
  const pred = b.op('ArgMax', [logits], { axis: -1, keepdims: 0 });
  const hit = b.op('Cast', [b.op('Equal', [pred, labels])], { to: dtype === 'float64' ? 11 : 1 });
  return b.op('ReduceMean', [hit], { keepdims: 0 }, { hint: 'accuracy' });
}
