import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, createObserver, InvalidOptionError, SwarmStatus } from '../src/index.ts';
import { type SwarmFixture, startSwarmFixture, waitFor } from './swarm-fixture.ts';

let fx: SwarmFixture | undefined;
afterEach(async () => {
  await fx?.stop();
  fx = undefined;
});

describe('createObserver (real libp2p swarm on 127.0.0.1)', () => {
  it('builds the swarm view from the trainers’ heartbeats and records departures', async () => {
    fx = await startSwarmFixture({
      trainers: 3,
      heartbeatMs: 150,
      observer: { heartbeatIntervalMs: 200, status: { staleAfterMissed: 100 } },
    });
    const f = fx;
    const ids = f.trainers.map((t) => t.peerId);
    // The trainers see the observer's own heartbeats (role observer) too.
    const seenByTrainer = new SwarmStatus();
    f.trainers[0].subscribe('heartbeats', (m, from) => {
      if (m.type === 'heartbeat') seenByTrainer.ingest(m, from, Date.now());
    });
    await waitFor(
      () => {
        const snap = f.observer.snapshot();
        return ids.every((id) => (snap.peers.find((p) => p.id === id)?.heartbeats ?? 0) >= 3);
      },
      15_000,
      'three trainers seen by the observer',
    );
    // Stop publishing, then the view must equal what each trainer last published.
    f.pause();
    await new Promise((r) => setTimeout(r, 400));
    const snap = f.observer.snapshot();
    expect(snap.observer).toBe(f.observer.node.peerId);
    expect(snap.runId).toBe(f.runId);
    expect(snap.swarm.activePeers).toBe(3);
    expect(snap.swarm.trainers).toBe(3);
    ids.forEach((id, i) => {
      const p = snap.peers.find((q) => q.id === id)!;
      expect(p.state).toBe('active');
      expect(p.provider).toBe(['cpu', 'cuda', 'webgpu'][i]);
      expect(p.deviceName).toBe(`test-device-${i}`);
      expect(p.cores).toBe(4 + i);
      expect(p.loss).toBe(f.lastLoss[i]);
    });
    const mean = (f.lastLoss as number[]).reduce((a, b) => a + b, 0) / 3;
    expect(snap.swarm.meanLoss).toBeCloseTo(mean, 12);
    expect(snap.lossCurve.length).toBeGreaterThan(3);
    expect(
      snap.events
        .filter((e) => e.kind === 'join')
        .map((e) => e.peer)
        .sort(),
    ).toEqual([...ids].sort());

    const observerSeen = seenByTrainer
      .snapshot(Date.now())
      .peers.find((p) => p.id === f.observer.node.peerId);
    expect(observerSeen?.role).toBe('observer');

    await f.leave(2, 'planned maintenance');
    await waitFor(
      () => f.observer.snapshot().peers.find((p) => p.id === ids[2])?.state === 'left',
      10_000,
      'the departure seen by the observer',
    );
    const after = f.observer.snapshot();
    expect(after.peers.find((p) => p.id === ids[2])?.leftReason).toBe('planned maintenance');
    expect(after.events.filter((e) => e.kind === 'leave')).toMatchObject([
      { kind: 'leave', peer: ids[2], reason: 'planned maintenance' },
    ]);
    expect(after.swarm.leftPeers).toBe(1);
    expect(after.swarm.activePeers).toBe(2);
  });

  it('validates its options and honours an aborted signal', async () => {
    const base = { runId: 'x', compatHash: 'ab', listen: ['/ip4/127.0.0.1/tcp/0'] };
    await expect(createObserver({ ...base, heartbeatIntervalMs: -1 })).rejects.toThrow(InvalidOptionError);
    await expect(createObserver({ ...base, signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
  });
});
