/**
 * Execution-provider selection, shaped like onnxruntime-js's backend registry: an ordered
 * preference list, each provider tried in turn, the failure of each recorded and the verdict
 * cached for the life of the process, every failure collected into one message when all fail.
 *
 * onnxruntime-node treats a provider that cannot load (CUDA without its libraries, WebGPU without
 * a GPU adapter) as a hard error at session creation, not as a fallback; this module turns that
 * into a fallback that says, once, what is missing and how to fix it.
 */
import {
  DEFAULT_CUDA_DEVICE_ID,
  DEFAULT_EXECUTION_PROVIDERS,
  DEFAULT_INTER_OP_THREADS,
} from '@enjambre/config';
import { GraphBuilder, makeModel, serializeModel } from '@enjambre/onnx';
import * as ort from 'onnxruntime-node';
import { AbortError, InvalidOptionError, NoProviderError, UnknownProviderError } from './errors.ts';

/** An execution provider Enjambre knows how to ask onnxruntime-node for. */
export type ProviderName = 'cuda' | 'webgpu' | 'cpu';

/** Every provider name accepted in a preference list, in the order `probeProviders` checks them. */
export const PROVIDER_NAMES: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];
/** Preference list used when none is given: the config's `hardware.executionProviders` default. */
export const DEFAULT_PROVIDERS: readonly ProviderName[] = DEFAULT_EXECUTION_PROVIDERS;
/** CUDA device used when none is given, and threads across independent operators (1: sequential). */
export { DEFAULT_CUDA_DEVICE_ID, DEFAULT_INTER_OP_THREADS };
/** Threads inside one operator; 0 lets onnxruntime choose (one per physical core). */
export const DEFAULT_INTRA_OP_THREADS = 0;
/** onnxruntime graph optimisation level used when none is given. */
export const DEFAULT_GRAPH_OPTIMIZATION_LEVEL: GraphOptimizationLevel = 'all';
/** Where the user guide explains GPU set-up. */
export const GPU_DOCS = 'docs/user-guide.md#gpu';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Stable codes of provider notices. */
export type ProviderNoticeCode =
  /** The CUDA provider library (libonnxruntime_providers_cuda) is not installed. */
  | 'cuda-not-installed'
  /** The CUDA provider library loaded but the device did not start (driver, cuDNN, device id). */
  | 'cuda-failed'
  /** WebGPU found no usable adapter (no Vulkan loader or no hardware Vulkan driver). */
  | 'webgpu-unavailable'
  /** The provider loads (it runs a tiny graph) but could not create a session for this model. */
  | 'provider-rejected-model';

/** Why a provider was skipped, and how to fix it. */
export interface ProviderNotice {
  provider: ProviderName;
  code: ProviderNoticeCode;
  /** A complete sentence: what is missing, how to fix it, and the underlying onnxruntime error. */
  message: string;
  /** The underlying onnxruntime error message. */
  cause: string;
}

/**
 * Creates an onnxruntime session. The default calls `ort.InferenceSession.create`; tests inject a
 * double to simulate providers this machine lacks.
 */
export type SessionFactory = (
  model: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  provider: ProviderName,
) => Promise<ort.InferenceSession>;

/**
 * How much of onnxruntime's own log (written by native code straight to stderr) shows:
 * `ENJAMBRE_ONNXRUNTIME_LOG` = verbose, info, warning, error (default) or fatal. The CLI sets it
 * from its log level, so that these lines show only at debug level.
 */
export function onnxruntimeLogLevel(): 'verbose' | 'info' | 'warning' | 'error' | 'fatal' {
  const v = process.env.ENJAMBRE_ONNXRUNTIME_LOG;
  return v === 'verbose' || v === 'info' || v === 'warning' || v === 'fatal' ? v : 'error';
}
const ORT_SEVERITY = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const;

export const defaultSessionFactory: SessionFactory = (model, options) => {
  const level = onnxruntimeLogLevel();
  // The process-wide logger is created with the first session; each session has its own level too.
  ort.env.logLevel = level;
  return ort.InferenceSession.create(model, { logSeverityLevel: ORT_SEVERITY[level], ...options });
};

