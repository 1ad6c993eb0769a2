import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IncompatiblePeerError, type RefusalEvent, SnapshotQuorumError } from '../src/index.ts';
import { randomHash, randomRunId, seededBytes, startNode, stopNodesAfterEach, waitFor } from './helpers.ts';

stopNodesAfterEach();

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function swarmWithSnapshots(snapshots: Uint8Array[], compatHash = randomHash()) {
  const runId = randomRunId();
  const peers = [];
  for (const s of snapshots) {
    const n = await startNode({ runId, compatHash });
    n.setSnapshotProvider(() => s);
    peers.push(n);
  }
  const joiner = await startNode({ runId, compatHash, bootstrap: peers.flatMap((p) => p.multiaddrs()) });
  return { runId, compatHash, peers, joiner };
}

describe('state sync', () => {
  it('accepts a snapshot when a quorum of hashes agree', async () => {
    const good = seededBytes(300_000, 1);
    const other = seededBytes(300_000, 2);
    const { peers, joiner } = await swarmWithSnapshots([other, good, good]);
    const res = await joiner.fetchSnapshot(
      peers.map((p) => p.peerId),
      { quorum: 2 },
    );
    expect(res.hash).toBe(sha(good));
    expect(Buffer.compare(res.bytes, good)).toBe(0);
    expect(res.agreeing.sort()).toEqual([peers[1].peerId, peers[2].peerId].sort());
    expect([peers[1].peerId, peers[2].peerId]).toContain(res.source);
  });

  it('fails with a clear error when no hash reaches the quorum', async () => {
    const snaps = [seededBytes(1000, 1), seededBytes(1000, 2), seededBytes(1000, 3)];
    const { peers, joiner } = await swarmWithSnapshots(snaps);
    const err = await joiner
      .fetchSnapshot(
        peers.map((p) => p.peerId),
        { quorum: 2 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotQuorumError);
    const e = err as SnapshotQuorumError;
    expect(e.hashes).toHaveLength(3);
    expect(e.message).toMatch(/no hash was reported by at least 2 peers/);
    for (const s of snaps) expect(e.message).toContain(sha(s).slice(0, 16));
  });

  it('refuses a peer with another model/config hash, on both sides, at connect time', async () => {
    const runId = randomRunId();
    const ours = randomHash();
    const theirs = randomHash();
    const server = await startNode({ runId, compatHash: ours });
    server.setSnapshotProvider(() => seededBytes(100, 5));
    const serverSide: RefusalEvent[] = [];
    server.on('refused', (e) => serverSide.push(e));
    const clientSide: RefusalEvent[] = [];
    const client = await startNode({ runId, compatHash: theirs, start: false });
    client.on('refused', (e) => clientSide.push(e));
    await client.start();
    await client.dial(server.multiaddrs()[0]);
    await waitFor(() => serverSide.length === 1 && clientSide.length === 1, 5000, 'refusal on both sides');
    expect(serverSide[0]).toMatchObject({ peer: client.peerId, context: 'state' });
    expect(serverSide[0].message).toBe(
      `peer ${client.peerId} runs model/config hash ${theirs}, we run ${ours}`,
    );
    expect(clientSide[0].peer).toBe(server.peerId);
    expect(clientSide[0].message).toBe(
      `peer ${server.peerId} runs model/config hash ${ours}, we run ${theirs}`,
    );
    await waitFor(() => client.connectedPeers().length === 0, 5000, 'disconnect');
    const err = await client.fetchSnapshot([server.peerId], { quorum: 1 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(IncompatiblePeerError);
    await expect(client.dial(server.multiaddrs()[0])).rejects.toThrow();
  });

  it('refuses on an explicit request when the connect-time handshake is off', async () => {
    const runId = randomRunId();
    const ours = randomHash();
    const theirs = randomHash();
    const server = await startNode({ runId, compatHash: ours, handshakeOnConnect: false });
    const client = await startNode({
      runId,
      compatHash: theirs,
      handshakeOnConnect: false,
      bootstrap: server.multiaddrs(),
    });
    const serverSide: RefusalEvent[] = [];
    const clientSide: RefusalEvent[] = [];
    server.on('refused', (e) => serverSide.push(e));
    client.on('refused', (e) => clientSide.push(e));
    const err = await client.fetchSnapshot([server.peerId], { quorum: 1 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(IncompatiblePeerError);
    expect((err as Error).message).toBe(
      `peer ${server.peerId} runs model/config hash ${ours}, we run ${theirs}`,
    );
    expect(clientSide).toMatchObject([{ peer: server.peerId, direction: 'outbound', context: 'state' }]);
    await waitFor(() => serverSide.length === 1);
    expect(serverSide).toMatchObject([{ peer: client.peerId, direction: 'inbound', context: 'state' }]);
    const other = await startNode({ runId: randomRunId(), compatHash: ours, bootstrap: server.multiaddrs() });
    await expect(other.checkCompatibility(server.peerId)).rejects.toThrow(/is in run/);
  });

  it('reports a peer without a snapshot provider', async () => {
    const { peers, joiner } = await swarmWithSnapshots([seededBytes(10, 1)]);
    peers[0].setSnapshotProvider(undefined);
    await expect(joiner.snapshotHash(peers[0].peerId)).rejects.toThrow(/no snapshot provider/);
  });
});
