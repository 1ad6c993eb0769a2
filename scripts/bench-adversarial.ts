/**
 * Attack suite: honest peers as `enjambre join` processes on this machine (libp2p over 127.0.0.1), attackers
 * as real peers built from the project's node and wire code with a hostile behaviour from
 * packages/swarm/test/fixtures/hostile.ts (a module only this suite and the tests import). Each scenario runs
 * against a clean run of the same seed and reports the honest peers' accuracy, crashes, anchors at the end and
 * peak resident memory.
 *
 * Run: npx tsx scripts/bench-adversarial.ts [--quick] [--json FILE] [--only a,b,...] [--rounds N]
 *        [--honest N] [--attackers N] [--parallel N] [--data-from DIR|URL]
 *   --quick     4 honest + 1 attacking peer (5 peers) on the synthetic task, 8 rounds of H = 20
 *   (default)   6 honest + 2 attacking peers (8 peers) on mnist-mlp, 10 rounds of H = 100; the data comes
 *               through the product's dataset cache (--data-from or ENJAMBRE_DATA_MIRROR for a local mirror)
 *   The Sybil scenario is one attacker behind 3 identities, whatever --attackers says.
 *   --parallel  scenarios run at once (each its own run id and ports)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { CodecName } from '@enjambre/compress';
import { loadConfig } from '@enjambre/config';
import { planLocalSwarm, setupTraining } from '@enjambre/peer';
import { type Attack, type Attacker, startAttacker } from '../packages/swarm/test/fixtures/hostile.ts';
import { benchmarkDataset, DATA_FROM_OPTION } from './datasets.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/bin/enjambre.js');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    rounds: { type: 'string' },
    honest: { type: 'string' },
    attackers: { type: 'string' },
    parallel: { type: 'string', default: '1' },
    ...DATA_FROM_OPTION,
  },
});
const ROUNDS = Number(args.rounds ?? (args.quick ? 8 : 10));
const HONEST = Number(args.honest ?? (args.quick ? 4 : 6));
const ATTACKERS = Number(args.attackers ?? (args.quick ? 1 : 2));

interface Scenario {
  name: string;
  attack?: Attack;
  attackers: number;
  /** A fault instead of (or besides) an attack: SIGKILL of the first honest peer (the others' bootstrap) mid-run. */
  kill?: boolean;
}
const SCENARIOS: Scenario[] = [
  { name: 'sign flip ×10', attack: 'sign-flip', attackers: ATTACKERS },
  { name: 'scaling ×100', attack: 'scale', attackers: ATTACKERS },
  { name: 'ALIE', attack: 'alie', attackers: ATTACKERS },
  { name: 'inner-product manipulation', attack: 'ipm', attackers: ATTACKERS },
  { name: 'NaN/Inf', attack: 'nan', attackers: ATTACKERS },
  { name: 'Gaussian noise', attack: 'gaussian', attackers: ATTACKERS },
  { name: 'replay of old updates', attack: 'replay', attackers: ATTACKERS },
  { name: 'Sybil (3 identities, sign flip)', attack: 'sign-flip', attackers: 3 },
  { name: 'fake rounds and resync hijack', attack: 'fake-rounds', attackers: ATTACKERS },
  { name: 'bad snapshot: round 2^32-1', attack: 'snapshot-round-max', attackers: ATTACKERS },
  { name: 'bad snapshot: NaN momentum', attack: 'snapshot-nan-momentum', attackers: ATTACKERS },
  { name: 'oversize announcements', attack: 'oversize', attackers: ATTACKERS },
  { name: 'trickled fetches', attack: 'trickle', attackers: ATTACKERS },
  { name: 'request spam', attack: 'request-spam', attackers: ATTACKERS },
  { name: 'silent trainers', attack: 'silent', attackers: ATTACKERS },
  { name: 'SIGKILL of the first peer', attackers: 0, kill: true },
];

