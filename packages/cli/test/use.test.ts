import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@enjambre/config';
import { type CsvEncoding, encodeCsvTable, readCsvTable } from '@enjambre/data';
import { parseModel } from '@enjambre/onnx';
import { setupTraining, toTrainBatch } from '@enjambre/peer';
import { readCheckpoint } from '@enjambre/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'enjambre-use-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * An iris-like table drawn afresh: three species as Gaussian clusters in four measurements, a
 * categorical `site` column, a few missing cells, and the target in the middle of the columns.
 */
function irisLike(rows: number): string {
  const species = ['setosa', 'versicolor', 'virginica'];
  const centres = [
    [5.0, 3.4, 1.5, 0.2],
    [5.9, 2.8, 4.3, 1.3],
    [6.6, 3.0, 5.6, 2.0],
  ];
  const normal = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  const lines = ['sepal_length,sepal_width,species,petal_length,site,petal_width'];
  for (let r = 0; r < rows; r++) {
    const k = r % 3;
    const v = centres[k].map((c) => (c + 0.3 * normal()).toFixed(2));
    if (Math.random() < 0.05) v[1] = '';
    const site = Math.random() < 0.05 ? 'NA' : ['north', 'south', 'east'][Math.floor(Math.random() * 3)];
    lines.push([v[0], v[1], species[k], v[2], site, v[3]].join(','));
  }
  return `${lines.join('\n')}\n`;
}

