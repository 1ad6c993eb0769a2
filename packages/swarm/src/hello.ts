import { ByteReader, ByteWriter } from './binary.ts';
import type { ByteStream, Host } from './host.ts';
import type { RunIdentity } from './state-sync.ts';
import { frame, StreamReader } from './stream-io.ts';
import { MAX_COMPAT_HASH_BYTES, MAX_RUN_ID_BYTES } from './wire.ts';

/**
 * `/enjambre/hello/1.0.0`: a peer tells which run it is in (run id and model/config hash). An
 * observer that knows only a peer's address uses it to join that peer's run.
 */
export const HELLO_PROTOCOL = '/enjambre/hello/1.0.0';

export async function serveHello(host: Host, identity: RunIdentity): Promise<void> {
  await host.handle(HELLO_PROTOCOL, async (stream: ByteStream) => {
    const w = new ByteWriter(160)
      .str8('runId', identity.runId, MAX_RUN_ID_BYTES)
      .str8('compatHash', identity.compatHash, 2 * MAX_COMPAT_HASH_BYTES);
    await stream.sink([frame(w.finish())]).catch(() => {});
  });
}

export async function stopHello(host: Host): Promise<void> {
  await host.unhandle(HELLO_PROTOCOL).catch(() => {});
}

/** Asks `peer` which run it is in. */
export async function askHello(
  host: Host,
  peer: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunIdentity> {
  const stream = await host.openStream(peer, HELLO_PROTOCOL, { signal });
  try {
    const r = new ByteReader(await new StreamReader(stream, timeoutMs, signal).readFrame(256, 'hello'));
    return {
      runId: r.str8('runId', MAX_RUN_ID_BYTES),
      compatHash: r.str8('compatHash', 2 * MAX_COMPAT_HASH_BYTES),
    };
  } finally {
    await stream.close().catch(() => {});
  }
}

/**
 * `/enjambre/status/1.0.0`: a peer answers with its current view of the run (a JSON document the
 * inspector builds from the heartbeats it heard and its own state), so that one exchange with one
 * peer tells what an observer would otherwise gather by listening to gossip for seconds.
 */
export const STATUS_PROTOCOL = '/enjambre/status/1.0.0';
/** Largest status document served or accepted. */
export const MAX_STATUS_BYTES = 4 * 1024 * 1024;

export async function serveStatus(host: Host, getStatus: () => Uint8Array): Promise<void> {
  await host.handle(STATUS_PROTOCOL, async (stream: ByteStream) => {
    const bytes = getStatus();
    if (bytes.length > MAX_STATUS_BYTES) {
      await stream.close().catch(() => {});
      return;
    }
    await stream.sink([frame(bytes)]).catch(() => {});
  });
}

export async function stopStatus(host: Host): Promise<void> {
  await host.unhandle(STATUS_PROTOCOL).catch(() => {});
}

/** Asks `peer` for its view of the run: the raw document, at most {@link MAX_STATUS_BYTES}. */
export async function askStatus(
  host: Host,
  peer: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const stream = await host.openStream(peer, STATUS_PROTOCOL, { signal });
  try {
    return await new StreamReader(stream, timeoutMs, signal).readFrame(MAX_STATUS_BYTES, 'status');
  } finally {
    await stream.close().catch(() => {});
  }
}
