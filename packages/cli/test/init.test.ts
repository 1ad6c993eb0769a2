import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@enjambre/config';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/datasets');

function runCliWith(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { ...process.env, ...env });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'enjambre-init-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A folder holding only an executable `nvidia-smi` (a shell script) that answers the query
 * `enjambre init` makes with `stdout`, writes `stderr` and exits with `code`; any other arguments
 * exit 64. Put first on PATH, it stands in for the driver's tool on machines without a GPU.
 */
function fakeNvidiaSmi(name: string, stdout: string, code = 0, stderr = ''): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'out.txt'), stdout);
  writeFileSync(path.join(dir, 'err.txt'), stderr);
  const file = path.join(dir, 'nvidia-smi');
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      '[ "$1" = "--query-gpu=name,driver_version,memory.total" ] && [ "$2" = "--format=csv,noheader" ] || exit 64',
      `cat '${path.join(dir, 'out.txt')}'`,
      `cat '${path.join(dir, 'err.txt')}' >&2`,
      `exit ${code}`,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return dir;
}

/** A PATH with no nvidia-smi on it: an empty folder. */
function emptyPath(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('enjambre init', () => {
  it('probes the machine, writes a config that loads, and refuses to overwrite it', async () => {
    const out = path.join(tmp, 'plain', 'node.yaml');
    const r = await runCliWith(['init', '--out', out, '--json'], { PATH: emptyPath('no-smi') });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.config).toBe(out);
    expect(report.workload).toBe('synthetic');
    expect(report.machine.cores).toBe(os.availableParallelism());
    expect(report.machine.memoryBytes).toBe(os.totalmem());
    expect(report.machine.cpuModel).toBe(os.cpus()[0].model.trim());
    // No nvidia-smi on the PATH: reported as absent, not as an error.
    expect(report.machine.nvidiaSmi).toEqual({ status: 'absent', gpus: [] });
    const providers = Object.fromEntries(
      report.machine.providers.map((p: { provider: string; available: boolean }) => [
        p.provider,
        p.available,
      ]),
    );
    expect(providers.cpu).toBe(true);
    expect(Object.keys(providers).sort()).toEqual(['cpu', 'cuda', 'webgpu']);
    expect(report.executionProviders).toEqual(['cpu']);
    expect(report.next[0]).toMatch(/^enjambre doctor --config /);

    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^# Enjambre node config/);
    expect(text).toContain(`# Workload: synthetic. Machine: ${os.availableParallelism()} CPU cores; no GPU`);
    const config = await loadConfig(out);
    expect(config.model.kind).toBe('mlp');
    expect(config.data.format).toBe('synthetic');
    expect(config.hardware.executionProviders).toEqual(['cpu']);
    expect(config.hardware.intraOpThreads).toBe(os.availableParallelism());
    expect(config.node.workDir).toBe(path.join(path.dirname(out), '.enjambre'));

    // A second init does not overwrite the (edited) file...
    writeFileSync(out, `${text}# my edit\n`);
    const again = await runCliWith(['init', '--out', out], { PATH: emptyPath('no-smi') });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists: pass --force');
    expect(readFileSync(out, 'utf8')).toContain('# my edit');
    // ...unless forced.
    const forced = await runCliWith(['init', '--out', out, '--force'], { PATH: emptyPath('no-smi') });
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toContain('# my edit');
    expect(forced.stdout).toContain('CPU:');
    expect(forced.stdout).toContain('GPUs:    none found (nvidia-smi is not installed)');
    expect(forced.stdout).toContain(`enjambre doctor --config ${path.relative(ROOT, out)}`);
  });

  it('reads GPUs from nvidia-smi and writes a workload whose data files load', async () => {
    // The first line is what nvidia-smi printed for this query on a real H200 machine.
    const smi = fakeNvidiaSmi(
      'smi-h200',
      'NVIDIA H200, 580.159.04, 143771 MiB\nNVIDIA A100-SXM4-80GB, 580.159.04, 81920 MiB\n',
    );
    // The fixtures are laid out as the reference layout: the config points at them.
    const dataDir = path.relative(tmp, FIXTURES);
    const out = path.join(tmp, 'mnist.yaml');
    const r = await runCliWith(
      ['init', '--out', out, '--workload', 'mnist-mlp', '--data-dir', dataDir, '--json'],
      { PATH: `${smi}:/bin:/usr/bin` },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.machine.nvidiaSmi).toEqual({
      status: 'ok',
      gpus: [
        { name: 'NVIDIA H200', driverVersion: '580.159.04', memoryMB: 143771 },
        { name: 'NVIDIA A100-SXM4-80GB', driverVersion: '580.159.04', memoryMB: 81920 },
      ],
    });
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('NVIDIA H200 (143771 MiB), NVIDIA A100-SXM4-80GB (81920 MiB)');
    const config = await loadConfig(out); // checks that the four MNIST files exist
    expect(config.model.kind).toBe('mlp');
    expect(config.data.format).toBe('mnist');
    if (config.data.format === 'mnist') {
      expect(config.data.trainImages).toBe(path.join(FIXTURES, 'mnist/train-images-idx3-ubyte.gz'));
    }
    // CUDA goes first only when its provider actually loads on this machine.
    const cudaLoads = report.machine.providers.find(
      (p: { provider: string }) => p.provider === 'cuda',
    ).available;
    expect(config.hardware.executionProviders).toEqual(cudaLoads ? ['cuda', 'cpu'] : ['cpu']);
  });

  it('reports a failing nvidia-smi without failing', async () => {
    const smi = fakeNvidiaSmi(
      'smi-broken',
      '',
      9,
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
    );
    const out = path.join(tmp, 'broken.yaml');
    const r = await runCliWith(['init', '--out', out, '--json'], { PATH: `${smi}:/bin:/usr/bin` });
    expect(r.code, r.stderr).toBe(0);
    const { machine } = JSON.parse(r.stdout);
    expect(machine.nvidiaSmi.status).toBe('failed');
    expect(machine.nvidiaSmi.error).toContain("couldn't communicate with the NVIDIA driver");
    expect(existsSync(out)).toBe(true);
    await loadConfig(out);
  });

  it('rejects an unknown workload', async () => {
    const r = await runCliWith(['init', '--out', path.join(tmp, 'x.yaml'), '--workload', 'imagenet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workload must be one of synthetic, mnist-mlp');
    expect(existsSync(path.join(tmp, 'x.yaml'))).toBe(false);
  });
});
