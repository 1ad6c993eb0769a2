import { describe, expect, it } from 'vitest';
import {
  type HeartbeatInfo,
  InvalidHeartbeatError,
  InvalidOptionError,
  type PeerSnapshot,
  SwarmStatus,
  shortPeerId,
} from '../src/index.ts';
import { fakePeerId, heartbeat, prng } from './helpers.ts';

const T0 = 1_760_000_000_000;

describe('SwarmStatus: peers', () => {
  it('records every heartbeat field and produces a plain-JSON snapshot', () => {
    const rand = prng(1);
    const s = new SwarmStatus({ runId: 'run-a', observer: 'obs' });
    const id = fakePeerId(rand);
    const hb = heartbeat(rand);
    s.ingest(hb, id, T0);
    const later = heartbeat(rand);
    s.ingest(later, id, T0 + 1000);
    const snap = s.snapshot(T0 + 1500);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.runId).toBe('run-a');
    expect(snap.observer).toBe('obs');
    expect(snap.peers).toHaveLength(1);
    const p = snap.peers[0];
    expect(p).toMatchObject({
      id,
      name: shortPeerId(id),
      role: 'trainer',
      provider: later.hardware.provider,
      deviceName: later.hardware.deviceName,
      cores: later.hardware.cores,
      round: later.round,
      step: later.step,
      samplesDone: later.samplesDone,
      loss: later.loss,
      samplesPerSec: later.samplesPerSec,
      bytesIn: later.bytesIn,
      bytesOut: later.bytesOut,
      firstSeen: T0,
      lastSeen: T0 + 1000,
      heartbeats: 2,
      intervalMs: 1000,
      state: 'active',
    } satisfies Partial<PeerSnapshot>);
    expect(snap.events).toEqual([{ time: T0, kind: 'join', peer: id, name: shortPeerId(id) }]);
  });

  it('uses the heartbeat name, then resolveName, and strips control characters', () => {
    const rand = prng(2);
    const s = new SwarmStatus({ resolveName: (id) => `node-${id.slice(-3)}` });
    const a = fakePeerId(rand);
    const b = fakePeerId(rand);
    s.ingest({ ...heartbeat(rand), name: 'gpu\x1b[31m-box\n' }, a, T0);
    s.ingest(heartbeat(rand), b, T0);
    const names = Object.fromEntries(s.snapshot(T0).peers.map((p) => [p.id, p.name]));
    expect(names[a]).toBe('gpu[31m-box');
    expect(names[b]).toBe(`node-${b.slice(-3)}`);
  });

  it('ignores a heartbeat older than the latest one of that peer', () => {
    const rand = prng(3);
    const s = new SwarmStatus();
    const id = fakePeerId(rand);
    s.ingest(heartbeat(rand, { round: 5 }), id, T0 + 2000);
    s.ingest(heartbeat(rand, { round: 4 }), id, T0 + 1000);
    const p = s.snapshot(T0 + 2000).peers[0];
    expect(p.round).toBe(5);
    expect(p.heartbeats).toBe(1);
  });

  it('marks a peer stale after N missed intervals (configured, then estimated) and back on return', () => {
    const rand = prng(4);
    const s = new SwarmStatus({ heartbeatIntervalMs: 1000, staleAfterMissed: 3 });
    const a = fakePeerId(rand);
    s.ingest(heartbeat(rand), a, T0);
    // One heartbeat only: the configured interval applies (3 × 1000 ms).
    expect(s.snapshot(T0 + 3000).peers[0].state).toBe('active');
    expect(s.snapshot(T0 + 3001).peers[0].state).toBe('stale');
    expect(s.snapshot(T0 + 3500).events.filter((e) => e.kind === 'stale')).toEqual([
      { time: T0 + 3000, kind: 'stale', peer: a, name: shortPeerId(a) },
    ]);
    // It comes back, then beats every 200 ms: the estimate follows, but the configured interval
    // stays the floor (a peer that beats fast while training must not flap to stale while it waits).
    let t = T0 + 4000;
    s.ingest(heartbeat(rand), a, t);
    expect(s.snapshot(t).peers[0].state).toBe('active');
    expect(s.snapshot(t).events.at(-1)?.kind).toBe('return');
    for (let i = 0; i < 30; i++) {
      t += 200;
      s.ingest(heartbeat(rand), a, t);
    }
    const est = s.snapshot(t).peers[0].intervalMs;
    expect(est).toBeGreaterThanOrEqual(200);
    expect(est).toBeLessThan(260);
    expect(s.snapshot(t + 3 * est + 5).peers[0].state).toBe('active');
    expect(s.snapshot(t + 3000).peers[0].state).toBe('active');
    expect(s.snapshot(t + 3001).peers[0].state).toBe('stale');
    expect(s.snapshot(t + 3001).swarm).toMatchObject({ activePeers: 0, stalePeers: 1 });
    // A peer that beats slower than configured gets the longer estimate (3 × 2000 ms).
    const b = fakePeerId(rand);
    let u = t + 10_000;
    for (let i = 0; i < 30; i++) {
      s.ingest(heartbeat(rand), b, u);
      u += 2000;
    }
    u -= 2000;
    expect(s.snapshot(u + 5900).peers.find((p) => p.id === b)?.state).toBe('active');
    expect(s.snapshot(u + 6500).peers.find((p) => p.id === b)?.state).toBe('stale');
  });

  it('records departures, excludes departed peers from totals, and accepts a later rejoin', () => {
    const rand = prng(5);
    const s = new SwarmStatus();
    const a = fakePeerId(rand);
    const b = fakePeerId(rand);
    s.ingest(heartbeat(rand, { loss: 1 }), a, T0);
    s.ingest(heartbeat(rand, { loss: 3 }), b, T0);
    s.ingestLeave({ round: 2, reason: 'shutting down' }, b, T0 + 500);
    s.ingestLeave({ round: 2, reason: 'again' }, b, T0 + 600); // already left: ignored
    s.ingestLeave({ round: 2, reason: 'who?' }, fakePeerId(rand), T0 + 600); // unknown peer: ignored
    let snap = s.snapshot(T0 + 700);
    const pb = snap.peers.find((p) => p.id === b)!;
    expect(pb.state).toBe('left');
    expect(pb.leftReason).toBe('shutting down');
    expect(snap.peers.at(-1)?.id).toBe(b); // departed peers last
    expect(snap.swarm).toMatchObject({ activePeers: 1, leftPeers: 1, meanLoss: 1 });
    expect(snap.events.map((e) => e.kind)).toEqual(['join', 'join', 'leave']);
    expect(snap.events[2]).toMatchObject({ peer: b, reason: 'shutting down' });
    // A heartbeat delivered late (sent before the leave) does not resurrect it...
    s.ingest(heartbeat(rand), b, T0 + 400);
    expect(s.snapshot(T0 + 700).peers.find((p) => p.id === b)?.state).toBe('left');
    // ...a new one after the leave does.
    s.ingest(heartbeat(rand, { loss: 2 }), b, T0 + 800);
    snap = s.snapshot(T0 + 800);
    expect(snap.peers.find((p) => p.id === b)?.state).toBe('active');
    expect(snap.peers.find((p) => p.id === b)?.leftReason).toBeUndefined();
    expect(snap.events.map((e) => e.kind)).toEqual(['join', 'join', 'leave', 'join']);
    expect(snap.swarm.meanLoss).toBe(1.5);
  });

  it('forgets departed and stale peers after forgetAfterMs, keeps active ones', () => {
    const rand = prng(6);
    const s = new SwarmStatus({ heartbeatIntervalMs: 1000, forgetAfterMs: 10_000 });
    const [a, b, c] = [fakePeerId(rand), fakePeerId(rand), fakePeerId(rand)];
    s.ingest(heartbeat(rand), a, T0);
    s.ingest(heartbeat(rand), b, T0);
    s.ingestLeave({ round: 1, reason: 'bye' }, b, T0 + 1);
    for (let t = T0; t <= T0 + 12_000; t += 1000) s.ingest(heartbeat(rand), c, t);
    const ids = s.snapshot(T0 + 12_000).peers.map((p) => p.id);
    expect(ids).toEqual([c]);
  });
});

