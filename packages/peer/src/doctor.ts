/**
 * `enjambre doctor`: a checklist of what a node needs — execution providers, Node.js, and with a
 * config: the config itself, its data files, free listen ports, reachable bootstrap peers, the
 * swarm key and a writable work dir. Each check says ok / warn / fail, why, and how to fix it.
 */
import { constants as fsConstants } from 'node:fs';
import { access, open, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { type Config, ConfigError, loadConfig, trainingConfigHash } from '@enjambre/config';
import { type DatasetInfo, type LoadedData, loadDataset } from '@enjambre/data';
import { createModel } from '@enjambre/models';
import { readSwarmKeyFile } from '@enjambre/swarm';
import { type MachineReport, type ProbeMachineOptions, probeMachine } from './probe.ts';
import { dataInfo, datasetSpec, modelSpec } from './setup.ts';

/** Node.js release the project needs (the root package.json's `engines.node`). */
export const MIN_NODE_VERSION = '20.10.0';
/** How long a bootstrap peer has to accept a TCP connection, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** Host the Prometheus metrics server binds (the inspector's default). */
export const METRICS_HOST = '127.0.0.1';
/** The fix for a CUDA provider that does not load. */
export const CUDA_FIX =
  "on a machine with an NVIDIA GPU, install CUDA 12 and cuDNN 9, then onnxruntime-node's CUDA provider with `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (see docs/user-guide.md#gpu)";

/** Outcome of one check. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the checklist. */
export interface DoctorCheck {
  /** Stable identifier, e.g. `provider.cuda`, `data.trainImages`, `bootstrap.0`. */
  id: string;
  /** What is checked, in a few words. */
  title: string;
  status: CheckStatus;
  /** One line: what was found. */
  detail: string;
  /** One line: how to fix it (warn and fail only). */
  fix?: string;
}

/** What {@link runDoctor} found. */
export interface DoctorReport {
  checks: DoctorCheck[];
  /** No check failed. */
  ok: boolean;
  counts: Record<CheckStatus, number>;
  /** The machine probe the provider checks come from. */
  machine: MachineReport;
  /** The config file checked, absolute; absent when none was given. */
  config?: string;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions extends ProbeMachineOptions {
  /** Node config to check. Default: none (only the machine is checked). */
  configPath?: string;
  /** Time a bootstrap peer has to accept a TCP connection. Default: {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
  /** A machine probe already made (saves probing twice). Default: probe now. */
  machine?: MachineReport;
}

/** The transport address of a multiaddr, when it is TCP over IPv4, IPv6 or DNS. */
export interface TcpAddress {
  host: string;
  port: number;
  /** 4 or 6 for IP addresses and dns4/dns6, 0 for dns/dnsaddr (either). */
  family: 0 | 4 | 6;
  /** Whether the host is a name to resolve rather than an IP address. */
  dns: boolean;
}

/**
 * The host and TCP port of a multiaddr such as `/ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…` or
 * `/dns4/peer.example.org/tcp/4001`. Returns undefined when it is not TCP (e.g. QUIC, WebSockets
 * over a path the node does not dial directly) or cannot be read.
 */
export function tcpAddress(multiaddr: string): TcpAddress | undefined {
  const m = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d{1,5})(?:\/|$)/.exec(multiaddr.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const proto = m[1];
  const family = proto === 'ip4' || proto === 'dns4' ? 4 : proto === 'ip6' || proto === 'dns6' ? 6 : 0;
  return { host: m[2], port, family, dns: proto.startsWith('dns') };
}

/** Whether `a` ≥ `b` for dotted versions (missing parts count as 0). */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Result of {@link tryBind}: free, or the errno code and message of the failure. */
export type BindResult = { free: true } | { free: false; code: string; message: string };

/** Binds a TCP server on host:port for a moment and closes it again. */
export function tryBind(host: string, port: number): Promise<BindResult> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) =>
      resolve({ free: false, code: e.code ?? 'ERROR', message: e.message }),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve({ free: true })));
  });
}

