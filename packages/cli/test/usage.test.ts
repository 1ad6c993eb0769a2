import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

function enjambre(args: string[]) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The user-facing part of stderr: onnxruntime's own native log lines are not ours. */
const ourLines = (stderr: string) =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('[E:onnxruntime'));

describe('usage mistakes get a suggestion and exit code 2', () => {
  it('a mistyped option', () => {
    const r = enjambre(['train', '--confg', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--confg'/);
    expect(r.stderr).toMatch(/Did you mean --config\?/);
    expect(r.stderr).toMatch(/enjambre train --help/);
  });

  it('a mistyped command', () => {
    const r = enjambre(['jion', '--config', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'jion'/);
    expect(r.stderr).toMatch(/Did you mean join\?/);
  });

  it('a missing value', () => {
    const r = enjambre(['join', '--config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--config <value>' argument missing/);
  });
});

describe('a port in use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enjambre-usage-'));
  const config = join(dir, 'node.yaml');
  writeFileSync(
    config,
    `node: {workDir: ${join(dir, 'work')}}\nmodel: {kind: mlp, hidden: [4]}\ndata: {format: synthetic, examples: 64, features: 3, classes: 2}\nswarm: {runId: busy, mdns: false}\n`,
  );
  const withBusyPort = async (run: (port: number) => void) => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      run(port);
    } finally {
      server.close();
    }
  };

  it('is one line naming the address and the fix, exit code 1', async () => {
    await withBusyPort((port) => {
      const r = enjambre(['join', '--config', config, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--quiet']);
      expect(r.code).toBe(1);
      // --quiet: only the error.
      expect(ourLines(r.stderr), r.stderr).toEqual([
        `enjambre: the address /ip4/127.0.0.1/tcp/${port} is already in use (another enjambre or another program listens there): stop it, or pick another port (--listen /ip4/0.0.0.0/tcp/0 takes any free port)`,
      ]);
    });
  }, 60_000);

  it('is a JSON line with --log-format json, as every other line', async () => {
    await withBusyPort((port) => {
      const r = enjambre([
        'join',
        '--config',
        config,
        '--listen',
        `/ip4/127.0.0.1/tcp/${port}`,
        '--log-format',
        'json',
      ]);
      expect(r.code).toBe(1);
      const lines = ourLines(r.stderr).map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines[0].level).toBe(30);
      expect(lines[0].msg).toMatch(/^mlp 3-4-2/);
      expect(lines.at(-1)?.level).toBe(50);
      expect(lines.at(-1)?.msg).toContain(`/ip4/127.0.0.1/tcp/${port} is already in use`);
    });
  }, 60_000);
});
