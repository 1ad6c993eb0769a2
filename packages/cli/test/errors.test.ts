import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, makeModel, serializeModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

/** A model with an op that has no gradient rule (Softplus) between its weight and its output. */
function softplusModel(): string {
  const b = new GraphBuilder('softplus');
  const x = b.input('x', 'float32', ['N', 4]);
  const w = b.initializer(
    'w',
    'float32',
    [4, 3],
    Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)),
  );
  b.output(b.op('Softplus', [b.op('MatMul', [x, w])]), 'float32', ['N', 3]);
  const file = join(mkdtempSync(join(tmpdir(), 'enjambre-onnx-')), 'softplus.onnx');
  writeFileSync(file, serializeModel(makeModel(b.graph)));
  return file;
}

function enjambre(args: string[]) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The user-facing part of stderr: onnxruntime's own native log lines are not ours. */
function ourLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('[E:onnxruntime'));
}

describe('bad input gets one clear line, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enjambre-errors-'));
  const write = (name: string, yaml: string) => {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    return file;
  };
  const csv = write('bad.csv', 'a,b,label\n1,2,x\n3,4\n5,6,y\n');
  const cases: [string, string, RegExp][] = [
    [
      'a missing data file',
      write('missing.yaml', 'model: {kind: mlp}\ndata: {format: csv, path: nowhere.csv, target: label}\n'),
      /data\.path.*nowhere\.csv/,
    ],
    [
      'a malformed CSV row',
      write(
        'csv.yaml',
        `model: {kind: mlp}\ndata: {format: csv, path: ${csv}, target: label}\ntraining: {maxSteps: 5}\n`,
      ),
      /bad\.csv.*line 3/,
    ],
    [
      'a model that does not fit the data',
      write(
        'shape.yaml',
        'model: {kind: cnn}\ndata: {format: synthetic, features: 10}\ntraining: {maxSteps: 5}\n',
      ),
      /cnn.*10|image/i,
    ],
    [
      'an unknown execution provider',
      write(
        'ep.yaml',
        'hardware: {executionProviders: [tpu]}\nmodel: {kind: mlp}\ndata: {format: synthetic}\n',
      ),
      /hardware\.executionProviders\[0\].*tpu/,
    ],
    [
      'an unsupported op in an imported model',
      write(
        'onnx.yaml',
        `model: {kind: onnx, path: ${softplusModel()}, loss: mse}\ndata: {format: synthetic, features: 4}\ntraining: {maxSteps: 5}\n`,
      ),
      /Softplus/,
    ],
    [
      'a typo in a key',
      write('typo.yaml', 'model: {kind: mlp, hiden: [3]}\ndata: {format: synthetic}\n'),
      /model.*hiden.*hidden/,
    ],
  ];
  it.each(cases)('%s', (_name, config, expected) => {
    const r = enjambre(['train', '--config', config, '--max-steps', '5']);
    expect(r.code).toBe(1);
    const lines = ourLines(r.stderr);
    expect(lines.length, r.stderr).toBe(1);
    expect(lines[0]).toMatch(/^enjambre: /);
    expect(lines[0]).toMatch(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
