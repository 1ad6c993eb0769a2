import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLOB_PROTOCOL, BlobFetchError, type ByteStream, type SwarmNode } from '../src/index.ts';
import { randomHash, randomRunId, seededBytes, startNode, stopNodesAfterEach } from './helpers.ts';

stopNodesAfterEach();

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Reads the blob request frame (4-byte length + 33 bytes) from a raw stream. */
async function readRequest(stream: ByteStream): Promise<void> {
  let got = 0;
  for await (const chunk of stream.source) {
    got += chunk.length;
    if (got >= 4 + 33) return;
  }
}

function header(length: number): Uint8Array {
  const h = new Uint8Array(9);
  h[0] = 0;
  new DataView(h.buffer).setFloat64(1, length, true);
  return h;
}

/** Makes `node` serve `blob` dishonestly: `mode` decides how. */
async function makeHostile(
  node: SwarmNode,
  blob: Uint8Array,
  mode: 'wrong' | 'extra' | 'stall',
): Promise<void> {
  await node.host.handle(BLOB_PROTOCOL, async (stream) => {
    await readRequest(stream);
    if (mode === 'wrong') {
      const bad = blob.slice();
      bad[bad.length >> 1] ^= 0xff;
      await stream.sink([header(blob.length), bad]);
    } else if (mode === 'extra') {
      await stream.sink([header(blob.length), blob, seededBytes(1000, 77)]);
    } else {
      // send the header, then nothing, keeping the stream open
      await stream.sink(
        (async function* () {
          yield header(blob.length);
          await new Promise((r) => setTimeout(r, 5000));
        })(),
      );
    }
  });
}

describe('blob protocol', () => {
  it('fetches a blob from a non-origin holder, verified, in chunks', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const origin = await startNode({ runId, compatHash });
    const relay = await startNode({ runId, compatHash, bootstrap: origin.multiaddrs() });
    const blob = seededBytes(1_000_000 + 123, 3); // not a multiple of the 64 KiB chunk
    const hash = origin.putBlob(blob);
    expect(hash).toBe(sha(blob));
    const atRelay = await relay.fetchBlob(hash, { from: [origin.peerId], expectedLength: blob.length });
    expect(sha(atRelay)).toBe(hash);
    const sentByOrigin = origin.traffic().streamSent;
    expect(sentByOrigin).toBeGreaterThanOrEqual(blob.length);

    const late = await startNode({ runId, compatHash, bootstrap: relay.multiaddrs() });
    // only the relay is offered as a source: the relay serves what it fetched
    const atLate = await late.fetchBlob(hash, { from: [relay.peerId] });
    expect(Buffer.compare(atLate, blob)).toBe(0);
    expect(origin.traffic().streamSent - sentByOrigin).toBeLessThan(blob.length);
    expect(late.blobs.has(hash)).toBe(true);
  });

  it('rejects hostile servers (wrong bytes, too many bytes, stall) and falls back to the next peer', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const honest = await startNode({ runId, compatHash });
    const boot = honest.multiaddrs();
    const wrong = await startNode({ runId, compatHash, bootstrap: boot });
    const extra = await startNode({ runId, compatHash, bootstrap: boot });
    const stall = await startNode({ runId, compatHash, bootstrap: boot });
    const blob = seededBytes(200_000, 9);
    const hash = honest.putBlob(blob);
    await makeHostile(wrong, blob, 'wrong');
    await makeHostile(extra, blob, 'extra');
    await makeHostile(stall, blob, 'stall');
    const client = await startNode({
      runId,
      compatHash,
      blobs: { peerTimeoutMs: 300 },
      bootstrap: [...boot, ...wrong.multiaddrs(), ...extra.multiaddrs(), ...stall.multiaddrs()],
    });

    const err = await client
      .fetchBlob(hash, { from: [wrong.peerId, extra.peerId, stall.peerId] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobFetchError);
    const attempts = (err as BlobFetchError).attempts;
    expect(attempts.map((a) => a.peer)).toEqual([wrong.peerId, extra.peerId, stall.peerId]);
    expect(attempts[0].error.message).toMatch(/hash mismatch/);
    expect(attempts[1].error.message).toMatch(/more than the announced/);
    expect(attempts[2].error.message).toMatch(/no data for 300 ms/);
    expect(client.blobs.has(hash)).toBe(false);

    const got = await client.fetchBlob(hash, {
      from: [wrong.peerId, extra.peerId, stall.peerId, honest.peerId],
    });
    expect(sha(got)).toBe(hash);
    expect(client.blobs.has(hash)).toBe(true);
  });

  it('reports a peer that does not hold the blob, a wrong expected length, and aborts', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const a = await startNode({ runId, compatHash });
    const b = await startNode({ runId, compatHash, bootstrap: a.multiaddrs() });
    const blob = seededBytes(5000, 1);
    const hash = a.putBlob(blob);
    await expect(b.fetchBlob(randomHash(), { from: [a.peerId] })).rejects.toThrow(/does not hold the blob/);
    await expect(b.fetchBlob(hash, { from: [a.peerId], expectedLength: 4999 })).rejects.toThrow(
      /differs from the expected 4999/,
    );
    const ac = new AbortController();
    ac.abort();
    await expect(b.fetchBlob(hash, { from: [a.peerId], signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});