/** Plain reference of the swarm totals over the latest heartbeat of each active trainer. */
function reference(latest: Map<string, HeartbeatInfo>) {
  const trainers = [...latest.values()].filter((h) => h.role === 'trainer');
  const losses = trainers.filter((h) => h.loss !== null).map((h) => h.loss as number);
  const counts = new Map<number, number>();
  for (const h of trainers) counts.set(h.round, (counts.get(h.round) ?? 0) + 1);
  const sorted = [...counts].sort((x, y) => y[1] - x[1] || y[0] - x[0]);
  return {
    maxRound: Math.max(0, ...trainers.map((h) => h.round)),
    majorityRound: sorted[0]?.[0] ?? 0,
    trainers: trainers.length,
    observers: latest.size - trainers.length,
    samplesPerSec: trainers.reduce((a, h) => a + h.samplesPerSec, 0),
    meanLoss: losses.length === 0 ? null : losses.reduce((a, b) => a + b, 0) / losses.length,
    bytesIn: [...latest.values()].reduce((a, h) => a + h.bytesIn, 0),
  };
}

describe('SwarmStatus: swarm totals and loss curve', () => {
  it('matches a plain reference over random swarms (observers and missing losses included)', () => {
    for (let seed = 10; seed < 30; seed++) {
      const rand = prng(seed);
      // Peers beat irregularly here: a very tolerant staleness keeps them all active, as the reference assumes.
      const s = new SwarmStatus({ lossSampleIntervalMs: 0, staleAfterMissed: 10_000 });
      const ids = Array.from({ length: 2 + Math.floor(rand() * 8) }, () => fakePeerId(rand));
      const latest = new Map<string, HeartbeatInfo>();
      let t = T0;
      for (let i = 0; i < 60; i++) {
        const id = ids[Math.floor(rand() * ids.length)];
        const hb = heartbeat(rand, {
          round: Math.floor(rand() * 4),
          loss: rand() < 0.2 ? null : rand() * 5,
          role: rand() < 0.15 ? 'observer' : 'trainer',
        });
        t += 10;
        s.ingest(hb, id, t);
        latest.set(id, hb);
      }
      const snap = s.snapshot(t);
      const ref = reference(latest);
      expect(snap.swarm.maxRound).toBe(ref.maxRound);
      expect(snap.swarm.majorityRound).toBe(ref.majorityRound);
      expect(snap.swarm.trainers).toBe(ref.trainers);
      expect(snap.swarm.observers).toBe(ref.observers);
      expect(snap.swarm.samplesPerSec).toBeCloseTo(ref.samplesPerSec, 9);
      expect(snap.swarm.bytesIn).toBe(ref.bytesIn);
      if (ref.meanLoss === null) expect(snap.swarm.meanLoss).toBeNull();
      else expect(snap.swarm.meanLoss).toBeCloseTo(ref.meanLoss, 12);
      // The last curve point is the mean at the last heartbeat.
      const last = snap.lossCurve.at(-1);
      if (ref.meanLoss !== null) {
        expect(last?.time).toBe(t);
        expect(last?.loss).toBeCloseTo(ref.meanLoss, 12);
        expect(last?.round).toBe(ref.majorityRound);
      }
    }
  });

  it('samples the loss curve at most once per interval, over active trainers only', () => {
    const rand = prng(40);
    const s = new SwarmStatus({ lossSampleIntervalMs: 1000, heartbeatIntervalMs: 500 });
    const [a, b, o] = [fakePeerId(rand), fakePeerId(rand), fakePeerId(rand)];
    s.ingest(heartbeat(rand, { loss: 2, round: 1 }), a, T0);
    s.ingest(heartbeat(rand, { loss: 4, round: 1 }), b, T0 + 100); // within the interval: no point
    s.ingest(heartbeat(rand, { loss: null, role: 'observer' }), o, T0 + 200);
    s.ingest(heartbeat(rand, { loss: 1, round: 2 }), a, T0 + 1000);
    let curve = s.snapshot(T0 + 1000).lossCurve;
    expect(curve).toEqual([
      { time: T0, round: 1, loss: 2, peers: 1 },
      { time: T0 + 1000, round: 2, loss: 2.5, peers: 2 },
    ]);
    // b goes stale (no heartbeat for 3 × 500 ms): the next point is a's loss alone.
    s.ingest(heartbeat(rand, { loss: 0.5, round: 3 }), a, T0 + 2000);
    curve = s.snapshot(T0 + 2000).lossCurve;
    expect(curve.at(-1)).toEqual({ time: T0 + 2000, round: 3, loss: 0.5, peers: 1 });
  });

  it('keeps memory bounded: peers, curve points and events', () => {
    const rand = prng(50);
    const s = new SwarmStatus({ maxPeers: 50, lossCurvePoints: 64, maxEvents: 20, lossSampleIntervalMs: 0 });
    const ids: string[] = [];
    let t = T0;
    for (let i = 0; i < 2000; i++) {
      const id = fakePeerId(rand);
      ids.push(id);
      t += 5;
      s.ingest(heartbeat(rand), id, t);
      if (i % 3 === 0) s.ingestLeave({ round: 1, reason: 'x' }, id, t + 1);
    }
    const snap = s.snapshot(t + 2);
    expect(s.size).toBe(50);
    expect(snap.peers).toHaveLength(50);
    expect(snap.lossCurve).toHaveLength(64);
    expect(snap.events).toHaveLength(20);
    // The newest peer is kept, and so are the newest points and events (oldest first).
    expect(snap.peers.some((p) => p.id === ids.at(-1))).toBe(true);
    expect(snap.lossCurve.at(-1)?.time).toBe(t);
    const times = snap.lossCurve.map((p) => p.time);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(snap.events.at(-1)?.peer).toBe(ids.at(-1));
  });

  it('evicts departed peers before active ones when full', () => {
    const rand = prng(51);
    const s = new SwarmStatus({ maxPeers: 3 });
    const [a, b, c, d] = [fakePeerId(rand), fakePeerId(rand), fakePeerId(rand), fakePeerId(rand)];
    s.ingest(heartbeat(rand), a, T0);
    s.ingest(heartbeat(rand), b, T0 + 1);
    s.ingest(heartbeat(rand), c, T0 + 2);
    s.ingestLeave({ round: 1, reason: 'x' }, c, T0 + 3);
    s.ingest(heartbeat(rand), d, T0 + 4);
    expect(new Set(s.snapshot(T0 + 5).peers.map((p) => p.id))).toEqual(new Set([a, b, d]));
  });
});

