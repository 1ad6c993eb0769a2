import type { HeartbeatInfo } from '../src/index.ts';

/** Seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic-looking libp2p peer id (base58 alphabet), seeded. */
export function fakePeerId(rand: () => number): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let s = '12D3KooW';
  for (let i = 0; i < 44; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

/** A heartbeat with random, non-zero numbers; `over` replaces fields. */
export function heartbeat(rand: () => number, over: Partial<HeartbeatInfo> = {}): HeartbeatInfo {
  return {
    round: 1 + Math.floor(rand() * 10),
    step: 1 + Math.floor(rand() * 1000),
    samplesDone: 1 + Math.floor(rand() * 100_000),
    loss: 0.1 + rand() * 3,
    samplesPerSec: 1 + rand() * 500,
    bytesIn: 1 + Math.floor(rand() * 1e8),
    bytesOut: 1 + Math.floor(rand() * 1e8),
    hardware: {
      provider: rand() < 0.5 ? 'cpu' : 'cuda',
      deviceName: 'Test Device',
      cores: 1 + Math.floor(rand() * 32),
    },
    role: 'trainer',
    ...over,
  };
}