/** How to choose and configure the execution provider of a session. */
export interface ProviderOptions {
  /**
   * Providers in order of preference: `'cuda'`, `'webgpu'`, `'cpu'`. `'cpu'` is always implied
   * last. Default: {@link DEFAULT_PROVIDERS} (`['cpu']`).
   */
  providers?: readonly string[];
  /** CUDA device index. Default: {@link DEFAULT_CUDA_DEVICE_ID} (0). */
  cudaDeviceId?: number;
  /** Threads inside one operator; 0 = onnxruntime's choice. Default: {@link DEFAULT_INTRA_OP_THREADS}. */
  intraOpThreads?: number;
  /**
   * Threads across independent operators; 0 = onnxruntime's choice. More than 1 turns on
   * onnxruntime's parallel execution mode. Default: {@link DEFAULT_INTER_OP_THREADS}.
   */
  interOpThreads?: number;
  /** onnxruntime graph optimisation level. Default: {@link DEFAULT_GRAPH_OPTIMIZATION_LEVEL} (`'all'`). */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * Called when a provider is skipped. Each provider's unavailability is reported once per
   * process (per registry); the returned `notices` list repeats it on every call. Default: none.
   */
  onNotice?: (notice: ProviderNotice) => void;
  /** Aborts the selection between attempts. */
  signal?: AbortSignal;
}

/** A session and the provider that actually runs it. */
export interface SelectedSession {
  session: ort.InferenceSession;
  /** The provider the session was created with. */
  provider: ProviderName;
  /** Why each provider before it was skipped (empty when the first choice worked). */
  notices: ProviderNotice[];
}

/** What `probeProviders` found about one provider on this machine. */
export interface ProviderProbe {
  provider: ProviderName;
  /** The provider created a session and ran a tiny graph. */
  available: boolean;
  /** onnxruntime-node ships this provider's library in its npm package. */
  bundled: boolean;
  /** Why not, with the fix; absent when available. */
  notice?: ProviderNotice;
}

type Verdict = { ok: true } | { ok: false; notice: ProviderNotice; emitted: boolean };

/**
 * Validates a preference list: every name known, duplicates dropped, `'cpu'` appended when absent.
 * @throws UnknownProviderError naming the bad entry and the valid names.
 */
export function resolveProviders(list: readonly string[]): ProviderName[] {
  const out: ProviderName[] = [];
  for (const [i, raw] of list.entries()) {
    const name = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    if (!PROVIDER_NAMES.includes(name as ProviderName)) {
      throw new UnknownProviderError(
        `unknown execution provider ${JSON.stringify(raw)} at providers[${i}]: expected one of ${PROVIDER_NAMES.map((p) => `'${p}'`).join(', ')}`,
        String(raw),
      );
    }
    if (!out.includes(name as ProviderName)) out.push(name as ProviderName);
  }
  if (!out.includes('cpu')) out.push('cpu');
  return out;
}

/** The onnxruntime session options for one provider attempt. */
export function sessionOptionsFor(
  provider: ProviderName,
  opts: ProviderOptions = {},
): ort.InferenceSession.SessionOptions {
  const intra = nonNegativeInt(opts.intraOpThreads, DEFAULT_INTRA_OP_THREADS, 'intraOpThreads');
  const inter = nonNegativeInt(opts.interOpThreads, DEFAULT_INTER_OP_THREADS, 'interOpThreads');
  const deviceId = nonNegativeInt(opts.cudaDeviceId, DEFAULT_CUDA_DEVICE_ID, 'cudaDeviceId');
  const ep: ort.InferenceSession.ExecutionProviderConfig =
    provider === 'cuda' ? { name: 'cuda', deviceId } : provider === 'webgpu' ? { name: 'webgpu' } : 'cpu';
  const so: ort.InferenceSession.SessionOptions = {
    executionProviders: [ep],
    graphOptimizationLevel: opts.graphOptimizationLevel ?? DEFAULT_GRAPH_OPTIMIZATION_LEVEL,
    executionMode: inter > 1 ? 'parallel' : 'sequential',
    // Reuse buffers between runs: each run's outputs are copied into fresh JS memory anyway.
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Gradients and Adam moments of converged weights fall into float32 denormals, which the
    // CPU handles tens of times slower; flushing them to zero was measured +5–45% on mnist-mlp
    // (docs/benchmarks.md) and changes results by less than float32's smallest normal value.
    extra: { session: { set_denormal_as_zero: '1' } },
  };
  if (intra > 0) so.intraOpNumThreads = intra;
  if (inter > 0) so.interOpNumThreads = inter;
  return so;
}

