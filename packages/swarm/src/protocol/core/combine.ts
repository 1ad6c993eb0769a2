/**
 * How a round's updates become one aggregate, robust at every size: claimed sample counts are capped, updates
 * far above the median norm dropped, and the rest combined by CenteredClip around the coordinate-wise median
 * (3 updates or more) or, with 2, with both norms clipped to the smaller one and equal weights (with two
 * updates nobody can tell which is honest; neither can then outweigh or outgrow the other).
 */
import { centeredClip, weightedMean } from '../../averaging/aggregate.ts';
import { DEFAULT_MAX_CLAIM_RATIO } from './limits.ts';
import type { Contribution } from './round-book.ts';

export interface CombineOptions {
  /** 'centered-clip' (robust) or 'mean' (sample-weighted, for comparison runs only). */
  aggregator: 'centered-clip' | 'mean';
  /** Updates whose norm exceeds this multiple of the median norm are dropped (3 updates or more). */
  outlierFactor: number;
  /** A claimed sample count counts at most this much. Default: no fixed cap. */
  maxSamples?: number;
  /** And at most this multiple of the median claim. Default {@link DEFAULT_MAX_CLAIM_RATIO}. */
  maxWeightRatio?: number;
}

export interface Combined {
  values: Float32Array;
  method: 'own' | 'clipped-pair' | 'centered-clip' | 'weighted-mean';
  kept: Contribution[];
  outliers: Contribution[];
}

/** The weight each contribution gets: its claim, capped by the config and by a multiple of the median claim. */
export function cappedWeights(cs: readonly Contribution[], opts: CombineOptions): number[] {
  const fixed = opts.maxSamples ?? Number.POSITIVE_INFINITY;
  const claims = cs.map((c) => Math.max(1, Math.min(c.samples, fixed)));
  const sorted = [...claims].sort((a, b) => a - b);
  // The lower median: with two claims, the smaller one (a single huge claim never sets the scale).
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const ratio = opts.maxWeightRatio ?? DEFAULT_MAX_CLAIM_RATIO;
  return claims.map((w) => Math.min(w, ratio * median));
}

export function combine(cs: readonly Contribution[], opts: CombineOptions): Combined {
  if (cs.length === 0) throw new RangeError('combine: no contributions');
  if (cs.length === 1) return { values: cs[0].values.slice(), method: 'own', kept: [...cs], outliers: [] };
  const { kept, outliers } = dropOutliers(cs, opts.outlierFactor);
  const weights = cappedWeights(kept, opts);
  if (opts.aggregator === 'mean') {
    const values = weightedMean(kept.map((c, i) => ({ values: c.values, weight: weights[i] })));
    return { values, method: 'weighted-mean', kept, outliers };
  }
  if (kept.length === 2) {
    const norms = kept.map((c) => l2Norm(c.values));
    const bound = Math.min(...norms);
    const scaled = kept.map((c, i) => scale(c.values, norms[i] > bound ? bound / norms[i] : 1));
    const values = weightedMean(scaled.map((v) => ({ values: v, weight: 1 })));
    return { values, method: 'clipped-pair', kept, outliers };
  }
  const r = centeredClip(kept.map((c, i) => ({ values: c.values, weight: weights[i] })));
  return { values: r.values, method: 'centered-clip', kept, outliers };
}

/** Drops updates whose norm is far above the round's median (a ×100 update, say); needs 3 updates or more. */
function dropOutliers(
  cs: readonly Contribution[],
  factor: number,
): { kept: Contribution[]; outliers: Contribution[] } {
  if (cs.length < 3) return { kept: [...cs], outliers: [] };
  const norms = cs.map((c) => l2Norm(c.values));
  const sorted = [...norms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const kept: Contribution[] = [];
  const outliers: Contribution[] = [];
  cs.forEach((c, i) => {
    (norms[i] > factor * median ? outliers : kept).push(c);
  });
  return { kept, outliers };
}

function scale(v: Float32Array, k: number): Float32Array {
  if (k === 1) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * k;
  return out;
}

/** The L2 norm (a loop: spreading millions of values into Math.hypot would overflow the stack). */
export function l2Norm(v: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}
