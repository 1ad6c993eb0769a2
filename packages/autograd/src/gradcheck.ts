import { uniformSource } from '@enjambre/core';
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
import type { GradientRules } from './rules/index.ts';

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
  /**
   * Comparisons per parameter. float64: single coordinates (all of them when the tensor has
   * fewer), plus the direction of the gradient. float32: directions through the whole tensor,
   * the first along the gradient, the others random. Default 12.
   */
  samplesPerParam?: number;
  /**
   * Finite-difference step, relative to max(1, |θ|) (float64) or to max(1, rms θ) (float32).
   * Default: {@link GRADCHECK_STEPS}.
   */
  epsilon?: number;
  /** Seed of the coordinate and direction choice. */
  seed?: number;
  /** A comparison passes when its relative error is below `rtol`. Default: {@link GRADCHECK_TOLERANCES}. */
  rtol?: number;
  /** The gradient rules differentiated with. Default: the registered ones. */
  rules?: GradientRules;
  /**
   * Rewrites the differentiated graph before it runs, e.g. {@link lowerErfToFloat64} for ops
   * the runtime has no kernel for at this precision. Default: none.
   */
  lower?: (graph: Graph) => Graph;
}

export interface ParamGradcheck {
  name: string;
  size: number;
  /** Comparisons made (coordinates and directions). */
  checked: number;
  /** Largest relative error |analytic − numeric| / max(|analytic|, |numeric|, floor); see {@link GRADCHECK_FLOOR}. */
  maxRelError: number;
  maxAbsError: number;
  /** Every comparison's relative error is below rtol. */
  passed: boolean;
  /**
   * float32 only: the gradient is smaller than the loss's rounding noise lets finite differences
   * resolve, so its comparisons were taken against the noise floor and say little.
   */
  belowNoise?: boolean;
}

export interface GradcheckReport {
  dtype: DataType;
  params: ParamGradcheck[];
  maxRelError: number;
  /** The pass bound on every relative error. */
  rtol: number;
  /** The value of the loss at the checked point. */
  loss: number;
  passed: boolean;
}

/**
 * Bounds on the relative error of each comparison. float64 central differences (Richardson-
 * extrapolated) are good to ~1e-10 relative, so 1e-6 leaves room while a 1% error in one rule
 * fails by four orders of magnitude. float32: the loss carries ~1e-7 relative rounding noise and
 * the steps cross ReLU and max-pool kinks; with the floors below, correct rules measured at most
 * 3.3e-3 on the zoo CNN and 1.3e-3 on the MLP, and a rule scaled by 1.01 (MatMul, Gemm, Relu,
 * Conv, MaxPool) 1.1e-2 to 3.1e-2 (test/gradcheck.test.ts in the peer package).
 */
export const GRADCHECK_TOLERANCES = {
  float64: { rtol: 1e-6 },
  float32: { rtol: 5e-3 },
} as const;

/**
 * Finite-difference steps. float64: steps h and 2h combined by Richardson extrapolation
 * (truncation error O(h⁴)). float32: the step of length h along a unit direction, the best-
 * agreeing of these three counting: larger steps rise above rounding noise, smaller ones cross
 * fewer ReLU and max-pool kinks.
 */
export const GRADCHECK_STEPS = {
  float64: [1e-5],
  float32: [1e-2, 3e-3, 1e-3],
} as const;

/**
 * Relative errors are taken against at least a floor. float64 coordinates: `1e-4 × max(‖∇‖∞,
 * |loss|)` (finite differences have an absolute rounding error about 1e-11 × |loss| that a
 * gradient entry near zero cannot be compared against). float32: random directions against
 * 2‖∇‖₂ (a random unit direction's slope is only about ‖∇‖₂/√n, and the ReLU and max-pool kinks
 * within the step's reach weigh most there), the gradient's own direction against its slope
 * ‖∇‖₂ itself; both against at least the slope's rounding noise divided by rtol, `noiseUlps × ε₃₂ × max(1, |loss|) / (2h) / rtol`: below it a difference between
 * analytic and numeric slopes cannot be told from noise.
 */
export const GRADCHECK_FLOOR = { float64: 1e-4, float32: 2, noiseUlps: 4 } as const;

/** float32 machine epsilon (2⁻²³). */
const FLOAT32_EPS = 2 ** -23;

/**
 * Compares the autodiff gradient of every parameter against central finite differences of
 * the loss, both computed by running real graphs.
 */