describe('SwarmStatus: hostile input', () => {
  const rand = prng(60);
  const good = heartbeat(rand);
  const id = fakePeerId(rand);
  const cases: Array<[string, unknown, string]> = [
    ['negative round', { ...good, round: -1 }, 'heartbeat.round'],
    ['fractional step', { ...good, step: 1.5 }, 'heartbeat.step'],
    ['infinite loss', { ...good, loss: Number.POSITIVE_INFINITY }, 'heartbeat.loss'],
    ['NaN samples/s', { ...good, samplesPerSec: Number.NaN }, 'heartbeat.samplesPerSec'],
    ['string bytes', { ...good, bytesIn: '12' }, 'heartbeat.bytesIn'],
    ['no hardware', { ...good, hardware: null }, 'heartbeat.hardware'],
    [
      'numeric provider',
      { ...good, hardware: { ...good.hardware, provider: 7 } },
      'heartbeat.hardware.provider',
    ],
    ['bad role', { ...good, role: 'admin' }, 'heartbeat.role'],
    ['not an object', 42, 'heartbeat'],
  ];
  for (const [what, hb, field] of cases) {
    it(`rejects ${what} naming ${field}`, () => {
      const s = new SwarmStatus();
      let err: unknown;
      try {
        s.ingest(hb as HeartbeatInfo, id, T0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidHeartbeatError);
      expect((err as InvalidHeartbeatError).field).toBe(field);
      expect((err as InvalidHeartbeatError).code).toBe('ERR_INSPECTOR_INVALID_HEARTBEAT');
      expect(s.size).toBe(0);
    });
  }

  it('rejects bad peer ids and times', () => {
    const s = new SwarmStatus();
    expect(() => s.ingest(good, '', T0)).toThrow(InvalidHeartbeatError);
    expect(() => s.ingest(good, 'x'.repeat(200), T0)).toThrow(/fromPeerId/);
    expect(() => s.ingest(good, 'a\x1bb', T0)).toThrow(/control characters/);
    expect(() => s.ingest(good, id, Number.NaN)).toThrow(/receivedAt/);
    expect(() => s.ingestLeave({ round: 1, reason: 3 as unknown as string }, id, T0)).toThrow(/leave.reason/);
    expect(() => s.snapshot(-1)).toThrow(/now/);
  });

  it('validates its options', () => {
    expect(() => new SwarmStatus({ staleAfterMissed: 0 })).toThrow(InvalidOptionError);
    expect(() => new SwarmStatus({ maxPeers: 1.5 })).toThrow(/maxPeers/);
    expect(() => new SwarmStatus({ lossCurvePoints: -3 })).toThrow(/lossCurvePoints/);
  });
});
