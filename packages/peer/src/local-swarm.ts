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

/**
 * Ports tried by {@link freePort}: below Linux's default ephemeral range (32768–60999), from which
 * the kernel picks both `listen(0)` ports and the source ports of outgoing connections. A port
 * found there with `listen(0)` was taken by a peer's outgoing connection before the peer could
 * listen on it (EADDRINUSE, seen in docs/swarm-benchmarks.md).
 */
const LOCAL_PORT_RANGE = { min: 20_000, max: 32_767 } as const;

/** A TCP port on 127.0.0.1 that was free a moment ago, outside the ephemeral range when possible. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port =
      LOCAL_PORT_RANGE.min + Math.floor(Math.random() * (LOCAL_PORT_RANGE.max - LOCAL_PORT_RANGE.min + 1));
    if ((await tryListen(port)) === port) return port;
  }
  const any = await tryListen(0);
  if (any === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return any;
}

/** Listens on `port` (0: any) and closes again; resolves with the port, or undefined when it is taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(got));
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