/** The task: the synthetic one for --quick, else mnist-mlp as in docs/swarm.md (H = 100). */
async function baseConfig(): Promise<Record<string, unknown>> {
  if (args.quick)
    return {
      hardware: { intraOpThreads: 1 },
      model: { kind: 'mlp', hidden: [64] },
      data: { format: 'synthetic', seed: 3, examples: 4000, features: 16, classes: 4 },
      training: { batchSize: 32, stepsPerRun: 10, evalBatches: 8, optimizer: { kind: 'adamw', lr: 3e-3 } },
      swarm: { averaging: { innerSteps: 20, roundTimeoutMs: 3000 } },
    };
  const mnist = (await benchmarkDataset('mnist', args['data-from'])).files;
  return {
    hardware: { intraOpThreads: 1 },
    model: { kind: 'mlp', hidden: [256, 256], activation: 'relu' },
    data: {
      format: 'mnist',
      trainImages: mnist['train-images-idx3-ubyte.gz'],
      trainLabels: mnist['train-labels-idx1-ubyte.gz'],
      testImages: mnist['t10k-images-idx3-ubyte.gz'],
      testLabels: mnist['t10k-labels-idx1-ubyte.gz'],
    },
    training: { batchSize: 64, evalBatches: 2, optimizer: { kind: 'adamw', lr: 1e-3 } },
    swarm: { averaging: { innerSteps: 100, roundTimeoutMs: 10_000 } },
  };
}
const base = await baseConfig();

interface Result {
  name: string;
  peers: number;
  attackers: number;
  cleanAccuracy: number;
  honestAccuracy: number;
  drop: number;
  honestCrashes: number;
  anchorsAtEnd: number;
  maxRssMB: number;
}

/** Peak resident memory of a process so far (VmHWM), MiB; 0 once it is gone. */
function peakRssMB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function runScenario(s: Scenario | undefined, index: number) {
  const dir = await mkdtemp(join(tmpdir(), 'enjambre-adversarial-'));
  const plan = await planLocalSwarm({ dir, peers: HONEST, base, runId: `adv-${index}-${Date.now()}` });
  const setup = await setupTraining(await loadConfig(plan.peers[0].config));
  const shared = setup.compiled.params.map((p) => ({
    name: p.name,
    length: p.dims.reduce((a, b) => a * b, 1),
  }));
  const codec = setup.config.swarm.averaging.codec as CodecName;
  await setup.data.close();
  const started = Date.now();
  const procs = plan.peers.map((p) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'join',
        '--config',
        p.config,
        '--max-rounds',
        String(ROUNDS),
        '--min-peers',
        String(HONEST),
        '--json',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
    );
    let json: { valAccuracy?: number; anchorHash?: string } | undefined;
    const log: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        json = JSON.parse(l);
      } catch {}
    });
    const rounds = new Set<(line: string) => void>();
    createInterface({ input: child.stderr! }).on('line', (l) => {
      log.push(`${((Date.now() - started) / 1000).toFixed(1)} ${l}`);
      for (const f of rounds) f(l);
    });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssMB(child.pid ?? -1));
    }, 200);
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 100_000);
      child.on('exit', (code, signal) => {
        clearTimeout(killer);
        clearInterval(sampler);
        setTimeout(() => res({ code, signal }), 100);
      });
    });
    /** Resolves once this peer logs that it closed `round`. */
    const reached = (round: number) =>
      new Promise<void>((res) => {
        const f = (line: string) => {
          if (line.includes(`round ${round}:`)) {
            rounds.delete(f);
            res();
          }
        };
        rounds.add(f);
      });
    return { child, done, json: () => json, peak: () => peak, log, reached };
  });
  const killed = new Set<number>();
  if (s?.kill) {
    // The first peer is every other peer's bootstrap: losing it must not stop the run.
    void procs[0].reached(Math.floor(ROUNDS / 2)).then(() => {
      killed.add(0);
      procs[0].child.kill('SIGKILL');
    });
  }
  // Attackers dial the honest peers while those start (the dial is retried until they listen).
  const attackers: Attacker[] =
    s?.attack === undefined
      ? []
      : await Promise.all(
          Array.from({ length: s.attackers }, (_, i) =>
            startAttacker({
              attack: s.attack!,
              runId: plan.runId,
              compatHash: setup.configHash,
              bootstrap: plan.peers.map((p) => p.address),
              shared,
              codec,
              seed: 1000 + i,
            }),
          ),
        );
  const exits = await Promise.all(procs.map((p) => p.done));
  await Promise.all(attackers.map((a) => a.stop().catch(() => {})));
  const survivors = procs.map((_, i) => i).filter((i) => !killed.has(i));
  const ok = survivors.filter((i) => exits[i].code === 0 && procs[i].json() !== undefined);
  const jsons = ok.map((i) => procs[i].json()!);
  const accuracy = jsons.reduce((a, j) => a + (j.valAccuracy ?? 0), 0) / Math.max(1, jsons.length);
  return {
    accuracy,
    crashes: survivors.length - ok.length,
    anchors: new Set(jsons.map((j) => j.anchorHash)).size,
    maxRssMB: Math.max(...survivors.map((i) => procs[i].peak())),
    logs: procs.map((p) => p.log),
    seconds: (Date.now() - started) / 1000,
  };
}

