import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostTensor } from '@enjambre/autograd';
import { loadConfig } from '@enjambre/config';
import { modelFromMetadata } from '@enjambre/models';
import { parseModel } from '@enjambre/onnx';
import {
  evaluationBatches,
  type LocalTrainingResult,
  setupTraining,
  type TrainingSetup,
  trainLocally,
} from '@enjambre/peer';
import { readCheckpoint, writeCheckpoint } from '@enjambre/runtime';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

/** A PyTorch-exported MLP (8 inputs, 4 classes) that the models package imports. */
const TORCH_MLP = path.resolve(import.meta.dirname, '../../models/test/fixtures/torch-mlp.onnx');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'enjambre-export-'));

interface Trained {
  setup: TrainingSetup;
  result: LocalTrainingResult;
  checkpoint: string;
}

/** Trains the model of `modelYaml` on synthetic data for a few steps through the real pipeline. */
async function train(name: string, modelYaml: string, classes: number): Promise<Trained> {
  const file = path.join(tmp, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `node: { workDir: ${name}-work }`,
      `model: ${modelYaml}`,
      `data: { format: synthetic, seed: 11, examples: 800, features: 8, classes: ${classes} }`,
      'training:',
      '  batchSize: 32',
      '  maxSteps: 30',
      '  stepsPerRun: 10',
      '  evalEvery: 0',
      '  optimizer: { kind: adamw, lr: 0.01 }',
      '',
    ].join('\n'),
  );
  const setup = await setupTraining(await loadConfig(file));
  const checkpoint = path.join(tmp, `${name}.safetensors`);
  const result = await trainLocally(setup, { checkpointPath: checkpoint });
  return { setup, result, checkpoint };
}

/** Mean softmax cross-entropy and accuracy of logits [batch, classes] against class labels. */
function lossAndAccuracy(logits: Float32Array, labels: HostTensor, classes: number): [number, number] {
  const n = labels.data.length;
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    const label = Number(labels.data[i]);
    loss += lse - row[label];
    if (row.indexOf(max) === label) correct++;
  }
  return [loss / n, correct / n];
}

/**
 * Runs the exported .onnx with onnxruntime on the validation batches the trainer evaluated, and
 * returns the loss and accuracy recomputed from its logits (averaged per batch, as evaluate does).
 */
async function evaluateExported(file: string, t: Trained, classes: number): Promise<[number, number]> {
  const session = await ort.InferenceSession.create(readFileSync(file));
  try {
    const batches = evaluationBatches(t.setup);
    let loss = 0;
    let acc = 0;
    for (const b of batches) {
      const [name] = Object.keys(b.inputs);
      const x = b.inputs[name];
      const out = await session.run({
        [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, x.dims),
      });
      const logits = out[session.outputNames[0]];
      expect(logits.dims).toEqual([x.dims[0], classes]);
      const [l, a] = lossAndAccuracy(logits.data as Float32Array, b.labels, classes);
      loss += l;
      acc += a;
    }
    return [loss / batches.length, acc / batches.length];
  } finally {
    await session.release();
  }
}

let mlp: Trained;
let imported: Trained;

beforeAll(async () => {
  mlp = await train('mlp', '{ kind: mlp, hidden: [16] }', 3);
  imported = await train('torch', `{ kind: onnx, path: ${path.relative(tmp, TORCH_MLP)} }`, 4);
});

