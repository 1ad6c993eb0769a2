import { GraphBuilder, makeModel, serializeModel } from '@enjambre/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  createRunner,
  InvalidOptionError,
  NoProviderError,
  type ProviderNotice,
  ProviderRegistry,
  probeProviders,
  resolveProviders,
  type SessionFactory,
  sessionOptionsFor,
  UnknownProviderError,
} from '../src/index.ts';

/** y = tanh(x·W): a real graph whose output is checked against a JS reference. */
function smallModel(seed = 1) {
  const b = new GraphBuilder('small');
  const x = b.input('x', 'float32', [3, 4]);
  let s = seed;
  const rand = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  const w = Float32Array.from({ length: 8 }, rand);
  b.initializer('w', 'float32', [4, 2], w);
  const y = b.op('Tanh', [b.op('MatMul', [x, 'w'])]);
  b.output(y, 'float32', [3, 2]);
  const xs = Float32Array.from({ length: 12 }, rand);
  const expected = new Float32Array(6);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 2; j++) {
      let acc = 0;
      for (let k = 0; k < 4; k++) acc += xs[i * 4 + k] * w[k * 2 + j];
      expected[i * 2 + j] = Math.tanh(acc);
    }
  return { model: makeModel(b.graph), xs, expected, y };
}

function epName(options: ort.InferenceSession.SessionOptions): string {
  const ep = options.executionProviders?.[0];
  return typeof ep === 'string' ? ep : (ep?.name ?? '?');
}

/** A TEST DOUBLE: behaves like a machine without the CUDA provider library; the rest is real onnxruntime. */
function cudaMissingDouble(calls: string[]): SessionFactory {
  return async (model, options) => {
    calls.push(epName(options));
    if (epName(options) === 'cuda') {
      throw new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    }
    return ort.InferenceSession.create(model, options);
  };
}

describe('resolveProviders', () => {
  it('keeps the order, drops duplicates and appends cpu as last resort', () => {
    expect(resolveProviders(['cuda', 'webgpu'])).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(resolveProviders(['webgpu', 'cpu', 'webgpu'])).toEqual(['webgpu', 'cpu']);
    expect(resolveProviders([])).toEqual(['cpu']);
  });

  it('rejects an unknown name with an error listing the valid ones', () => {
    expect(() => resolveProviders(['cpu', 'cuda11'])).toThrow(UnknownProviderError);
    expect(() => resolveProviders(['cpu', 'cuda11'])).toThrow(
      /unknown execution provider "cuda11" at providers\[1\]: expected one of 'cuda', 'webgpu', 'cpu'/,
    );
  });

  it('builds the provider entries and thread options onnxruntime expects', () => {
    const so = sessionOptionsFor('cuda', { cudaDeviceId: 2, intraOpThreads: 3, interOpThreads: 1 });
    expect(so.executionProviders).toEqual([{ name: 'cuda', deviceId: 2 }]);
    expect(so.intraOpNumThreads).toBe(3);
    expect(so.interOpNumThreads).toBe(1);
    expect(so.graphOptimizationLevel).toBe('all');
    expect(sessionOptionsFor('webgpu').executionProviders).toEqual([{ name: 'webgpu' }]);
    expect(sessionOptionsFor('cpu').executionProviders).toEqual(['cpu']);
    expect(() => sessionOptionsFor('cpu', { intraOpThreads: -1 })).toThrow(InvalidOptionError);
    expect(() => sessionOptionsFor('cuda', { cudaDeviceId: 0.5 })).toThrow(/cudaDeviceId/);
  });
});

