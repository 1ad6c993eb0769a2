export { appendGradients, type GradientOptions, type GradientResult } from './backward.ts';
export * from './compile.ts';
export { GradContext, type GradientRule } from './context.ts';
export * from './errors.ts';
export * from './float64.ts';
export * from './gradcheck.ts';
export * from './gradients.ts';
export { accuracy, meanSquaredError, softmaxCrossEntropy } from './losses.ts';
export type { LossKind, TrainableModel } from './model.ts';
export * from './optimizers.ts';
export {
  type GradientRules,
  gradientRule,
  gradientRules,
  NON_DIFFERENTIABLE,
  supportedOps,
} from './rules/index.ts';
