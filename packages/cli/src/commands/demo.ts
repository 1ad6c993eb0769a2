import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig, trainingConfigHash } from '@enjambre/config';
import { createObserver } from '@enjambre/inspector';
import { demoConfig, planLocalSwarm } from '@enjambre/peer';
import { observe } from '../observe.ts';
import { table, UsageError } from '../output.ts';
import { bytes, interruptSignal } from '../progress.ts';
import type { Command } from './command.ts';

/** Each peer runs this same CLI, the same way (compiled, or from the sources under tsx). */
const SELF = [...process.execArgv, process.argv[1]];

export const demo: Command = {
  name: 'demo',
  usage: `Usage: enjambre demo [--peers N] [--rounds N] [--web PORT] [--no-web] [--dir DIR]

Starts N peers on this machine, each its own process with its own share of a built-in task
(generated from a seed, no download), training together over real libp2p connections on
127.0.0.1, and shows the swarm inspector: the terminal view here and the web dashboard at
http://127.0.0.1:PORT. Ctrl-C stops every peer cleanly.

  --peers N    peers to start (default 3)
  --rounds N   averaging rounds to run (default 30)
  --web PORT   web dashboard port (default 8321; 0 picks a free one)
  --no-web     no web dashboard
  --dir DIR    where configs, logs and checkpoints go (default .enjambre/demo)`,
  options: {
    peers: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '30' },
    web: { type: 'string', default: '8321' },
    'no-web': { type: 'boolean', default: false },
    dir: { type: 'string', default: '.enjambre/demo' },
  },
  async run(values) {
    const n = Number(values.peers);
    const rounds = Number(values.rounds);
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new UsageError(`--peers must be 1..16, got ${values.peers}`);
    if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a positive integer`);
    const dir = resolve(values.dir as string);
    await rm(dir, { recursive: true, force: true });
    const plan = await planLocalSwarm({
      dir,
      peers: n,
      base: demoConfig(rounds),
      runId: `demo-${process.pid}`,
    });
    const config = await loadConfig(plan.peers[0].config);
    process.stderr.write(`starting ${n} peers (configs and logs in ${dir})…\n`);

    const signal = interruptSignal(() => {
      process.stderr.write('\nstopping the peers…\n');
      for (const c of children) c.kill('SIGINT');
    });
    const results = new Map<number, Record<string, unknown>>();
    const children: ChildProcess[] = plan.peers.map((p) => {
      const child = spawn(
        process.execPath,
        [
          ...SELF,
          'join',
          '--config',
          p.config,
          '--max-rounds',
          String(rounds),
          '--min-peers',
          String(n),
          '--json',
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, FORCE_COLOR: '0' },
        },
      );
      child.stderr?.pipe(createWriteStream(resolve(dir, `peer-${p.index}.log`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          results.set(p.index, JSON.parse(line) as Record<string, unknown>);
        } catch {
          // Not the final JSON line.
        }
      });
      return child;
    });
    const exited = Promise.all(
      children.map((c) => new Promise<number | null>((r) => c.on('exit', (code) => r(code)))),
    );

    const observer = await createObserver({
      runId: plan.runId,
      compatHash: trainingConfigHash(config),
      bootstrap: plan.peers.map((p) => p.address),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      bootstrapWaitMs: 15_000,
    });
    const done = new AbortController();
    void exited.then(() => setTimeout(() => done.abort(), 1500));
    try {
      await observe(observer, {
        webPort: values['no-web'] ? undefined : Number(values.web),
        terminal: true,
        signal: AbortSignal.any([signal, done.signal]),
        onWeb: (url) => process.stderr.write(`web dashboard: ${url}\n`),
      });
    } finally {
      await observer.stop();
    }
    const codes = await exited;
    console.log(
      `\n${table(
        ['peer', 'exit', 'rounds', 'val loss', 'val acc', 'sent', 'received', 'anchor'],
        plan.peers.map((p) => {
          const r = results.get(p.index);
          return [
            `peer-${p.index}`,
            String(codes[p.index]),
            String(r?.rounds ?? '-'),
            typeof r?.valLoss === 'number' ? r.valLoss.toFixed(4) : '-',
            typeof r?.valAccuracy === 'number' ? `${(100 * r.valAccuracy).toFixed(1)}%` : '-',
            typeof r?.bytesSent === 'number' ? bytes(r.bytesSent) : '-',
            typeof r?.bytesReceived === 'number' ? bytes(r.bytesReceived) : '-',
            typeof r?.anchorHash === 'string' ? r.anchorHash.slice(0, 12) : '-',
          ];
        }),
      )}`,
    );
    return codes.every((c) => c === 0) ? 0 : 1;
  },
};
