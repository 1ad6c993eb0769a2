/**
 * Runs the reference workloads (docs/workloads.md) at full size through the real
 * command line, one at a time, and prints a results table with each goal and whether it was met.
 *
 *   npx tsx scripts/run-workloads.ts [--only mnist-mlp,iris,...] [--max-steps N] [--out DIR]
 *
 * Each workload is `npx enjambre train --config examples/<id>.yaml --json` in a child process: its
 * final JSON line (stdout) gives the result, its validation lines (stderr) give the loss curve.
 * `--max-steps` shortens every run (a quick check; the goals are meant for the full runs).
 * `--out DIR` keeps, per workload, the CLI's stderr (`<id>.log`) and a summary (`<id>.json`:
 * command, machine, result, curve, goal). Exit status 1 when a goal is not met or a run fails.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');

interface Goal {
  metric: 'valLoss' | 'valAccuracy';
  /** valLoss must be ≤ this, valAccuracy ≥ this. */
  threshold: number;
  reference: string;
}

interface WorkloadRun {
  id: string;
  config: string;
  /** Undefined: a smoke run, only reported. */
  goal?: Goal;
}

const WORKLOADS: WorkloadRun[] = [
  {
    id: 'shakespeare-char',
    config: 'examples/shakespeare-char.yaml',
    goal: { metric: 'valLoss', threshold: 1.9, reference: 'nanoGPT CPU config: val loss ≈ 1.88' },
  },
  {
    id: 'mnist-mlp',
    config: 'examples/mnist-mlp.yaml',
    goal: { metric: 'valAccuracy', threshold: 0.98, reference: 'Keras mnist_mlp: 98.40% test' },
  },
  {
    id: 'mnist-cnn',
    config: 'examples/mnist-cnn.yaml',
    goal: { metric: 'valAccuracy', threshold: 0.99, reference: 'Keras mnist_cnn: 99.25% test' },
  },
  { id: 'iris', config: 'examples/iris.yaml' },
  { id: 'penguins', config: 'examples/penguins.yaml' },
];

/** The CLI's final JSON line (`enjambre train --json`). */
interface TrainSummary {
  steps: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number | null;
  samplesPerSecond: number;
  executionProvider: string;
  seconds: number;
  interrupted: boolean;
}

interface CurvePoint {
  step: number;
  valLoss: number;
  valAccuracy?: number;
}

interface Outcome {
  run: WorkloadRun;
  command: string;
  wallSeconds: number;
  exitCode: number | null;
  summary?: TrainSummary;
  curve: CurvePoint[];
  passed?: boolean;
  error?: string;
}

const VALIDATION_LINE = /^step (\d+): validation loss ([\d.]+|NaN)(?:, accuracy ([\d.]+)%)?/;

/** Validation points from the CLI's progress output (lines end in \n or \r). */
export function parseCurve(stderr: string): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const line of stderr.split(/[\r\n]+/)) {
    const m = VALIDATION_LINE.exec(line.trim());
    if (!m) continue;
    const point: CurvePoint = { step: Number(m[1]), valLoss: Number(m[2]) };
    if (m[3] !== undefined) point.valAccuracy = Number(m[3]) / 100;
    out.push(point);
  }
  return out;
}

function runOne(run: WorkloadRun, maxSteps: number | undefined): Promise<Outcome> {
  const args = ['enjambre', 'train', '--config', run.config, '--json'];
  if (maxSteps !== undefined) args.push('--max-steps', String(maxSteps));
  const command = `npx ${args.join(' ')}`;
  const start = performance.now();
  return new Promise((done) => {
    const child = spawn('npx', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Echo validation lines as they come, so a long run shows where it stands.
      for (const p of parseCurve(d.toString()))
        process.stderr.write(
          `  ${run.id} step ${p.step}: val loss ${p.valLoss.toFixed(4)}${p.valAccuracy === undefined ? '' : `, acc ${(100 * p.valAccuracy).toFixed(2)}%`}\n`,
        );
    });
    child.on('close', (exitCode) => {
      const wallSeconds = (performance.now() - start) / 1000;
      const outcome: Outcome = { run, command, wallSeconds, exitCode, curve: parseCurve(stderr) };
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        outcome.summary = JSON.parse(last) as TrainSummary;
      } catch {
        outcome.error = `no JSON result (exit ${exitCode}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      }
      if (outcome.summary && run.goal) outcome.passed = meets(outcome.summary, run.goal);
      (outcome as Outcome & { log: string }).log = stderr;
      done(outcome);
    });
  });
}

function meets(s: TrainSummary, goal: Goal): boolean {
  if (goal.metric === 'valLoss') return s.valLoss <= goal.threshold;
  return s.valAccuracy !== null && s.valAccuracy >= goal.threshold;
}

function goalText(goal: Goal | undefined): string {
  if (!goal) return 'smoke run';
  return goal.metric === 'valLoss'
    ? `val loss ≤ ${goal.threshold.toFixed(2)}`
    : `accuracy ≥ ${(100 * goal.threshold).toFixed(0)}%`;
}

function table(outcomes: Outcome[]): string {
  const head = [
    'workload',
    'steps',
    'wall s',
    'samples/s',
    'train loss',
    'val loss',
    'accuracy',
    'goal',
    'result',
  ];
  const rows = outcomes.map((o) => {
    const s = o.summary;
    const result = o.error ? 'ERROR' : o.passed === undefined ? '-' : o.passed ? 'PASS' : 'FAIL';
    return [
      o.run.id,
      s ? String(s.steps) : '-',
      o.wallSeconds.toFixed(1),
      s ? s.samplesPerSecond.toFixed(0) : '-',
      s ? s.trainLoss.toFixed(4) : '-',
      s ? s.valLoss.toFixed(4) : '-',
      s?.valAccuracy != null ? `${(100 * s.valAccuracy).toFixed(2)}%` : '-',
      goalText(o.run.goal),
      result,
    ];
  });
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'max-steps': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !WORKLOADS.some((w) => w.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown workload ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.id).join(', ')}`);
    return 2;
  }
  const maxSteps = values['max-steps'] === undefined ? undefined : Number(values['max-steps']);
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) {
    console.error(`--max-steps must be a positive integer, got ${values['max-steps']}`);
    return 2;
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
  console.error(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}`);
  const outDir = values.out === undefined ? undefined : resolve(values.out);
  if (outDir) mkdirSync(outDir, { recursive: true });

  const outcomes: Outcome[] = [];
  for (const run of WORKLOADS.filter((w) => !only || only.includes(w.id))) {
    console.error(`${run.id}: ${run.config}…`);
    const load = loadavg()[0];
    const outcome = await runOne(run, maxSteps);
    outcomes.push(outcome);
    if (outcome.error) console.error(`${run.id}: ${outcome.error}`);
    if (outDir) {
      const { log, ...rest } = outcome as Outcome & { log: string };
      writeFileSync(join(outDir, `${run.id}.log`), log);
      writeFileSync(
        join(outDir, `${run.id}.json`),
        `${JSON.stringify({ ...rest, machine, loadAverageAtStart: load, finishedAt: new Date().toISOString() }, null, 2)}\n`,
      );
    }
  }
  console.log(table(outcomes));
  return outcomes.some((o) => o.error || o.passed === false) ? 1 : 0;
}

process.exitCode = await main();
