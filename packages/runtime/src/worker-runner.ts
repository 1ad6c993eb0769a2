/**
 * A {@link Runner} whose onnxruntime session lives in a worker thread. onnxruntime-node runs a
 * graph synchronously on the thread that calls it; in a swarm peer that thread also runs libp2p,
 * which answers nobody while a training step runs. Here the step runs on the worker's thread and
 * the caller's event loop stays free. Feeds are copied to the worker, outputs are handed back
 * without a copy.
 */
import { Worker } from 'node:worker_threads';
import type { CompileRunner, HostTensor } from '@enjambre/autograd';
import { type Model, serializeModel } from '@enjambre/onnx';
import { SessionError, SessionReleasedError } from './errors.ts';
import { type ProviderName, type ProviderNotice, throwIfAborted } from './providers.ts';
import type { RunCallOptions, Runner, RunnerOptions } from './session.ts';
import type { Reply, Request, WorkerSessionOptions } from './worker/protocol.ts';

/** Running from TypeScript sources (tests, scripts under tsx) rather than from the built package. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The package.json export condition that resolves a workspace package to its sources. */
const SOURCE_CONDITION = '@enjambre/source';

type WithoutCall<T> = T extends unknown ? Omit<T, 'call'> : never;
type Pending = { resolve: (reply: Reply) => void; reject: (err: Error) => void };

/** The onnxruntime thread shared by every worker runner of this process (started on first use). */
class RuntimeThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextCall = 1;

  call(req: WithoutCall<Request>): Promise<Reply> {
    const worker = this.start();
    const call = this.nextCall++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...req, call } as Request);
    }).finally(() => {
      // An idle thread must not keep the process alive.
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = FROM_SOURCE
      ? // The workspace packages it imports must resolve to their sources too.
        new Worker(new URL('./worker/from-source.mjs', import.meta.url), {
          execArgv: [...process.execArgv, `--conditions=${SOURCE_CONDITION}`],
        })
      : new Worker(new URL('./worker/worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const p = this.pending.get(reply.call);
      if (!p) return;
      this.pending.delete(reply.call);
      p.resolve(reply);
    });
    const failAll = (err: Error) => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (e) => failAll(new SessionError(`the onnxruntime thread failed: ${e.message}`)));
    worker.on('exit', (code) => failAll(new SessionError(`the onnxruntime thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

const thread = new RuntimeThread();

/** The reply when it is of the expected kind; the worker's error (its message) otherwise. */
function answer<K extends Reply['kind']>(reply: Reply, kind: K): Extract<Reply, { kind: K }> {
  if (reply.kind === 'failed') throw new SessionError(reply.message);
  if (reply.kind !== kind)
    throw new SessionError(`the onnxruntime thread answered '${reply.kind}' to a '${kind}' request`);
  return reply as Extract<Reply, { kind: K }>;
}

/** Like {@link createRunner}, with the session in the process's onnxruntime thread. */
export async function createWorkerRunner(
  model: Model | Uint8Array,
  options: RunnerOptions = {},
): Promise<Runner> {
  throwIfAborted(options.signal);
  const bytes = model instanceof Uint8Array ? model : serializeModel(model);
  const sessionOptions: WorkerSessionOptions = {
    providers: options.providers,
    cudaDeviceId: options.cudaDeviceId,
    intraOpThreads: options.intraOpThreads,
    interOpThreads: options.interOpThreads,
    graphOptimizationLevel: options.graphOptimizationLevel,
  };
  const created = answer(
    await thread.call({ kind: 'create', model: bytes, options: sessionOptions }),
    'created',
  );
  // The thread has its own provider registry: its notices are reported here, once per process.
  for (const n of created.notices) reportOnce(n, options.onNotice);
  return new WorkerRunner(
    created.session,
    created.provider,
    created.notices,
    created.inputNames,
    created.outputNames,
  );
}

/** Like {@link compileRunner}: a `CompileRunner` whose sessions run in the onnxruntime thread. */
export function compileWorkerRunner(options: RunnerOptions = {}): CompileRunner {
  return (model) => createWorkerRunner(model, options);
}

const reported = new Set<string>();
function reportOnce(n: ProviderNotice, onNotice: RunnerOptions['onNotice']): void {
  if (reported.has(n.provider)) return;
  reported.add(n.provider);
  onNotice?.(n);
}

class WorkerRunner implements Runner {
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly session: number,
    readonly provider: ProviderName,
    readonly notices: readonly ProviderNotice[],
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  get released(): boolean {
    return this.releasing !== undefined;
  }

  async run(
    feeds: Record<string, HostTensor>,
    options: RunCallOptions = {},
  ): Promise<Record<string, HostTensor>> {
    if (this.releasing) throw new SessionReleasedError('the session was released; create a new runner');
    throwIfAborted(options.signal);
    const reply = await thread.call({
      kind: 'run',
      session: this.session,
      feeds,
      fetches: options.fetches ? [...options.fetches] : undefined,
    });
    throwIfAborted(options.signal);
    return answer(reply, 'ran').outputs;
  }

  release(): Promise<void> {
    this.releasing ??= thread.call({ kind: 'release', session: this.session }).then(() => undefined);
    return this.releasing;
  }
}
