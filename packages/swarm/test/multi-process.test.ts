import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpdateMessage } from '../src/index.ts';
import { prng, randomHash, randomRunId, startNode, stopNodesAfterEach, waitFor } from './helpers.ts';

stopNodesAfterEach();

let child: ChildProcess | undefined;
afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

describe('multi-process swarm', () => {
  it('a peer in a separate OS process joins and exchanges messages', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const a = await startNode({ runId, compatHash });
    const fixture = path.resolve(import.meta.dirname, 'fixtures/peer.ts');
    child = spawn('npx', ['tsx', fixture, a.multiaddrs()[0], runId, compatHash], {
      cwd: path.resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: { event: string; peerId?: string }[] = [];
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) events.push(JSON.parse(line));
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    const updates: { msg: UpdateMessage; from: string }[] = [];
    a.subscribe('updates', (msg, from) => updates.push({ msg, from }));
    await waitFor(() => events.some((e) => e.event === 'ready'), 20_000, `child ready (stderr: ${stderr})`);
    const childId = events.find((e) => e.event === 'ready')?.peerId;
    await a.waitForTopicPeers('heartbeats', 1, { timeoutMs: 10_000 });

    const r = prng(5);
    const fingerprint = Float32Array.from({ length: 16 }, () => r() * 2 - 1);
    await a.publishHeartbeat({
      round: 9,
      step: 1,
      samplesDone: 64,
      loss: 2.5,
      samplesPerSec: 100,
      bytesIn: 0,
      bytesOut: 0,
      hardware: { provider: 'cpu', deviceName: 'parent', cores: 2 },
      fingerprint,
      role: 'trainer',
    });
    await waitFor(() => updates.length === 1, 10_000, 'update from the child process');
    const { msg, from } = updates[0];
    expect(from).toBe(childId);
    expect(msg.round).toBe(9);
    const payload = await a.resolveUpdatePayload(msg);
    const values = new Float32Array(Uint8Array.from(payload).buffer);
    expect(Array.from(values)).toEqual(Array.from(fingerprint, (v) => Math.fround(2 * v)));

    await a.publishLeave(9, 'test done');
    expect(await exited).toBe(0);
    expect(events.map((e) => e.event)).toEqual(['ready', 'answered', 'bye']);
  }, 30_000);
});
