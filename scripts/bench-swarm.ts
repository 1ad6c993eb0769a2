/**
 * Swarm benchmarks: real peers as separate OS processes (`enjambre join`) on this machine, over
 * libp2p on 127.0.0.1, against single-node runs (`enjambre train`) on the same number of samples.
 *
 *   mnist        8 peers × 1000 local steps (H = 50 × 20 rounds, batch 64, AdamW 1e-3, sign codec,
 *                own data.seed per peer), test accuracy of the final anchor, bytes sent against an fp32
 *                all-reduce of gradients every step; single node 8000 × 64 and 1000 × 512.
 *   shakespeare  4 peers × 500 local steps (H = 50 × 10 rounds, batch 12) of nanoGPT's CPU config,
 *                validation loss of the final anchor; single node 2000 × 12 and 500 × 48.
 *
 * Run: npx tsx scripts/bench-swarm.ts [--workload mnist|shakespeare|all] [--out DIR]
 *        [--mnist-steps N] [--mnist-baseline-steps N] [--shakespeare-steps N] [--inner-steps H]
 *        [--codec sign|int8|fp16|fp32|topk] [--round-timeout-ms MS (0: protocol default)]
 *        [--inline-max-bytes N (0: default)] [--outer-lr X] [--outer-momentum X] [--skip-baselines]
 *        [--steps-per-run K (shakespeare: optimizer steps per onnxruntime call, default 1)]
 *        [--data-from DIR|URL (a dataset mirror; default $ENJAMBRE_DATA_MIRROR, else the public URLs)]
 * Writes per-process logs (timestamped stderr) and results-<workload>.json under --out
 * (default .enjambre/bench-swarm) and prints markdown tables.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FULL_TEXT_EVAL_WINDOWS, planLocalSwarm } from '@enjambre/peer';
import { readCheckpoint } from '@enjambre/runtime';
import { parse, stringify } from 'yaml';
import { benchmarkDataset, DATA_FROM_OPTION } from './datasets.ts';
import {
  SHAKESPEARE_VAL_CHARS,
  shakespeareConfig,
  shakespeareWarmup,
  writeShakespeareFile,
} from './shakespeare-workload.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/bin/enjambre.js');

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'all' },
    out: { type: 'string', default: '.enjambre/bench-swarm' },
    'mnist-peers': { type: 'string', default: '8' },
    'mnist-steps': { type: 'string', default: '1000' },
    'mnist-baseline-steps': { type: 'string', default: '8000' },
    'shakespeare-peers': { type: 'string', default: '4' },
    'shakespeare-steps': { type: 'string', default: '500' },
    'inner-steps': { type: 'string', default: '50' },
    'round-timeout-ms': { type: 'string', default: '20000' },
    codec: { type: 'string', default: 'sign' },
    'inline-max-bytes': { type: 'string', default: '0' },
    'outer-lr': { type: 'string' },
    'outer-momentum': { type: 'string' },
    'skip-baselines': { type: 'boolean', default: false },
    'steps-per-run': { type: 'string', default: '1' },
    ...DATA_FROM_OPTION,
  },
});
const OUT = resolve(args.out as string);
const H = Number(args['inner-steps']);
/**
 * swarm.averaging.roundTimeoutMs of the peers (0: the protocol's default, min(30 s, 0.25 × the
 * inner phase), at least 10 s since the runs below were measured; at least 1 s before). A local setting, not part of the config hash. The wait ends as soon
 * as every active peer's update is in, so a long timeout only costs time when a peer is gone; the
 * default (about 1 s for these short inner phases) is shorter than the skew between 8 processes
 * time-sharing 2 cores: see docs/swarm-benchmarks.md.
 */
