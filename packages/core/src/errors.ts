/**
 * The one error hierarchy of Enjambre. Every error a package throws on purpose is an
 * {@link EnjambreError}: a message written for users, a stable machine-readable `code`
 * (`ERR_…`, never changed once published), an optional `hint` saying what to do next, and the
 * underlying `cause` when there is one. Packages subclass it for their own codes and fields
 * (`DataError`, `SwarmError`, …); errors every package needs are defined here once.
 */

export interface EnjambreErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
  /** What the user can do next, e.g. `run 'enjambre data get mnist' first`. */
  hint?: string;
}

/** Base class of every error Enjambre throws on purpose. */
export class EnjambreError extends Error {
  override name = 'EnjambreError';
  /** Stable machine-readable code, e.g. `ERR_DATA_FORMAT`. */
  readonly code: string = 'ERR_ENJAMBRE';
  /** What the user can do next, when there is something to say. */
  readonly hint?: string;

  constructor(message: string, options: EnjambreErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/** An operation was cancelled through its AbortSignal. */
export class AbortError extends EnjambreError {
  override name = 'AbortError';
  override readonly code = 'ABORT_ERR';
  constructor(operation: string, options?: EnjambreErrorOptions) {
    super(`${operation} was aborted`, options);
  }
}

/** An option passed to a library function holds a value outside its domain; `option` names it. */
export class InvalidOptionError extends EnjambreError {
  override name = 'InvalidOptionError';
  override readonly code = 'ERR_INVALID_OPTION';
  constructor(
    readonly option: string,
    message: string,
    options?: EnjambreErrorOptions,
  ) {
    super(`option ${option}: ${message}`, options);
  }
}

/** True when `e` is an error Enjambre threw on purpose (it has a stable `code`). */
export function isEnjambreError(e: unknown): e is EnjambreError {
  return e instanceof EnjambreError;
}

/** Anything thrown, as an Error (libp2p and user callbacks sometimes reject with non-Error values). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
