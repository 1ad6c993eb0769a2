/**
 * Typed errors of `@enjambre/compress`. Every error has a stable `name` and `code`; hostile or malformed
 * input always surfaces as one of these, never as an out-of-bounds read or a crash.
 */
import { EnjambreError } from '@enjambre/core';

/** An encode option is invalid (block size, chunk size, k, fraction...): the shared class. */
export { InvalidOptionError } from '@enjambre/core';

/** Base class of every error thrown by this package. */
export class CompressError extends EnjambreError {
  override name = 'CompressError';
  /** Stable machine-readable code, e.g. `ERR_TRUNCATED`. */
  override readonly code: string = 'ERR_COMPRESS';
}

/** The buffer ends before the header or the payload that the header announces. */
export class TruncatedInputError extends CompressError {
  override name = 'TruncatedInputError';
  override readonly code = 'ERR_TRUNCATED';
}

/** The buffer does not start with the expected magic bytes. */
export class BadMagicError extends CompressError {
  override name = 'BadMagicError';
  override readonly code = 'ERR_BAD_MAGIC';
}

/** The wire-format version in the header is not one this build can read. */
export class UnsupportedVersionError extends CompressError {
  override name = 'UnsupportedVersionError';
  override readonly code = 'ERR_UNSUPPORTED_VERSION';
}

/** The codec id in the header, or a codec name in the options, is unknown. */
export class UnknownCodecError extends CompressError {
  override name = 'UnknownCodecError';
  override readonly code = 'ERR_UNKNOWN_CODEC';
}

/** A header field (codec parameter, reserved field) holds a value that is not allowed. */
export class InvalidHeaderError extends CompressError {
  override name = 'InvalidHeaderError';
  override readonly code = 'ERR_INVALID_HEADER';
}

/** The element count in the header differs from the length the receiver expects. */
export class LengthMismatchError extends CompressError {
  override name = 'LengthMismatchError';
  override readonly code = 'ERR_LENGTH_MISMATCH';
}

/** The buffer is longer than its header announces (trailing bytes). */
export class TrailingBytesError extends CompressError {
  override name = 'TrailingBytesError';
  override readonly code = 'ERR_TRAILING_BYTES';
}

/** The buffer, or the element count it claims, exceeds `maxBytes` / `maxElements`. */
export class TooLargeError extends CompressError {
  override name = 'TooLargeError';
  override readonly code = 'ERR_TOO_LARGE';
}

/** A top-k index points outside its chunk. */
export class IndexOutOfRangeError extends CompressError {
  override name = 'IndexOutOfRangeError';
  override readonly code = 'ERR_INDEX_OUT_OF_RANGE';
}

/** The payload is structurally wrong (non-increasing top-k indices, int8 -128, non-zero padding bits). */
export class MalformedPayloadError extends CompressError {
  override name = 'MalformedPayloadError';
  override readonly code = 'ERR_MALFORMED_PAYLOAD';
}

/** A scale or value is NaN or infinite (in a decoded payload or in the input to encode). */
export class NonFiniteValueError extends CompressError {
  override name = 'NonFiniteValueError';
  override readonly code = 'ERR_NON_FINITE';
}

/** A finite input value does not fit the half-precision range (|x| > 65504 after rounding). */
export class ValueOutOfRangeError extends CompressError {
  override name = 'ValueOutOfRangeError';
  override readonly code = 'ERR_VALUE_OUT_OF_RANGE';
}

/** A tensor list does not match the expected names or sizes, or residual state does not match a tensor. */
export class TensorMismatchError extends CompressError {
  override name = 'TensorMismatchError';
  override readonly code = 'ERR_TENSOR_MISMATCH';
}