const ROUND_TIMEOUT_MS = Number(args['round-timeout-ms']);
/** swarm.averaging.inlineMaxBytes (0: the default, 256 KiB): updates above it go by hash over direct streams. */
const INLINE_MAX_BYTES = Number(args['inline-max-bytes']);
const averaging = (codec: string) => ({
  innerSteps: H,
  codec,
  ...(ROUND_TIMEOUT_MS > 0 ? { roundTimeoutMs: ROUND_TIMEOUT_MS } : {}),
  ...(INLINE_MAX_BYTES > 0 ? { inlineMaxBytes: INLINE_MAX_BYTES } : {}),
  ...(args['outer-lr'] !== undefined ? { outerLr: Number(args['outer-lr']) } : {}),
  ...(args['outer-momentum'] !== undefined ? { outerMomentum: Number(args['outer-momentum']) } : {}),
});

/** Sum of a byte counter over the peers that reported it. */
function sumOf(peers: PeerSummary[], key: 'gossipSent' | 'streamSent'): number {
  return peers.reduce((a, p) => a + (Number.isFinite(p[key]) ? p[key] : 0), 0);
}

// ---------------------------------------------------------------- processes

interface ProcResult {
  name: string;
  code: number | null;
  json: Record<string, unknown> | undefined;
  /** stderr lines with the ms since the process started. */
  lines: { t: number; text: string }[];
  wallMs: number;
}

function runCli(
  name: string,
  argv: string[],
  logFile: string,
): { child: ChildProcess; done: Promise<ProcResult> } {
  const start = Date.now();
  const child = spawn(process.execPath, [BIN, ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const log = createWriteStream(logFile);
  const lines: ProcResult['lines'] = [];
  let json: Record<string, unknown> | undefined;
  createInterface({ input: child.stderr! }).on('line', (text) => {
    const t = Date.now() - start;
    lines.push({ t, text });
    log.write(`[${(t / 1000).toFixed(1).padStart(7)}s] ${text}\n`);
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    log.write(`[stdout] ${text}\n`);
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not the JSON line
    }
  });
  const done = new Promise<ProcResult>((res) => {
    child.on('exit', (code) => {
      // Let the readline interfaces drain.
      setTimeout(() => {
        log.end();
        res({ name, code, json, lines, wallMs: Date.now() - start });
      }, 200);
    });
  });
  return { child, done };
}

// ---------------------------------------------------------------- machine load and wire bytes

class LoadSampler {
  private readonly samples: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  start(): this {
    this.samples.push(loadavg()[0]);
    this.timer = setInterval(() => this.samples.push(loadavg()[0]), 5_000);
    return this;
  }
  stop(): { min: number; mean: number; max: number; samples: number } {
    clearInterval(this.timer);
    this.samples.push(loadavg()[0]);
    const s = this.samples;
    return {
      min: Math.min(...s),
      mean: s.reduce((a, b) => a + b, 0) / s.length,
      max: Math.max(...s),
      samples: s.length,
    };
  }
}

/**
 * TCP payload bytes really written by the peers, from the kernel's per-socket `bytes_sent`
 * (`ss -ti`), polled while the swarm runs: every socket with one end on a peer's listen port.
 * This includes everything the counters of the swarm package leave out (gossipsub forwarding
 * and control, identify, noise encryption, yamux framing); not IP/TCP headers.
 */
class WireMonitor {
  private readonly sent = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private polls = 0;
  constructor(private readonly ports: Set<number>) {}

  start(): this {
    const tick = async () => {
      await this.poll();
      if (!this.stopped) this.timer = setTimeout(tick, 500);
    };
    void tick();
    return this;
  }

  private poll(): Promise<void> {
    return new Promise((res) => {
      execFile('ss', ['-tinH', 'state', 'established'], { maxBuffer: 64 << 20 }, (err, stdout) => {
        if (!err) this.parse(stdout);
        this.polls++;
        res();
      });
    });
  }

  private parse(text: string): void {
    let key: string | undefined;
    for (const line of text.split('\n')) {
      const m = /^\s*\d+\s+\d+\s+(\S+)\s+(\S+)/.exec(line);
      if (m && !line.startsWith('\t')) {
        const lp = Number(m[1].slice(m[1].lastIndexOf(':') + 1));
        const rp = Number(m[2].slice(m[2].lastIndexOf(':') + 1));
        key = this.ports.has(lp) || this.ports.has(rp) ? `${m[1]}>${m[2]}` : undefined;
        continue;
      }
      if (!key) continue;
      const b = /bytes_sent:(\d+)/.exec(line);
      if (b) this.sent.set(key, Math.max(this.sent.get(key) ?? 0, Number(b[1])));
      key = undefined;
    }
  }

  async stop(): Promise<{ bytesSent: number; sockets: number; polls: number }> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.poll();
    let total = 0;
    for (const v of this.sent.values()) total += v;
    return { bytesSent: total, sockets: this.sent.size, polls: this.polls };
  }
}

