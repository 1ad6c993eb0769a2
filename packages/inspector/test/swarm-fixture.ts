/**
 * A small real swarm for tests: trainer nodes (real libp2p over TCP on 127.0.0.1) that publish heartbeats with
 * a falling, noisy loss, and an observer bootstrapped to them.
 */
import { randomBytes } from 'node:crypto';
import { createSwarmNode, type SwarmNode } from '@enjambre/swarm';
import { createObserver, type Observer, type ObserverOptions } from '../src/index.ts';
import { prng } from './helpers.ts';

export interface SwarmFixture {
  runId: string;
  compatHash: string;
  trainers: SwarmNode[];
  observer: Observer;
  /** Heartbeats published so far, per trainer. */
  published: number[];
  /** The last loss published by each trainer. */
  lastLoss: (number | null)[];
  /** Stops publishing heartbeats (the nodes stay up). */
  pause(): void;
  /** Makes trainer `i` announce its departure and stop. */
  leave(i: number, reason?: string): Promise<void>;
  stop(): Promise<void>;
}

export interface SwarmFixtureOptions {
  trainers?: number;
  /** Heartbeat interval of the trainers, ms. */
  heartbeatMs?: number;
  seed?: number;
  observer?: Partial<ObserverOptions>;
}

const PROVIDERS = ['cpu', 'cuda', 'webgpu'];

export async function startSwarmFixture(options: SwarmFixtureOptions = {}): Promise<SwarmFixture> {
  const n = options.trainers ?? 2;
  const heartbeatMs = options.heartbeatMs ?? 200;
  const rand = prng(options.seed ?? 1);
  const runId = `inspect-${randomBytes(4).toString('hex')}`;
  const compatHash = randomBytes(32).toString('hex');
  const common = {
    runId,
    compatHash,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    gossipHeartbeatMs: 100,
    bootstrapDelayMs: 0,
  };
  const trainers: SwarmNode[] = [];
  trainers.push(await createSwarmNode(common));
  const seedAddr = trainers[0].multiaddrs()[0];
  for (let i = 1; i < n; i++) trainers.push(await createSwarmNode({ ...common, bootstrap: [seedAddr] }));
  const observer = await createObserver({
    ...common,
    bootstrap: [seedAddr],
    ...options.observer,
    status: { heartbeatIntervalMs: heartbeatMs, lossSampleIntervalMs: 0, ...options.observer?.status },
  });

  const published = trainers.map(() => 0);
  const lastLoss: (number | null)[] = trainers.map(() => null);
  const stopped = new Set<number>();
  const bytes = trainers.map(() => ({ in: 1 + Math.floor(rand() * 1e5), out: 1 + Math.floor(rand() * 1e5) }));
  let tick = 0;
  const beat = async (): Promise<void> => {
    tick++;
    await Promise.all(
      trainers.map(async (node, i) => {
        if (stopped.has(i) || node.topicPeers('heartbeats').length === 0) return;
        const step = tick * 10 + i;
        const loss = 2.5 * Math.exp(-tick / 30) + 0.1 * (i + 1) + rand() * 0.05;
        bytes[i].in += Math.floor(rand() * 50_000);
        bytes[i].out += Math.floor(rand() * 50_000);
        try {
          await node.publishHeartbeat({
            round: Math.floor(tick / 10),
            step,
            samplesDone: step * 32,
            loss,
            samplesPerSec: 100 + rand() * 400,
            bytesIn: bytes[i].in,
            bytesOut: bytes[i].out,
            hardware: {
              provider: PROVIDERS[i % PROVIDERS.length],
              deviceName: `test-device-${i}`,
              cores: 4 + i,
            },
            fingerprint: Float32Array.from({ length: 8 }, () => rand() - 0.5),
            role: 'trainer',
          });
          published[i]++;
          lastLoss[i] = loss;
        } catch {
          // no mesh peer yet: the next tick retries
        }
      }),
    );
  };
  const timer = setInterval(() => void beat(), heartbeatMs);

  return {
    runId,
    compatHash,
    trainers,
    observer,
    published,
    lastLoss,
    pause() {
      clearInterval(timer);
    },
    async leave(i, reason = 'test departure') {
      stopped.add(i);
      await trainers[i].publishLeave(0, reason);
      await new Promise((r) => setTimeout(r, 200));
      await trainers[i].stop();
    },
    async stop() {
      clearInterval(timer);
      await observer.stop();
      await Promise.all(trainers.map((t) => t.stop()));
    },
  };
}

/** Waits until `cond` holds, polling; throws after `ms`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
