/**
 * Where does Enjambre's training step spend its time? Runs each reference workload through the
 * real Trainer with onnxruntime profiling on, then aggregates kernel time by op type.
 *
 *   npx tsx scripts/prof-train.ts [--workload mnist-mlp|mnist-cnn|shakespeare-char|all]
 *                                 [--k 10] [--runs 10] [--top 15] [--json out.json]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileRunner, ProviderRegistry, Trainer } from '@enjambre/runtime';
import * as ort from 'onnxruntime-node';
import {
  buildWorkload,
  compileWorkload,
  initialParams,
  randomBatches,
  WORKLOAD_IDS,
  type WorkloadId,
} from './train-workloads.ts';

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'all' },
    k: { type: 'string', default: '10' },
    runs: { type: 'string', default: '10' },
    top: { type: 'string', default: '15' },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});

interface OpRow {
  op: string;
  ms: number;
  calls: number;
  share: number;
}

export interface Profile {
  workload: WorkloadId;
  k: number;
  steps: number;
  /** Wall time per step measured around the runs (ms). */
  wallMsPerStep: number;
  /** Sum of kernel times per step (ms), Loop nodes excluded (their bodies are counted). */
  kernelMsPerStep: number;
  ops: OpRow[];
}

interface ProfEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Sums `dur` (µs) of node kernel events by op type. */
function aggregate(file: string): Map<string, { us: number; calls: number }> {
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfEvent[];
  const byOp = new Map<string, { us: number; calls: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const row = byOp.get(op) ?? { us: 0, calls: 0 };
    row.us += e.dur ?? 0;
    row.calls += 1;
    byOp.set(op, row);
  }
  return byOp;
}

async function profile(id: WorkloadId, k: number, runs: number, threads: number): Promise<Profile> {
  const w = buildWorkload(id);
  const compiled = compileWorkload(w, k);
  const dir = mkdtempSync(join(tmpdir(), 'enj-prof-'));
  let counter = 0;
  const sessions: { session: ort.InferenceSession; graph: string }[] = [];
  const registry = new ProviderRegistry({
    factory: async (model, options) => {
      const graph = `s${counter++}`;
      const session = await ort.InferenceSession.create(model, {
        ...options,
        enableProfiling: true,
        profileFilePrefix: join(dir, graph),
      });
      sessions.push({ session, graph });
      return session;
    },
  });
  const trainer = await Trainer.create({
    compiled,
    compile: compileRunner({ providers: ['cpu'], intraOpThreads: threads, interOpThreads: 1, registry }),
    initialParams: initialParams(w, compiled),
    learningRate: () => 1e-3,
  });
  const batches = randomBatches(w, k);
  await trainer.train(batches); // warm-up (first run allocates)
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await trainer.train(batches);
  const wall = performance.now() - t0;
  const totals = new Map<string, { us: number; calls: number }>();
  for (const { session } of sessions) await session.endProfiling();
  for (const file of readdirSync(dir)) {
    for (const [op, r] of aggregate(join(dir, file))) {
      const t = totals.get(op) ?? { us: 0, calls: 0 };
      t.us += r.us;
      t.calls += r.calls;
      totals.set(op, t);
    }
  }
  if (!process.env.KEEP_PROF) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
  const steps = (runs + 1) * k;
  totals.delete('Loop');
  const kernelUs = [...totals.values()].reduce((a, r) => a + r.us, 0);
  const ops = [...totals.entries()]
    .map(([op, r]) => ({ op, ms: r.us / 1000 / steps, calls: r.calls / steps, share: r.us / kernelUs }))
    .sort((a, b) => b.ms - a.ms);
  return {
    workload: id,
    k,
    steps: runs * k,
    wallMsPerStep: wall / (runs * k),
    kernelMsPerStep: kernelUs / 1000 / steps,
    ops,
  };
}

const ids = args.workload === 'all' ? [...WORKLOAD_IDS] : [args.workload as WorkloadId];
for (const id of ids) {
  if (!WORKLOAD_IDS.includes(id))
    throw new Error(`unknown workload ${id}; expected ${WORKLOAD_IDS.join(', ')}`);
}
const results: Profile[] = [];
for (const id of ids) {
  const p = await profile(id, Number(args.k), Number(args.runs), Number(args.threads));
  results.push(p);
  console.log(
    `\n${id}  K=${p.k}  wall ${p.wallMsPerStep.toFixed(2)} ms/step (with profiling on), kernels ${p.kernelMsPerStep.toFixed(2)} ms/step, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log('  op type                 ms/step   share  calls/step');
  for (const r of p.ops.slice(0, Number(args.top))) {
    console.log(
      `  ${r.op.padEnd(22)} ${r.ms.toFixed(3).padStart(8)} ${(r.share * 100).toFixed(1).padStart(6)}% ${r.calls.toFixed(0).padStart(7)}`,
    );
  }
}
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
