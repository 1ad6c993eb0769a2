/**
 * Training throughput of Enjambre against PyTorch on the reference workloads
 * (docs/workloads.md), side by side in one run.
 *
 *   npx tsx scripts/bench-train.ts [--workload mnist-mlp|mnist-cnn|shakespeare-char|all]
 *       [--seconds 3] [--rounds 5] [--k 10] [--threads 2]
 *       [--variants k1,k50,opt-basic,...] [--base <git-ref>] [--no-torch] [--json out.json]
 *
 * Enjambre runs through the real `Trainer` (K-step Loop runs, `stepsPerRun` K) on fixed random
 * batches held in memory; PyTorch runs the same model and batch (forward + backward + AdamW) in
 * scripts/bench-train-torch.py under Debian's /usr/bin/python3. Both use `--threads` intra-op
 * threads. Measurements are interleaved round by round (order rotated each round) after warm-up;
 * the table shows medians over rounds and the median of the per-round ratios.
 *
 * `--variants` adds Enjambre configurations to the same rounds (see VARIANTS below), and
 * `--base <ref>` adds Enjambre's autograd + runtime code as of a git ref (extracted under
 * node_modules/.cache), so a change is measured before/after in one run.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { CompiledTraining, CompileOptions, TrainableModel } from '@enjambre/autograd';
import * as autograd from '@enjambre/autograd';
import { DEFAULT_STEPS_PER_RUN } from '@enjambre/config';
import type { GraphOptimizationLevel, TrainBatch } from '@enjambre/runtime';
import * as runtime from '@enjambre/runtime';
import * as ort from 'onnxruntime-node';
import {
  buildWorkload,
  initialParams,
  median,
  randomBatches,
  WORKLOAD_IDS,
  type Workload,
  type WorkloadId,
} from './train-workloads.ts';

const ROOT = resolve(import.meta.dirname, '..');
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(import.meta.dirname, 'bench-train-torch.py');

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'all' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    k: { type: 'string', default: String(DEFAULT_STEPS_PER_RUN) },
    threads: { type: 'string', default: '2' },
    variants: { type: 'string', default: '' },
    batches: { type: 'string', default: '50' },
    base: { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const K = Number(args.k);
const THREADS = Number(args.threads);
/**
 * Distinct random batches each side cycles through. With only a few, the models memorise them
 * within a run, gradients shrink into denormal floats and both sides slow down for reasons that
 * real training does not have.
 */
const BATCHES = Number(args.batches);

// ---------------------------------------------------------------- PyTorch set-up

function sh(cmd: string, argv: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function aptInstall(pkg: string, actions: string[]): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${pkg} is missing and this is not root: run \`apt-get install -y ${pkg}\` as root`);
  }
  let r = sh('apt-get', ['install', '-y', '--no-install-recommends', pkg]);
  if (!r.ok) {
    sh('apt-get', ['update']);
    r = sh('apt-get', ['install', '-y', '--no-install-recommends', pkg]);
  }
  if (!r.ok) throw new Error(`apt-get install ${pkg} failed:\n${r.out.slice(-2000)}`);
  actions.push(`installed ${pkg} with apt-get`);
}

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/** Makes sure python3-torch runs on the OpenMP OpenBLAS; returns what it had to do. */
function ensureTorch(): string[] {
  const actions: string[] = [];
  if (!sh(PYTHON, ['-c', 'import torch']).ok) aptInstall('python3-torch', actions);
  // dpkg-query's own format syntax, not a template placeholder.
  const status = sh('dpkg-query', ['-W', `-f=\${Status}`, 'libopenblas0-openmp']).out;
  if (!status.includes('install ok installed')) aptInstall('libopenblas0-openmp', actions);
  const triplet = MULTIARCH[arch()] ?? 'x86_64-linux-gnu';
  for (const lib of ['libblas.so.3', 'liblapack.so.3']) {
    const name = `${lib}-${triplet}`;
    const want = `/usr/lib/${triplet}/openblas-openmp/${lib}`;
    const current = sh('update-alternatives', ['--query', name]).out.match(/^Value: (.*)$/m)?.[1];
    if (current !== want) {
      const r = sh('update-alternatives', ['--set', name, want]);
      if (!r.ok) throw new Error(`update-alternatives --set ${name} ${want} failed: ${r.out}`);
      actions.push(`pointed ${name} at ${want} (was ${current ?? 'unset'})`);
    }
  }
  if (!sh(PYTHON, ['-c', 'import torch']).ok) throw new Error(`${PYTHON} still cannot import torch`);
  return actions;
}

