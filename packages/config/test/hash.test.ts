import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson, parseConfig, trainingConfigFingerprint, trainingConfigHash } from '../src/index.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../fixtures/datasets');
const dir = mkdtempSync(path.join(tmpdir(), 'enjambre-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
copyFileSync(path.join(SHARED, 'tinyshakespeare/input.txt'), path.join(dir, 'mine.txt'));

const model = 'model: {kind: char-transformer, layers: 2, heads: 2, width: 32, context: 16}\n';
const training =
  'training: {batchSize: 12, maxSteps: 100, optimizer: {lr: 0.001}, lrSchedule: {kind: cosine}}\n';

function hashOf(text: string, baseDir = SHARED, hostname = 'a'): string {
  return trainingConfigHash(parseConfig(text, { baseDir, hostname, cores: 2 }));
}

describe('trainingConfigHash', () => {
  const reference = hashOf(`${model}data: {format: text, path: tinyshakespeare/input.txt}\n${training}`);

  it('is a sha256 hex digest', () => {
    expect(reference).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores paths, hardware, node names, batch size and network settings', () => {
    const other = hashOf(
      `${model}data: {format: text, path: mine.txt, seed: 7, validFraction: 0.2}\n` +
        `training: {batchSize: 4, maxSteps: 100, optimizer: {lr: 0.001}, lrSchedule: {kind: cosine}, evalEvery: 3, checkpointEvery: 9}\n` +
        'node: {name: other, workDir: /tmp/elsewhere}\nhardware: {executionProviders: [cuda], intraOpThreads: 64, memoryBudgetMB: 1000}\n' +
        'swarm: {runId: r, listen: [/ip4/127.0.0.1/tcp/5000], mdns: false, averaging: {roundTimeoutMs: 100, inlineMaxBytes: 1000}}\n' +
        'metrics: {prometheusPort: 9000}\n',
      dir,
      'b',
    );
    expect(other).toBe(reference);
  });

  it('treats explicit defaults like omitted ones', () => {
    const explicit = hashOf(
      `${model}data: {format: text, path: tinyshakespeare/input.txt, byteLevel: false}\n` +
        'training: {batchSize: 12, maxSteps: 100, optimizer: {kind: adamw, lr: 0.001, beta1: 0.9, weightDecay: 0.01}, lrSchedule: {kind: cosine, minLr: 0.0001}}\n' +
        'swarm: {averaging: {codec: sign, outerLr: 0.7, outerMomentum: 0.9, innerSteps: 50}}\n',
    );
    expect(explicit).toBe(reference);
  });

  it('changes with the learning rate and every other shared setting', () => {
    const variants = [
      `${model}data: {format: text, path: tinyshakespeare/input.txt}\n${training.replace('lr: 0.001', 'lr: 0.002')}`,
      `${model.replace('layers: 2', 'layers: 3')}data: {format: text, path: tinyshakespeare/input.txt}\n${training}`,
      `${model}data: {format: text, path: tinyshakespeare/input.txt, byteLevel: true}\n${training}`,
      `${model}data: {format: text, path: tinyshakespeare/input.txt}\n${training}swarm: {averaging: {codec: int8}}\n`,
      `${model}data: {format: text, path: tinyshakespeare/input.txt}\n${training}swarm: {averaging: {innerSteps: 51}}\n`,
      `${model}data: {format: text, path: tinyshakespeare/input.txt}\n${training}swarm: {averaging: {localParams: [head]}}\n`,
      `${model}data: {format: text, path: tinyshakespeare/input.txt}\n${training.replace('batchSize: 12', 'batchSize: 12, gradClip: 1')}`,
    ];
    const hashes = new Set([reference, ...variants.map((v) => hashOf(v))]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('leaves the onnx model path out of the fingerprint', () => {
    const config = parseConfig(
      'model: {kind: onnx, path: tinyshakespeare/input.txt, output: logits}\ndata: {format: synthetic}\n',
      { baseDir: SHARED },
    );
    const fp = trainingConfigFingerprint(config) as { model: Record<string, unknown> };
    expect(fp.model.path).toBeUndefined();
    expect(fp.model.output).toBe('logits');
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });
});