export async function gradcheck(
  graph: Graph,
  opts: GradcheckOptions,
  compile: CompileRunner,
): Promise<GradcheckReport> {
  let g = cloneGraph(graph);
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
  const { grads } = appendGradients(g, { loss: opts.loss, wrt: params, rules: opts.rules });
  g.outputs = [{ name: opts.loss, type: { dtype } }, ...grads.map((name) => ({ name, type: { dtype } }))];
  if (opts.lower) g = opts.lower(g);
  const runner = await compile(makeModel(g));

  const feeds = (): Record<string, HostTensor> => ({ ...opts.feeds, ...Object.fromEntries(values) });
  const analytic = await runner.run(feeds());
  const loss0 = Number(analytic[opts.loss].data[0]);
  const lossAt = async (): Promise<number> => Number((await runner.run(feeds()))[opts.loss].data[0]);

  const f64 = dtype === 'float64';
  const rtol = opts.rtol ?? GRADCHECK_TOLERANCES[f64 ? 'float64' : 'float32'].rtol;
  const steps: readonly number[] =
    opts.epsilon !== undefined ? [opts.epsilon] : GRADCHECK_STEPS[f64 ? 'float64' : 'float32'];
  const samples = opts.samplesPerParam ?? 12;
  const rand = uniformSource(opts.seed ?? 7);
  const report: ParamGradcheck[] = [];
  for (const [k, name] of params.entries()) {
    const p = values.get(name)!;
    const data = p.data as Float32Array | Float64Array;
    const grad = analytic[grads[k]].data as Float32Array | Float64Array;
    const n = data.length;
    const gradNorm = l2Norm(grad);
    let maxRel = 0;
    let maxAbs = 0;
    let checked = 0;
    let belowNoise: boolean | undefined;
    const record = (analyticValue: number, numeric: number, floor: number) => {
      const abs = Math.abs(analyticValue - numeric);
      const rel = abs / Math.max(Math.abs(analyticValue), Math.abs(numeric), floor, Number.MIN_VALUE);
      maxAbs = Math.max(maxAbs, abs);
      // NaN (a broken graph) must fail, not slip through Math.max.
      maxRel = Number.isNaN(rel) ? Number.NaN : Math.max(maxRel, rel);
      checked++;
    };
    // The slope of the loss along `u` (a perturbation of the whole tensor) by central differences.
    const orig = data.slice();
    const slopeAlong = async (u: Float64Array, h: number): Promise<{ numeric: number; analytic: number }> => {
      // Each side is compared against the step actually taken after rounding to the dtype.
      let dot = 0;
      for (let i = 0; i < n; i++) data[i] = orig[i] + h * u[i];
      for (let i = 0; i < n; i++) dot += grad[i] * (data[i] - orig[i]);
      const up = await lossAt();
      for (let i = 0; i < n; i++) data[i] = orig[i] - h * u[i];
      for (let i = 0; i < n; i++) dot -= grad[i] * (data[i] - orig[i]);
      const down = await lossAt();
      data.set(orig);
      return { numeric: (up - down) / (2 * h), analytic: dot / (2 * h) };
    };
    const gradDirection = Float64Array.from(grad, (v) => v / (gradNorm || 1));

    if (f64) {
      // Single coordinates: Richardson extrapolation (4·D(h) − D(2h))/3 cancels the h² term.
      const floor = GRADCHECK_FLOOR.float64 * Math.max(maxAbsOf(grad), Math.abs(loss0));
      const coords =
        samples >= n ? [...Array(n).keys()] : Array.from({ length: samples }, () => Math.floor(rand() * n));
      for (const c of coords) {
        const h = steps[0] * Math.max(1, Math.abs(orig[c]));
        const central = async (step: number) => {
          data[c] = orig[c] + step;
          const up = await lossAt();
          data[c] = orig[c] - step;
          const down = await lossAt();
          data[c] = orig[c];
          return (up - down) / (2 * step);
        };
        const near = await central(h);
        const far = await central(2 * h);
        record(grad[c], (4 * near - far) / 3, floor);
      }
      // And the gradient's own direction, which sums the signal of every coordinate.
      if (gradNorm > 0) {
        const h = steps[0] * Math.max(1, rms(orig));
        const near = await slopeAlong(gradDirection, h);
        const far = await slopeAlong(gradDirection, 2 * h);
        record((4 * near.analytic - far.analytic) / 3, (4 * near.numeric - far.numeric) / 3, floor);
      }
    } else {
      // float32: one coordinate moves the loss less than its rounding noise, so compare slopes
      // along directions through the whole tensor: first the gradient's own (where a wrong
      // gradient shows most: its slope is ‖∇‖), then random ones, against a floor of a fraction
      // of ‖∇‖ (a random unit direction's slope is only about ‖∇‖/√n).
      const scale = Math.max(1, rms(orig));
      const noise =
        (GRADCHECK_FLOOR.noiseUlps * FLOAT32_EPS * Math.max(1, Math.abs(loss0))) /
        (2 * Math.min(...steps) * scale) /
        rtol;
      const floor = Math.max(GRADCHECK_FLOOR.float32 * gradNorm, noise);
      belowNoise = gradNorm < noise;
      for (let d = 0; d < samples; d++) {
        const alongGradient = d === 0 && gradNorm > 0;
        let u: Float64Array;
        if (alongGradient) u = gradDirection;
        else {
          u = Float64Array.from({ length: n }, () => rand() * 2 - 1);
          const norm = l2Norm(u);
          for (let i = 0; i < n; i++) u[i] /= norm;
        }
        let best: { numeric: number; analytic: number } | undefined;
        let bestErr = Number.POSITIVE_INFINITY;
        for (const eps of steps) {
          const s = await slopeAlong(u, eps * scale);
          const err = Math.abs(s.numeric - s.analytic);
          if (!(err >= bestErr)) {
            bestErr = err;
            best = s;
          }
        }
        record(best!.analytic, best!.numeric, alongGradient ? noise : floor);
      }
    }
    const passed = maxRel < rtol;
    report.push({
      name,
      size: n,
      checked,
      maxRelError: maxRel,
      maxAbsError: maxAbs,
      passed,
      ...(belowNoise !== undefined && { belowNoise }),
    });
  }
  const maxRelError = report.some((r) => Number.isNaN(r.maxRelError))
    ? Number.NaN
    : Math.max(0, ...report.map((r) => r.maxRelError));
  return {
    dtype,
    params: report,
    maxRelError,
    rtol,
    loss: loss0,
    passed: report.every((r) => r.passed) && Number.isFinite(loss0),
  };
}

function maxAbsOf(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

function rms(v: ArrayLike<number>): number {
  return v.length === 0 ? 0 : l2Norm(v) / Math.sqrt(v.length);
}

/** The L2 norm (a loop: spreading millions of values into Math.hypot would overflow the stack). */
function l2Norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}
