/** Defaults of `@enjambre/inspector`, as named constants. */

/** Heartbeat interval assumed for a peer until two of its heartbeats have been seen, ms. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
/** A peer is `stale` after this many heartbeat intervals without a heartbeat. */
export const DEFAULT_STALE_AFTER_MISSED = 3;
/** Stale and departed peers are dropped from the model after this long without a heartbeat, ms (10 min). */
export const DEFAULT_FORGET_AFTER_MS = 10 * 60_000;
/** Most peers kept in the model; beyond it the least recently seen is dropped. */
export const DEFAULT_MAX_PEERS = 1_024;
/** Points kept in the loss-curve ring. */
export const DEFAULT_LOSS_CURVE_POINTS = 600;
/** At most one loss-curve point per this interval, ms. */
export const DEFAULT_LOSS_SAMPLE_INTERVAL_MS = 1_000;
/** Join/leave/stale events kept in the event log ring. */
export const DEFAULT_MAX_EVENTS = 200;
/** Longest peer name kept (characters); longer names are cut. */
export const MAX_NAME_CHARS = 64;
/** Longest peer id accepted (characters). */
export const MAX_PEER_ID_CHARS = 128;

/** Default terminal width when the stream does not report one, columns. */
export const DEFAULT_TERMINAL_WIDTH = 100;
/** Default redraw interval of the terminal dashboard, ms. */
export const DEFAULT_REDRAW_INTERVAL_MS = 1_000;
/** Events shown at the bottom of the terminal view. */
export const DEFAULT_TERMINAL_EVENTS = 5;

/** Default bind address of the web dashboard and the metrics server (loopback only). */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
/** Default interval at which the web dashboard pushes snapshots over Server-Sent Events, ms. */
export const DEFAULT_PUSH_INTERVAL_MS = 1_000;
/** Most concurrent Server-Sent-Events clients of the web dashboard. */
export const DEFAULT_MAX_SSE_CLIENTS = 32;

/** Prefix of every Prometheus metric name. */
export const DEFAULT_METRIC_PREFIX = 'enjambre_';

/** Interval of the observer's own heartbeat, ms (0: the observer does not publish heartbeats). */
export const DEFAULT_OBSERVER_HEARTBEAT_MS = 0;
