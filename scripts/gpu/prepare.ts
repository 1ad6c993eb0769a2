/**
 * Prepares the `shakespeare-char-gpu` workload (workloads.md: nanoGPT's GPU config) for a run on a
 * GPU machine with Python onnxruntime (scripts/gpu/train.py): compiles Enjambre's training graph
 * (forward + backward + grad clip + AdamW, K steps per run in one ONNX Loop) and its eval graph,
 * and writes them with the token ids and a manifest into one folder.
 *
 * Parameters are graph inputs, so no weights are written: the manifest gives each parameter's
 * shape and its initialisation (read off Enjambre's own initial values), and the driver draws
 * them. That keeps the folder a few MB (the 10.7M float32 weights would be 43 MB).
 *
 *   npx tsx scripts/gpu/prepare.ts [--out .device/gpu] [--text path/to/input.txt] [--steps-per-run 10]
 *     [--layers 6 --heads 6 --width 384 --context 256 --dropout 0.2]
 *
 * Files: train_loop.onnx, eval_step.onnx, check_loop.onnx (dropout 0, K=2, for the cross-check), train.u16, val.u16 (little-endian token ids),
 * manifest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compileTraining } from '@enjambre/autograd';
import { loadDataset, type TextInfo, type TextWindowDataset } from '@enjambre/data';
import { createModel, TRANSFORMER_INIT_STD as MODEL_INIT_STD } from '@enjambre/models';
import { serializeModel } from '@enjambre/onnx';
import { benchmarkDataset, DATA_FROM_OPTION } from '../datasets.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: '.device/gpu' },
    // Default: tiny Shakespeare from the dataset cache (fetched when missing; see scripts/datasets.ts).
    text: { type: 'string' },
    ...DATA_FROM_OPTION,
    'steps-per-run': { type: 'string', default: '10' },
    layers: { type: 'string', default: '6' },
    heads: { type: 'string', default: '6' },
    width: { type: 'string', default: '384' },
    context: { type: 'string', default: '256' },
    dropout: { type: 'string', default: '0.2' },
    'weight-decay': { type: 'string', default: '0.1' },
    beta2: { type: 'string', default: '0.99' },
    'grad-clip': { type: 'string', default: '1.0' },
  },
});

const K = Number(args['steps-per-run']);
const layers = Number(args.layers);
const heads = Number(args.heads);
const width = Number(args.width);
const context = Number(args.context);
const dropout = Number(args.dropout);
const optimizer = {
  kind: 'adamw' as const,
  beta1: 0.9,
  beta2: Number(args.beta2),
  eps: 1e-8,
  weightDecay: Number(args['weight-decay']),
};
const gradClip = Number(args['grad-clip']);
const outDir = path.resolve(args.out);
mkdirSync(outDir, { recursive: true });

// ---- data: first 90% train, last 10% validation, char vocabulary ----
const text = args.text ?? (await benchmarkDataset('tinyshakespeare', args['data-from'])).files['input.txt'];
const data = await loadDataset({ format: 'text', path: text, context });
const info = data.info as TextInfo;
const tokens = (ds: TextWindowDataset | undefined, split: string): Uint16Array => {
  if (!ds) throw new Error(`the ${split} split is missing`);
  const src = ds.source;
  const all = new BigInt64Array(src.length);
  src.read(0, src.length, all, 0);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < all.length; i++) out[i] = Number(all[i]);
  return out;
};
const train = tokens(data.train as TextWindowDataset, 'train');
const val = tokens(data.validation as TextWindowDataset | undefined, 'validation');
await data.close();
writeFileSync(path.join(outDir, 'train.u16'), Buffer.from(train.buffer, train.byteOffset, train.byteLength));
writeFileSync(path.join(outDir, 'val.u16'), Buffer.from(val.buffer, val.byteOffset, val.byteLength));

// ---- model and graphs ----
const model = createModel(
  { kind: 'char-transformer', layers, heads, width, context, dropout },
  {
    inputs: { dtype: 'int64', shape: [context] },
    labels: { dtype: 'int64', shape: [context] },
    vocabSize: info.vocabSize,
  },
);
const compiled = compileTraining(model, { optimizer, gradClip, stepsPerRun: K });
if (!compiled.trainLoop) throw new Error('steps-per-run must be > 1 to get a loop graph');
const loopBytes = serializeModel(compiled.trainLoop);
const evalBytes = serializeModel(compiled.evalStep);
writeFileSync(path.join(outDir, 'train_loop.onnx'), loopBytes);
writeFileSync(path.join(outDir, 'eval_step.onnx'), evalBytes);

// The same model without dropout, K=2: its training loop is deterministic, so train.py can check
// that the GPU run computes what onnxruntime computes, update for update.
const checkModel = createModel(
  { kind: 'char-transformer', layers, heads, width, context, dropout: 0 },
  {
    inputs: { dtype: 'int64', shape: [context] },
    labels: { dtype: 'int64', shape: [context] },
    vocabSize: info.vocabSize,
  },
);
const check = compileTraining(checkModel, { optimizer, gradClip, stepsPerRun: 2 });
if (!check.trainLoop) throw new Error('no check loop graph');
writeFileSync(path.join(outDir, 'check_loop.onnx'), serializeModel(check.trainLoop));

// ---- initialisation, read off Enjambre's own initial values ----
const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
const residualStd = MODEL_INIT_STD / Math.sqrt(2 * layers);
const params = compiled.params.map((p) => {
  const t = inits.get(p.name);
  if (!t) throw new Error(`no initializer for ${p.name}`);
  const v = t.data as Float32Array;
  let mean = 0;
  for (const x of v) mean += x;
  mean /= v.length;
  let sq = 0;
  for (const x of v) sq += (x - mean) ** 2;
  const std = Math.sqrt(sq / v.length);
  let init: { kind: 'constant'; value: number } | { kind: 'normal'; std: number; measuredStd: number };
  if (std === 0) init = { kind: 'constant', value: v[0] };
  else {
    // nanoGPT's rule, as char-transformer.ts applies it: residual projections get 0.02/sqrt(2L).
    const rule = /\.(attn|mlp)\.proj\.weight$/.test(p.name) ? residualStd : MODEL_INIT_STD;
    if (Math.abs(std - rule) / rule > 0.05)
      throw new Error(`${p.name}: initial std ${std} does not match the rule's ${rule}`);
    init = { kind: 'normal', std: rule, measuredStd: std };
  }
  return { name: p.name, dims: p.dims, init };
});
const paramCount = params.reduce((s, p) => s + p.dims.reduce((a, b) => a * b, 1), 0);

const manifest = {
  workload: 'shakespeare-char-gpu',
  model: model.summary,
  options: { layers, heads, width, context, dropout, vocabSize: info.vocabSize },
  optimizer,
  gradClip,
  stepsPerRun: K,
  paramCount,
  vocab: info.vocab,
  tokens: { train: train.length, validation: val.length },
  names: {
    input: compiled.names.dataInputs[0],
    labels: compiled.names.labels,
    lr: compiled.names.lr,
    step: compiled.names.step,
    loss: compiled.names.loss,
    gradNorm: compiled.names.gradNorm,
    evalLoss: compiled.names.evalLoss,
    newName: compiled.names.newName,
  },
  params,
  state: compiled.state.map((s) => s.name),
  bytes: { trainLoop: loopBytes.length, evalStep: evalBytes.length },
};
writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
console.log(
  `${model.summary}: ${paramCount} parameters, K=${K}; train_loop.onnx ${loopBytes.length} B, ` +
    `eval_step.onnx ${evalBytes.length} B, ${train.length}+${val.length} tokens -> ${outDir}`,
);