describe('predict and generate with exported models', () => {
  it('predicts raw CSV rows as the trainer evaluates them', async () => {
    const csv = path.join(tmp, 'iris.csv');
    writeFileSync(csv, irisLike(150));
    const config = path.join(tmp, 'iris.yaml');
    writeFileSync(
      config,
      [
        'node: { workDir: iris-work }',
        'model: { kind: mlp, hidden: [16] }',
        'data: { format: csv, path: iris.csv, target: species, categorical: [site] }',
        'training: { batchSize: 16, maxSteps: 60, stepsPerRun: 10, evalEvery: 0, optimizer: { kind: adamw, lr: 0.02 } }',
        '',
      ].join('\n'),
    );
    const checkpoint = path.join(tmp, 'iris.safetensors');
    const trained = await runCli(['train', '--config', config, '--checkpoint', checkpoint, '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const again = await runCli(['train', '--config', config, '--checkpoint', checkpoint]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/iris\.safetensors already exists: .*--resume.*--force/);
    const model = path.join(tmp, 'iris.onnx');
    const exported = await runCli(['export', '--checkpoint', checkpoint, '--out', model, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const report = JSON.parse(exported.stdout);
    expect(report.inputs).toEqual([{ name: 'features', dtype: 'float32', shape: [expect.anything(), 5] }]);
    expect(report.preprocessing.columns.map((c: { name: string }) => c.name)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'site',
      'petal_width',
    ]);
    const meta = JSON.parse(parseModel(readFileSync(model)).metadata['enjambre.preprocessing']);
    expect(meta).toEqual(report.preprocessing);
    expect(meta.target.classes).toEqual(['setosa', 'versicolor', 'virginica']);

    const r = await runCli(['predict', '--model', model, '--input', csv, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { predictions } = JSON.parse(r.stdout) as {
      predictions: { line: number; prediction: string; probabilities: Record<string, number> }[];
    };
    expect(predictions).toHaveLength(150);
    expect(predictions.map((p) => p.line)).toEqual(Array.from({ length: 150 }, (_, i) => i + 2));

    // The oracle: the trainer's own evaluation of the same rows, encoded by the data package with
    // the encoding the checkpoint saved and run through the training setup's evaluation graph.
    const ck = await readCheckpoint(checkpoint);
    const encoding = JSON.parse(ck.metadata.data).encoding as CsvEncoding;
    const table = await readCsvTable(csv);
    const { dataset } = encodeCsvTable(encoding, table);
    const setup = await setupTraining(await loadConfig(config));
    try {
      const params = Object.fromEntries(
        Object.entries(ck.tensors).filter(([n]) => !n.startsWith('optimizer/')),
      );
      setup.trainer.setParameters(params);
      const all = Array.from({ length: dataset.size }, (_, i) => i);
      const batch = toTrainBatch(setup.compiled, dataset.batch(all));
      const evaluation = await setup.trainer.evaluate([batch]);
      const labels = Array.from(batch.labels.data as BigInt64Array, Number);
      const classes = meta.target.classes as string[];
      let loss = 0;
      let correct = 0;
      predictions.forEach((p, i) => {
        const sum = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(1, 5);
        loss -= Math.log(p.probabilities[classes[labels[i]]]);
        if (p.prediction === classes[labels[i]]) correct++;
      });
      expect(loss / labels.length).toBeCloseTo(evaluation.loss, 4);
      expect(correct / labels.length).toBeCloseTo(evaluation.accuracy!, 6);
      expect(evaluation.accuracy).toBeGreaterThan(0.8);
    } finally {
      await setup.data.close();
    }

    // Columns in another order, without the target, an unseen category: found by name.
    const rows = path.join(tmp, 'rows.csv');
    writeFileSync(
      rows,
      'site,petal_width,petal_length,sepal_width,sepal_length\nmars,0.2,1.4,3.5,5.1\nsouth,2.1,5.7,3.0,6.7\n',
    );
    const text = await runCli(['predict', '--model', model, '--input', rows]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^line 2: setosa {2}\(\d+\.\d%\)\nline 3: virginica {2}\(\d+\.\d%\)\n$/);

    const missing = path.join(tmp, 'missing.csv');
    writeFileSync(missing, 'sepal_length,sepal_width\n5.1,3.5\n');
    const bad = await runCli(['predict', '--model', model, '--input', missing]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("'petal_length'");
    const cell = path.join(tmp, 'cell.csv');
    writeFileSync(
      cell,
      'sepal_length,sepal_width,petal_length,site,petal_width\n5.1,3.5,1.4,north,0.2\n5.0,wide,1.4,north,0.2\n',
    );
    const notNumber = await runCli(['predict', '--model', model, '--input', cell]);
    expect(notNumber.code).toBe(1);
    expect(notNumber.stderr).toMatch(/cell\.csv:3: column 'sepal_width' holds "wide"/);
  });

  it('generates text from a prompt with a char model', async () => {
    writeFileSync(path.join(tmp, 'abcd.txt'), 'abcd'.repeat(600));
    const config = path.join(tmp, 'char.yaml');
    writeFileSync(
      config,
      [
        'node: { workDir: char-work }',
        'model: { kind: char-transformer, layers: 1, heads: 2, width: 16, context: 8, dropout: 0 }',
        'data: { format: text, path: abcd.txt }',
        'training: { batchSize: 16, maxSteps: 80, stepsPerRun: 10, evalEvery: 0, optimizer: { kind: adamw, lr: 0.01 } }',
        '',
      ].join('\n'),
    );
    const checkpoint = path.join(tmp, 'char.safetensors');
    const trained = await runCli(['train', '--config', config, '--checkpoint', checkpoint, '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const model = path.join(tmp, 'char.onnx');
    const exported = await runCli(['export', '--checkpoint', checkpoint, '--out', model]);
    expect(exported.code, exported.stderr).toBe(0);
    const meta = JSON.parse(parseModel(readFileSync(model)).metadata['enjambre.preprocessing']);
    expect(meta).toMatchObject({
      format: 'text',
      vocab: { kind: 'char', chars: ['a', 'b', 'c', 'd'] },
      context: 8,
    });

    // The text is periodic: a trained model continues it, across the context window.
    const greedy = await runCli([
      'generate',
      '--model',
      model,
      '--prompt',
      'bc',
      '--tokens',
      '14',
      '--temperature',
      '0',
      '--json',
    ]);
    expect(greedy.code, greedy.stderr).toBe(0);
    expect(JSON.parse(greedy.stdout)).toEqual({ prompt: 'bc', text: 'dabcdabcdabcda' });

    const sample = (seed: string) =>
      runCli([
        'generate',
        '--model',
        model,
        '--prompt',
        'a',
        '--tokens',
        '30',
        '--temperature',
        '3',
        '--top-k',
        '3',
        '--seed',
        seed,
      ]);
    const [one, again, other] = await Promise.all([sample('7'), sample('7'), sample('8')]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^a[abcd]{30}\n$/);
    expect(again.stdout).toBe(one.stdout);
    expect(other.stdout).not.toBe(one.stdout);

    const outside = await runCli(['generate', '--model', model, '--prompt', 'abz']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('is not in the vocabulary');
  });
});
