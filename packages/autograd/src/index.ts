export { appendGradients, type GradientOptions, type GradientResult } from './backward.ts';
export { GradContext, type GradientRule } from './context.ts';
export * from './errors.ts';
export * from './gradcheck.ts';
export { accuracy, meanSquaredError, softmaxCrossEntropy } from './losses.ts';
export { gradientRule, NON_DIFFERENTIABLE, supportedOps } from './rules/index.ts';