// ---------------------------------------------------------------- swarm runs

interface RoundLine {
  round: number;
  loss: number;
  valLoss?: number;
  valAcc?: number;
  contributors: number;
  /** Of which updates of earlier rounds. */
  late: number;
  method: string;
  peers: number;
  outBytes: number;
  inBytes: number;
  trainS: number;
  waitS: number;
  /** ms since the process started, when the line was printed. */
  at: number;
}

const ROUND_RE =
  /^round (\d+): loss ([\d.]+|NaN)(?:, val ([\d.]+))?(?: \(([\d.]+)%\))?, (\d+) update\(s\)(?: \((\d+) late\))? \[([^\]]+)\], peers (\d+), out ([\d.]+) (B|KiB|MiB|GiB) in ([\d.]+) (B|KiB|MiB|GiB), ([\d.]+)s train \+ ([\d.]+)s wait/;
const UNIT: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

function roundLines(p: ProcResult): RoundLine[] {
  const out: RoundLine[] = [];
  for (const { t, text } of p.lines) {
    const m = ROUND_RE.exec(text);
    if (!m) continue;
    out.push({
      round: Number(m[1]),
      loss: Number(m[2]),
      valLoss: m[3] === undefined ? undefined : Number(m[3]),
      valAcc: m[4] === undefined ? undefined : Number(m[4]) / 100,
      contributors: Number(m[5]),
      late: Number(m[6] ?? 0),
      method: m[7],
      peers: Number(m[8]),
      outBytes: Number(m[9]) * UNIT[m[10]],
      inBytes: Number(m[11]) * UNIT[m[12]],
      trainS: Number(m[13]),
      waitS: Number(m[14]),
      at: t,
    });
  }
  return out;
}

interface PeerSummary {
  index: number;
  exit: number | null;
  rounds: number;
  localSteps: number;
  valLoss: number;
  valAccuracy: number | null;
  bytesSent: number;
  bytesReceived: number;
  /** bytesSent split by channel: gossip messages this peer published, and direct streams (blobs, snapshots). */
  gossipSent: number;
  streamSent: number;
  peersSeen: number;
  anchorHash: string;
  wallS: number;
  /** Until the first round began: start-up, data, compile, waiting for the other peers. */
  setupS: number;
  trainS: number;
  waitS: number;
  /** Per-round evaluation and bookkeeping between rounds. */
  betweenS: number;
  /** After the last round: settle on one anchor, full evaluation, checkpoint, leave. */
  finalS: number;
  notices: string[];
  roundLog: RoundLine[];
}

interface SwarmResult {
  peers: PeerSummary[];
  wallS: number;
  load: ReturnType<LoadSampler['stop']>;
  wire: Awaited<ReturnType<WireMonitor['stop']>>;
  params: number;
  sameAnchor: boolean;
}