/** Result of {@link tryConnect}: connected, or why not. */
export type ConnectResult = { connected: true } | { connected: false; reason: string };

/** Opens a TCP connection to host:port and closes it; gives up after `timeoutMs`. */
export function tryConnect(
  addr: Pick<TcpAddress, 'host' | 'port' | 'family'>,
  timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const socket = net.connect({
      host: addr.host,
      port: addr.port,
      ...(addr.family !== 0 ? { family: addr.family } : {}),
    });
    let settled = false;
    const done = (r: ConnectResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => done({ connected: false, reason: 'aborted' });
    const timer = setTimeout(
      () => done({ connected: false, reason: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ connected: true }));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done({ connected: false, reason: e.code === 'ECONNREFUSED' ? 'connection refused' : e.message }),
    );
  });
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return (e as Error).message;
}

/** Checks that a file exists, is a regular file and can be opened for reading; reports its size. */
async function fileCheck(id: string, title: string, file: string, fix: string): Promise<DoctorCheck> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return { id, title, status: 'fail', detail: `${file}: not a regular file`, fix };
    const fh = await open(file, 'r');
    await fh.close();
    return { id, title, status: 'ok', detail: `${file} (${sizeText(st.size)})` };
  } catch (e) {
    return { id, title, status: 'fail', detail: `${file}: ${errnoText(e)}`, fix };
  }
}

/**
 * Loads the data and builds the model exactly as `train` and `join` do (the same functions), so
 * that data the trainer would reject (a missing column, a bad cell, a model that does not fit the
 * data) fail here with the trainer's own message.
 */
async function trainingDataCheck(config: Config, signal?: AbortSignal): Promise<DoctorCheck> {
  const id = 'data.load';
  const title = 'data and model load as training loads them';
  let data: LoadedData<DatasetInfo> | undefined;
  try {
    data = await loadDataset(datasetSpec(config), { fieldPrefix: 'data', signal });
    const model = createModel(modelSpec(config, trainingConfigHash(config)), dataInfo(data));
    return {
      id,
      title,
      status: 'ok',
      detail: `${data.train.size} training and ${data.validation?.size ?? 0} validation examples; ${model.summary}`,
    };
  } catch (e) {
    signal?.throwIfAborted();
    return {
      id,
      title,
      status: 'fail',
      detail: (e as Error).message,
      fix: 'fix the data file or the data and model sections of the config (`enjambre train` stops with this same error)',
    };
  } finally {
    await data?.close();
  }
}

const MAX_CAUSE_CHARS = 160;
const PROVIDER_TITLES: Record<string, string> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };

/** A short reason for a provider that does not load (the full notice stays in the machine report). */
function providerReason(code: string | undefined, cause: string): string {
  const first = cause.split('\n')[0].trim();
  const short = first.length > MAX_CAUSE_CHARS ? `…${first.slice(-MAX_CAUSE_CHARS)}` : first;
  switch (code) {
    case 'cuda-not-installed':
      return `the CUDA provider library is not installed (onnxruntime: ${short})`;
    case 'cuda-failed':
      return `the CUDA provider could not start (onnxruntime: ${short})`;
    case 'webgpu-unavailable':
      return 'no usable GPU adapter';
    default:
      return short;
  }
}

