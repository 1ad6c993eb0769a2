import { uniformSource } from '@enjambre/core';
/** Seeded PRNG helpers for tests (the core generator + Box–Muller). */
export function rng(seed: number): () => number {
  return uniformSource(seed);
}

export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Fresh gaussian values with standard deviation `scale` (never all zero). */
export function randomUpdate(n: number, seed: number, scale = 0.01): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gaussian(r) * scale;
  return out;
}