interface TorchReady {
  torch: string;
  threads: number;
  blas: string[];
  blas_config: string[];
  warmup_steps: number;
}

/** A long-lived PyTorch worker: built and warmed up once, then asked for timed runs. */
class TorchWorker {
  private lines: AsyncIterator<string>;
  private constructor(private readonly proc: ReturnType<typeof spawn>) {
    this.lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  }

  static async start(id: WorkloadId): Promise<{ worker: TorchWorker; ready: TorchReady }> {
    const proc = spawn(
      PYTHON,
      [TORCH_SCRIPT, '--workload', id, '--threads', String(THREADS), '--batches', String(BATCHES)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const worker = new TorchWorker(proc);
    const ready = (await worker.next()) as unknown as TorchReady;
    return { worker, ready };
  }

  private async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the PyTorch worker exited');
    return JSON.parse(value) as Record<string, unknown>;
  }

  async run(seconds: number): Promise<number> {
    this.proc.stdin!.write(`run ${seconds}\n`);
    const r = (await this.next()) as { steps: number; seconds: number };
    return r.steps / r.seconds;
  }

  stop(): void {
    this.proc.stdin!.end('quit\n');
  }
}

// ---------------------------------------------------------------- Enjambre contenders

interface Variant {
  /** Steps per Loop run; 1 = single-step graph. */
  k?: number;
  graphOptimizationLevel?: GraphOptimizationLevel;
  interOpThreads?: number;
  intraOpThreads?: number;
  /** Optimizer instead of AdamW (to see what the update costs). */
  optimizer?: CompileOptions['optimizer'];
  /** Merged into the onnxruntime session options. */
  session?: ort.InferenceSession.SessionOptions;
  describe: string;
}

/** Enjambre configurations `--variants` can add (`k<N>` for any N as well). */
const VARIANTS: Record<string, Variant> = {
  'opt-basic': { graphOptimizationLevel: 'basic', describe: 'graph optimisation level basic' },
  'opt-extended': { graphOptimizationLevel: 'extended', describe: 'graph optimisation level extended' },
  'opt-disabled': { graphOptimizationLevel: 'disabled', describe: 'graph optimisations off' },
  'no-arena': { session: { enableCpuMemArena: false }, describe: 'CPU memory arena off' },
  'no-mempattern': { session: { enableMemPattern: false }, describe: 'memory pattern off' },
  'no-spin': {
    session: { extra: { session: { intra_op: { allow_spinning: '0' } } } },
    describe: 'intra-op threads do not spin',
  },
  daz: {
    session: { extra: { session: { set_denormal_as_zero: '1' } } },
    describe: 'denormals flushed to zero',
  },
  parallel: { interOpThreads: 2, describe: 'parallel execution mode, 2 inter-op threads' },
  threads1: { intraOpThreads: 1, describe: '1 intra-op thread' },
  sgd: { optimizer: { kind: 'sgd' }, describe: 'plain SGD instead of AdamW (cost of the update)' },
};

function variantFor(name: string): Variant {
  const k = name.match(/^k(\d+)$/);
  if (k) return { k: Number(k[1]), describe: Number(k[1]) === 1 ? 'single-step runs' : `K=${k[1]}` };
  const v = VARIANTS[name];
  if (!v)
    throw new Error(`unknown variant ${name}; expected k<N> or one of ${Object.keys(VARIANTS).join(', ')}`);
  return v;
}

interface Libs {
  compileTraining: (m: TrainableModel, o: CompileOptions) => CompiledTraining;
  Trainer: typeof runtime.Trainer;
  compileRunner: typeof runtime.compileRunner;
  ProviderRegistry: typeof runtime.ProviderRegistry;
}

const CURRENT: Libs = {
  compileTraining: autograd.compileTraining,
  Trainer: runtime.Trainer,
  compileRunner: runtime.compileRunner,
  ProviderRegistry: runtime.ProviderRegistry,
};

/** autograd and runtime sources as of `ref`, extracted where they still resolve this checkout's packages. */
async function libsAt(ref: string): Promise<Libs> {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(ROOT, 'node_modules', '.cache', 'bench-base', sha);
  if (!existsSync(join(dir, 'done'))) {
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', sha, 'packages/autograd/src', 'packages/runtime/src'], {
      cwd: ROOT,
      maxBuffer: 1 << 28,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    // The old runtime must use the old autograd: rewrite its package imports to relative ones.
    for (const f of ['trainer.ts', 'session.ts', 'export.ts', 'checkpoint.ts', 'providers.ts', 'index.ts']) {
      const p = join(dir, 'packages/runtime/src', f);
      if (!existsSync(p)) continue;
      writeFileSync(
        p,
        readFileSync(p, 'utf8').replaceAll("from '@enjambre/autograd'", "from '../../autograd/src/index.ts'"),
      );
    }
    writeFileSync(join(dir, 'done'), sha);
  }
  const a = await import(join(dir, 'packages/autograd/src/index.ts'));
  const r = await import(join(dir, 'packages/runtime/src/index.ts'));
  return {
    compileTraining: a.compileTraining,
    Trainer: r.Trainer,
    compileRunner: r.compileRunner,
    ProviderRegistry: r.ProviderRegistry,
  };
}

interface Contender {
  name: string;
  describe: string;
  /** Runs for about `seconds`; returns steps per second. */
  run(seconds: number): Promise<number>;
  stop(): void;
}

async function enjambre(w: Workload, name: string, v: Variant, libs: Libs): Promise<Contender> {
  const k = v.k ?? K;
  const compiled = libs.compileTraining(w.model, {
    optimizer: v.optimizer ?? { kind: 'adamw' },
    stepsPerRun: k,
  });
  const registry = new libs.ProviderRegistry({
    factory: (model, options) => ort.InferenceSession.create(model, { ...options, ...v.session }),
  });
  const trainer = await libs.Trainer.create({
    compiled,
    compile: libs.compileRunner({
      providers: ['cpu'],
      intraOpThreads: v.intraOpThreads ?? THREADS,
      interOpThreads: v.interOpThreads ?? 1,
      graphOptimizationLevel: v.graphOptimizationLevel,
      registry,
    }),
    initialParams: initialParams(w, compiled),
    learningRate: () => 1e-3,
  });
  // BATCHES distinct batches, K per Loop run, cycled.
  const pool: TrainBatch[] = randomBatches(w, Math.ceil(BATCHES / k) * k);
  const initial = initialParams(w, compiled);
  const zeroState = trainer.optimizerState();
  let at = 0;
  const train = () => {
    const group = pool.slice(at, at + k);
    at = (at + k) % pool.length;
    return trainer.train(group);
  };
  // Back to the initial weights and a fresh optimizer, as the PyTorch worker does before each run.
  const reset = () => {
    trainer.setParameters(initial);
    trainer.setOptimizerState(zeroState, 0);
  };
  const t0 = performance.now();
  let warm = 0;
  while (warm < 2 || performance.now() - t0 < 1500) {
    await train();
    warm++;
  }
  return {
    name,
    describe: v.describe,
    async run(seconds) {
      reset();
      let steps = 0;
      const start = performance.now();
      let dt = 0;
      do {
        await train();
        steps += k;
        dt = (performance.now() - start) / 1000;
      } while (dt < seconds);
      return steps / dt;
    },
    stop() {},
  };
}

// ---------------------------------------------------------------- the run

interface Row {
  workload: WorkloadId;
  contender: string;
  describe: string;
  stepsPerSec: number[];
  median: number;
  /** Best round: the least disturbed by other processes on a shared machine. */
  best: number;
  gflops: number;
  /** Median over rounds of (this contender / PyTorch), when PyTorch ran. */
  ratioToTorch?: number;
}

const fmt = (x: number, d = 1) => x.toFixed(d);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function benchWorkload(id: WorkloadId, libsBase: Libs | undefined, torchOk: boolean) {
  const w = buildWorkload(id);
  const contenders: Contender[] = [];
  let blas: TorchReady | undefined;
  contenders.push(await enjambre(w, 'enjambre', { describe: `Trainer, K=${K}` }, CURRENT));
  if (libsBase) {
    contenders.push(
      await enjambre(w, `enjambre@${args.base}`, { describe: `K=${K}, code at ${args.base}` }, libsBase),
    );
  }
  for (const name of args.variants.split(',').filter(Boolean)) {
    contenders.push(await enjambre(w, `enjambre:${name}`, variantFor(name), CURRENT));
  }
  if (torchOk) {
    const { worker, ready } = await TorchWorker.start(id);
    blas = ready;
    contenders.push({
      name: 'pytorch',
      describe: `torch ${ready.torch}, ${ready.threads} threads`,
      run: (s) => worker.run(s),
      stop: () => worker.stop(),
    });
  }
  const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const loads: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(load());
    // Rotate the order so that no contender always runs first (or right after PyTorch).
    const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]);
    for (const c of order) results.get(c.name)!.push(await c.run(SECONDS));
    process.stderr.write(`  ${id} round ${r + 1}/${ROUNDS} (load ${loads[r]})\n`);
  }
  for (const c of contenders) c.stop();
  const torch = results.get('pytorch');
  const rows: Row[] = contenders.map((c) => {
    const xs = results.get(c.name)!;
    const m = median(xs);
    return {
      workload: id,
      contender: c.name,
      describe: c.describe,
      stepsPerSec: xs,
      median: m,
      best: Math.max(...xs),
      gflops: (m * w.flopsPerStep) / 1e9,
      ratioToTorch: torch ? median(xs.map((x, i) => x / torch[i])) : undefined,
    };
  });
  return { rows, blas, loads, description: w.description };
}