afterAll(async () => {
  await mlp?.setup.data.close();
  await imported?.setup.data.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('enjambre export', () => {
  it('writes an inference graph with the trained weights that reproduces the trainer evaluation', async () => {
    const out = path.join(tmp, 'out', 'mlp.onnx');
    const r = await runCli(['export', '--checkpoint', mlp.checkpoint, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ kind: 'mlp', step: 30, configHash: mlp.setup.configHash, out });
    expect(report.inputs).toEqual([
      { name: mlp.setup.model.dataInputs[0], dtype: 'float32', shape: [expect.anything(), 8] },
    ]);
    expect(report.outputs).toHaveLength(1);
    expect(report.bytes).toBe(readFileSync(out).length);

    // The graph holds exactly the trained parameters (no optimizer state, loss or labels)...
    const ck = await readCheckpoint(mlp.checkpoint);
    const params = Object.keys(ck.tensors).filter((n) => !n.startsWith('optimizer/'));
    expect(Object.keys(ck.tensors).length).toBeGreaterThan(params.length);
    const model = parseModel(readFileSync(out));
    expect(model.graph.initializers.map((t) => t.name).sort()).toEqual([...params].sort());
    expect(model.graph.inputs.map((v) => v.name)).toEqual(mlp.setup.model.dataInputs);
    expect(model.graph.nodes.every((n) => n.domain === '' && n.op !== 'Dropout')).toBe(true);
    expect(model.metadata['enjambre.checkpoint.step']).toBe('30');
    // ...with the trained values, not the initial ones the metadata alone rebuilds.
    const initial = modelFromMetadata(JSON.parse(ck.metadata.model));
    for (const t of model.graph.initializers) {
      expect(Array.from(t.data as Float32Array)).toEqual(Array.from(ck.tensors[t.name].data as Float32Array));
    }
    const moved = initial.graph.initializers.some((t) => {
      const trained = ck.tensors[t.name].data as Float32Array;
      return (t.data as Float32Array).some((v, i) => v !== trained[i]);
    });
    expect(moved).toBe(true);

    // onnxruntime runs it, and its logits give the trainer's own validation loss and accuracy.
    const [loss, accuracy] = await evaluateExported(out, mlp, 3);
    expect(loss).toBeCloseTo(mlp.result.valLoss, 4);
    expect(accuracy).toBeCloseTo(mlp.result.valAccuracy!, 6);
    expect(mlp.result.valAccuracy!).toBeGreaterThan(1 / 3);

    const text = await runCli(['export', '--checkpoint', mlp.checkpoint, '--out', out]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Wrote .*mlp\.onnx \(\d+ bytes\): mlp /);
    expect(text.stdout).toContain('trained for 30 steps');
  });

  it('needs the original .onnx file for an imported model, and checks it is the right one', async () => {
    const out = path.join(tmp, 'torch-trained.onnx');
    const without = await runCli(['export', '--checkpoint', imported.checkpoint, '--out', out]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('holds an imported ONNX model');
    expect(without.stderr).toContain('--model PATH.onnx');
    expect(without.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);

    const wrongFile = path.join(tmp, 'wrong.onnx');
    copyFileSync(path.join(tmp, 'out', 'mlp.onnx'), wrongFile);
    const wrong = await runCli([
      'export',
      '--checkpoint',
      imported.checkpoint,
      '--out',
      out,
      '--model',
      wrongFile,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('is not the .onnx file this checkpoint was trained from');

    const r = await runCli([
      'export',
      '--checkpoint',
      imported.checkpoint,
      '--out',
      out,
      '--model',
      TORCH_MLP,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'onnx', step: 30 });
    const [loss, accuracy] = await evaluateExported(out, imported, 4);
    expect(loss).toBeCloseTo(imported.result.valLoss, 4);
    expect(accuracy).toBeCloseTo(imported.result.valAccuracy!, 6);
  });

  it('refuses files that are not Enjambre checkpoints, and missing options', async () => {
    const plain = path.join(tmp, 'plain.safetensors');
    await writeCheckpoint(plain, { w: { dtype: 'float32', dims: [2], data: new Float32Array([0.5, -1.5]) } });
    const notOurs = await runCli(['export', '--checkpoint', plain, '--out', path.join(tmp, 'x.onnx')]);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toContain("is not an Enjambre checkpoint: its __metadata__ has no 'model' entry");

    const garbage = path.join(tmp, 'garbage.safetensors');
    writeFileSync(garbage, 'this is not safetensors at all');
    const bad = await runCli(['export', '--checkpoint', garbage, '--out', path.join(tmp, 'x.onnx')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^enjambre: .*garbage\.safetensors/);
    expect(bad.stderr).not.toContain('    at ');

    const missing = await runCli([
      'export',
      '--checkpoint',
      path.join(tmp, 'none.safetensors'),
      '--out',
      'x.onnx',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('could not read checkpoint');

    const usage = await runCli(['export', '--checkpoint', mlp.checkpoint]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('export needs --out');
    expect(existsSync(path.join(tmp, 'x.onnx'))).toBe(false);
  });
});