function providerChecks(machine: MachineReport, config: Config | undefined): DoctorCheck[] {
  const asked = new Set<string>(config?.hardware.executionProviders ?? []);
  const hasGpu = machine.nvidiaSmi.gpus.length > 0;
  const checks: DoctorCheck[] = [];
  for (const p of machine.providers) {
    const id = `provider.${p.provider}`;
    const title = `${PROVIDER_TITLES[p.provider] ?? p.provider} execution provider`;
    if (p.available) {
      checks.push({ id, title, status: 'ok', detail: 'loads and runs a test graph' });
      continue;
    }
    const why = p.notice?.message ?? 'does not load';
    if (p.provider === 'cpu') {
      checks.push({
        id,
        title,
        status: 'fail',
        detail: why,
        fix: 'reinstall onnxruntime-node with `npm ci` (its native binding is missing or broken)',
      });
      continue;
    }
    const matters = p.provider === 'cuda' || asked.has(p.provider);
    const context = asked.has(p.provider)
      ? 'the config asks for it; training falls back to the next provider'
      : p.provider === 'cuda' && hasGpu
        ? 'an NVIDIA GPU is present but unused; training runs on the CPU'
        : p.provider === 'cuda'
          ? 'no NVIDIA GPU found; training runs on the CPU'
          : 'training runs on the CPU';
    checks.push({
      id,
      title,
      status: matters ? 'warn' : 'ok',
      detail: `not available: ${providerReason(p.notice?.code, p.notice?.cause ?? why)} (${context})`,
      fix:
        p.provider === 'cuda'
          ? CUDA_FIX
          : 'WebGPU needs a Vulkan-capable GPU driver (the Vulkan loader libvulkan.so.1 and the vendor driver)',
    });
  }
  return checks;
}

function gpuCheck(machine: MachineReport): DoctorCheck {
  const id = 'gpu';
  const title = 'NVIDIA GPUs (nvidia-smi)';
  const smi = machine.nvidiaSmi;
  if (smi.status === 'absent')
    return { id, title, status: 'ok', detail: 'none: nvidia-smi is not installed' };
  if (smi.status === 'failed') {
    return {
      id,
      title,
      status: 'warn',
      detail: smi.error,
      fix: 'check that the NVIDIA driver is installed and loaded (`nvidia-smi` should list the GPUs)',
    };
  }
  if (smi.gpus.length === 0) return { id, title, status: 'ok', detail: 'nvidia-smi lists no GPU' };
  return {
    id,
    title,
    status: 'ok',
    detail: smi.gpus
      .map(
        (g) =>
          `${g.name} (driver ${g.driverVersion}${g.memoryMB !== undefined ? `, ${g.memoryMB} MiB` : ''})`,
      )
      .join('; '),
  };
}

function dataFiles(config: Config): { field: string; file: string }[] {
  const d = config.data;
  switch (d.format) {
    case 'text':
    case 'csv':
      return [{ field: 'path', file: d.path }];
    case 'mnist':
      return [
        { field: 'trainImages', file: d.trainImages },
        { field: 'trainLabels', file: d.trainLabels },
        ...(d.testImages ? [{ field: 'testImages', file: d.testImages }] : []),
        ...(d.testLabels ? [{ field: 'testLabels', file: d.testLabels }] : []),
      ];
    case 'synthetic':
      return [];
  }
}

async function portCheck(id: string, title: string, host: string, port: number, field: string) {
  const r = await tryBind(host, port);
  if (r.free) return { id, title, status: 'ok', detail: `${host}:${port} is free` } as DoctorCheck;
  const fix =
    r.code === 'EADDRINUSE'
      ? `stop the program using port ${port}, or choose another port in ${field} (0: any free port)`
      : r.code === 'EACCES'
        ? `ports below 1024 need privileges: choose a port of 1024 or more in ${field}`
        : r.code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine: use 0.0.0.0 (all addresses) or one of this machine's in ${field}`
          : `choose another address or port in ${field}`;
  const why = r.code === 'EADDRINUSE' ? 'is in use' : r.code === 'EACCES' ? 'needs privileges' : r.message;
  return { id, title, status: 'fail', detail: `${host}:${port} ${why}`, fix } as DoctorCheck;
}

