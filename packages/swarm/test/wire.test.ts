import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  type HeartbeatMessage,
  type LeaveMessage,
  MAX_FINGERPRINT_LENGTH,
  safeDecodeMessage,
  type UpdateMessage,
  WIRE_VERSION,
  WireDecodeError,
  WireEncodeError,
} from '../src/index.ts';
import { prng, seededBytes } from './helpers.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function sampleUpdate(seed: number, inline = true): UpdateMessage {
  return {
    type: 'update',
    runId: 'run-01.a_b',
    compatHash: hex(seededBytes(32, seed)),
    round: 12345,
    sender: '12D3KooWHdwNGGJxpH2zyypbwmHvb8ikoeWHtF6n5mjUuvLWbNsX',
    samples: 640_000,
    anchorHash: hex(seededBytes(32, seed + 1)),
    codec: 'sign1',
    payload: inline
      ? { kind: 'inline', bytes: seededBytes(5000, seed + 2) }
      : { kind: 'hash', hash: hex(seededBytes(32, seed + 3)), byteLength: 123_456_789 },
  };
}

function sampleHeartbeat(seed: number): HeartbeatMessage {
  const r = prng(seed);
  return {
    type: 'heartbeat',
    runId: 'r1',
    compatHash: 'abcdef01',
    round: 7,
    step: 350,
    samplesDone: 2 ** 40 + 3,
    loss: 0.1 + r(),
    samplesPerSec: 1000 * r(),
    bytesIn: 123,
    bytesOut: 2 ** 33,
    hardware: { provider: 'cuda', deviceName: 'NVIDIA H200 — ünïcode', cores: 16 },
    fingerprint: Float32Array.from({ length: 16 }, () => r() * 2 - 1),
    role: 'observer',
    addrs: [`/ip4/127.0.0.1/tcp/${1024 + Math.floor(r() * 60000)}/p2p/12D3KooWExample`, '/ip6/::1/tcp/4001'],
  };
}

