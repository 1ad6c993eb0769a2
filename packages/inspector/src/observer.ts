/**
 * The observer peer: a swarm node that does not train. It listens to the heartbeats topic, feeds a
 * {@link SwarmStatus} and, optionally, announces itself with heartbeats of role `observer`.
 */
import { cpus, hostname } from 'node:os';
import { createSwarmNode, type SwarmNode, type SwarmNodeOptions } from '@enjambre/swarm';
import { DEFAULT_OBSERVER_HEARTBEAT_MS } from './constants.ts';
import { AbortError, InvalidOptionError, toError } from './errors.ts';
import { type SwarmSnapshot, SwarmStatus, type SwarmStatusOptions } from './status.ts';

/** Options of {@link createObserver}: the swarm node's options (run id, compat hash, bootstrap...) plus these. */
export interface ObserverOptions extends Omit<SwarmNodeOptions, 'start'> {
  /** Options of the status model. Defaults in {@link SwarmStatusOptions}. */
  status?: SwarmStatusOptions;
  /**
   * Interval of the observer's own heartbeats (role `observer`), ms; 0 publishes none.
   * Default {@link DEFAULT_OBSERVER_HEARTBEAT_MS}.
   */
  heartbeatIntervalMs?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called on failures that do not stop the observer (a bad heartbeat, a failed publish). Default: ignored. */
  onError?: (err: Error) => void;
}

/** A running observer. */
export interface Observer {
  /** The underlying swarm node (connections, traffic, `refused` events...). */
  readonly node: SwarmNode;
  /** The status model it feeds. */
  readonly status: SwarmStatus;
  /** The current snapshot (as `--json` prints it). */
  snapshot(): SwarmSnapshot;
  /** Announces the departure (when it published heartbeats) and stops the node (idempotent). */
  stop(): Promise<void>;
}

/** Creates and starts an observer peer. */
export async function createObserver(options: ObserverOptions): Promise<Observer> {
  const { status: statusOptions, heartbeatIntervalMs, now: clock, onError, signal, ...nodeOptions } = options;
  if (signal?.aborted) throw new AbortError('createObserver', { cause: signal.reason });
  const interval = heartbeatIntervalMs ?? DEFAULT_OBSERVER_HEARTBEAT_MS;
  if (!Number.isFinite(interval) || interval < 0) {
    throw new InvalidOptionError(
      'heartbeatIntervalMs',
      `expected a number of ms ≥ 0, got ${String(interval)}`,
    );
  }
  const now = clock ?? Date.now;
  const node = await createSwarmNode({ ...nodeOptions, start: true });
  const status = new SwarmStatus({ runId: options.runId, observer: node.peerId, ...statusOptions });
  const offMessages = node.subscribe('heartbeats', (message, from) => {
    try {
      if (message.type === 'heartbeat') status.ingest(message, from, now());
      else status.ingestLeave(message, from, now());
    } catch (err) {
      onError?.(toError(err));
    }
  });

  let timer: ReturnType<typeof setInterval> | undefined;
  const beat = async (): Promise<void> => {
    if (node.topicPeers('heartbeats').length === 0) return;
    const traffic = node.traffic();
    try {
      await node.publishHeartbeat({
        round: status.snapshot(now()).swarm.majorityRound,
        step: 0,
        samplesDone: 0,
        loss: null,
        samplesPerSec: 0,
        bytesIn: traffic.totalReceived,
        bytesOut: traffic.totalSent,
        hardware: {
          provider: 'none',
          deviceName: hostname().slice(0, 128),
          cores: Math.min(65535, cpus().length),
        },
        fingerprint: new Float32Array(0),
        role: 'observer',
      });
    } catch (err) {
      onError?.(toError(err));
    }
  };
  if (interval > 0) {
    timer = setInterval(() => void beat(), interval);
    timer.unref?.();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearInterval(timer);
      offMessages();
      if (interval > 0 && node.isStarted() && node.topicPeers('heartbeats').length > 0) {
        try {
          await node.publishLeave(status.snapshot(now()).swarm.majorityRound, 'observer stopped');
        } catch (err) {
          onError?.(toError(err));
        }
      }
      await node.stop();
    })();
    return stopping;
  };
  const onAbort = (): void => {
    void stop();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return { node, status, snapshot: () => status.snapshot(now()), stop };
}