async function runSwarm(
  name: string,
  base: Record<string, unknown>,
  n: number,
  rounds: number,
  seedOf: (i: number) => number,
): Promise<SwarmResult> {
  const dir = join(OUT, name);
  await rm(dir, { recursive: true, force: true });
  const plan = await planLocalSwarm({ dir, peers: n, base, runId: `bench-${name}-${process.pid}` });
  // Every peer shuffles its copy of the data with its own seed.
  for (const p of plan.peers) {
    const text = await readFile(p.config, 'utf8');
    const cfg = parse(text) as { data: Record<string, unknown> };
    cfg.data.seed = seedOf(p.index);
    await writeFile(p.config, `# peer ${p.index} (bench-swarm)\n${stringify(cfg)}`);
  }
  const ports = new Set(plan.peers.map((p) => Number(/\/tcp\/(\d+)/.exec(p.address)![1])));
  const load = new LoadSampler().start();
  const wire = new WireMonitor(ports).start();
  const t0 = Date.now();
  const procs = plan.peers.map((p) =>
    runCli(
      `peer-${p.index}`,
      ['join', '--config', p.config, '--max-rounds', String(rounds), '--min-peers', String(n), '--json'],
      join(dir, `peer-${p.index}.log`),
    ),
  );
  const results = await Promise.all(procs.map((p) => p.done));
  const wallS = (Date.now() - t0) / 1000;
  const wireStats = await wire.stop();
  const loadStats = load.stop();

  const peers: PeerSummary[] = [];
  let params = 0;
  for (const [i, r] of results.entries()) {
    const rl = roundLines(r);
    const j = r.json ?? {};
    let localSteps = Number.NaN;
    try {
      const ck = await readCheckpoint(join(dir, `peer-${i}`, 'swarm-checkpoint.safetensors'));
      localSteps = Number(ck.metadata.step);
      if (params === 0)
        for (const [k, t] of Object.entries(ck.tensors))
          if (!k.startsWith('optimizer/') && !k.startsWith('outer/')) params += t.data.length;
    } catch {
      // no checkpoint: the peer failed
    }
    const trainS = rl.reduce((a, x) => a + x.trainS, 0);
    const waitS = rl.reduce((a, x) => a + x.waitS, 0);
    const first = rl[0];
    const last = rl.at(-1);
    const setupS = first ? first.at / 1000 - first.trainS - first.waitS : r.wallMs / 1000;
    const finalS = last ? (r.wallMs - last.at) / 1000 : 0;
    peers.push({
      index: i,
      exit: r.code,
      rounds: Number(j.rounds ?? Number.NaN),
      localSteps,
      valLoss: Number(j.valLoss ?? Number.NaN),
      valAccuracy: typeof j.valAccuracy === 'number' ? j.valAccuracy : null,
      bytesSent: Number(j.bytesSent ?? Number.NaN),
      bytesReceived: Number(j.bytesReceived ?? Number.NaN),
      gossipSent: Number((j.traffic as Record<string, unknown> | undefined)?.gossipSent ?? Number.NaN),
      streamSent: Number((j.traffic as Record<string, unknown> | undefined)?.streamSent ?? Number.NaN),
      peersSeen: Number(j.peersSeen ?? Number.NaN),
      anchorHash: String(j.anchorHash ?? '-'),
      wallS: r.wallMs / 1000,
      setupS,
      trainS,
      waitS,
      betweenS: r.wallMs / 1000 - setupS - trainS - waitS - finalS,
      finalS,
      notices: r.lines.map((l) => l.text).filter((t) => t.startsWith('note:') || /error/i.test(t)),
      roundLog: rl,
    });
  }
  const hashes = new Set(peers.map((p) => p.anchorHash));
  return { peers, wallS, load: loadStats, wire: wireStats, params, sameAnchor: hashes.size === 1 };
}

interface SingleResult {
  label: string;
  steps: number;
  batch: number;
  valLoss: number;
  valAccuracy: number | null;
  seconds: number;
  wallS: number;
  exit: number | null;
  load: ReturnType<LoadSampler['stop']>;
}