describe('wire format', () => {
  it('round-trips updates (inline and by hash), heartbeats and leaves', () => {
    for (const msg of [sampleUpdate(1), sampleUpdate(2, false), sampleHeartbeat(3)]) {
      const back = decodeMessage(encodeMessage(msg));
      expect(back).toEqual(msg);
    }
    const leave: LeaveMessage = {
      type: 'leave',
      runId: 'r',
      compatHash: '00ff',
      round: 3,
      reason: 'SIGTERM',
    };
    expect(decodeMessage(encodeMessage(leave))).toEqual(leave);
    const noLoss = { ...sampleHeartbeat(4), loss: null };
    expect(decodeMessage(encodeMessage(noLoss)).type).toBe('heartbeat');
    expect((decodeMessage(encodeMessage(noLoss)) as HeartbeatMessage).loss).toBeNull();
  });

  it('bounds the listen addresses a heartbeat carries', () => {
    const many = {
      ...sampleHeartbeat(11),
      addrs: Array.from({ length: 9 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`),
    };
    expect(() => encodeMessage(many)).toThrow(/heartbeat\.addrs/);
    const long = { ...sampleHeartbeat(12), addrs: [`/dns4/${'a'.repeat(300)}/tcp/1`] };
    expect(() => encodeMessage(long)).toThrow(/heartbeat\.addrs\[0\]/);
    // A decoder facing a count above the bound refuses before reading on.
    const ok = { ...sampleHeartbeat(13), addrs: ['/ip4/1.2.3.4/tcp/5'] };
    const b = encodeMessage(ok);
    const countAt = b.length - 1 - 1 - ok.addrs[0].length;
    expect(b[countAt]).toBe(1);
    b[countAt] = 9;
    expect(() => decodeMessage(b)).toThrow(/heartbeat\.addrs/);
    const none = { ...sampleHeartbeat(14), addrs: undefined };
    expect('addrs' in decodeMessage(encodeMessage(none))).toBe(false);
  });

  it('carries the format version in the third byte', () => {
    const b = encodeMessage(sampleUpdate(5));
    expect(b[2]).toBe(WIRE_VERSION);
    b[2] = WIRE_VERSION + 1;
    expect(() => decodeMessage(b)).toThrow(/unsupported wire version/);
  });

  it('rejects every truncation with a typed error', () => {
    for (const msg of [sampleUpdate(6), sampleUpdate(7, false), sampleHeartbeat(8)]) {
      const full = encodeMessage(msg);
      for (let n = 0; n < full.length; n += n < 200 ? 1 : 97) {
        const res = safeDecodeMessage(full.subarray(0, n));
        expect(res.ok).toBe(false);
        if (!res.ok) expect(res.error).toBeInstanceOf(WireDecodeError);
      }
    }
  });

  it('never throws anything but WireDecodeError on random mutations and garbage', () => {
    const r = prng(42);
    const base = encodeMessage(sampleHeartbeat(9));
    for (let i = 0; i < 3000; i++) {
      const b = i % 3 === 0 ? seededBytes(1 + Math.floor(r() * 400), i) : base.slice();
      if (i % 3 !== 0) {
        const flips = 1 + Math.floor(r() * 4);
        for (let f = 0; f < flips; f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      }
      try {
        decodeMessage(b);
      } catch (err) {
        expect(err).toBeInstanceOf(WireDecodeError);
      }
    }
  });

  it('checks declared lengths before allocating and enforces the size limit', () => {
    const b = encodeMessage(sampleUpdate(10));
    // payload length field sits just before the payload: announce 2^32-1 bytes
    const payloadLen = 5000;
    const at = b.length - payloadLen - 4;
    new DataView(b.buffer).setUint32(at, 0xffffffff, true);
    expect(() => decodeMessage(b)).toThrow(/update\.payload\.bytes: length 4294967295 exceeds/);
    expect(() => decodeMessage(encodeMessage(sampleUpdate(11)), { maxMessageBytes: 1000 })).toThrow(
      WireDecodeError,
    );
    expect(() => encodeMessage(sampleUpdate(11), { maxMessageBytes: 1000 })).toThrow(WireEncodeError);
    const trailing = new Uint8Array([...encodeMessage(sampleHeartbeat(1)), 0]);
    expect(() => decodeMessage(trailing)).toThrow(/trailing/);
  });

  it('refuses out-of-range values when encoding, naming the field', () => {
    expect(() => encodeMessage({ ...sampleUpdate(1), runId: 'has space' })).toThrow(/runId/);
    expect(() => encodeMessage({ ...sampleUpdate(1), compatHash: 'XYZ' })).toThrow(/compatHash/);
    expect(() => encodeMessage({ ...sampleUpdate(1), samples: 0 })).toThrow(/update\.samples/);
    expect(() => encodeMessage({ ...sampleUpdate(1), round: -1 })).toThrow(/update\.round/);
    expect(() => encodeMessage({ ...sampleUpdate(1), anchorHash: 'ab' })).toThrow(/update\.anchorHash/);
    expect(() =>
      encodeMessage({ ...sampleHeartbeat(1), fingerprint: new Float32Array(MAX_FINGERPRINT_LENGTH + 1) }),
    ).toThrow(/fingerprint/);
    expect(() =>
      encodeMessage({ ...sampleHeartbeat(1), fingerprint: new Float32Array([Number.NaN]) }),
    ).toThrow(/fingerprint\[0\]/);
    expect(() => encodeMessage({ ...sampleHeartbeat(1), samplesPerSec: -1 })).toThrow(/samplesPerSec/);
  });
});

describe('heartbeat anchor hash', () => {
  it('round-trips when present, is absent when not sent, and a bad presence byte is refused', async () => {
    const { decodeMessage: dec, encodeMessage: enc } = await import('../src/wire.ts');
    const base = {
      type: 'heartbeat' as const,
      runId: 'run-1',
      compatHash: 'ab12',
      round: 7,
      step: 70,
      samplesDone: 2240,
      loss: 0.5,
      samplesPerSec: 100,
      bytesIn: 1,
      bytesOut: 2,
      hardware: { provider: 'cpu', deviceName: 'x', cores: 2 },
      fingerprint: Float32Array.from([0.25, -0.5]),
      role: 'trainer' as const,
    };
    const anchorHash = 'c3'.repeat(32);
    const withHash = dec(enc({ ...base, anchorHash }));
    expect(withHash).toMatchObject({ type: 'heartbeat', anchorHash });
    expect(dec(enc(base))).not.toHaveProperty('anchorHash');
    const bytes = enc({ ...base, anchorHash });
    bytes[bytes.length - 33] = 2;
    expect(() => dec(bytes)).toThrow(/heartbeat\.anchorHash\.present/);
  });
});
