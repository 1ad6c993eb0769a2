import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';

const IRIS = path.resolve(import.meta.dirname, '../../../fixtures/datasets/iris/iris.csv');
/** Syntactically valid libp2p peer ids (the config requires /p2p/<id> on bootstrap addresses). */
const PEER_A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
const PEER_B = 'QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC';

interface Check {
  id: string;
  title: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** A TCP server on 127.0.0.1 that counts the connections it accepts. */
async function listeningServer(): Promise<{ server: net.Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { server, port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const { server, port } = await listeningServer();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'enjambre-doctor-'));
const servers: net.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(tmp, { recursive: true, force: true });
});

function byId(checks: Check[]): Record<string, Check> {
  return Object.fromEntries(checks.map((c) => [c.id, c]));
}

describe('enjambre doctor', () => {
  it('checks the machine alone: providers with the CUDA fix, Node.js, GPUs', async () => {
    const r = await runCli(['doctor', '--json']);
    const report = JSON.parse(r.stdout);
    const c = byId(report.checks);
    expect(Object.keys(c)).toEqual(['node', 'gpu', 'provider.cuda', 'provider.webgpu', 'provider.cpu']);
    expect(c.node.status).toBe('ok');
    expect(c.node.detail).toContain(process.versions.node);
    expect(c['provider.cpu'].status).toBe('ok');
    const cuda = report.machine.providers.find((p: { provider: string }) => p.provider === 'cuda');
    if (cuda.available) expect(c['provider.cuda'].status).toBe('ok');
    else {
      expect(c['provider.cuda'].status).toBe('warn');
      expect(c['provider.cuda'].detail).toMatch(/^not available: /);
      expect(c['provider.cuda'].fix).toContain(
        'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js',
      );
      expect(c['provider.cuda'].fix).toContain('CUDA 12 and cuDNN 9');
    }
    expect(report.ok).toBe(true);
    expect(r.code).toBe(0);
    expect(report.config).toBeUndefined();
  });

  it('passes a sound config: readable data, free port, answering peer, valid key, writable work dir', async () => {
    const dir = path.join(tmp, 'good');
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    copyFileSync(IRIS, path.join(dir, 'data/iris.csv'));
    // libp2p's pre-shared key format, written by hand.
    writeFileSync(
      path.join(dir, 'swarm.key'),
      `/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}\n`,
    );
    const peer = await listeningServer();
    servers.push(peer.server);
    const down = await closedPort();
    const listen = await closedPort();
    writeFileSync(
      path.join(dir, 'node.yaml'),
      [
        'node: { workDir: state }',
        'model: { kind: mlp, hidden: [8] }',
        'data: { format: csv, path: data/iris.csv, target: species }',
        'swarm:',
        '  runId: doctor-test',
        `  listen: [/ip4/127.0.0.1/tcp/${listen}, /ip4/0.0.0.0/tcp/0]`,
        `  bootstrap: [/ip4/127.0.0.1/tcp/${peer.port}/p2p/${PEER_A}, /ip4/127.0.0.1/tcp/${down}/p2p/${PEER_B}]`,
        '  swarmKeyFile: swarm.key',
        '',
      ].join('\n'),
    );
    const r = await runCli([
      'doctor',
      '--config',
      path.join(dir, 'node.yaml'),
      '--json',
      '--timeout',
      '2000',
    ]);
    const report = JSON.parse(r.stdout);
    const c = byId(report.checks);
    expect(c.config.status).toBe('ok');
    expect(c.config.detail).toContain('model mlp, data csv, run doctor-test');
    expect(c['data.path']).toMatchObject({ status: 'ok' });
    const size = statSync(IRIS).size;
    expect(c['data.path'].detail).toBe(
      `${path.join(dir, 'data/iris.csv')} (${(size / 1024).toFixed(1)} KiB)`,
    );
    expect(c['listen.0']).toMatchObject({ status: 'ok', detail: `127.0.0.1:${listen} is free` });
    expect(c['listen.1']).toMatchObject({ status: 'ok', detail: 'port 0: the system picks a free port' });
    expect(c['bootstrap.0']).toMatchObject({
      status: 'ok',
      detail: `127.0.0.1:${peer.port} accepts connections`,
    });
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
    // One peer down while another answers: a warning, not a failure.
    expect(c['bootstrap.1'].status).toBe('warn');
    expect(c['bootstrap.1'].detail).toContain(`127.0.0.1:${down}: connection refused`);
    expect(c.swarmKey.status).toBe('ok');
    expect(c.workDir).toMatchObject({
      status: 'ok',
      detail: `${path.join(dir, 'state')} does not exist yet; it will be created in ${dir}`,
    });
    expect(report.counts.fail).toBe(0);
    expect(report.ok).toBe(true);
    expect(r.code).toBe(0);
  });

  it('fails, with a fix each, on a missing data file, a busy port, a silent peer, a bad key and a file as work dir', async () => {
    const dir = path.join(tmp, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'swarm.key'), 'not a key\n');
    writeFileSync(path.join(dir, 'state'), 'a file where the work dir should be');
    const busy = await listeningServer();
    servers.push(busy.server);
    const down = await closedPort();
    writeFileSync(
      path.join(dir, 'node.yaml'),
      [
        'node: { workDir: state }',
        'model: { kind: mlp, hidden: [8] }',
        'data: { format: text, path: missing.txt }',
        'swarm:',
        `  listen: [/ip4/127.0.0.1/tcp/${busy.port}]`,
        `  bootstrap: [/ip4/127.0.0.1/tcp/${down}/p2p/${PEER_A}]`,
        '  swarmKeyFile: swarm.key',
        'metrics: { prometheusPort: ' + busy.port + ' }',
        '',
      ].join('\n'),
    );
    const file = path.join(dir, 'node.yaml');
    const r = await runCli(['doctor', '--config', file, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    const c = byId(report.checks);
    expect(report.ok).toBe(false);
    expect(c.config.status).toBe('ok');
    expect(c['data.path']).toMatchObject({
      status: 'fail',
      detail: `${path.join(dir, 'missing.txt')}: no such file`,
    });
    expect(c['listen.0']).toMatchObject({ status: 'fail', detail: `127.0.0.1:${busy.port} is in use` });
    expect(c['listen.0'].fix).toContain('swarm.listen[0]');
    expect(c['metrics.prometheusPort']).toMatchObject({
      status: 'fail',
      detail: `127.0.0.1:${busy.port} is in use`,
    });
    expect(c['bootstrap.0']).toMatchObject({
      status: 'fail',
      detail: `127.0.0.1:${down}: connection refused`,
    });
    expect(c.swarmKey.status).toBe('fail');
    expect(c.swarmKey.detail).toContain(path.join(dir, 'swarm.key'));
    expect(c.workDir).toMatchObject({ status: 'fail', detail: `${path.join(dir, 'state')} is not a folder` });
    for (const id of ['data.path', 'listen.0', 'bootstrap.0', 'swarmKey', 'workDir']) {
      expect(c[id].fix, id).toBeTruthy();
    }
    expect(report.counts.fail).toBe(6);

    // The same checklist for people: one line per check, FAIL lines followed by their fix.
    const text = await runCli(['doctor', '--config', file]);
    expect(text.code).toBe(1);
    const lines = text.stdout.split('\n');
    const failAt = lines.findIndex((l) => l.startsWith('[FAIL] data file (data.path): '));
    expect(failAt).toBeGreaterThan(0);
    expect(lines[failAt + 1]).toMatch(/^ {7}fix: put the file there/);
    expect(text.stdout).toContain('6 failed');
  });

  it('reports an invalid config in one line and skips the checks that need it', async () => {
    const file = path.join(tmp, 'invalid.yaml');
    writeFileSync(file, 'model: { kind: mlp, hidden: [-3] }\ndata: { format: synthetic }\n');
    const r = await runCli(['doctor', '--config', file, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    const c = byId(report.checks);
    expect(c.config.status).toBe('fail');
    expect(c.config.detail).toMatch(/model\.hidden\[0\]/);
    expect(c.config.detail).not.toContain('\n');
    expect(report.checks.map((x: Check) => x.id)).not.toContain('workDir');

    const missing = await runCli(['doctor', '--config', path.join(tmp, 'nope.yaml'), '--json']);
    expect(missing.code).toBe(1);
    expect(byId(JSON.parse(missing.stdout).checks).config.detail).toContain(
      'cannot read the config file: no such file',
    );
  });

  it('loads the data as training does: a CSV that train rejects fails here with the same message', async () => {
    const dir = path.join(tmp, 'csv');
    mkdirSync(dir, { recursive: true });
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${Math.random().toFixed(3)},${(Math.random() * 9).toFixed(2)},${['x', 'y'][i % 2]}`,
    );
    writeFileSync(path.join(dir, 'rows.csv'), `width,height,kind\n${rows.join('\n')}\n`);
    const config = (target: string) => {
      const file = path.join(dir, `${target}.yaml`);
      writeFileSync(
        file,
        `model: { kind: mlp, hidden: [4] }\ndata: { format: csv, path: rows.csv, target: ${target} }\ntraining: { maxSteps: 2 }\n`,
      );
      return file;
    };
    const bad = config('species');
    const r = await runCli(['doctor', '--config', bad, '--json']);
    expect(r.code).toBe(1);
    const c = byId(JSON.parse(r.stdout).checks);
    expect(c['data.path'].status).toBe('ok');
    expect(c['data.load'].status).toBe('fail');
    expect(c['data.load'].detail).toContain("'species'");
    expect(c['data.load'].fix).toBeTruthy();
    const train = await runCli(['train', '--config', bad]);
    expect(train.code).toBe(1);
    expect(train.stderr).toContain(c['data.load'].detail);

    const good = await runCli(['doctor', '--config', config('kind'), '--json']);
    const ok = byId(JSON.parse(good.stdout).checks)['data.load'];
    expect(ok.status).toBe('ok');
    expect(ok.detail).toMatch(/^32 training and 8 validation examples; mlp /);
  });
});
