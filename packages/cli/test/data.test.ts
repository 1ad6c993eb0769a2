import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const FIXTURES = path.join(ROOT, 'fixtures/datasets');

function runCliWith(args: string[], env: Record<string, string>): Promise<CliResult> {
  const { ENJAMBRE_DATA_MIRROR: _, ...inherited } = process.env;
  return runCli(args, { ...inherited, ...env });
}

// A real HTTP mirror of the fixtures on 127.0.0.1.
let server: Server;
let mirror: string;
const served: string[] = [];
let cache: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    served.push(req.url ?? '');
    const file = path.join(FIXTURES, decodeURIComponent(req.url ?? '').replace(/^\/data\//, ''));
    if (!file.startsWith(`${FIXTURES}/`)) return void res.writeHead(403).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`;
  cache = mkdtempSync(path.join(os.tmpdir(), 'enjambre-cli-data-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(cache, { recursive: true, force: true });
});

describe('enjambre data', () => {
  it('lists, downloads from a mirror URL or folder, and lists again', async () => {
    const env = { XDG_CACHE_HOME: cache };
    const before = await runCliWith(['data', 'list', '--json'], env);
    expect(before.code, before.stderr).toBe(0);
    const listed = JSON.parse(before.stdout) as {
      dir: string;
      datasets: { name: string; sha256: string; bytes: number; cached: boolean; files: unknown[] }[];
    };
    expect(listed.dir).toBe(path.join(cache, 'enjambre/datasets'));
    expect(listed.datasets.map((d) => d.name)).toEqual(['mnist', 'tinyshakespeare', 'iris', 'penguins']);
    for (const d of listed.datasets) {
      expect(d).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), cached: false });
      expect(d.bytes).toBeGreaterThan(1000);
    }
    // A dataset's sha256 is that of its manifest: for iris, the fixture's own line of SHA256SUMS.
    const irisSum = readFileSync(path.join(FIXTURES, 'SHA256SUMS'), 'utf8')
      .split('\n')
      .find((l) => l.endsWith('  iris/iris.csv'))!
      .replace('iris/', '');
    const iris = listed.datasets.find((d) => d.name === 'iris')!;
    expect(iris.sha256).toBe(createHash('sha256').update(`${irisSum}\n`).digest('hex'));
    expect(iris.bytes).toBe(3858);

    const got = await runCliWith(['data', 'get', 'tinyshakespeare', '--from', mirror], env);
    expect(got.code, got.stderr).toBe(0);
    expect(served).toContain('/data/tinyshakespeare/input.txt');
    expect(got.stderr).toContain('input.txt: verified, 1.1 MiB');
    expect(got.stdout).toContain(
      `tinyshakespeare: ready in ${path.join(cache, 'enjambre/datasets/tinyshakespeare')}`,
    );

    // The mirror may come from the environment; a folder works as well as a URL.
    const fromEnv = await runCliWith(['data', 'get', 'penguins'], { ...env, ENJAMBRE_DATA_MIRROR: FIXTURES });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);

    const after = JSON.parse((await runCliWith(['data', 'list', '--json'], env)).stdout) as typeof listed;
    expect(Object.fromEntries(after.datasets.map((d) => [d.name, d.cached]))).toEqual({
      mnist: false,
      tinyshakespeare: true,
      iris: false,
      penguins: true,
    });
  });

  it('fails clearly on a file that does not match its hash, an unknown name and a missing subcommand', async () => {
    const env = { XDG_CACHE_HOME: cache };
    // The MNIST fixture is a subset: its bytes are not the pinned ones.
    const bad = await runCliWith(['data', 'get', 'mnist', '--from', mirror], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /enjambre: http:\/\/127\.0\.0\.1:\d+\/data\/mnist\/train-images-idx3-ubyte\.gz: SHA-256 [0-9a-f]{64} \(240770 bytes\) is not the pinned 71524e2c/,
    );
    const unknown = await runCliWith(['data', 'get', 'cifar10'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      "unknown dataset \"cifar10\": expected one of 'mnist', 'tinyshakespeare'",
    );
    const none = await runCliWith(['data'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('data needs a subcommand: list or get');
  });

  it('a config naming a dataset that is not downloaded says which command downloads it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'enjambre-cli-dataset-config-'));
    const config = path.join(dir, 'mnist.yaml');
    writeFileSync(config, 'model: {kind: mlp}\ndata: {dataset: mnist}\nswarm: {runId: r}\n');
    const r = await runCliWith(['train', '--config', config], { XDG_CACHE_HOME: path.join(dir, 'cache') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("dataset 'mnist' is not downloaded");
    expect(r.stderr).toContain('run `enjambre data get mnist`');
    rmSync(dir, { recursive: true, force: true });
  });
});
