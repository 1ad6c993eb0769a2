/**
 * Typed errors of `@enjambre/runtime`. Every error has a stable `name` and `code`; messages name
 * the provider, file, tensor or value at fault and what was expected.
 */
import { EnjambreError } from '@enjambre/core';

export { AbortError, InvalidOptionError } from '@enjambre/core';

/** Base class of every error thrown by this package. */
export class RuntimeError extends EnjambreError {
  override name = 'RuntimeError';
  /** Stable machine-readable code, e.g. `ERR_UNKNOWN_PROVIDER`. */
  override readonly code: string = 'ERR_RUNTIME';
}

/** An execution-provider name that onnxruntime-node does not offer, e.g. `'cuda11'`. */
export class UnknownProviderError extends RuntimeError {
  override name = 'UnknownProviderError';
  override readonly code = 'ERR_UNKNOWN_PROVIDER';
  constructor(
    message: string,
    /** The name as given. */
    readonly provider: string,
  ) {
    super(message);
  }
}

/**
 * No execution provider in the preference list could create the session. The message holds the
 * failure of every provider tried, one per line (like onnxruntime-js's backend resolution).
 */
export class NoProviderError extends RuntimeError {
  override name = 'NoProviderError';
  override readonly code = 'ERR_NO_PROVIDER';
  constructor(
    message: string,
    /** Why each provider failed, in the order tried. */
    readonly failures: ReadonlyArray<{ provider: string; message: string }>,
  ) {
    super(message);
  }
}

/** A session could not run: a bad feed, a released session, an aborted call, an onnxruntime failure. */
export class SessionError extends RuntimeError {
  override name = 'SessionError';
  override readonly code: string = 'ERR_SESSION';
}

/** The session was released and cannot run any more. */
export class SessionReleasedError extends SessionError {
  override name = 'SessionReleasedError';
  override readonly code = 'ERR_SESSION_RELEASED';
}

/** A checkpoint file is unreadable: truncated, corrupt, or not safetensors; or a write was refused. */
export class CheckpointError extends RuntimeError {
  override name = 'CheckpointError';
  override readonly code: string = 'ERR_CHECKPOINT';
  constructor(
    message: string,
    /** The file concerned, or `<buffer>` for in-memory bytes. */
    readonly file: string,
  ) {
    super(message);
  }
}

/** The tensors given to a checkpoint write are not storable (bad name, dtype/size mismatch). */
export class CheckpointWriteError extends CheckpointError {
  override name = 'CheckpointWriteError';
  override readonly code = 'ERR_CHECKPOINT_WRITE';
}

/** An inference export request is inconsistent: unknown parameter, wrong shape or dtype, unknown output. */
export class ExportError extends RuntimeError {
  override name = 'ExportError';
  override readonly code = 'ERR_EXPORT';
}
