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
  /** Checks per parameter: coordinates in float64 (all when fewer), random directions in float32. Default 12. */
  samplesPerParam?: number;
  /** Finite-difference step, relative to max(1, |θ|). Default 1e-6 in float64; in float32 the best of {@link FLOAT32_STEPS}. */
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
/** Lengths of the float32 directional steps tried (the best-agreeing one counts). */
export const FLOAT32_STEPS = [1e-2, 3e-3, 1e-3] as const;

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
    const count = f64 ? Math.min(n, opts.samplesPerParam ?? 12) : (opts.samplesPerParam ?? 12);
    let maxRel = 0;
    let maxAbs = 0;
    let passed = true;
    const record = (analyticValue: number, numeric: number) => {
      const abs = Math.abs(analyticValue - numeric);
      const scale = Math.max(Math.abs(analyticValue), Math.abs(numeric));
      maxAbs = Math.max(maxAbs, abs);
      maxRel = Math.max(maxRel, abs / Math.max(scale, floor));
      if (!(abs <= atol + rtol * scale)) passed = false;
    };
    if (f64) {
      // float64: single coordinates, central differences good to ~1e-9.
      const coords =
        count === n ? [...Array(n).keys()] : Array.from({ length: count }, () => Math.floor(rand() * n));
      for (const c of coords) {
        const orig = data[c];
        const h = (opts.epsilon ?? 1e-6) * Math.max(1, Math.abs(orig));
        data[c] = orig + h;
        const up = await lossAt();
        data[c] = orig - h;
        const down = await lossAt();
        data[c] = orig;
        record(grad[c], (up - down) / (2 * h));
      }
    } else {
      // float32: one coordinate moves the loss less than its rounding noise, so check directional
      // derivatives along random directions through the whole tensor (the signal adds up over
      // every coordinate), each against the step actually taken after rounding to float32.
      const orig = Float32Array.from(data);
      for (let d = 0; d < count; d++) {
        const u = Float64Array.from({ length: n }, () => rand() * 2 - 1);
        const norm = l2Norm(u);
        let best = Number.POSITIVE_INFINITY;
        let bestPair: [number, number] = [0, 0];
        for (const eps of opts.epsilon !== undefined ? [opts.epsilon] : FLOAT32_STEPS) {
          let dot = 0;
          for (let i = 0; i < n; i++) data[i] = orig[i] + (eps * u[i]) / norm;
          for (let i = 0; i < n; i++) dot += grad[i] * (data[i] - orig[i]);
          const up = await lossAt();
          for (let i = 0; i < n; i++) data[i] = orig[i] - (eps * u[i]) / norm;
          for (let i = 0; i < n; i++) dot -= grad[i] * (data[i] - orig[i]);
          const down = await lossAt();
          data.set(orig);
          // Compare slopes per unit step so that the tolerance reads like a gradient's.
          const scale = 2 * eps;
          const err = Math.abs(dot - (up - down));
          if (err < best) {
            best = err;
            bestPair = [dot / scale, (up - down) / scale];
          }
        }
        record(bestPair[0], bestPair[1]);
      }
    }
    report.push({ name, size: n, checked: count, maxRelError: maxRel, maxAbsError: maxAbs, passed });
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

/** The L2 norm (a loop: spreading millions of values into Math.hypot would overflow the stack). */
function l2Norm(v: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
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