describe('provider selection with an injected factory', () => {
  it('cuda unavailable (test double): falls back to cpu, says why once, and the session runs', async () => {
    const calls: string[] = [];
    const registry = new ProviderRegistry({ factory: cudaMissingDouble(calls) });
    const notices: ProviderNotice[] = [];
    const { model, xs, expected, y } = smallModel(3);
    const first = await createRunner(model, {
      providers: ['cuda', 'cpu'],
      cudaDeviceId: 1,
      registry,
      onNotice: (n) => notices.push(n),
    });
    expect(first.provider).toBe('cpu');
    expect(notices).toHaveLength(1);
    expect(notices[0].code).toBe('cuda-not-installed');
    expect(notices[0].message).toContain(
      'the CUDA execution provider library is not installed: install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` on a machine with CUDA 12 and cuDNN 9 (see docs/user-guide.md#gpu)',
    );
    expect(notices[0].message).toContain('Failed to load shared library');
    expect(first.notices).toEqual(notices);
    const out = await first.run({ x: { dtype: 'float32', dims: [3, 4], data: xs } });
    expect(out[y].dims).toEqual([3, 2]);
    for (let i = 0; i < 6; i++) expect(out[y].data[i]).toBeCloseTo(expected[i], 5);

    // Second session: the verdict is cached, cuda is not tried again, the callback stays quiet,
    // but the returned notes still say why cpu runs.
    const callsBefore = calls.length;
    const second = await createRunner(model, {
      providers: ['cuda'],
      cudaDeviceId: 1,
      registry,
      onNotice: (n) => notices.push(n),
    });
    expect(second.provider).toBe('cpu');
    expect(calls.slice(callsBefore)).toEqual(['cpu']);
    expect(notices).toHaveLength(1);
    expect(second.notices.map((n) => n.code)).toEqual(['cuda-not-installed']);
    expect(registry.verdict('cuda', 1)).toBe(false);
    await Promise.all([first.release(), second.release()]);
  });

  it('a provider that loads but rejects one model falls back without being marked unavailable (test double)', async () => {
    const bytes = serializeModel(smallModel(5).model);
    const registry = new ProviderRegistry({
      // TEST DOUBLE: "webgpu" accepts the probe graph, rejects the real model.
      factory: async (given, options) => {
        if (epName(options) === 'webgpu') {
          if (given === bytes) throw new Error('unsupported op on this device');
          return ort.InferenceSession.create(given, sessionOptionsFor('cpu'));
        }
        return ort.InferenceSession.create(given, options);
      },
    });
    const notices: ProviderNotice[] = [];
    const r = await createRunner(bytes, {
      providers: ['webgpu'],
      registry,
      onNotice: (n) => notices.push(n),
    });
    expect(r.provider).toBe('cpu');
    expect(notices.map((n) => n.code)).toEqual(['provider-rejected-model']);
    expect(notices[0].message).toMatch(/webgpu execution provider loads but could not create a session/);
    expect(registry.verdict('webgpu')).toBe(true);
    await r.release();
  });

  it('collects every failure into one error when all providers fail (test double)', async () => {
    const registry = new ProviderRegistry({
      factory: async (_bytes, options) => {
        throw new Error(`${epName(options)} broke`);
      },
    });
    const err = await registry
      .createSession(serializeModel(smallModel().model), { providers: ['cuda', 'webgpu'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoProviderError);
    const e = err as NoProviderError;
    expect(e.code).toBe('ERR_NO_PROVIDER');
    expect(e.failures.map((f) => f.provider)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(e.message).toMatch(/tried cuda, webgpu, cpu/);
    expect(e.message).toMatch(/\[cuda\] the CUDA execution provider could not start on device 0.*cuda broke/);
    expect(e.message).toMatch(/\[webgpu\] the WebGPU execution provider found no usable GPU adapter.*Vulkan/);
    expect(e.message).toMatch(/\[cpu\] cpu broke/);
  });

  it('stops between attempts when aborted', async () => {
    const registry = new ProviderRegistry();
    const ctl = new AbortController();
    ctl.abort();
    await expect(
      registry.createSession(serializeModel(smallModel().model), { signal: ctl.signal }),
    ).rejects.toBeInstanceOf(AbortError);
  });
});

describe('provider selection with the real onnxruntime-node', () => {
  it("['cuda','cpu'] falls back to cpu on this machine (no CUDA provider library) and runs", async () => {
    const registry = new ProviderRegistry();
    const notices: ProviderNotice[] = [];
    const { model, xs, expected, y } = smallModel(7);
    const r = await createRunner(model, {
      providers: ['cuda', 'cpu'],
      registry,
      intraOpThreads: 1,
      onNotice: (n) => notices.push(n),
    });
    expect(r.provider).toBe('cpu');
    expect(notices).toHaveLength(1);
    expect(notices[0].provider).toBe('cuda');
    expect(notices[0].code).toBe('cuda-not-installed');
    expect(notices[0].message).toMatch(
      /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install.js/,
    );
    const out = await r.run({ x: { dtype: 'float32', dims: [3, 4], data: xs } });
    for (let i = 0; i < 6; i++) expect(out[y].data[i]).toBeCloseTo(expected[i], 5);

    const again = await createRunner(model, {
      providers: ['cuda', 'cpu'],
      registry,
      onNotice: (n) => notices.push(n),
    });
    expect(again.provider).toBe('cpu');
    expect(notices).toHaveLength(1); // emitted once
    await Promise.all([r.release(), again.release()]);
  });

  it("['cpu'] runs with no notice", async () => {
    const notices: ProviderNotice[] = [];
    const { model, xs, expected, y } = smallModel(11);
    const r = await createRunner(model, { providers: ['cpu'], onNotice: (n) => notices.push(n) });
    expect(r.provider).toBe('cpu');
    expect(r.notices).toEqual([]);
    const out = await r.run({ x: { dtype: 'float32', dims: [3, 4], data: xs } });
    for (let i = 0; i < 6; i++) expect(out[y].data[i]).toBeCloseTo(expected[i], 5);
    expect(notices).toEqual([]);
    await r.release();
  });

  it('an unknown provider name is a clear error before anything loads', async () => {
    await expect(createRunner(smallModel().model, { providers: ['tpu'] })).rejects.toThrow(
      /unknown execution provider "tpu" at providers\[0\]: expected one of 'cuda', 'webgpu', 'cpu'/,
    );
  });

  it('probeProviders reports what loads here and why not', async () => {
    const probes = await probeProviders();
    expect(probes.map((p) => p.provider)).toEqual(['cuda', 'webgpu', 'cpu']);
    const cpu = probes.find((p) => p.provider === 'cpu')!;
    expect(cpu).toMatchObject({ available: true, bundled: true });
    const bundled = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
    for (const p of probes) {
      expect(p.bundled).toBe(bundled.get(p.provider) ?? false);
      if (!p.available) expect(p.notice?.message).toMatch(/docs\/user-guide\.md#gpu/);
    }
    // On the project's machines there is no CUDA provider library; a GPU box may report otherwise.
    const cuda = probes.find((p) => p.provider === 'cuda')!;
    if (!cuda.available) expect(cuda.notice?.code).toMatch(/^cuda-/);
    const webgpu = probes.find((p) => p.provider === 'webgpu')!;
    if (!webgpu.available) expect(webgpu.notice?.message).toMatch(/Vulkan-capable GPU driver/);
  });
});
