/**
 * The averaging rounds without the network, to choose protocol settings quickly: N trainers in one
 * process (the product's Trainer on onnxruntime-node, each with its own data seed), every round H
 * local steps each, pseudo-gradients compressed with error feedback by the product's codecs,
 * aggregated (CenteredClip / mean) and applied by the outer optimizer, as `AveragingPeer.runRound`
 * does when every update arrives in time. What it leaves out is what the real benchmark
 * (scripts/bench-swarm.ts) measures: messages, timeouts, late updates, bytes; and the outlier
 * drop (every peer here is honest).
 *
 * Run: npx tsx scripts/sim-rounds.ts [--peers 4] [--steps 500] [--inner-steps 10] [--codec sign]
 *        [--outer-lr 0.7] [--outer-momentum 0.9] [--aggregator centered-clip|mean]
 *        [--baseline] [--threads 2] [--data-from DIR|URL]
 * Workload: shakespeare-char with the benchmark's nanoGPT CPU config (batch 12 per peer).
 * --baseline also trains one node with batch 12·N for --steps steps (the same tokens, the same
 * total batch) so that the two are compared within one run. Prints one line per round and a table.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorFeedback } from '@enjambre/compress';
import { configFromObject } from '@enjambre/config';
import { evaluationBatches, setupTraining, type TrainingSetup, toTrainBatch } from '@enjambre/peer';
import { aggregate, OuterNesterov } from '@enjambre/swarm';
import { DATA_FROM_OPTION } from './datasets.ts';
import { shakespeareConfig, writeShakespeareFile } from './shakespeare-workload.ts';

const ROOT = resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: '4' },
    steps: { type: 'string', default: '500' },
    'inner-steps': { type: 'string', default: '10' },
    codec: { type: 'string', default: 'sign' },
    'outer-lr': { type: 'string' },
    'outer-momentum': { type: 'string' },
    aggregator: { type: 'string', default: 'centered-clip' },
    baseline: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    'eval-every': { type: 'string', default: '5' },
    ...DATA_FROM_OPTION,
  },
});
const N = Number(args.peers);
const STEPS = Number(args.steps);
const H = Number(args['inner-steps']);
const THREADS = Number(args.threads);
const EVAL_EVERY = Number(args['eval-every']);

function config(file: { path: string; validFraction: number }, seed: number, batch: number) {
  const c = shakespeareConfig(file, { steps: STEPS, batchSize: batch, threads: THREADS });
  return configFromObject({ version: 1, ...c, data: { ...c.data, seed } });
}

async function trainSteps(setup: TrainingSetup, n: number): Promise<number> {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const batch = toTrainBatch(setup.compiled, setup.data.train.batch(setup.sampler.next()));
    const r = await setup.trainer.train([batch]);
    loss += r.losses[0];
  }
  return loss / n;
}

async function evaluate(setup: TrainingSetup, count?: number): Promise<number> {
  return (await setup.trainer.evaluate(evaluationBatches(setup, count))).loss;
}

async function baseline(file: { path: string; validFraction: number }): Promise<number> {
  const setup = await setupTraining(config(file, 201, 12 * N));
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s += H) {
    const loss = await trainSteps(setup, Math.min(H, STEPS - s));
    if (((s / H) | 0) % EVAL_EVERY === EVAL_EVERY - 1)
      console.error(
        `baseline step ${s + H}: loss ${loss.toFixed(4)}, val ${(await evaluate(setup, 20)).toFixed(4)}`,
      );
  }
  const val = await evaluate(setup);
  console.error(
    `baseline: ${STEPS} × ${12 * N}: val ${val.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  await setup.data.close();
  return val;
}

async function swarm(file: { path: string; validFraction: number }): Promise<number> {
  const setups: TrainingSetup[] = [];
  for (let i = 0; i < N; i++) setups.push(await setupTraining(config(file, 201 + i, 12)));
  const names = setups[0].compiled.params.map((p) => p.name);
  const read = (s: TrainingSetup) =>
    names.map((n) => Float32Array.from(s.trainer.parameters()[n].data as Float32Array));
  // Every peer starts from the same anchor (the swarm's first peer's initial parameters).
  const anchor = read(setups[0]);
  const lengths = anchor.map((a) => a.length);
  const total = lengths.reduce((a, b) => a + b, 0);
  const flatAnchor = new Float32Array(total);
  let offset = 0;
  for (const a of anchor) {
    flatAnchor.set(a, offset);
    offset += a.length;
  }
  const load = (s: TrainingSetup) => {
    const next = { ...s.trainer.parameters() };
    let o = 0;
    for (const n of names) {
      const p = next[n];
      const len = p.data.length;
      next[n] = { dtype: p.dtype, dims: p.dims, data: flatAnchor.slice(o, o + len) };
      o += len;
    }
    s.trainer.setParameters(next);
  };
  const codec = args.codec as 'sign';
  const feedback = setups.map(() => new ErrorFeedback({ codec }));
  const outerLr = args['outer-lr'] === undefined ? undefined : Number(args['outer-lr']);
  const outerMomentum = args['outer-momentum'] === undefined ? undefined : Number(args['outer-momentum']);
  const outer = new OuterNesterov({ lr: outerLr, momentum: outerMomentum });
  const rounds = Math.ceil(STEPS / H);
  const t0 = performance.now();
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    const contributions: { values: Float32Array; weight: number }[] = [];
    let lossSum = 0;
    for (let i = 0; i < N; i++) {
      const s = setups[i];
      load(s);
      lossSum += await trainSteps(s, Math.min(H, STEPS - r * H));
      const local = read(s);
      let o = 0;
      const deltas = names.map((name, k) => {
        const d = new Float32Array(lengths[k]);
        for (let j = 0; j < d.length; j++) d[j] = flatAnchor[o + j] - local[k][j];
        o += lengths[k];
        return { name, values: d };
      });
      const c = feedback[i].compressTensors(deltas);
      bytes += c.bytes.length;
      const flat = new Float32Array(total);
      let off = 0;
      for (const d of c.decoded) {
        flat.set(d.values, off);
        off += d.values.length;
      }
      contributions.push({ values: flat, weight: 12 * H });
    }
    const result = aggregate(contributions, {
      method: args.aggregator === 'mean' ? 'weighted-mean' : 'auto',
    });
    outer.step(flatAnchor, result.values);
    const line = `round ${r}: local loss ${(lossSum / N).toFixed(4)}`;
    if (r % EVAL_EVERY === EVAL_EVERY - 1 || r === rounds - 1) {
      load(setups[0]);
      console.error(`${line}, anchor val ${(await evaluate(setups[0], 20)).toFixed(4)}`);
    } else console.error(line);
  }
  load(setups[0]);
  const val = await evaluate(setups[0]);
  console.error(
    `swarm: ${N} × ${STEPS} × 12, H ${H}, codec ${codec}, outer lr ${outer.lr} momentum ${outer.momentum}` +
      `: val ${val.toFixed(4)}` +
      ` (${((performance.now() - t0) / 1000).toFixed(0)} s, ${(bytes / 1e6).toFixed(2)} MB of updates)`,
  );
  for (const s of setups) await s.data.close();
  return val;
}

const file = await writeShakespeareFile(args['data-from'], join(ROOT, '.enjambre/sim-rounds'));
const swarmVal = await swarm(file);
const baseVal = args.baseline ? await baseline(file) : undefined;
console.log('| run | val loss |');
console.log('| --- | ---: |');
console.log(`| swarm (simulated), ${N} × ${STEPS} × 12, H ${H}, ${args.codec} | ${swarmVal.toFixed(4)} |`);
if (baseVal !== undefined) {
  console.log(`| single node, ${STEPS} × ${12 * N} | ${baseVal.toFixed(4)} |`);
  console.log(`| swarm − single node | ${(swarmVal - baseVal).toFixed(4)} |`);
}
