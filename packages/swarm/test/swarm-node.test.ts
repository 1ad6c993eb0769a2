import { describe, expect, it } from 'vitest';
import { encodeMessage, type HeartbeatMessage, type RefusalEvent, type UpdateMessage } from '../src/index.ts';
import { randomHash, randomRunId, seededBytes, startNode, stopNodesAfterEach, waitFor } from './helpers.ts';

stopNodesAfterEach();

function heartbeat(round: number) {
  return {
    round,
    step: 120,
    samplesDone: 7680,
    loss: 1.25,
    samplesPerSec: 812.5,
    bytesIn: 1000,
    bytesOut: 2000,
    hardware: { provider: 'cpu', deviceName: 'test cpu', cores: 2 },
    fingerprint: new Float32Array([0.5, -1.25, 3]),
    role: 'trainer' as const,
  };
}

describe('swarm node gossip', () => {
  it('three nodes connect via bootstrap and gossip an update and a heartbeat (relayed through the hub)', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const a = await startNode({ runId, compatHash });
    const b = await startNode({ runId, compatHash, bootstrap: a.multiaddrs() });
    const c = await startNode({ runId, compatHash, bootstrap: a.multiaddrs() });
    await waitFor(() => a.connectedPeers().length === 2, 5000, 'a connected to b and c');
    await c.waitForTopicPeers('updates', 1, { timeoutMs: 5000 });
    await b.waitForTopicPeers('heartbeats', 1, { timeoutMs: 5000 });
    // wait for a's mesh to hold both b and c: a message that arrives before a peer is grafted is not resent
    await waitFor(() => a.meshPeers('updates').length === 2 && a.meshPeers('heartbeats').length === 2);

    const gotUpdates: { at: string; msg: UpdateMessage; from: string }[] = [];
    const gotBeats: { at: string; msg: HeartbeatMessage; from: string }[] = [];
    for (const [name, n] of [
      ['a', a],
      ['b', b],
    ] as const) {
      n.subscribe('updates', (msg, from) => gotUpdates.push({ at: name, msg, from }));
    }
    a.subscribe('heartbeats', (msg, from) => {
      if (msg.type === 'heartbeat') gotBeats.push({ at: 'a', msg, from });
    });
    b.subscribe('heartbeats', (msg, from) => {
      if (msg.type === 'heartbeat') gotBeats.push({ at: 'b', msg, from });
    });

    const payload = seededBytes(10_000, 7);
    const anchorHash = randomHash();
    const report = await c.publishUpdate({
      round: 3,
      samples: 640,
      anchorHash,
      codec: 'sign1',
      bytes: payload,
    });
    expect(report.payload).toBe('inline');
    await c.publishHeartbeat(heartbeat(3));
    // b is not connected to c: it can only receive through a's forwarding.
    await waitFor(
      () => gotUpdates.length === 2 && gotBeats.length === 2,
      8000,
      'update + heartbeat at a and b',
    );

    for (const g of gotUpdates) {
      expect(g.from).toBe(c.peerId);
      expect(g.msg.sender).toBe(c.peerId);
      expect(g.msg.round).toBe(3);
      expect(g.msg.samples).toBe(640);
      expect(g.msg.anchorHash).toBe(anchorHash);
      expect(g.msg.payload.kind).toBe('inline');
      if (g.msg.payload.kind === 'inline') expect(Buffer.compare(g.msg.payload.bytes, payload)).toBe(0);
    }
    for (const g of gotBeats) {
      expect(g.from).toBe(c.peerId);
      expect(g.msg.loss).toBe(1.25);
      expect(Array.from(g.msg.fingerprint)).toEqual([0.5, -1.25, 3]);
      expect(g.msg.hardware).toEqual({ provider: 'cpu', deviceName: 'test cpu', cores: 2 });
    }
    const t = c.traffic();
    expect(t.gossipSent).toBeGreaterThanOrEqual(report.bytes);
    expect(a.traffic().gossipReceived).toBeGreaterThanOrEqual(report.bytes);
  });

  it('rejects malformed and forged messages without crashing, lowers the sender score, valid ones still flow', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const a = await startNode({ runId, compatHash });
    const b = await startNode({ runId, compatHash, bootstrap: a.multiaddrs() });
    await b.waitForTopicPeers('updates', 1, { timeoutMs: 5000 });
    await a.waitForTopicPeers('updates', 1, { timeoutMs: 5000 });

    const rejected: string[] = [];
    a.on('rejected', (e) => rejected.push(e.reason));
    const received: UpdateMessage[] = [];
    a.subscribe('updates', (m) => received.push(m));
    // application validator: refuse round 13
    a.setValidator('updates', (m) => (m.round === 13 ? 'reject' : 'accept'));

    const valid = {
      type: 'update' as const,
      runId,
      compatHash,
      round: 1,
      sender: b.peerId,
      samples: 10,
      anchorHash: randomHash(),
      codec: 'fp16',
      payload: { kind: 'inline' as const, bytes: seededBytes(64, 1) },
    };
    const good = encodeMessage(valid);
    await b.publishRaw('updates', seededBytes(300, 99)); // garbage
    await b.publishRaw('updates', good.subarray(0, good.length - 5)); // truncated
    await b.publish({ ...valid, round: 2, sender: a.peerId }); // forged sender
    await b.publish({ ...valid, round: 13 }); // refused by the application validator
    await b.publish({ ...valid, round: 4 });
    await waitFor(
      () => received.length === 1 && rejected.length === 4,
      5000,
      'valid update after rejected ones',
    );
    expect(received[0].round).toBe(4);
    expect(rejected.some((r) => r.includes('magic'))).toBe(true);
    expect(rejected.some((r) => r.includes('truncated'))).toBe(true);
    expect(rejected.some((r) => r.includes('signed by'))).toBe(true);
    expect(rejected.some((r) => r.includes('application validator'))).toBe(true);
    await waitFor(() => a.peerScore(b.peerId) < 0, 5000, 'negative peer score for the sender');
    // and b → a still works afterwards
    await b.publish({ ...valid, round: 5 });
    await waitFor(() => received.length === 2, 5000, 'second valid update');
  });

  it('refuses gossip from a peer with another model/config hash and reports it', async () => {
    const runId = randomRunId();
    const ours = randomHash();
    const theirs = randomHash();
    // without the connect-time handshake, so that the gossip path itself is exercised
    const a = await startNode({ runId, compatHash: ours, handshakeOnConnect: false });
    const b = await startNode({
      runId,
      compatHash: theirs,
      bootstrap: a.multiaddrs(),
      handshakeOnConnect: false,
    });
    await b.waitForTopicPeers('heartbeats', 1, { timeoutMs: 5000 });
    const refused: RefusalEvent[] = [];
    a.on('refused', (e) => refused.push(e));
    const got: unknown[] = [];
    a.subscribe('heartbeats', (m) => got.push(m));
    await b.publishHeartbeat(heartbeat(0));
    await waitFor(() => refused.length === 1, 5000, 'refusal');
    expect(refused[0].peer).toBe(b.peerId);
    expect(refused[0].context).toBe('gossip');
    expect(refused[0].message).toContain(`runs model/config hash ${theirs}, we run ${ours}`);
    expect(got).toHaveLength(0);
  });

  it('a by-hash update is fetched from a sender this node is not connected to, at the address its heartbeat gave', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const hub = await startNode({ runId, compatHash });
    const b = await startNode({ runId, compatHash, bootstrap: hub.multiaddrs() });
    const c = await startNode({ runId, compatHash, bootstrap: hub.multiaddrs(), inlineThresholdBytes: 1024 });
    await waitFor(() => hub.meshPeers('updates').length === 2 && hub.meshPeers('heartbeats').length === 2);
    expect(b.connectedPeers()).not.toContain(c.peerId);
    const beats: HeartbeatMessage[] = [];
    b.subscribe('heartbeats', (m) => {
      if (m.type === 'heartbeat') beats.push(m);
    });
    const updates: UpdateMessage[] = [];
    b.subscribe('updates', (m) => updates.push(m));
    await c.publishHeartbeat(heartbeat(1));
    await waitFor(() => beats.length === 1, 8000, 'heartbeat at b through the hub');
    expect(beats[0].addrs).toEqual(c.multiaddrs());
    const bytes = seededBytes(200_000, 9);
    await c.publishUpdate({ round: 1, samples: 5, anchorHash: randomHash(), codec: 'fp32', bytes });
    await waitFor(() => updates.length === 1, 8000, 'update announcement at b');
    // Only c holds the blob; b learnt its address from the heartbeat alone.
    const got = await b.resolveUpdatePayload(updates[0], { from: [c.peerId] });
    expect(Buffer.compare(got, bytes)).toBe(0);
  });

  it('large updates go by hash and are fetched from the sender', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const a = await startNode({ runId, compatHash, inlineThresholdBytes: 1024 });
    const b = await startNode({ runId, compatHash, bootstrap: a.multiaddrs() });
    await a.waitForTopicPeers('updates', 1, { timeoutMs: 5000 });
    await b.waitForTopicPeers('updates', 1, { timeoutMs: 5000 });
    const received: UpdateMessage[] = [];
    b.subscribe('updates', (m) => received.push(m));
    const bytes = seededBytes(300_000, 5);
    const rep = await a.publishUpdate({
      round: 1,
      samples: 5,
      anchorHash: randomHash(),
      codec: 'fp32',
      bytes,
    });
    expect(rep.payload).toBe('hash');
    await waitFor(() => received.length === 1);
    const got = await b.resolveUpdatePayload(received[0]);
    expect(Buffer.compare(got, bytes)).toBe(0);
    expect(b.traffic().streamReceived).toBeGreaterThanOrEqual(bytes.length);
    expect(a.traffic().streamSent).toBeGreaterThanOrEqual(bytes.length);
  });
});
