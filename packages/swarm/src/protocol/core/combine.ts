/**
 * How a round's updates become one aggregate, robust at every size: near-identical copies count once, claimed
 * sample counts are capped, updates far above the median norm dropped; with 3 updates or more, every norm is clipped to the median norm, the
 * updates are combined by CenteredClip around the coordinate-wise median, those pointing away from that centre
 * (cosine ≤ 0) are dropped and the rest combined again. With 2, both norms are clipped to the smaller one and
 * weighted equally (with two updates nobody can tell which is honest; neither can then outweigh or outgrow the
 * other).
 *
 * Why the last two steps: CenteredClip alone lets each update pull the centre by up to τ (the median distance),
 * so k colluding updates opposite to the honest mean move it by about k·τ/n, which at 2 of 5 reverses it when
 * the honest updates agree little (sign updates late in training). An update opposed to the robust centre
 * contributes nothing that the others need; dropping it leaves the honest ones. Simulated with sign updates
 * (scripts/bench-adversarial.ts measures the real thing): 6 honest + 2 sign-flip ×10 keep cosine 1.0 to the
 * honest mean at every noise level tried (0.50–0.93 before); 4 + 1 likewise.
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
  const { distinct, copies } = dropCopies(cs);
  if (distinct.length === 1)
    return { values: distinct[0].values.slice(), method: 'own', kept: distinct, outliers: copies };
  const dropped = dropOutliers(distinct, opts.outlierFactor);
  const kept = dropped.kept;
  const outliers = [...copies, ...dropped.outliers];
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
  const clipped = clipToMedianNorm(kept.map((c) => c.values));
  const centre = centeredClip(clipped.map((values, i) => ({ values, weight: weights[i] }))).values;
  const agreeing = clipped.map((_, i) => i).filter((i) => cosine(clipped[i], centre) > 0);
  if (agreeing.length === 0 || agreeing.length === clipped.length)
    return { values: centre, method: 'centered-clip', kept, outliers };
  const values =
    agreeing.length === 1
      ? clipped[agreeing[0]].slice()
      : centeredClip(agreeing.map((i) => ({ values: clipped[i], weight: weights[i] }))).values;
  const opposed = kept.filter((_, i) => !agreeing.includes(i));
  return {
    values,
    method: 'centered-clip',
    kept: agreeing.map((i) => kept[i]),
    outliers: [...outliers, ...opposed],
  };
}

/** Every update with a norm above the lower median norm, scaled down to it (a copy; the others as they are). */
function clipToMedianNorm(vs: readonly Float32Array[]): Float32Array[] {
  const norms = vs.map(l2Norm);
  const bound = [...norms].sort((a, b) => a - b)[Math.floor((norms.length - 1) / 2)];
  return vs.map((v, i) => scale(v, norms[i] > bound ? bound / norms[i] : 1));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Cosine above which two updates of a round count as copies of one. */
const COPY_COSINE = 0.999;

/**
 * Keeps the first of each set of near-identical updates (cosine ≥ {@link COPY_COSINE}): peers training on
 * their own data never send the same update, one machine behind several identities (a Sybil) does. This
 * only catches copies: an attacker that varies each identity's update is left to the robust steps.
 */
function dropCopies(cs: readonly Contribution[]): { distinct: Contribution[]; copies: Contribution[] } {
  const distinct: Contribution[] = [];
  const copies: Contribution[] = [];
  for (const c of cs) {
    (distinct.some((d) => cosine(d.values, c.values) >= COPY_COSINE) ? copies : distinct).push(c);
  }
  return { distinct, copies };
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