const ids = args.workload === 'all' ? [...WORKLOAD_IDS] : [args.workload as WorkloadId];
for (const id of ids) {
  if (!WORKLOAD_IDS.includes(id))
    throw new Error(`unknown workload ${id}; expected ${WORKLOAD_IDS.join(', ')}`);
}
let torchOk = !args['no-torch'];
if (torchOk) {
  try {
    const actions = ensureTorch();
    console.log(actions.length ? `PyTorch set-up: ${actions.join('; ')}` : 'PyTorch set-up: nothing to do');
  } catch (e) {
    console.log(`PyTorch unavailable, measuring Enjambre only: ${(e as Error).message}`);
    torchOk = false;
  }
}
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpu}, ${cpus().length} logical CPUs; onnxruntime-node ${ort.env.versions.common}`);
console.log(
  `settings: ${THREADS} intra-op threads, K=${K}, ${ROUNDS} rounds × ${SECONDS} s per contender; load average at start ${load()}`,
);
const libsBase = args.base ? await libsAt(args.base) : undefined;
const all: Row[] = [];
const meta: Record<string, unknown> = {};
for (const id of ids) {
  const { rows, blas, loads, description } = await benchWorkload(id, libsBase, torchOk);
  all.push(...rows);
  meta[id] = { blas, loads, description };
  console.log(`\n${id}: ${description}`);
  if (blas) console.log(`  PyTorch BLAS: ${blas.blas.join(', ')}`);
  console.log(`  load average per round: ${loads.join(' | ')}`);
  console.log(
    `  ${'contender'.padEnd(26)} ${'steps/s'.padStart(8)} ${'best'.padStart(7)} ${'GFLOP/s'.padStart(8)} ${'×torch'.padStart(7)}  per round`,
  );
  for (const r of rows) {
    console.log(
      `  ${r.contender.padEnd(26)} ${fmt(r.median).padStart(8)} ${fmt(r.best).padStart(7)} ${fmt(r.gflops).padStart(8)} ${(r.ratioToTorch === undefined ? '' : fmt(r.ratioToTorch, 2)).padStart(7)}  ${r.stepsPerSec.map((x) => fmt(x)).join(' ')}   (${r.describe})`,
    );
  }
}

// Summary table in Markdown (what docs/benchmarks.md shows).
if (torchOk) {
  console.log(
    '\n| workload | Enjambre steps/s (best) | PyTorch steps/s (best) | Enjambre / PyTorch | Enjambre GFLOP/s | PyTorch GFLOP/s |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const id of ids) {
    const e = all.find((r) => r.workload === id && r.contender === 'enjambre')!;
    const t = all.find((r) => r.workload === id && r.contender === 'pytorch')!;
    console.log(
      `| ${id} | ${fmt(e.median)} (${fmt(e.best)}) | ${fmt(t.median)} (${fmt(t.best)}) | ${fmt(e.ratioToTorch!, 2)} | ${fmt(e.gflops)} | ${fmt(t.gflops)} |`,
    );
  }
}
console.log(`\nload average at end ${load()}`);
if (args.json) {
  mkdirSync(dirname(resolve(args.json)), { recursive: true });
  writeFileSync(args.json, JSON.stringify({ cpu, threads: THREADS, k: K, rows: all, meta }, null, 2));
}
