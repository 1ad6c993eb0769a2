/**
 * Error classes of `@enjambre/inspector`. Every error has a stable `name` and a `code` string so that callers
 * can branch on it without parsing messages.
 */
import { EnjambreError } from '@enjambre/core';

export { AbortError, InvalidOptionError, toError } from '@enjambre/core';

/** Base class of every error thrown by this package. */
export class InspectorError extends EnjambreError {
  override name = 'InspectorError';
  override readonly code: string = 'ERR_INSPECTOR';
}

/** A heartbeat or leave message handed to the status model is malformed. */
export class InvalidHeartbeatError extends InspectorError {
  override name = 'InvalidHeartbeatError';
  override readonly code = 'ERR_INSPECTOR_INVALID_HEARTBEAT';
  /** The field that failed validation (dot path), e.g. `heartbeat.samplesPerSec`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`inspector: ${field}: ${message}`);
    this.field = field;
  }
}

/** Peer metrics handed to the Prometheus renderer are malformed. */
export class InvalidMetricsError extends InspectorError {
  override name = 'InvalidMetricsError';
  override readonly code = 'ERR_INSPECTOR_INVALID_METRICS';
  /** The field that failed validation, e.g. `bytesIn`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`metrics: ${field}: ${message}`);
    this.field = field;
  }
}

/** An HTTP server (web dashboard or metrics) could not listen on the requested address. */
export class ListenError extends InspectorError {
  override name = 'ListenError';
  override readonly code = 'ERR_INSPECTOR_LISTEN';
  readonly host: string;
  readonly port: number;
  constructor(host: string, port: number, message: string, options?: { cause?: unknown }) {
    super(`cannot listen on ${host}:${port}: ${message}`, options);
    this.host = host;
    this.port = port;
  }
}

/** No peer at the given addresses answered with its view of the run. */
export class StatusUnavailableError extends InspectorError {
  override name = 'StatusUnavailableError';
  override readonly code = 'ERR_INSPECTOR_STATUS_UNAVAILABLE';
}
