import { randomBytes } from 'node:crypto';
import { uniformSource } from '@enjambre/core';
import { afterEach } from 'vitest';
import { createSwarmNode, type SwarmNode, type SwarmNodeOptions } from '../src/index.ts';

/** Seeded PRNG (the core generator). */
export function prng(seed: number): () => number {
  return uniformSource(seed);
}

/** Random bytes from a seeded PRNG (never all zero). */
export function seededBytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  if (n > 0) out[0] |= 1;
  return out;
}

export const randomRunId = (): string => `test-${randomBytes(6).toString('hex')}`;
export const randomHash = (): string => randomBytes(32).toString('hex');

const started: SwarmNode[] = [];

/** Registers an afterEach hook that stops every node created through {@link startNode}. */
export function stopNodesAfterEach(): void {
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.stop()));
  });
}

/** Creates and starts a node on 127.0.0.1 with an ephemeral port; stopped by {@link stopNodesAfterEach}. */
export async function startNode(
  options: Partial<SwarmNodeOptions> & { runId: string; compatHash: string },
): Promise<SwarmNode> {
  const node = await createSwarmNode({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    gossipHeartbeatMs: 100,
    ...options,
  });
  started.push(node);
  return node;
}

/** Waits until `cond` holds, polling; throws after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
