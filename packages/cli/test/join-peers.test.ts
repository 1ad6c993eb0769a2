import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { planLocalSwarm } from '@enjambre/peer';
import { describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

const SEARCH_MS = 3000;

describe('join --require-peers', () => {
  it('against a bootstrap address where no peer runs, exits with code 3 once the search time is up, naming the address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enjambre-lonely-'));
    // Two planned peers; only the second starts, so its bootstrap (the first's address) is dead.
    const plan = await planLocalSwarm({
      dir,
      peers: 2,
      runId: `lonely-${Math.random().toString(36).slice(2, 8)}`,
      base: {
        model: { kind: 'mlp', hidden: [8] },
        data: {
          format: 'synthetic',
          examples: 256,
          features: 4,
          classes: 2,
          seed: 1 + Math.floor(Math.random() * 1000),
        },
        training: { batchSize: 16, evalBatches: 1 },
        swarm: { peerSearchTimeoutMs: SEARCH_MS, averaging: { innerSteps: 5 } },
      },
    });
    const dead = plan.peers[0].address;
    const child = spawn(
      process.execPath,
      [...CLI, 'join', '--config', plan.peers[1].config, '--require-peers', '2'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    let listeningAt: number | undefined;
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('listening on')) listeningAt ??= Date.now();
    });
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    const exitedAt = Date.now();
    expect(code, lines.join('\n')).toBe(3);
    expect(listeningAt).toBeDefined();
    const searched = exitedAt - (listeningAt as number);
    // Not before the search time, and soon after it (leaving writes a checkpoint: headroom for load).
    expect(searched).toBeGreaterThanOrEqual(SEARCH_MS - 100);
    expect(searched).toBeLessThan(SEARCH_MS + 10_000);
    const error = lines.find((l) => l.startsWith('error: '));
    expect(error, lines.join('\n')).toMatch(/found 1 of the 2 peers required/);
    expect(error).toContain(dead);
    expect(lines.join('\n')).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('meeting a peer of the same run with another model names it and the settings to compare, then exits with code 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enjambre-mismatch-'));
    const base = {
      data: { format: 'synthetic', examples: 256, features: 4, classes: 2, seed: 3 },
      training: { batchSize: 16, evalBatches: 1 },
      swarm: { peerSearchTimeoutMs: 8000, averaging: { innerSteps: 5 } },
    };
    const runId = `mismatch-${Math.random().toString(36).slice(2, 8)}`;
    const plan = await planLocalSwarm({
      dir,
      peers: 2,
      runId,
      base: { ...base, model: { kind: 'mlp', hidden: [8] } },
    });
    // The second peer's config asks for another model.
    const other = await planLocalSwarm({
      dir: join(dir, 'other'),
      peers: 1,
      runId,
      base: {
        ...base,
        model: { kind: 'mlp', hidden: [16] },
        swarm: { ...base.swarm, bootstrap: [plan.peers[0].address] },
      },
    });
    const first = spawn(process.execPath, [...CLI, 'join', '--config', plan.peers[0].config], {
      stdio: 'ignore',
    });
    try {
      const child = spawn(
        process.execPath,
        [
          ...CLI,
          'join',
          '--config',
          other.peers[0].config,
          '--bootstrap',
          plan.peers[0].address,
          '--require-peers',
          '2',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const lines: string[] = [];
      createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
      const code = await new Promise<number | null>((res) => child.on('exit', res));
      const text = lines.join('\n');
      expect(code, text).toBe(3);
      expect(text).toContain(plan.peers[0].peerId);
      expect(text).toMatch(/runs model\/config hash/);
      expect(text).toMatch(/warning: a peer of run '.*' trains another model or with other settings/);
      expect(lines.find((l) => l.startsWith('error: '))).toMatch(
        /peers were met but run another run or model/,
      );
    } finally {
      first.kill('SIGKILL');
    }
  }, 90_000);
});
