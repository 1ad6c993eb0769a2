/**
 * Robust aggregation of pseudo-gradients (protocol step 6): sample-weighted mean and CenteredClip
 * (Karimireddy, He & Jaggi 2021), chosen by the number of updates that arrived.
 */
import {
  DEFAULT_CLIP_ITERATIONS,
  DEFAULT_MAX_WEIGHT_RATIO,
  DEFAULT_MIN_ROBUST_UPDATES,
} from './constants.ts';
import { AggregationError } from './errors.ts';

/** One received update and its weight (the number of samples it was computed on). */
export interface WeightedUpdate {
  values: Float32Array;
  weight: number;
}

/** Options of {@link centeredClip}. */
export interface CenteredClipOptions {
  /** Clipping iterations. Default {@link DEFAULT_CLIP_ITERATIONS} (3). */
  iterations?: number;
  /** Clipping radius. Default: the median L2 distance of the updates to their coordinate-wise median. */
  tau?: number;
  /**
   * Cap on each weight, as a multiple of the median weight; `Infinity` disables the cap.
   * Default {@link DEFAULT_MAX_WEIGHT_RATIO} (4).
   */
  maxWeightRatio?: number;
}

/** Result of {@link centeredClip}. */
export interface CenteredClipResult {
  values: Float32Array;
  /** The clipping radius used. */
  tau: number;
  /**
   * Per update, the factor min(1, τ/‖xᵢ − v‖) of the last iteration: 1 = not clipped; near 0 = far from
   * the consensus (a candidate for a lower peer score).
   */
  clipFactors: number[];
}

/** Options of {@link aggregate}. */
export interface AggregateOptions extends CenteredClipOptions {
  /**
   * `'auto'`: CenteredClip when at least `minRobustUpdates` updates arrived, else the weighted mean.
   * Default `'auto'`.
   */
  method?: 'auto' | 'weighted-mean' | 'centered-clip';
  /** Threshold for `'auto'`. Default {@link DEFAULT_MIN_ROBUST_UPDATES} (4). */
  minRobustUpdates?: number;
}

/** Result of {@link aggregate}. */
export interface AggregateResult {
  values: Float32Array;
  method: 'weighted-mean' | 'centered-clip';
  /** CenteredClip only: the clipping radius. */
  tau?: number;
  /** CenteredClip only: see {@link CenteredClipResult.clipFactors}. */
  clipFactors?: number[];
}

/** Checks shapes, weights and finiteness; returns the common length. */
function validate(updates: readonly WeightedUpdate[]): number {
  if (!Array.isArray(updates) || updates.length === 0) {
    throw new AggregationError('updates', 'expected a non-empty array of updates');
  }
  const n = updates[0].values?.length;
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i];
    if (!(u.values instanceof Float32Array)) {
      throw new AggregationError(`updates[${i}].values`, 'expected a Float32Array');
    }
    if (u.values.length !== n) {
      throw new AggregationError(
        `updates[${i}].values`,
        `has ${u.values.length} values, updates[0] has ${n}`,
      );
    }
    if (!(Number.isFinite(u.weight) && u.weight > 0)) {
      throw new AggregationError(`updates[${i}].weight`, `expected a finite number > 0, got ${u.weight}`);
    }
    const v = u.values;
    for (let j = 0; j < n; j++) {
      if (v[j] - v[j] !== 0)
        throw new AggregationError(`updates[${i}].values[${j}]`, `is not finite (${v[j]})`);
    }
  }
  return n;
}

/** Sample-weighted mean Σ wᵢxᵢ / Σ wᵢ (accumulated in float64). */
export function weightedMean(updates: readonly WeightedUpdate[]): Float32Array {
  const n = validate(updates);
  return meanOf(updates, n);
}

function meanOf(updates: readonly WeightedUpdate[], n: number): Float32Array {
  const acc = new Float64Array(n);
  let total = 0;
  for (const { values, weight } of updates) {
    total += weight;
    for (let j = 0; j < n; j++) acc[j] += weight * values[j];
  }
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = acc[j] / total;
  return out;
}

