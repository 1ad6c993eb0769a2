import { EnjambreError } from '@enjambre/core';

/** Base class of every error this package throws: a stable `name` and `code`. */
export class ModelError extends EnjambreError {
  override name = 'ModelError';
  override readonly code: string = 'ERR_MODEL';
}

/** A model option is missing, of the wrong type or out of range; the message names the option. */
export class ModelOptionError extends ModelError {
  override name = 'ModelOptionError';
  override readonly code = 'ERR_MODEL_OPTION';
  constructor(
    message: string,
    /** Dot-path of the offending option, e.g. `hidden.1`. */
    readonly option?: string,
  ) {
    super(message);
  }
}

/** The dataset does not fit the model: wrong input shape or dtype, unknown class count or vocabulary. */
export class DataShapeError extends ModelError {
  override name = 'DataShapeError';
  override readonly code = 'ERR_DATA_SHAPE';
}

/** An .onnx file could not be read or parsed. */
export class ModelFileError extends ModelError {
  override name = 'ModelFileError';
  override readonly code = 'ERR_MODEL_FILE';
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A `trainable` or `frozen` pattern matches no initializer of the imported model. */
export class PatternMatchError extends ModelError {
  override name = 'PatternMatchError';
  override readonly code = 'ERR_PATTERN_NO_MATCH';
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(message);
  }
}

/** The output named for the loss is not a value of the imported graph. */
export class UnknownOutputError extends ModelError {
  override name = 'UnknownOutputError';
  override readonly code = 'ERR_UNKNOWN_OUTPUT';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** The imported graph cannot be differentiated on the path from its trainable parameters to the loss. */
export class NotDifferentiableError extends ModelError {
  override name = 'NotDifferentiableError';
  override readonly code = 'ERR_NOT_DIFFERENTIABLE';
  constructor(
    message: string,
    readonly file: string,
    /** The op without a gradient rule, when that is the reason. */
    readonly op?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Model metadata (from a checkpoint) does not describe a model this package can rebuild. */
export class ModelMetadataError extends ModelError {
  override name = 'ModelMetadataError';
  override readonly code = 'ERR_MODEL_METADATA';
}
