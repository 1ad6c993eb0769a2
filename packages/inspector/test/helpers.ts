import { uniformSource } from '@enjambre/core';
import type { HeartbeatInfo } from '../src/index.ts';

/** Seeded PRNG (the core generator). */
export function prng(seed: number): () => number {
  return uniformSource(seed);
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
