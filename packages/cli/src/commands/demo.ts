import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig, trainingConfigHash } from '@enjambre/config';
import { createObserver } from '@enjambre/inspector';
import { demoConfig, planLocalSwarm } from '@enjambre/peer';
import { log } from '../log.ts';
import { observe } from '../observe.ts';
import { table, UsageError } from '../output.ts';
import { bytes, interruptSignal } from '../progress.ts';
import type { Command } from './command.ts';

/** Each peer runs this same CLI, the same way (compiled, or from the sources under tsx). */
const SELF = [...process.execArgv, process.argv[1]];

/** Rounds the demo's learning-rate schedule is laid out for when it trains until Ctrl-C. */
const UNBOUNDED_SCHEDULE_ROUNDS = 100_000;

export const demo: Command = {
  name: 'demo',
  usage: `Usage: enjambre demo [--peers N] [--rounds N] [--web PORT] [--no-web] [--dir DIR]

Starts N peers on this machine, each its own process with its own share of a built-in task
(generated from a seed, no download), training together over real libp2p connections on
127.0.0.1, and shows the swarm inspector: the terminal view here and the web dashboard at
http://127.0.0.1:PORT. The swarm trains, and the dashboard stays up, until Ctrl-C, which stops
every peer cleanly (each writes its checkpoint).

  --peers N    peers to start (default 3)
  --rounds N   stop the peers after N averaging rounds (default: train until Ctrl-C); the
               dashboard stays up until Ctrl-C
  --web PORT   web dashboard port (default 8321; 0 picks a free one)
  --no-web     no web dashboard
  --dir DIR    where configs, logs, metrics and checkpoints go (default .enjambre/demo)`,
  options: {
    peers: { type: 'string', default: '3' },
    rounds: { type: 'string' },
    web: { type: 'string', default: '8321' },
    'no-web': { type: 'boolean', default: false },
    dir: { type: 'string', default: '.enjambre/demo' },
  },
  async run(values) {
    const n = Number(values.peers);
    const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new UsageError(`--peers must be 1..16, got ${values.peers}`);
    if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1))
      throw new UsageError(`--rounds must be a positive integer, got ${values.rounds}`);
    const webPort = values['no-web'] ? undefined : Number(values.web);
    if (webPort !== undefined && (!Number.isInteger(webPort) || webPort < 0 || webPort > 65535))
      throw new UsageError(`--web takes a port number (0-65535), got ${values.web}`);
    const dir = resolve(values.dir as string);
    await rm(dir, { recursive: true, force: true });
    const plan = await planLocalSwarm({
      dir,
      peers: n,
      base: demoConfig(rounds ?? UNBOUNDED_SCHEDULE_ROUNDS),
      runId: `demo-${process.pid}`,
    });
    const config = await loadConfig(plan.peers[0].config);
    log().info(`starting ${n} peers (configs, logs and metrics in ${dir})…`);

    const interrupt = interruptSignal(() => {
      log().info('stopping the peers…');
      for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
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
          ...(rounds === undefined ? [] : ['--max-rounds', String(rounds)]),
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
    const summary = (codes: (number | null)[]) =>
      table(
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
      );

    const observer = await createObserver({
      runId: plan.runId,
      compatHash: trainingConfigHash(config),
      bootstrap: plan.peers.map((p) => p.address),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      bootstrapWaitMs: 15_000,
    });
    // When the peers are done (--rounds), the terminal view gives way to their summary; the web
    // dashboard stays up until Ctrl-C.
    const peersDone = new AbortController();
    let webUrl: string | undefined;
    let printed = false;
    void exited.then((codes) => {
      peersDone.abort();
      if (interrupt.aborted) return;
      printed = true;
      console.log(`\n${summary(codes)}`);
      log().info(
        webUrl
          ? `the peers finished; the web dashboard stays up at ${webUrl}: press Ctrl-C to quit`
          : 'the peers finished',
      );
    });
    const header = () =>
      `${rounds === undefined ? 'The swarm trains until you press Ctrl-C.' : `The swarm trains ${rounds} rounds; Ctrl-C stops it sooner.`}${webUrl ? ` Web dashboard: ${webUrl}` : ''}`;
    try {
      await observe(observer, {
        webPort,
        terminal: true,
        // Without a web dashboard there is nothing left to show once the peers are done.
        signal: webPort === undefined ? AbortSignal.any([interrupt, peersDone.signal]) : interrupt,
        terminalSignal: peersDone.signal,
        header,
        onWeb: (url) => {
          webUrl = url;
          log().info(`web dashboard: ${url} (up until Ctrl-C)`);
        },
      });
    } finally {
      await observer.stop();
    }
    const codes = await exited;
    if (!printed) console.log(`\n${summary(codes)}`);
    return codes.every((c) => c === 0) ? 0 : 1;
  },
};