function nonNegativeInt(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(field, `must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** The sentence that explains a provider failure and names the fix. */
export function unavailableNotice(provider: ProviderName, cause: string, deviceId = 0): ProviderNotice {
  const c = cause.trim();
  if (provider === 'cuda') {
    if (/shared librar|shared object|failed to load|cannot open|not found/i.test(c)) {
      return {
        provider,
        code: 'cuda-not-installed',
        cause: c,
        message: `the CUDA execution provider library is not installed: install it with \`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js\` on a machine with CUDA 12 and cuDNN 9 (see ${GPU_DOCS}) (onnxruntime: ${c})`,
      };
    }
    return {
      provider,
      code: 'cuda-failed',
      cause: c,
      message: `the CUDA execution provider could not start on device ${deviceId}: check that \`nvidia-smi\` lists that device, that CUDA 12 and cuDNN 9 are installed and that cudaDeviceId is right (see ${GPU_DOCS}) (onnxruntime: ${c})`,
    };
  }
  if (provider === 'webgpu') {
    return {
      provider,
      code: 'webgpu-unavailable',
      cause: c,
      message: `the WebGPU execution provider found no usable GPU adapter: it needs a Vulkan-capable GPU driver (on Linux the Vulkan loader libvulkan.so.1 and the GPU vendor's Vulkan driver; software Vulkan such as Mesa lavapipe is not enough) (see ${GPU_DOCS}) (onnxruntime: ${c})`,
    };
  }
  return {
    provider,
    code: 'provider-rejected-model',
    cause: c,
    message: `the CPU execution provider failed: ${c}`,
  };
}