async function listenChecks(config: Config): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  for (const [i, addr] of config.swarm.listen.entries()) {
    const id = `listen.${i}`;
    const title = `listen address ${addr}`;
    const tcp = tcpAddress(addr);
    if (!tcp) {
      out.push({
        id,
        title,
        status: 'warn',
        detail: 'not a TCP address over IPv4/IPv6: not checked',
        fix: 'Enjambre nodes listen on TCP: use an address such as /ip4/0.0.0.0/tcp/4001',
      });
    } else if (tcp.port === 0) {
      out.push({ id, title, status: 'ok', detail: 'port 0: the system picks a free port' });
    } else {
      const host = tcp.dns ? (tcp.family === 6 ? '::' : '0.0.0.0') : tcp.host;
      out.push(await portCheck(id, title, host, tcp.port, `swarm.listen[${i}]`));
    }
  }
  return out;
}

async function bootstrapChecks(
  config: Config,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<DoctorCheck[]> {
  const peers = config.swarm.bootstrap;
  if (peers.length === 0) {
    return [
      {
        id: 'bootstrap',
        title: 'bootstrap peers',
        status: 'ok',
        detail: `none configured (${config.swarm.mdns ? 'peers on the local network are found by mDNS' : 'solo training or peers dial this node'})`,
      },
    ];
  }
  const results = await Promise.all(
    peers.map(async (addr) => {
      const tcp = tcpAddress(addr);
      if (!tcp) return { addr, result: { connected: false, reason: 'not a TCP address' } as ConnectResult };
      return { addr, tcp, result: await tryConnect(tcp, timeoutMs, signal) };
    }),
  );
  const anyAnswer = results.some((r) => r.result.connected);
  return results.map(({ addr, tcp, result }, i) => {
    const id = `bootstrap.${i}`;
    const title = `bootstrap peer ${addr}`;
    if (result.connected)
      return { id, title, status: 'ok', detail: `${tcp!.host}:${tcp!.port} accepts connections` };
    return {
      id,
      title,
      status: anyAnswer ? 'warn' : 'fail',
      detail: `${tcp ? `${tcp.host}:${tcp.port}` : addr}: ${result.reason}${anyAnswer ? ' (another bootstrap peer answers)' : ''}`,
      fix: 'check that the peer is running, that the address and port are right (its `enjambre join` prints them) and that no firewall blocks the port',
    };
  });
}

async function swarmKeyCheck(config: Config): Promise<DoctorCheck | undefined> {
  const file = config.swarm.swarmKeyFile;
  if (file === undefined) return undefined;
  const id = 'swarmKey';
  const title = 'swarm key file';
  try {
    await readSwarmKeyFile(file);
    return { id, title, status: 'ok', detail: `${file}: a valid private-swarm key` };
  } catch (e) {
    return {
      id,
      title,
      status: 'fail',
      detail: (e as Error).message,
      fix: 'copy the swarm key file of the run (the same file on every peer) to this path, readable by this user',
    };
  }
}

async function workDirCheck(dir: string): Promise<DoctorCheck> {
  const id = 'workDir';
  const title = 'work dir writable';
  const fix = `make ${dir} writable by this user, or set node.workDir to a folder you can write`;
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return { id, title, status: 'fail', detail: `${dir} is not a folder`, fix };
    const probe = path.join(dir, `.enjambre-doctor-${process.pid}-${Date.now()}`);
    const fh = await open(probe, 'wx');
    await fh.close();
    await unlink(probe);
    return { id, title, status: 'ok', detail: `${dir} is writable` };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { id, title, status: 'fail', detail: `${dir}: ${errnoText(e)}`, fix };
    }
  }
  // Not there yet: the node creates it, so the nearest existing parent must be writable.
  let parent = path.dirname(dir);
  for (;;) {
    try {
      const st = await stat(parent);
      if (!st.isDirectory()) {
        return { id, title, status: 'fail', detail: `${parent} (a parent of ${dir}) is not a folder`, fix };
      }
      await access(parent, fsConstants.W_OK);
      return {
        id,
        title,
        status: 'ok',
        detail: `${dir} does not exist yet; it will be created in ${parent}`,
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        return { id, title, status: 'fail', detail: `cannot create ${dir}: ${parent}: ${errnoText(e)}`, fix };
      }
    }
    const up = path.dirname(parent);
    if (up === parent) return { id, title, status: 'fail', detail: `cannot create ${dir}`, fix };
    parent = up;
  }
}

