import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '@enjambre/swarm';
import { stringify } from 'yaml';

/** A swarm of peers on this machine: one config file per peer, every peer bootstrapping to all others. */
export interface LocalSwarmPlan {
  runId: string;
  peers: { index: number; config: string; peerId: string; address: string }[];
}

export interface LocalSwarmOptions {
  /** Folder for the configs, identities and checkpoints (created). */
  dir: string;
  peers: number;
  /**
   * The config shared by every peer, as a plain object (node, swarm.listen, swarm.bootstrap and
   * swarm.identityFile are filled in per peer). Data paths must be absolute.
   */
  base: Record<string, unknown>;
  runId: string;
  /** Gives peer i its own data shard (synthetic data: `data.shard`). Default: true for synthetic data. */
  shard?: boolean;
}

/**
 * Writes the configs of a local swarm. Ports are chosen free now and identities created now,
 * so that every config can name every other peer (a full mesh: any peer may leave, the first
 * one included, without cutting the others off).
 */
export async function planLocalSwarm(opts: LocalSwarmOptions): Promise<LocalSwarmPlan> {
  await mkdir(opts.dir, { recursive: true });
  const peers: LocalSwarmPlan['peers'] = [];
  for (let i = 0; i < opts.peers; i++) {
    const port = await freePort();
    const identityFile = join(opts.dir, `peer-${i}`, 'identity.key');
    await mkdir(join(opts.dir, `peer-${i}`), { recursive: true });
    const { peerId } = await loadOrCreateIdentity(identityFile);
    peers.push({
      index: i,
      config: join(opts.dir, `peer-${i}.yaml`),
      peerId,
      address: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`,
    });
  }
  const base = opts.base as {
    data?: Record<string, unknown>;
    swarm?: Record<string, unknown>;
    node?: object;
  };
  const shard = opts.shard ?? base.data?.format === 'synthetic';
  for (const p of peers) {
    const config = {
      ...base,
      node: { ...(base.node ?? {}), name: `peer-${p.index}`, workDir: join(opts.dir, `peer-${p.index}`) },
      data: shard ? { ...base.data, shard: p.index } : base.data,
      swarm: {
        ...(base.swarm ?? {}),
        runId: opts.runId,
        mdns: false,
        listen: [p.address.replace(/\/p2p\/.*$/, '')],
        bootstrap: peers.filter((q) => q !== p).map((q) => q.address),
        identityFile: join(opts.dir, `peer-${p.index}`, 'identity.key'),
      },
    };
    await writeFile(
      p.config,
      `# peer ${p.index} of a local Enjambre swarm (generated)\n${stringify(config)}`,
    );
  }
  return { runId: opts.runId, peers };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The built-in default task: a 10-class problem generated from a seed (no files), an MLP,
 * short rounds. On 2 CPU cores its loss falls visibly within a minute.
 */
export function demoConfig(rounds: number): Record<string, unknown> {
  return {
    model: { kind: 'mlp', hidden: [256, 256], activation: 'relu' },
    data: { format: 'synthetic', seed: 7, examples: 20000, features: 32, classes: 10 },
    training: {
      batchSize: 128,
      optimizer: { kind: 'adamw', lr: 1.0e-3 },
      stepsPerRun: 10,
      evalBatches: 4,
      maxSteps: rounds * 50,
    },
    swarm: { averaging: { innerSteps: 50, codec: 'sign' } },
  };
}