async function runSingle(
  name: string,
  label: string,
  base: Record<string, unknown>,
  overrides: { steps: number; batch: number; warmup?: number },
): Promise<SingleResult> {
  const dir = join(OUT, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const b = structuredClone(base) as {
    training: Record<string, unknown> & { lrSchedule?: Record<string, unknown> };
    hardware?: Record<string, unknown>;
    swarm?: unknown;
    node?: unknown;
  };
  b.training.batchSize = overrides.batch;
  b.training.maxSteps = overrides.steps;
  if (overrides.warmup !== undefined && b.training.lrSchedule)
    b.training.lrSchedule = { ...b.training.lrSchedule, warmupSteps: overrides.warmup };
  // The single node has the whole machine: onnxruntime's default thread count (the cores).
  delete b.hardware;
  delete b.swarm;
  b.node = { name, workDir: dir };
  const config = join(dir, 'config.yaml');
  await writeFile(config, `# ${label} (bench-swarm)\n${stringify(b)}`);
  const load = new LoadSampler().start();
  const r = await runCli(name, ['train', '--config', config, '--json'], join(dir, 'train.log')).done;
  const j = r.json ?? {};
  return {
    label,
    steps: Number(j.steps ?? Number.NaN),
    batch: overrides.batch,
    valLoss: Number(j.valLoss ?? Number.NaN),
    valAccuracy: typeof j.valAccuracy === 'number' ? j.valAccuracy : null,
    seconds: Number(j.seconds ?? Number.NaN),
    wallS: r.wallMs / 1000,
    exit: r.code,
    load: load.stop(),
  };
}

// ---------------------------------------------------------------- reporting

function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const fmtLoad = (l: SingleResult['load']) =>
  `${l.min.toFixed(2)} / ${l.mean.toFixed(2)} / ${l.max.toFixed(2)}`;

function swarmTables(s: SwarmResult, metric: 'acc' | 'loss'): string {
  const peerRows = s.peers.map((p) => [
    `peer-${p.index}`,
    String(p.exit),
    p.rounds,
    p.localSteps,
    metric === 'acc' ? `${(100 * (p.valAccuracy ?? Number.NaN)).toFixed(2)}%` : p.valLoss.toFixed(4),
    fmtBytes(p.bytesSent),
    fmtBytes(p.bytesReceived),
    p.anchorHash.slice(0, 12),
    p.wallS.toFixed(1),
    p.setupS.toFixed(1),
    p.trainS.toFixed(1),
    p.waitS.toFixed(1),
    p.betweenS.toFixed(1),
    p.finalS.toFixed(1),
  ]);
  const peersTable = table(
    [
      'peer',
      'exit',
      'rounds',
      'local steps',
      metric === 'acc' ? 'test acc' : 'val loss',
      'sent',
      'received',
      'anchor',
      'wall s',
      'setup+join s',
      'train s',
      'wait s',
      'eval/between s',
      'settle+final eval s',
    ],
    peerRows,
  );
  const rounds = Math.max(...s.peers.map((p) => p.roundLog.length));
  const roundRows: (string | number)[][] = [];
  for (let r = 0; r < rounds; r++) {
    const ls = s.peers.map((p) => p.roundLog[r]).filter((x) => x !== undefined);
    const sum = (f: (x: RoundLine) => number) => ls.reduce((a, x) => a + f(x), 0);
    const contrib = ls.map((x) => x.contributors);
    const late = Math.max(...ls.map((x) => x.late));
    const val = ls.find((x) => x.valLoss !== undefined);
    roundRows.push([
      r,
      `${Math.min(...contrib)}–${Math.max(...contrib)}${late > 0 ? ` (up to ${late} late)` : ''}`,
      (sum((x) => x.loss) / ls.length).toFixed(4),
      metric === 'acc' && val?.valAcc !== undefined
        ? `${(100 * val.valAcc).toFixed(2)}%`
        : val?.valLoss !== undefined
          ? val.valLoss.toFixed(4)
          : '-',
      fmtBytes(sum((x) => x.outBytes)),
      fmtBytes(sum((x) => x.outBytes) / ls.length),
      (sum((x) => x.trainS) / ls.length).toFixed(2),
      (sum((x) => x.waitS) / ls.length).toFixed(2),
    ]);
  }
  const roundsTable = table(
    [
      'round',
      'updates aggregated (min–max over peers)',
      'mean train loss',
      metric === 'acc' ? 'anchor acc (peer eval)' : 'anchor val loss (20 batches)',
      'sent, all peers',
      'sent per peer',
      'train s (mean)',
      'wait s (mean)',
    ],
    roundRows,
  );
  return `${peersTable}\n\n${roundsTable}`;
}

async function writeResults(name: string, data: unknown): Promise<void> {
  await writeFile(join(OUT, `results-${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

// ---------------------------------------------------------------- workloads

async function benchMnist(): Promise<void> {
  const n = Number(args['mnist-peers']);
  const steps = Number(args['mnist-steps']);
  const rounds = Math.ceil(steps / H);
  const baselineSteps = Number(args['mnist-baseline-steps']);
  const mnist = (await benchmarkDataset('mnist', args['data-from'])).files;
  const base = {
    model: { kind: 'mlp', hidden: [256, 256], activation: 'relu' },
    data: {
      format: 'mnist',
      trainImages: mnist['train-images-idx3-ubyte.gz'],
      trainLabels: mnist['train-labels-idx1-ubyte.gz'],
      testImages: mnist['t10k-images-idx3-ubyte.gz'],
      testLabels: mnist['t10k-labels-idx1-ubyte.gz'],
    },
    // n processes share the cores: one onnxruntime thread each.
    hardware: { intraOpThreads: 1 },
    training: {
      batchSize: 64,
      optimizer: { kind: 'adamw', lr: 1.0e-3 },
      maxSteps: steps,
      evalEvery: 0,
      // The per-round evaluation of the anchor: 2 × 500 test images (the final one takes all 10,000).
      evalBatches: 2,
    },
    swarm: { averaging: averaging(args.codec as string) },
  };
  console.error(`mnist-mlp: ${n} peers × ${rounds} rounds × H ${H}…`);
  const swarm = await runSwarm('mnist-swarm', base, n, rounds, (i) => 101 + i);
  const P = swarm.params;
  const localSteps = swarm.peers.reduce((a, p) => a + (Number.isFinite(p.localSteps) ? p.localSteps : 0), 0);
  const allreducePerPeerStep = (2 * (n - 1) * 4 * P) / n;
  const allreduce = allreducePerPeerStep * steps * n;
  const sent = swarm.peers.reduce((a, p) => a + (Number.isFinite(p.bytesSent) ? p.bytesSent : 0), 0);
  const baselines: SingleResult[] = [];
  if (!args['skip-baselines']) {
    console.error(`mnist-mlp: single node ${baselineSteps} steps × 64…`);
    baselines.push(
      await runSingle('mnist-single-64', `single node, ${baselineSteps} steps × batch 64`, base, {
        steps: baselineSteps,
        batch: 64,
      }),
    );
    console.error(`mnist-mlp: single node ${steps} steps × ${64 * n}…`);
    baselines.push(
      await runSingle('mnist-single-512', `single node, ${steps} steps × batch ${64 * n}`, base, {
        steps,
        batch: 64 * n,
      }),
    );
  }
  const acc = swarm.peers.map((p) => p.valAccuracy ?? Number.NaN).filter(Number.isFinite);
  const summary = {
    machine: machine(),
    peers: n,
    innerSteps: H,
    rounds,
    params: P,
    localStepsTotal: localSteps,
    samplesTotal: localSteps * 64,
    testAccuracy: { min: Math.min(...acc), max: Math.max(...acc) },
    sameAnchor: swarm.sameAnchor,
    peersOk: swarm.peers.filter((p) => p.exit === 0).length,
    roundTimeoutMs: ROUND_TIMEOUT_MS > 0 ? ROUND_TIMEOUT_MS : 'protocol default',
    codec: args.codec,
    averaging: averaging(args.codec as string),
    bytesSentCounter: sent,
    bytesSentWire: swarm.wire.bytesSent,
    allreduceBytes: allreduce,
    ratioCounter: allreduce / sent,
    ratioWire: allreduce / swarm.wire.bytesSent,
    swarmWallS: swarm.wallS,
    swarmLoad: swarm.load,
    baselines,
  };
  await writeResults('mnist', { summary, swarm });
  console.log(
    `\n## mnist-mlp: ${n} peers × ${steps} local steps (${machine()}; averaging ${JSON.stringify(summary.averaging)})\n`,
  );
  console.log(`peers that finished (exit 0): ${summary.peersOk} of ${n}\n`);
  console.log(swarmTables(swarm, 'acc'));
  console.log(
    `\nparameters P = ${P.toLocaleString('en')}; local steps done, all peers: ${localSteps} (${(localSteps * 64).toLocaleString('en')} samples)`,
  );
  console.log(
    `test accuracy of the final anchor: ${(100 * summary.testAccuracy.min).toFixed(2)}%–${(100 * summary.testAccuracy.max).toFixed(2)}%; same anchor on every peer: ${swarm.sameAnchor}`,
  );
  console.log(
    `bytes sent, swarm counters (sum of bytesSent): ${fmtBytes(sent)}; on the wire (TCP payload, ss): ${fmtBytes(swarm.wire.bytesSent)} over ${swarm.wire.sockets} sockets`,
  );
  console.log(
    `of which gossip messages published ${fmtBytes(sumOf(swarm.peers, 'gossipSent'))}, direct streams (blobs, snapshots) ${fmtBytes(sumOf(swarm.peers, 'streamSent'))}`,
  );
  console.log(
    `fp32 all-reduce every step: 2·(N−1)/N·4·P = ${fmtBytes(allreducePerPeerStep)} per peer per step × ${steps} steps × ${n} peers = ${fmtBytes(allreduce)}`,
  );
  console.log(
    `ratio: ${(allreduce / sent).toFixed(0)}× (counters), ${(allreduce / swarm.wire.bytesSent).toFixed(0)}× (wire)`,
  );
  console.log(
    `swarm wall ${swarm.wallS.toFixed(1)} s; load average (1 min) min/mean/max ${fmtLoad(swarm.load)}`,
  );
  if (baselines.length)
    console.log(
      `\n${table(
        ['run', 'steps', 'batch', 'test acc', 'train s', 'wall s', 'load min/mean/max'],
        baselines.map((b) => [
          b.label,
          b.steps,
          b.batch,
          `${(100 * (b.valAccuracy ?? Number.NaN)).toFixed(2)}%`,
          b.seconds.toFixed(1),
          b.wallS.toFixed(1),
          fmtLoad(b.load),
        ]),
      )}`,
    );
}

async function benchShakespeare(): Promise<void> {
  const n = Number(args['shakespeare-peers']);
  const steps = Number(args['shakespeare-steps']);
  const rounds = Math.ceil(steps / H);
  const file = await writeShakespeareFile(args['data-from'], OUT);
  const workload = shakespeareConfig(file, { steps, batchSize: 12, threads: 1 });
  const base = {
    ...workload,
    training: { ...workload.training, stepsPerRun: Number(args['steps-per-run']) },
    swarm: { averaging: averaging(args.codec as string) },
  };
  console.error(`shakespeare-char: ${n} peers × ${rounds} rounds × H ${H}…`);
  const swarm = await runSwarm('shakespeare-swarm', base, n, rounds, (i) => 201 + i);
  const baselines: SingleResult[] = [];
  if (!args['skip-baselines']) {
    console.error(`shakespeare-char: single node ${steps * n} steps × 12…`);
    baselines.push(
      await runSingle('shakespeare-single-12', `single node, ${steps * n} steps × batch 12`, base, {
        steps: steps * n,
        batch: 12,
        warmup: shakespeareWarmup(steps * n),
      }),
    );
    console.error(`shakespeare-char: single node ${steps} steps × ${12 * n}…`);
    baselines.push(
      await runSingle('shakespeare-single-48', `single node, ${steps} steps × batch ${12 * n}`, base, {
        steps,
        batch: 12 * n,
        warmup: shakespeareWarmup(steps),
      }),
    );
  }
  const P = swarm.params;
  const sent = swarm.peers.reduce((a, p) => a + (Number.isFinite(p.bytesSent) ? p.bytesSent : 0), 0);
  const localSteps = swarm.peers.reduce((a, p) => a + (Number.isFinite(p.localSteps) ? p.localSteps : 0), 0);
  const allreduce = ((2 * (n - 1) * 4 * P) / n) * steps * n;
  const losses = swarm.peers.map((p) => p.valLoss).filter(Number.isFinite);
  const summary = {
    machine: machine(),
    peers: n,
    innerSteps: H,
    rounds,
    params: P,
    validationChars: SHAKESPEARE_VAL_CHARS,
    localStepsTotal: localSteps,
    tokensTotal: localSteps * 12 * 64,
    valLoss: { min: Math.min(...losses), max: Math.max(...losses) },
    sameAnchor: swarm.sameAnchor,
    peersOk: swarm.peers.filter((p) => p.exit === 0).length,
    roundTimeoutMs: ROUND_TIMEOUT_MS > 0 ? ROUND_TIMEOUT_MS : 'protocol default',
    codec: args.codec,
    averaging: averaging(args.codec as string),
    bytesSentCounter: sent,
    bytesSentWire: swarm.wire.bytesSent,
    allreduceBytes: allreduce,
    ratioCounter: allreduce / sent,
    ratioWire: allreduce / swarm.wire.bytesSent,
    swarmWallS: swarm.wallS,
    swarmLoad: swarm.load,
    baselines,
  };
  await writeResults('shakespeare', { summary, swarm });
  console.log(
    `\n## shakespeare-char: ${n} peers × ${steps} local steps (${machine()}; averaging ${JSON.stringify(summary.averaging)})\n`,
  );
  console.log(`peers that finished (exit 0): ${summary.peersOk} of ${n}\n`);
  console.log(swarmTables(swarm, 'loss'));
  console.log(
    `\nparameters P = ${P.toLocaleString('en')}; local steps, all peers: ${localSteps} (${(localSteps * 12 * 64).toLocaleString('en')} tokens)`,
  );
  console.log(
    `validation loss of the final anchor (${FULL_TEXT_EVAL_WINDOWS} of the ${SHAKESPEARE_VAL_CHARS - 64} windows, spread evenly, the same for every run): ${summary.valLoss.min.toFixed(4)}–${summary.valLoss.max.toFixed(4)}; same anchor on every peer: ${swarm.sameAnchor}`,
  );
  console.log(
    `of which gossip messages published ${fmtBytes(sumOf(swarm.peers, 'gossipSent'))}, direct streams (blobs, snapshots) ${fmtBytes(sumOf(swarm.peers, 'streamSent'))}`,
  );
  console.log(
    `bytes sent: ${fmtBytes(sent)} (counters), ${fmtBytes(swarm.wire.bytesSent)} (wire); fp32 all-reduce every step ${fmtBytes(allreduce)}: ${(allreduce / sent).toFixed(0)}× / ${(allreduce / swarm.wire.bytesSent).toFixed(0)}×`,
  );
  console.log(
    `swarm wall ${swarm.wallS.toFixed(1)} s; load average (1 min) min/mean/max ${fmtLoad(swarm.load)}`,
  );
  if (baselines.length)
    console.log(
      `\n${table(
        [
          'run',
          'steps',
          'batch',
          'tokens',
          'val loss',
          'swarm − single',
          'train s',
          'wall s',
          'load min/mean/max',
        ],
        baselines.map((b) => [
          b.label,
          b.steps,
          b.batch,
          (b.steps * b.batch * 64).toLocaleString('en'),
          b.valLoss.toFixed(4),
          (summary.valLoss.max - b.valLoss).toFixed(4),
          b.seconds.toFixed(1),
          b.wallS.toFixed(1),
          fmtLoad(b.load),
        ]),
      )}`,
    );
}

const workload = args.workload as string;
if (!['mnist', 'shakespeare', 'all'].includes(workload)) {
  console.error(`--workload must be mnist, shakespeare or all, got ${workload}`);
  process.exit(2);
}
await mkdir(OUT, { recursive: true });
if (workload === 'mnist' || workload === 'all') await benchMnist();
if (workload === 'shakespeare' || workload === 'all') await benchShakespeare();
