/**
 * A `ModelRunner` (the interface `@enjambre/autograd` checks gradients through) backed by an
 * onnxruntime-node InferenceSession on the best available execution provider.
 */
import type { CompileRunner, HostTensor, ModelRunner } from '@enjambre/autograd';
import { type DataType, type Model, numElements, serializeModel } from '@enjambre/onnx';
import * as ort from 'onnxruntime-node';
import { SessionError, SessionReleasedError } from './errors.ts';
import {
  defaultProviderRegistry,
  type ProviderName,
  type ProviderNotice,
  type ProviderOptions,
  type ProviderRegistry,
  throwIfAborted,
} from './providers.ts';

/** Options of {@link createRunner}: provider choice and threads, plus the registry to use. */
export interface RunnerOptions extends ProviderOptions {
  /** Registry whose provider verdicts are used and filled. Default: the process-wide one. */
  registry?: ProviderRegistry;
}

/** Per-call options of {@link Runner.run}. */
export interface RunCallOptions {
  /** Outputs to compute. Default: every graph output. */
  fetches?: readonly string[];
  /** Checked before the run starts and when it returns. */
  signal?: AbortSignal;
}

/** A model loaded into onnxruntime, ready to run. */
export interface Runner extends ModelRunner {
  /** The execution provider the session runs on. */
  readonly provider: ProviderName;
  /** Why preferred providers were skipped (empty when the first choice worked). */
  readonly notices: readonly ProviderNotice[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** True once {@link Runner.release} was called. */
  readonly released: boolean;
  /**
   * Runs the model. Inputs are handed to onnxruntime without copying. Outputs own their memory:
   * they stay valid after later runs and after `release()`, and can be fed back as inputs as is.
   */
  run(feeds: Record<string, HostTensor>, options?: RunCallOptions): Promise<Record<string, HostTensor>>;
  /** Frees the native session after in-flight runs finish. Idempotent. */
  release(): Promise<void>;
}

const ORT_TYPES: ReadonlySet<string> = new Set<DataType>([
  'float32',
  'float64',
  'float16',
  'int64',
  'int32',
  'int8',
  'uint8',
  'bool',
]);

const ARRAY_OF: Record<DataType, new (n: number) => HostTensor['data']> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/**
 * Wraps a host tensor as an onnxruntime tensor over the same memory (no copy).
 * @throws SessionError when the data's class or length does not fit dtype and dims.
 */
export function toOrtTensor(t: HostTensor, name = 'tensor'): ort.Tensor {
  const expected = ARRAY_OF[t.dtype];
  if (!expected) throw new SessionError(`${name}: unsupported dtype ${String(t.dtype)}`);
  if (!(t.data instanceof expected)) {
    throw new SessionError(
      `${name}: dtype ${t.dtype} needs a ${expected.name}, got ${t.data?.constructor?.name ?? typeof t.data}`,
    );
  }
  if (!Array.isArray(t.dims) || !t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SessionError(`${name}: dims must be non-negative integers, got ${JSON.stringify(t.dims)}`);
  }
  const n = numElements(t.dims);
  if (t.data.length !== n) {
    throw new SessionError(
      `${name}: dims [${t.dims.join(', ')}] hold ${n} elements but the data has ${t.data.length}`,
    );
  }
  return new ort.Tensor(t.dtype, t.data as never, t.dims);
}

/**
 * Views an onnxruntime CPU tensor as a host tensor (no copy of the data).
 * @throws SessionError for element types Enjambre does not handle (string, uint16, ...).
 */
export function fromOrtTensor(t: ort.Tensor, name = 'tensor'): HostTensor {
  if (!ORT_TYPES.has(t.type))
    throw new SessionError(`${name}: unsupported onnxruntime tensor type ${t.type}`);
  const dtype = t.type as DataType;
  let data = t.data as HostTensor['data'];
  // A Float16Array (where the platform has one) is viewed as the raw bits Enjambre uses.
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    const v = data as unknown as ArrayBufferView;
    data = new Uint16Array(v.buffer, v.byteOffset, v.byteLength / 2);
  }
  return { dtype, dims: [...t.dims], data };
}

/**
 * Loads a model into onnxruntime on the first execution provider of `options.providers` that works
 * (CPU last), with graph optimisation `'all'` and the given thread counts.
 * @throws UnknownProviderError, NoProviderError (see {@link ProviderRegistry.createSession}).
 */
export async function createRunner(model: Model | Uint8Array, options: RunnerOptions = {}): Promise<Runner> {
  const bytes = model instanceof Uint8Array ? model : serializeModel(model);
  const registry = options.registry ?? defaultProviderRegistry;
  const { session, provider, notices } = await registry.createSession(bytes, options);
  return new OrtRunner(session, provider, notices);
}

/** A `CompileRunner` (for `gradcheck` and the train-step compiler) with fixed options. */
export function compileRunner(options: RunnerOptions = {}): CompileRunner {
  return (model) => createRunner(model, options);
}

class OrtRunner implements Runner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly inFlight = new Set<Promise<unknown>>();
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    readonly notices: readonly ProviderNotice[],
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  get released(): boolean {
    return this.releasing !== undefined;
  }

  run(feeds: Record<string, HostTensor>, options: RunCallOptions = {}): Promise<Record<string, HostTensor>> {
    const p = this.runInner(feeds, options);
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private async runInner(
    feeds: Record<string, HostTensor>,
    options: RunCallOptions,
  ): Promise<Record<string, HostTensor>> {
    if (this.releasing) throw new SessionReleasedError('the session was released; create a new runner');
    throwIfAborted(options.signal);
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new SessionError(
          `feed ${name} is not an input of the model (inputs: ${this.inputNames.join(', ')})`,
        );
      }
      inputs[name] = toOrtTensor(t, `feed ${name}`);
    }
    const missing = this.inputNames.filter((n) => !(n in inputs));
    if (missing.length > 0) throw new SessionError(`missing feeds for model inputs: ${missing.join(', ')}`);
    const fetches = options.fetches ?? this.outputNames;
    for (const f of fetches) {
      if (!this.outputNames.includes(f)) {
        throw new SessionError(
          `fetch ${f} is not an output of the model (outputs: ${this.outputNames.join(', ')})`,
        );
      }
    }
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(inputs, [...fetches]);
    } catch (e) {
      throw new SessionError(
        `onnxruntime (${this.provider}) failed to run the model: ${(e as Error).message}`,
      );
    }
    throwIfAborted(options.signal);
    const result: Record<string, HostTensor> = {};
    for (const [name, v] of Object.entries(out))
      result[name] = fromOrtTensor(v as ort.Tensor, `output ${name}`);
    return result;
  }

  release(): Promise<void> {
    this.releasing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.session.release();
    })();
    return this.releasing;
  }
}