let probeBytes: Uint8Array | undefined;
/** A one-node graph (y = x + x, float32 [2]) used to tell "provider missing" from "model rejected". */
function probeModel(): Uint8Array {
  if (!probeBytes) {
    const b = new GraphBuilder('enjambre_probe');
    const x = b.input('x', 'float32', [2]);
    b.output(b.op('Add', [x, x]), 'float32', [2]);
    probeBytes = serializeModel(makeModel(b.graph));
  }
  return probeBytes;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A registry of execution-provider verdicts. Each provider is tried for real at most until it is
 * found missing; that verdict (and its notice) is then kept for the life of the registry.
 * {@link defaultProviderRegistry} is the process-wide one.
 */
export class ProviderRegistry {
  private readonly verdicts = new Map<string, Verdict>();
  private readonly factory: SessionFactory;

  /** @param options.factory session factory; default {@link defaultSessionFactory}. */
  constructor(options: { factory?: SessionFactory } = {}) {
    this.factory = options.factory ?? defaultSessionFactory;
  }

  /**
   * Creates a session with the first provider of the preference list that works.
   * @throws UnknownProviderError for a name not in {@link PROVIDER_NAMES}.
   * @throws NoProviderError when every provider, CPU included, failed; its message lists each.
   */
  async createSession(model: Uint8Array, opts: ProviderOptions = {}): Promise<SelectedSession> {
    const order = resolveProviders(opts.providers ?? DEFAULT_PROVIDERS);
    const deviceId = nonNegativeInt(opts.cudaDeviceId, DEFAULT_CUDA_DEVICE_ID, 'cudaDeviceId');
    const notices: ProviderNotice[] = [];
    const failures: { provider: string; message: string }[] = [];
    for (const provider of order) {
      throwIfAborted(opts.signal);
      const key = verdictKey(provider, deviceId);
      const known = this.verdicts.get(key);
      if (known && !known.ok) {
        this.report(known, notices, opts.onNotice);
        failures.push({ provider, message: known.notice.message });
        continue;
      }
      try {
        const session = await this.factory(model, sessionOptionsFor(provider, opts), provider);
        this.verdicts.set(key, { ok: true });
        return { session, provider, notices };
      } catch (e) {
        const cause = messageOf(e);
        if (provider === 'cpu') {
          failures.push({ provider, message: cause });
          break;
        }
        // Missing provider, or a model this provider rejects? The tiny graph tells them apart.
        const loads = known?.ok ? undefined : await this.tryProvider(provider, opts);
        if (loads !== undefined) {
          const verdict: Verdict = {
            ok: false,
            notice: unavailableNotice(provider, loads, deviceId),
            emitted: false,
          };
          this.verdicts.set(key, verdict);
          this.report(verdict, notices, opts.onNotice);
          failures.push({ provider, message: verdict.notice.message });
        } else {
          this.verdicts.set(key, { ok: true });
          const notice: ProviderNotice = {
            provider,
            code: 'provider-rejected-model',
            cause,
            message: `the ${provider} execution provider loads but could not create a session for this model (onnxruntime: ${cause})`,
          };
          notices.push(notice);
          opts.onNotice?.(notice);
          failures.push({ provider, message: notice.message });
        }
      }
    }
    throw new NoProviderError(
      `no execution provider could create the session (tried ${order.join(', ')}):\n${failures
        .map((f) => `  [${f.provider}] ${f.message}`)
        .join('\n')}`,
      failures,
    );
  }

  /**
   * Which providers load on this machine and why not, for `enjambre doctor` and `init`: each one
   * creates a session for a tiny graph and runs it. Verdicts are shared with `createSession`.
   */
  async probe(opts: Omit<ProviderOptions, 'providers' | 'onNotice'> = {}): Promise<ProviderProbe[]> {
    const deviceId = nonNegativeInt(opts.cudaDeviceId, DEFAULT_CUDA_DEVICE_ID, 'cudaDeviceId');
    const bundled = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
    const out: ProviderProbe[] = [];
    for (const provider of PROVIDER_NAMES) {
      throwIfAborted(opts.signal);
      const key = verdictKey(provider, deviceId);
      let verdict = this.verdicts.get(key);
      if (!verdict) {
        const error = await this.tryProvider(provider, opts);
        verdict =
          error === undefined
            ? { ok: true }
            : { ok: false, notice: unavailableNotice(provider, error, deviceId), emitted: false };
        this.verdicts.set(key, verdict);
      }
      out.push({
        provider,
        available: verdict.ok,
        bundled: bundled.get(provider) ?? false,
        ...(verdict.ok ? {} : { notice: verdict.notice }),
      });
    }
    return out;
  }

  /** The cached verdict for a provider: `undefined` when not tried yet. */
  verdict(
    provider: ProviderName,
    cudaDeviceId = DEFAULT_CUDA_DEVICE_ID,
  ): ProviderProbe['available'] | undefined {
    return this.verdicts.get(verdictKey(provider, cudaDeviceId))?.ok;
  }

  /** Creates and runs the probe graph; returns the error message, or undefined when it worked. */
  private async tryProvider(provider: ProviderName, opts: ProviderOptions): Promise<string | undefined> {
    let session: ort.InferenceSession | undefined;
    try {
      session = await this.factory(probeModel(), sessionOptionsFor(provider, opts), provider);
      const x = new ort.Tensor('float32', new Float32Array([1, 2]), [2]);
      await session.run({ x });
      return undefined;
    } catch (e) {
      return messageOf(e);
    } finally {
      await session?.release().catch(() => undefined);
    }
  }

  private report(
    verdict: Verdict & { ok: false },
    notices: ProviderNotice[],
    onNotice: ProviderOptions['onNotice'],
  ): void {
    notices.push(verdict.notice);
    if (!verdict.emitted) {
      verdict.emitted = true;
      onNotice?.(verdict.notice);
    }
  }
}

function verdictKey(provider: ProviderName, deviceId: number): string {
  return provider === 'cuda' ? `cuda:${deviceId}` : provider;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new AbortError('operation', { cause: signal.reason });
  }
}

/** The process-wide registry: each provider's verdict is found, and reported, once per process. */
export const defaultProviderRegistry = new ProviderRegistry();

/** {@link ProviderRegistry.createSession} on the process-wide registry. */
export function createSession(model: Uint8Array, opts: ProviderOptions = {}): Promise<SelectedSession> {
  return defaultProviderRegistry.createSession(model, opts);
}

/** {@link ProviderRegistry.probe} on the process-wide registry. */
export function probeProviders(
  opts: Omit<ProviderOptions, 'providers' | 'onNotice'> = {},
): Promise<ProviderProbe[]> {
  return defaultProviderRegistry.probe(opts);
}
