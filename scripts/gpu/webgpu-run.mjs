// Runs Enjambre's compiled shakespeare-char-gpu training graphs (from scripts/gpu/prepare.ts)
// with onnxruntime-node on its bundled WebGPU execution provider, falling back to report why
// not; then a short CPU run of the same graphs for comparison. Plain JavaScript on purpose: it
// runs on a GPU machine that has only a Node binary and onnxruntime-node carried to it.
//
//   node scripts/gpu/webgpu-run.mjs --ort DIR/onnxruntime-node --graphs DIR --seconds 240 --out summary.json
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    ort: { type: 'string' },
    graphs: { type: 'string' },
    seconds: { type: 'string', default: '240' },
    'cpu-seconds': { type: 'string', default: '40' },
    out: { type: 'string', default: 'webgpu-summary.json' },
  },
});
const ort = createRequire(import.meta.url)(resolve(args.ort));
const dir = resolve(args.graphs);
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const K = manifest.stepsPerRun;
const { batchSize, context } = {
  batchSize: manifest.options.batchSize ?? 64,
  context: manifest.options.context,
};
const u16 = (f) => {
  const b = readFileSync(join(dir, f));
  return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
};
const train = u16('train.u16');
const val = u16('val.u16');

// A seeded PRNG and normal draws for the initial weights (nanoGPT-style, per the manifest).
let seed = 1234567;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
function initialParams() {
  const p = {};
  for (const spec of manifest.params) {
    const n = spec.dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (spec.init.kind === 'normal') for (let i = 0; i < n; i++) data[i] = spec.init.std * normal();
    else if (spec.init.kind === 'ones') data.fill(1);
    else if (spec.init.kind === 'constant') data.fill(spec.init.value ?? 0);
    p[spec.name] = new ort.Tensor('float32', data, spec.dims);
  }
  for (const name of manifest.state) {
    const spec = manifest.params.find((q) => name.endsWith(`/${q.name}`));
    p[name] = new ort.Tensor('float32', new Float32Array(spec.dims.reduce((a, b) => a * b, 1)), spec.dims);
  }
  return p;
}

function batches(source, count) {
  const x = new BigInt64Array(count * batchSize * context);
  const y = new BigInt64Array(count * batchSize * context);
  for (let b = 0; b < count * batchSize; b++) {
    const start = Math.floor(rand() * (source.length - context - 1));
    for (let t = 0; t < context; t++) {
      x[b * context + t] = BigInt(source[start + t]);
      y[b * context + t] = BigInt(source[start + t + 1]);
    }
  }
  return { x, y };
}

// nanoGPT's schedule: warm-up then cosine from 1e-3 to 1e-4 over 5000 iterations.
const lrAt = (it) =>
  it < 100
    ? (1e-3 * (it + 1)) / 101
    : 1e-4 + 0.5 * (1 + Math.cos(Math.PI * Math.min(1, (it - 100) / 4900))) * 9e-4;

async function run(provider, seconds) {
  const summary = { provider, started: false };
  let loop;
  let evalStep;
  try {
    const opts = { executionProviders: [provider], graphOptimizationLevel: 'all' };
    loop = await ort.InferenceSession.create(join(dir, 'train_loop.onnx'), opts);
    evalStep = await ort.InferenceSession.create(join(dir, 'eval_step.onnx'), opts);
    summary.started = true;
  } catch (e) {
    summary.error = String(e?.message ?? e).slice(0, 2000);
    return summary;
  }
  const feeds = initialParams();
  const { input, labels, lr, step } = manifest.names;
  const losses = [];
  const evals = [];
  const t0 = performance.now();
  let it = 0;
  const evaluate = async () => {
    const params = Object.fromEntries(manifest.params.map((p) => [p.name, feeds[p.name]]));
    let sum = 0;
    const n = 20;
    for (let i = 0; i < n; i++) {
      const { x, y } = batches(val, 1);
      const out = await evalStep.run({
        ...params,
        [input]: new ort.Tensor('int64', x, [batchSize, context]),
        [labels]: new ort.Tensor('int64', y, [batchSize, context]),
      });
      sum += Number(out[manifest.names.evalLoss ?? 'eval/loss'].data[0]);
    }
    evals.push({ iteration: it, valLoss: sum / n, seconds: (performance.now() - t0) / 1000 });
  };
  while ((performance.now() - t0) / 1000 < seconds && it < 5000) {
    const { x, y } = batches(train, K);
    const out = await loop.run({
      ...feeds,
      [input]: new ort.Tensor('int64', x, [K, batchSize, context]),
      [labels]: new ort.Tensor('int64', y, [K, batchSize, context]),
      [lr]: new ort.Tensor(
        'float32',
        Float32Array.from({ length: K }, (_, j) => lrAt(it + j)),
        [K],
      ),
      [step]: new ort.Tensor('float32', Float32Array.of(it + 1), []),
    });
    for (const name of [...manifest.params.map((p) => p.name), ...manifest.state])
      feeds[name] = out[`new/${name}`];
    losses.push(...Array.from(out[manifest.names.loss].data));
    it += K;
    if (it % 500 === 0) await evaluate();
  }
  const seconds_ = (performance.now() - t0) / 1000;
  await evaluate();
  Object.assign(summary, {
    iterations: it,
    seconds: seconds_,
    iterationsPerSecond: it / seconds_,
    firstLoss: losses[0],
    lastTrainLoss: losses.slice(-K).reduce((a, b) => a + b, 0) / K,
    evals,
  });
  return summary;
}

const results = {
  onnxruntime: ort.env.versions?.common ?? 'unknown',
  backends: ort.listSupportedBackends?.(),
};
results.webgpu = await run('webgpu', Number(args.seconds));
console.log(JSON.stringify(results.webgpu));
results.cpu = await run('cpu', Number(args['cpu-seconds']));
console.log(JSON.stringify(results.cpu));
writeFileSync(args.out, JSON.stringify(results, null, 2));
