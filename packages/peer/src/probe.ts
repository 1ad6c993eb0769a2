/**
 * What this machine offers for training: CPU, memory, NVIDIA GPUs (through `nvidia-smi`) and the
 * onnxruntime execution providers that load. `enjambre init` writes a config from it and
 * `enjambre doctor` checks it.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import type { MachineProbe } from '@enjambre/config';
import { type ProviderProbe, probeProviders } from '@enjambre/runtime';

/** How long `nvidia-smi` may run before the probe gives up on it, in ms. */
export const DEFAULT_NVIDIA_SMI_TIMEOUT_MS = 10_000;
/** The `nvidia-smi` program looked up on the PATH. */
export const DEFAULT_NVIDIA_SMI = 'nvidia-smi';
/** The query `probeMachine` runs: one CSV line per GPU. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  '--query-gpu=name,driver_version,memory.total',
  '--format=csv,noheader',
];

/** One NVIDIA GPU as `nvidia-smi` reports it. */
export interface GpuInfo {
  name: string;
  /** NVIDIA driver version, e.g. `'550.54.15'`. */
  driverVersion: string;
  /** Total memory in MiB, when reported. */
  memoryMB?: number;
}

/** What running `nvidia-smi` gave. */
export type NvidiaSmiResult =
  /** It ran; `gpus` may be empty. */
  | { status: 'ok'; gpus: GpuInfo[] }
  /** Not installed (not on the PATH): no NVIDIA driver on this machine. */
  | { status: 'absent'; gpus: [] }
  /** Installed but failed (driver not loaded, timeout...): `error` says how. */
  | { status: 'failed'; gpus: []; error: string };

/** Everything {@link probeMachine} found. */
export interface MachineReport {
  hostname: string;
  platform: string;
  arch: string;
  /** CPU model name (the first core's). */
  cpuModel: string;
  /** Logical CPU cores. */
  cores: number;
  /** Total memory in bytes. */
  memoryBytes: number;
  /** The Node.js version running (`process.versions.node`). */
  nodeVersion: string;
  nvidiaSmi: NvidiaSmiResult;
  /** Every execution provider onnxruntime-node knows, whether it loads here and why not. */
  providers: ProviderProbe[];
  /** The subset of this report `renderConfigTemplate` uses. */
  probe: MachineProbe;
}

/** Options of {@link probeMachine}. */
export interface ProbeMachineOptions {
  /** The `nvidia-smi` program to run. Default: {@link DEFAULT_NVIDIA_SMI} (looked up on the PATH). */
  nvidiaSmi?: string;
  /** Time limit of `nvidia-smi`, in ms. Default: {@link DEFAULT_NVIDIA_SMI_TIMEOUT_MS}. */
  nvidiaSmiTimeoutMs?: number;
  /** CUDA device the provider probe tries. Default: 0. */
  cudaDeviceId?: number;
  signal?: AbortSignal;
}

/**
 * Parses the output of `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader`:
 * lines like `NVIDIA H200, 550.54.15, 143771 MiB`. Lines that do not have three fields are skipped;
 * a memory field that is not `<n> MiB` (e.g. `[N/A]`) is left out.
 */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    // The name may itself hold commas: the last two fields are the driver and the memory.
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 3) continue;
    const memory = parts.pop()!;
    const driverVersion = parts.pop()!;
    const name = parts.join(', ');
    if (name === '') continue;
    const m = /^(\d+(?:\.\d+)?)\s*MiB$/i.exec(memory);
    gpus.push({ name, driverVersion, ...(m ? { memoryMB: Math.round(Number(m[1])) } : {}) });
  }
  return gpus;
}

/** Runs `nvidia-smi` and parses its GPU list; never throws (a missing program is `absent`). */
export function queryNvidiaSmi(opts: ProbeMachineOptions = {}): Promise<NvidiaSmiResult> {
  const program = opts.nvidiaSmi ?? DEFAULT_NVIDIA_SMI;
  const timeout = opts.nvidiaSmiTimeoutMs ?? DEFAULT_NVIDIA_SMI_TIMEOUT_MS;
  return new Promise((resolve) => {
    try {
      execFile(
        program,
        [...NVIDIA_SMI_ARGS],
        { timeout, signal: opts.signal, encoding: 'utf8', maxBuffer: 1 << 20 },
        (err, stdout, stderr) => {
          if (err) {
            const e = err as NodeJS.ErrnoException & { killed?: boolean };
            if (e.code === 'ENOENT') resolve({ status: 'absent', gpus: [] });
            else {
              const why = e.killed
                ? `no answer within ${timeout} ms`
                : (stderr.trim() || stdout.trim() || e.message).split('\n')[0];
              resolve({ status: 'failed', gpus: [], error: `${program} failed: ${why}` });
            }
            return;
          }
          resolve({ status: 'ok', gpus: parseNvidiaSmi(stdout) });
        },
      );
    } catch (e) {
      resolve({ status: 'failed', gpus: [], error: `${program} could not run: ${(e as Error).message}` });
    }
  });
}

/** Probes CPU, memory, GPUs and execution providers. Never throws for a missing GPU or driver. */
export async function probeMachine(opts: ProbeMachineOptions = {}): Promise<MachineReport> {
  const cpus = os.cpus();
  const cores = Math.max(
    1,
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
  );
  const [nvidiaSmi, providers] = await Promise.all([
    queryNvidiaSmi(opts),
    probeProviders({ cudaDeviceId: opts.cudaDeviceId, signal: opts.signal }),
  ]);
  const loads = (p: string) => providers.some((x) => x.provider === p && x.available);
  const hostname = os.hostname();
  return {
    hostname,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() || 'unknown CPU',
    cores,
    memoryBytes: os.totalmem(),
    nodeVersion: process.versions.node,
    nvidiaSmi,
    providers,
    probe: {
      cores,
      gpus: nvidiaSmi.gpus.map((g) => ({
        name: g.name,
        ...(g.memoryMB !== undefined ? { memoryMB: g.memoryMB } : {}),
      })),
      cudaLoads: loads('cuda'),
      webgpuLoads: loads('webgpu'),
      hostname,
    },
  };
}
