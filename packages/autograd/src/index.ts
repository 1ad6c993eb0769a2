/**
 * `@enjambre/autograd`: reverse-mode autodiff on ONNX graphs, optimizers as graph code, the
 * train-step compiler and gradient checks. This list is the package's public API (see
 * docs/api.md); modules' other exports are internal.
 */

export { appendGradients, type GradientOptions, type GradientResult } from './backward.ts';
export {
  type CompiledTraining,
  type CompileOptions,
  compileTraining,
  EVAL_ACCURACY,
  EVAL_LOSS,
  inferenceGraph,
  LR_INPUT,
  STEP_INPUT,
  type TensorSpec,
} from './compile.ts';
export { GradContext, type GradientRule } from './context.ts';
export { CompileError, GradientError, UnsupportedOpError } from './errors.ts';
export { lowerErfToFloat64, toFloat64 } from './float64.ts';
export {
  type CompileRunner,
  GRADCHECK_FLOOR,
  GRADCHECK_STEPS,
  GRADCHECK_TOLERANCES,
  type GradcheckOptions,
  type GradcheckReport,
  gradcheck,
  type HostTensor,
  type ModelRunner,
  type ParamGradcheck,
} from './gradcheck.ts';
export {
  type AttachedLoss,
  type GradientsOptions,
  gradientOutputName,
  gradients,
} from './gradients.ts';
export { accuracy, meanSquaredError, softmaxCrossEntropy } from './losses.ts';
export type { LossKind, TrainableModel } from './model.ts';
export {
  ADAMW_DEFAULTS,
  type AdamWConfig,
  decayedParams,
  emitGlobalNormClip,
  emitOptimizer,
  type OptimizerConfig,
  optimizerSlots,
  type ParamUpdate,
  SGD_DEFAULTS,
  type SgdConfig,
  type StateSlot,
  type WeightDecayParams,
} from './optimizers.ts';
export {
  type GradientRules,
  gradientRule,
  gradientRules,
  NON_DIFFERENTIABLE,
  supportedOps,
} from './rules/index.ts';
