/**
 * A swarm peer's checkpoints, through the CLI with one OS process per peer: written every
 * swarm.checkpointEveryRounds rounds, written on SIGTERM even when the output pipes are closed,
 * exported to ONNX that onnxruntime runs, and continued with `join --resume`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { planLocalSwarm } from '@enjambre/peer';
import { readCheckpoint } from '@enjambre/runtime';
import * as ort from 'onnxruntime-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
const dir = mkdtempSync(join(tmpdir(), 'enjambre-join-ck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Peer {
  child: ChildProcess;
  stderr: string[];
  stdout: string[];
  exit: Promise<number | null>;
}

function start(args: string[]): Peer {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const stderr: string[] = [];
  const stdout: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, stderr, stdout, exit };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const roundsDone = (p: Peer) => p.stderr.filter((l) => /^round \d+:/.test(l)).length;

describe('swarm checkpoints', () => {
  it('every N rounds, on SIGTERM with closed output pipes, exported, and resumed', async () => {
    const plan = await planLocalSwarm({
      dir,
      peers: 2,
      runId: 'checkpoint-test',
      base: {
        hardware: { intraOpThreads: 1 },
        model: { kind: 'mlp', hidden: [32] },
        data: { format: 'synthetic', seed: 3, examples: 2000, features: 8, classes: 3 },
        training: { batchSize: 32, stepsPerRun: 10, evalBatches: 2 },
        swarm: { checkpointEveryRounds: 2, averaging: { innerSteps: 20, roundTimeoutMs: 2000 } },
      },
    });
    const [a, b] = plan.peers.map((p, i) =>
      start(['join', '--config', p.config, '--min-peers', '2', ...(i === 1 ? ['--max-rounds', '6'] : [])]),
    );
    await until(
      () => a.stderr.some((l) => /^checkpoint .*swarm-checkpoint\.safetensors \(round 2\)$/.test(l)),
      120_000,
      'a checkpoint at round 2',
    );
    const checkpoint = join(dir, 'peer-0', 'swarm-checkpoint.safetensors');
    const periodic = await readCheckpoint(checkpoint);
    expect(periodic.metadata.round).toBe('2');
    expect(periodic.metadata.runId).toBe('checkpoint-test');

    // Whoever read the output is gone (`enjambre join … | head -1`): the next writes fail with EPIPE.
    a.child.stdout!.destroy();
    a.child.stderr!.destroy();
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.child.exitCode).toBeNull();
    a.child.kill('SIGTERM');
    expect(await a.exit).toBe(0);
    expect(await b.exit).toBe(0);
    // Rounds 2 and 4, then on leaving after round 6.
    const saved = b.stderr.flatMap((l) => /^checkpoint .* \(round (\d+)\)$/.exec(l)?.[1] ?? []);
    expect(saved).toEqual(['2', '4', '6']);

    const left = await readCheckpoint(checkpoint);
    const round = Number(left.metadata.round);
    expect(round).toBeGreaterThanOrEqual(2);
    expect(left.tensors['outer/momentum'].data.length).toBeGreaterThan(0);

    // The swarm checkpoint exports to a plain ONNX model that onnxruntime runs.
    const onnx = join(dir, 'swarm.onnx');
    const exported = start(['export', '--checkpoint', checkpoint, '--out', onnx]);
    expect(await exported.exit, exported.stderr.join('\n')).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(onnx));
    try {
      const x = Float32Array.from({ length: 5 * 8 }, () => Math.random() * 2 - 1);
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [5, 8]) });
      const logits = out[session.outputNames[0]];
      expect(logits.dims).toEqual([5, 3]);
      expect(Array.from(logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }

    // --resume continues from the checkpoint's round (alone now: no swarm runs to catch up with).
    const resumed = start([
      'join',
      '--config',
      plan.peers[0].config,
      '--resume',
      '--max-rounds',
      String(round + 2),
      '--json',
    ]);
    expect(await resumed.exit, resumed.stderr.join('\n')).toBe(0);
    expect(resumed.stderr.join('\n')).toContain(`at round ${round}`);
    expect(roundsDone(resumed)).toBe(2);
    const final = JSON.parse(resumed.stdout.at(-1)!);
    expect(final.rounds).toBe(round + 2);
    const after = await readCheckpoint(checkpoint);
    expect(after.metadata.round).toBe(String(round + 2));
  }, 240_000);
});
