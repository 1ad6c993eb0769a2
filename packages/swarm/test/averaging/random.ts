import { uniformSource } from '@enjambre/core';
/** Seeded PRNG helpers for the averaging tests (the core generator + Box–Muller). */
export function rng(seed: number): () => number {
  return uniformSource(seed);
}

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function gaussianArray(n: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => gaussian(rand) * scale);
}

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

export function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