async function configChecks(file: string, opts: DoctorOptions) {
  const checks: DoctorCheck[] = [];
  let config: Config;
  try {
    // Paths are checked one by one below, with sizes, rather than as one config error.
    config = await loadConfig(file, { checkPaths: false, signal: opts.signal });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const lines = e.lines;
    checks.push({
      id: 'config',
      title: 'config valid',
      status: 'fail',
      detail: `${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more: run \`enjambre doctor --json\` or fix this one first)` : ''}`,
      fix: 'edit the config; docs/config-reference.md describes every field',
    });
    return { checks, config: undefined };
  }
  checks.push({
    id: 'config',
    title: 'config valid',
    status: 'ok',
    detail: `${file}: model ${config.model.kind}, data ${config.data.format}${config.swarm.runId ? `, run ${config.swarm.runId}` : ', no swarm.runId (solo training only)'}`,
  });
  const files = dataFiles(config);
  if (files.length === 0) {
    checks.push({ id: 'data', title: 'data files', status: 'ok', detail: 'synthetic data: no files needed' });
  }
  for (const { field, file: f } of files) {
    checks.push(
      await fileCheck(
        `data.${field}`,
        `data file (data.${field})`,
        f,
        `put the file there or point data.${field} at it (relative paths are relative to the config file)`,
      ),
    );
  }
  if (config.model.kind === 'onnx') {
    checks.push(
      await fileCheck(
        'model.path',
        'model file (model.path)',
        config.model.path,
        'put the .onnx file there or point model.path at it',
      ),
    );
  }
  const filesFound = checks.every((c) => c.status === 'ok');
  if (filesFound) checks.push(await trainingDataCheck(config, opts.signal));
  checks.push(...(await listenChecks(config)));
  if (config.metrics.prometheusPort !== undefined) {
    checks.push(
      await portCheck(
        'metrics.prometheusPort',
        'metrics port',
        METRICS_HOST,
        config.metrics.prometheusPort,
        'metrics.prometheusPort',
      ),
    );
  }
  checks.push(
    ...(await bootstrapChecks(config, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, opts.signal)),
  );
  const key = await swarmKeyCheck(config);
  if (key) checks.push(key);
  checks.push(await workDirCheck(config.node.workDir));
  return { checks, config };
}

/**
 * Runs the checklist. Never throws for what it checks (a failing check is a `fail` line); throws
 * only when aborted.
 */
export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const machine = opts.machine ?? (await probeMachine(opts));
  const checks: DoctorCheck[] = [];
  const node = machine.nodeVersion;
  checks.push(
    versionAtLeast(node, MIN_NODE_VERSION)
      ? {
          id: 'node',
          title: 'Node.js version',
          status: 'ok',
          detail: `${node} (needs ${MIN_NODE_VERSION} or later)`,
        }
      : {
          id: 'node',
          title: 'Node.js version',
          status: 'fail',
          detail: `${node} is too old: Enjambre needs ${MIN_NODE_VERSION} or later`,
          fix: 'install Node.js 20 LTS or newer (e.g. from nodejs.org or with nvm)',
        },
  );
  let config: Config | undefined;
  const fromConfig: DoctorCheck[] = [];
  const configFile = opts.configPath !== undefined ? path.resolve(opts.configPath) : undefined;
  if (configFile !== undefined) {
    const r = await configChecks(opts.configPath!, opts);
    config = r.config;
    fromConfig.push(...r.checks);
  }
  checks.push(gpuCheck(machine), ...providerChecks(machine, config), ...fromConfig);
  opts.signal?.throwIfAborted();
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  return {
    checks,
    ok: counts.fail === 0,
    counts,
    machine,
    ...(configFile !== undefined ? { config: configFile } : {}),
  };
}
