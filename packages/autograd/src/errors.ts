import { EnjambreError } from '@enjambre/core';

/** A graph cannot be differentiated: an op without a gradient rule, or a shape the rule cannot handle. */
export class GradientError extends EnjambreError {
  override name = 'GradientError';
  override readonly code: string = 'ERR_GRADIENT';
  constructor(
    message: string,
    readonly op?: string,
    readonly node?: string,
  ) {
    super(message);
  }
}

/** No gradient rule is registered for an op on the path from the parameters to the loss. */
export class UnsupportedOpError extends GradientError {
  override name = 'UnsupportedOpError';
  override readonly code = 'ERR_UNSUPPORTED_OP';
}

/** The train-step compiler was given an inconsistent request (unknown parameter, non-scalar loss). */
export class CompileError extends EnjambreError {
  override name = 'CompileError';
  override readonly code = 'ERR_COMPILE';
}
