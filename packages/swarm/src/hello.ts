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
