/**
 * The status exchange: every trainer peer keeps a {@link SwarmStatus} of the heartbeats it hears
 * and answers `/enjambre/status/1.0.0` with it (its own state included), so that `enjambre status
 * --json` needs one connection and one exchange instead of a second node listening to gossip.
 */
import {
  askStatus,
  createLibp2pHost,
  type HostOptions,
  type SwarmNode,
  serveStatus,
  stopStatus,
} from '@enjambre/swarm';
import { StatusUnavailableError, toError } from './errors.ts';
import { type HeartbeatInfo, type SwarmSnapshot, SwarmStatus } from './status.ts';

/** What a peer answers: its run and its view of it. */
export interface ServedStatus {
  runId: string;
  compatHash: string;
  snapshot: SwarmSnapshot;
}

/** A running status service; `status` is the model it feeds. */
export interface StatusService {
  readonly status: SwarmStatus;
  stop(): Promise<void>;
}

/**
 * Serves `node`'s view of its run: the heartbeats it hears, and its own state as `self()` tells
 * it (a peer does not hear its own gossip).
 */
export async function serveSwarmStatus(
  node: SwarmNode,
  self: () => HeartbeatInfo,
  now: () => number = Date.now,
): Promise<StatusService> {
  const status = new SwarmStatus({ runId: node.runId, observer: node.peerId });
  const off = node.subscribe('heartbeats', (message, from) => {
    try {
      if (message.type === 'heartbeat') status.ingest(message, from, now());
      else status.ingestLeave(message, from, now());
    } catch {
      // A malformed heartbeat is the gossip validator's business; the view skips it.
    }
  });
  await serveStatus(node.host, () => {
    status.ingest(self(), node.peerId, now());
    const served: ServedStatus = {
      runId: node.runId,
      compatHash: node.compatHash,
      snapshot: status.snapshot(now()),
    };
    return new TextEncoder().encode(JSON.stringify(served));
  });
  return {
    status,
    async stop() {
      off();
      await stopStatus(node.host);
    },
  };
}

/** Options of {@link fetchSwarmStatus}: how to reach the peers, and which run to accept. */
export interface FetchStatusOptions extends HostOptions {
  /** Accept only answers of this run (and model/config hash). Default: the first peer's run. */
  runId?: string;
  compatHash?: string;
  /** Give up after this long, ms. Default 10 000. */
  timeoutMs?: number;
  /** Aborting gives up. */
  signal?: AbortSignal;
}

/**
 * Dials the bootstrap peers with a short-lived bare host and asks the first that answers for its
 * view of the run. A bare host (no swarm protocols) is no peer of any run, so the peers' handshake
 * does not refuse it as one of another run. Everything received is checked before use: a stranger
 * may send anything.
 */
export async function fetchSwarmStatus(
  options: FetchStatusOptions,
): Promise<ServedStatus & { peer: string }> {
  const { runId, compatHash, timeoutMs = 10_000, signal, ...nodeOptions } = options;
  const deadline = Date.now() + timeoutMs;
  const probe = await createLibp2pHost({
    ...nodeOptions,
    bootstrapWaitMs: Math.min(timeoutMs, nodeOptions.bootstrapWaitMs ?? timeoutMs),
  });
  await probe.start();
  const failures: string[] = [];
  const asked = new Set<string>();
  try {
    while (Date.now() < deadline) {
      for (const peer of probe.connectedPeers()) {
        if (asked.has(peer)) continue;
        asked.add(peer);
        try {
          const served = parseServedStatus(
            await askStatus(probe, peer, Math.max(500, deadline - Date.now()), signal),
          );
          if (runId !== undefined && served.runId !== runId) {
            failures.push(`${peer} is in run '${served.runId}', not '${runId}'`);
          } else if (compatHash !== undefined && served.compatHash !== compatHash) {
            failures.push(
              `${peer} runs model/config hash ${served.compatHash.slice(0, 12)}…, not ${compatHash.slice(0, 12)}…`,
            );
          } else return { ...served, peer };
        } catch (err) {
          failures.push(`${peer}: ${toError(err).message}`);
        }
      }
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new StatusUnavailableError(
      `no peer at ${(nodeOptions.bootstrap ?? []).join(', ') || '(no bootstrap address)'} told its view of the run within ${Math.round(timeoutMs / 1000)} s${failures.length ? ` (${failures.slice(-3).join('; ')})` : ': check the address and that the peer is running'}`,
    );
  } finally {
    await probe.stop();
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks the shape of a peer's answer (the values are only printed and displayed). */
export function parseServedStatus(bytes: Uint8Array): ServedStatus {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new StatusUnavailableError(`the answer is not JSON: ${toError(err).message}`);
  }
  const bad = (what: string) => new StatusUnavailableError(`the answer has no valid ${what}`);
  if (!isRecord(doc)) throw bad('document');
  if (typeof doc.runId !== 'string' || doc.runId.length > 64) throw bad('runId');
  if (typeof doc.compatHash !== 'string' || !/^[0-9a-f]{1,128}$/.test(doc.compatHash))
    throw bad('compatHash');
  const s = doc.snapshot;
  if (!isRecord(s) || s.runId !== doc.runId || !isRecord(s.swarm)) throw bad('snapshot');
  if (!Array.isArray(s.peers) || !s.peers.every((p) => isRecord(p) && typeof p.id === 'string'))
    throw bad('snapshot.peers');
  return { runId: doc.runId, compatHash: doc.compatHash, snapshot: s as unknown as SwarmSnapshot };
}