const selected = args.only
  ? SCENARIOS.filter((s) => args.only!.split(',').some((n) => s.name.includes(n)))
  : SCENARIOS;
const started = Date.now();
const clean = await runScenario(undefined, 0);
process.stderr.write(
  `clean: accuracy ${(100 * clean.accuracy).toFixed(2)}%, crashes ${clean.crashes}, anchors ${clean.anchors}, peak RSS ${clean.maxRssMB.toFixed(0)} MiB, ${clean.seconds.toFixed(0)} s\n`,
);
if (process.env.ENJAMBRE_BENCH_LOGS) for (const l of clean.logs[0]) process.stderr.write(`  | ${l}\n`);
const results: Result[] = [];
/** Scenarios run `--parallel` at a time; each has its own run id and ports. */
const queue = [...selected.entries()];
async function worker() {
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [i, s] = next;
    const r = await runScenario(s, i + 1);
    const row: Result = {
      name: s.name,
      peers: HONEST + s.attackers,
      attackers: s.attackers,
      cleanAccuracy: clean.accuracy,
      honestAccuracy: r.accuracy,
      drop: clean.accuracy - r.accuracy,
      honestCrashes: r.crashes,
      anchorsAtEnd: r.anchors,
      maxRssMB: Math.round(r.maxRssMB),
    };
    results[i] = row;
    process.stderr.write(
      `${s.name}: accuracy ${(100 * r.accuracy).toFixed(2)}% (drop ${(100 * row.drop).toFixed(2)} points), crashes ${r.crashes}, anchors ${r.anchors}, peak RSS ${row.maxRssMB} MiB, ${r.seconds.toFixed(0)} s\n`,
    );
    if (r.crashes > 0 || r.anchors > 1 || process.env.ENJAMBRE_BENCH_LOGS)
      for (const [p, log] of r.logs.entries())
        for (const l of log.slice(-40)) process.stderr.write(`  ${p}| ${l}\n`);
  }
}
await Promise.all(Array.from({ length: Number(args.parallel) }, worker));
const rows = results.filter((r) => r !== undefined);
const table = [
  '| scenario | peers | attackers | clean | honest | drop (points) | crashes | anchors | peak RSS MiB |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  `| clean | ${HONEST} | 0 | ${(100 * clean.accuracy).toFixed(2)} | ${(100 * clean.accuracy).toFixed(2)} | 0 | ${clean.crashes} | ${clean.anchors} | ${clean.maxRssMB.toFixed(0)} |`,
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.peers} | ${r.attackers} | ${(100 * r.cleanAccuracy).toFixed(2)} | ${(100 * r.honestAccuracy).toFixed(2)} | ${(100 * r.drop).toFixed(2)} | ${r.honestCrashes} | ${r.anchorsAtEnd} | ${r.maxRssMB} |`,
  ),
];
process.stdout.write(`${table.join('\n')}\n\nwall time ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
if (args.json) await writeFile(args.json, `${JSON.stringify({ scenarios: rows }, null, 2)}\n`);
process.exit(0);
