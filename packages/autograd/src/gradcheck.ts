import {
  cloneGraph,
  type DataType,
  type Graph,
  isFloat,
  type Model,
  makeModel,
  type TensorData,
} from '@enjambre/onnx';
import { appendGradients } from './backward.ts';
import { CompileError } from './errors.ts';

/** A tensor handed to or returned by a runner. */
export interface HostTensor {
  dtype: DataType;
  dims: number[];
  data: TensorData;
}

/** Runs a model: how the autodiff is checked without depending on a particular runtime. */
export interface ModelRunner {
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
}
export type CompileRunner = (model: Model) => Promise<ModelRunner>;

export interface GradcheckOptions {
  /** Name of the scalar loss value in `graph`. */
  loss: string;
  /** Parameters to check (initializers). Default: every floating-point initializer. */
  params?: string[];
  /** Data inputs of the graph. */
  feeds: Record<string, HostTensor>;
  /** Coordinates checked per parameter (chosen at random; all when fewer). Default 12. */
  samplesPerParam?: number;
  /** Finite-difference step, relative to max(1, |θ|). Default 1e-6 in float64, 1e-2 in float32. */
  epsilon?: number;
  /** Seed of the coordinate choice. */
  seed?: number;
  /**
   * A coordinate passes when |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|).
   * Defaults: {@link GRADCHECK_TOLERANCES}.
   */
  rtol?: number;
  atol?: number;
}

export interface ParamGradcheck {
  name: string;
  size: number;
  checked: number;
  /** max over checked coordinates of |analytic − numeric| / max(|analytic|, |numeric|, floor). */
  maxRelError: number;
  maxAbsError: number;
  /** Every checked coordinate within atol + rtol·|gradient|. */
  passed: boolean;
}

export interface GradcheckReport {
  dtype: DataType;
  params: ParamGradcheck[];
  maxRelError: number;
  rtol: number;
  atol: number;
  passed: boolean;
}

/**
 * Default tolerances. Central differences in float64 are good to ~1e-9 relative; an absolute
 * floor covers gradients that are (near) zero, where rounding noise of the loss dominates. In
 * float32 the loss itself carries ~1e-7 relative noise, and a step large enough to rise above it
 * can cross ReLU and max-pool kinks.
 */
export const GRADCHECK_TOLERANCES = {
  float64: { rtol: 1e-6, atol: 1e-8 },
  float32: { rtol: 5e-2, atol: 5e-3 },
} as const;

/**
 * Compares the autodiff gradient of every parameter against central finite differences of
 * the loss, both computed by running real graphs.
 */
export async function gradcheck(
  graph: Graph,
  opts: GradcheckOptions,
  compile: CompileRunner,
): Promise<GradcheckReport> {
  const g = cloneGraph(graph);
  const params = opts.params ?? g.initializers.filter((t) => isFloat(t.dtype)).map((t) => t.name);
  const values = new Map<string, HostTensor>();
  for (const name of params) {
    const i = g.initializers.findIndex((t) => t.name === name);
    if (i < 0) throw new CompileError(`gradcheck: ${name} is not an initializer of ${g.name}`);
    const [t] = g.initializers.splice(i, 1);
    g.inputs.push({ name, type: { dtype: t.dtype, shape: [...t.dims] } });
    values.set(name, { dtype: t.dtype, dims: t.dims, data: t.data.slice() });
  }
  const dtype = values.values().next().value?.dtype ?? 'float64';
  const { grads } = appendGradients(g, { loss: opts.loss, wrt: params });
  g.outputs = [{ name: opts.loss, type: { dtype } }, ...grads.map((name) => ({ name, type: { dtype } }))];
  const runner = await compile(makeModel(g));

  const feeds = (): Record<string, HostTensor> => ({ ...opts.feeds, ...Object.fromEntries(values) });
  const analytic = await runner.run(feeds());
  const lossAt = async (): Promise<number> => Number((await runner.run(feeds()))[opts.loss].data[0]);

  const f64 = dtype === 'float64';
  const eps = opts.epsilon ?? (f64 ? 1e-6 : 1e-2);
  const floor = f64 ? 1e-7 : 1e-3;
  const tol = GRADCHECK_TOLERANCES[f64 ? 'float64' : 'float32'];
  const rtol = opts.rtol ?? tol.rtol;
  const atol = opts.atol ?? tol.atol;
  const rand = mulberry32(opts.seed ?? 7);
  const report: ParamGradcheck[] = [];
  for (const [k, name] of params.entries()) {
    const p = values.get(name)!;
    const data = p.data as Float32Array | Float64Array;
    const grad = analytic[grads[k]].data as Float32Array | Float64Array;
    const n = data.length;
    const count = Math.min(n, opts.samplesPerParam ?? 12);
    const coords =
      count === n ? [...Array(n).keys()] : Array.from({ length: count }, () => Math.floor(rand() * n));
    let maxRel = 0;
    let maxAbs = 0;
    let passed = true;
    for (const c of coords) {
      const orig = data[c];
      const h = eps * Math.max(1, Math.abs(orig));
      data[c] = orig + h;
      const up = await lossAt();
      data[c] = orig - h;
      const down = await lossAt();
      data[c] = orig;
      // Divide by the step actually taken after rounding to the parameter's precision.
      const numeric = (up - down) / (f64 ? 2 * h : Math.fround(orig + h) - Math.fround(orig - h));
      const abs = Math.abs(grad[c] - numeric);
      maxAbs = Math.max(maxAbs, abs);
      const scale = Math.max(Math.abs(grad[c]), Math.abs(numeric));
      maxRel = Math.max(maxRel, abs / Math.max(scale, floor));
      if (!(abs <= atol + rtol * scale)) passed = false;
    }
    report.push({ name, size: n, checked: coords.length, maxRelError: maxRel, maxAbsError: maxAbs, passed });
  }
  return {
    dtype,
    params: report,
    maxRelError: Math.max(0, ...report.map((r) => r.maxRelError)),
    rtol,
    atol,
    passed: report.every((r) => r.passed),
  };
}

/** A small seeded PRNG (mulberry32): the same stream on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