function medianOf(a: Float64Array | number[], len: number): number {
  const s = Array.from({ length: len }, (_, i) => a[i]).sort((x, y) => x - y);
  const mid = len >> 1;
  return len % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Coordinate-wise (unweighted) median of the updates. */
export function coordinateMedian(updates: readonly WeightedUpdate[]): Float32Array {
  const n = validate(updates);
  return Float32Array.from(medianVector(updates, n));
}

function medianVector(updates: readonly WeightedUpdate[], n: number): Float64Array {
  const k = updates.length;
  const cols = updates.map((u) => u.values);
  const out = new Float64Array(n);
  const buf = new Float64Array(k);
  const mid = k >> 1;
  for (let j = 0; j < n; j++) {
    // insertion sort of k values: k is small (a round's peers), so this beats a general sort
    for (let i = 0; i < k; i++) {
      const x = cols[i][j];
      let p = i;
      while (p > 0 && buf[p - 1] > x) {
        buf[p] = buf[p - 1];
        p--;
      }
      buf[p] = x;
    }
    out[j] = k % 2 === 1 ? buf[mid] : (buf[mid - 1] + buf[mid]) / 2;
  }
  return out;
}

function distance(x: Float32Array, v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < x.length; j++) {
    const d = x[j] - v[j];
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * CenteredClip: start at the coordinate-wise median v; τ = median ‖xᵢ − v‖ unless given; then
 * `iterations` times: v ← v + Σ wᵢ·(xᵢ − v)·min(1, τ/‖xᵢ − v‖) / Σ wᵢ. Weights are capped at
 * `maxWeightRatio` × their median first.
 */
export function centeredClip(
  updates: readonly WeightedUpdate[],
  options: CenteredClipOptions = {},
): CenteredClipResult {
  const n = validate(updates);
  const iterations = options.iterations ?? DEFAULT_CLIP_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 1000) {
    throw new AggregationError('iterations', `expected an integer in [0, 1000], got ${iterations}`);
  }
  if (options.tau !== undefined && !(Number.isFinite(options.tau) && options.tau >= 0)) {
    throw new AggregationError('tau', `expected a finite number >= 0, got ${options.tau}`);
  }
  const ratio = options.maxWeightRatio ?? DEFAULT_MAX_WEIGHT_RATIO;
  if (!(ratio >= 1)) throw new AggregationError('maxWeightRatio', `expected a number >= 1, got ${ratio}`);
  const k = updates.length;
  const rawWeights = updates.map((u) => u.weight);
  const cap = ratio * medianOf(rawWeights, k);
  const weights = rawWeights.map((w) => Math.min(w, cap));
  const total = weights.reduce((a, b) => a + b, 0);

  const v = medianVector(updates, n);
  const dists = updates.map((u) => distance(u.values, v));
  const tau = options.tau ?? medianOf(dists, k);
  const factors = new Array<number>(k).fill(1);
  const step = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    if (it > 0) for (let i = 0; i < k; i++) dists[i] = distance(updates[i].values, v);
    step.fill(0);
    for (let i = 0; i < k; i++) {
      factors[i] = dists[i] <= tau ? 1 : tau / dists[i];
      const c = (weights[i] * factors[i]) / total;
      if (c === 0) continue;
      const x = updates[i].values;
      for (let j = 0; j < n; j++) step[j] += c * (x[j] - v[j]);
    }
    for (let j = 0; j < n; j++) v[j] += step[j];
  }
  if (iterations === 0) for (let i = 0; i < k; i++) factors[i] = dists[i] <= tau ? 1 : tau / dists[i];
  return { values: Float32Array.from(v), tau, clipFactors: factors };
}

/** Protocol step 6: CenteredClip with enough updates, else the sample-weighted mean. */
export function aggregate(
  updates: readonly WeightedUpdate[],
  options: AggregateOptions = {},
): AggregateResult {
  const method = options.method ?? 'auto';
  const minRobust = options.minRobustUpdates ?? DEFAULT_MIN_ROBUST_UPDATES;
  if (method !== 'auto' && method !== 'weighted-mean' && method !== 'centered-clip') {
    throw new AggregationError(
      'method',
      `expected 'auto', 'weighted-mean' or 'centered-clip', got ${String(method)}`,
    );
  }
  const robust = method === 'centered-clip' || (method === 'auto' && updates.length >= minRobust);
  if (!robust) return { values: weightedMean(updates), method: 'weighted-mean' };
  const r = centeredClip(updates, options);
  return { values: r.values, method: 'centered-clip', tau: r.tau, clipFactors: r.clipFactors };
}
