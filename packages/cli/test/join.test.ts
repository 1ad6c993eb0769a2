import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { planLocalSwarm } from '@enjambre/peer';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

interface Peer {
  child: ChildProcess;
  rounds: number[];
  stderr: string[];
  final: Promise<Record<string, unknown> | undefined>;
  exit: Promise<number | null>;
}

function startPeer(config: string, args: string[]): Peer {
  const child = spawn(process.execPath, [...CLI, 'join', '--config', config, '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const rounds: number[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    const m = /^round (\d+):/.exec(line);
    if (m) rounds.push(Number(m[1]));
  });
  const final = new Promise<Record<string, unknown> | undefined>((res) => {
    let last: Record<string, unknown> | undefined;
    createInterface({ input: child.stdout! })
      .on('line', (line) => {
        try {
          last = JSON.parse(line) as Record<string, unknown>;
        } catch {
          // not JSON
        }
      })
      .on('close', () => res(last));
  });
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, rounds, stderr, final, exit };
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('enjambre join, one OS process per peer', () => {
  it('the first peer started is killed with SIGKILL mid-run; the others finish; a SIGTERM leaves cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enjambre-join-'));
    const plan = await planLocalSwarm({
      dir,
      peers: 4,
      runId: 'kill-test',
      base: {
        hardware: { intraOpThreads: 1 },
        model: { kind: 'mlp', hidden: [512, 512] },
        data: { format: 'synthetic', seed: 5, examples: 4000, features: 16, classes: 4 },
        training: { batchSize: 64, stepsPerRun: 10, evalBatches: 2 },
        // Rounds of about a second, so that the run outlasts the observer's start-up.
        swarm: { averaging: { innerSteps: 100, roundTimeoutMs: 2000 } },
      },
    });
    const rounds = 16;
    const peers = plan.peers.map((p) =>
      startPeer(p.config, ['--max-rounds', String(rounds), '--min-peers', '4']),
    );

    // Kill the first peer (the one the others were started against) hard, in the middle of the run.
    await until(() => peers[0].rounds.length >= 3, 90_000);
    peers[0].child.kill('SIGKILL');
    // An observer that knows nothing but one peer's address watches the run.
    const watch = spawnSync(
      process.execPath,
      [...CLI, 'status', '--bootstrap', plan.peers[2].address, '--json'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(watch.status, watch.stderr).toBe(0);
    const snapshot = JSON.parse(watch.stdout) as { runId: string; peers: { id: string; state: string }[] };
    expect(snapshot.runId).toBe('kill-test');
    const seen = snapshot.peers.filter((p) => p.state === 'active').map((p) => p.id);
    expect(seen).toEqual(expect.arrayContaining([plan.peers[2].peerId, plan.peers[3].peerId]));
    // Ask another to leave politely: it announces its departure and writes a checkpoint.
    await until(() => peers[1].rounds.length >= 10, 120_000);
    peers[1].child.kill('SIGTERM');

    const [kill, term, a, b] = await Promise.all(peers.map((p) => p.exit));
    expect(kill).toBeNull(); // killed by the signal
    expect(term).toBe(0);
    expect(a).toBe(0);
    expect(b).toBe(0);

    const left = await peers[1].final;
    expect(left?.interrupted).toBe(true);
    expect(String(left?.checkpoint)).toMatch(/swarm-checkpoint\.safetensors$/);
    const [ra, rb] = await Promise.all([peers[2].final, peers[3].final]);
    expect(ra?.rounds).toBe(rounds);
    expect(rb?.rounds).toBe(rounds);
    expect(ra?.anchorHash).toBe(rb?.anchorHash);
    // Every round is in the peer's metrics file, one JSON line each, for plotting.
    const lines = readFileSync(join(dir, 'peer-2', 'metrics-kill-test.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const metrics = lines.map((l) => JSON.parse(l) as { round: number; loss: number; bytesSent: number });
    expect(metrics.length).toBe(peers[2].rounds.length);
    expect(metrics.map((m) => m.round)).toEqual(peers[2].rounds);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.bytesSent).toBeGreaterThan(0);
    }
    // Nobody waited for the dead peer longer than the round timeout: rounds kept completing.
    expect(peers[2].rounds.at(-1)).toBe(rounds - 1);
  });
});
