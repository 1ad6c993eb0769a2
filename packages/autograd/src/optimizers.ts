import {
  DEFAULT_BETA1,
  DEFAULT_BETA2,
  DEFAULT_EPS,
  DEFAULT_WEIGHT_DECAY,
  DEFAULT_WEIGHT_DECAY_PARAMS,
  matchesParamPattern,
} from '@enjambre/config';
import type { DataType, GraphBuilder } from '@enjambre/onnx';
import { CompileError } from './errors.ts';

/**
 * The parameters weight decay applies to: `'all'`, `'matrices'` (rank ≥ 2), `'none'`, or name
 * patterns: a glob (`*`, `?`; the whole name) or a regular expression between slashes (`/…/`,
 * searched anywhere in the name). Default: the config package's `DEFAULT_WEIGHT_DECAY_PARAMS`.
 */
export type WeightDecayParams = 'all' | 'matrices' | 'none' | readonly string[];

/** AdamW (Loshchilov & Hutter): bias-corrected moments, weight decay decoupled from the gradient. */
export interface AdamWConfig {
  kind: 'adamw';
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay. Default 0.01. */
  weightDecay?: number;
  /** Which parameters are decayed. Default: `DEFAULT_WEIGHT_DECAY_PARAMS` (matrices). */
  weightDecayParams?: WeightDecayParams;
}

/** SGD with optional (Nesterov) momentum and L2 weight decay added to the gradient. */
export interface SgdConfig {
  kind: 'sgd';
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** Default false. */
  nesterov?: boolean;
  /** Default 0. */
  weightDecay?: number;
  /** Which parameters get the L2 term. Default: `DEFAULT_WEIGHT_DECAY_PARAMS` (matrices). */
  weightDecayParams?: WeightDecayParams;
}

export type OptimizerConfig = AdamWConfig | SgdConfig;

/** AdamW's defaults: the config's (which are torch.optim.AdamW's). */
export const ADAMW_DEFAULTS = {
  beta1: DEFAULT_BETA1,
  beta2: DEFAULT_BETA2,
  eps: DEFAULT_EPS,
  weightDecay: DEFAULT_WEIGHT_DECAY,
} as const;
export const SGD_DEFAULTS = { momentum: 0, nesterov: false, weightDecay: 0 } as const;

/** One optimizer state tensor per parameter (zeros at the start). */
export interface StateSlot {
  /** Prefix of the state's value name: `<slot>/<param>`. */
  slot: string;
}

export function optimizerSlots(cfg: OptimizerConfig): string[] {
  if (cfg.kind === 'adamw') return ['adam.m', 'adam.v'];
  return (cfg.momentum ?? SGD_DEFAULTS.momentum) > 0 ? ['sgd.momentum'] : [];
}

export interface ParamUpdate {
  param: string;
  grad: string;
  /** Current state values, in `optimizerSlots` order. */
  state: string[];
  /** Whether weight decay applies (see {@link decayedParams}). */
  decay: boolean;
}

/**
 * The names of the parameters that weight decay applies to.
 * @throws CompileError when a pattern matches no parameter (most likely a misspelt name)
 */
export function decayedParams(
  params: readonly { name: string; dims: readonly number[] }[],
  set: WeightDecayParams = DEFAULT_WEIGHT_DECAY_PARAMS,
): Set<string> {
  if (set === 'all') return new Set(params.map((p) => p.name));
  if (set === 'none') return new Set();
  if (set === 'matrices') return new Set(params.filter((p) => p.dims.length >= 2).map((p) => p.name));
  if (!Array.isArray(set)) {
    throw new CompileError(
      `weightDecayParams must be 'all', 'matrices', 'none' or a list of name patterns, got ${JSON.stringify(set)}`,
    );
  }
  const out = new Set<string>();
  for (const pattern of set) {
    const hits = params.filter((p) => matchesParamPattern(p.name, pattern));
    if (hits.length === 0) {
      throw new CompileError(
        `weightDecayParams: the pattern ${JSON.stringify(pattern)} matches no trainable parameter (they are ${params
          .slice(0, 8)
          .map((p) => p.name)
          .join(', ')}${params.length > 8 ? ', …' : ''})`,
      );
    }
    for (const p of hits) out.add(p.name);
  }
  return out;
}

/**
 * Emits the optimizer update as graph code. `lr` and `step` (1-based count of this update,
 * as a float) are scalar graph values, so schedules stay in TypeScript.
 * Returns, per parameter, the new parameter and the new state values.
 */
export function emitOptimizer(
  b: GraphBuilder,
  cfg: OptimizerConfig,
  dtype: DataType,
  lr: string,
  step: string,
  updates: ParamUpdate[],
): { param: string; state: string[] }[] {
  const c = (v: number) => b.scalar(dtype, v);
  if (cfg.kind === 'adamw') {
    const { beta1, beta2, eps, weightDecay } = { ...ADAMW_DEFAULTS, ...stripUndefined(cfg) };
    const bc1 = b.op('Sub', [c(1), b.op('Pow', [c(beta1), step])], {}, { hint: 'adam_bc1' });
    const bc2 = b.op('Sub', [c(1), b.op('Pow', [c(beta2), step])], {}, { hint: 'adam_bc2' });
    // Folding the bias corrections into one step size: lr·√bc2/bc1, with eps scaled to match.
    const stepSize = b.op('Div', [b.op('Mul', [lr, b.op('Sqrt', [bc2])]), bc1]);
    const epsHat = b.op('Mul', [c(eps), b.op('Sqrt', [bc2])]);
    const decayFactor = b.op('Sub', [c(1), b.op('Mul', [lr, c(weightDecay)])]);
    return updates.map(({ param, grad, state: [m, v], decay }) => {
      const m2 = b.op('Add', [b.op('Mul', [m, c(beta1)]), b.op('Mul', [grad, c(1 - beta1)])]);
      const v2 = b.op('Add', [
        b.op('Mul', [v, c(beta2)]),
        b.op('Mul', [b.op('Mul', [grad, grad]), c(1 - beta2)]),
      ]);
      const dir = b.op('Div', [m2, b.op('Add', [b.op('Sqrt', [v2]), epsHat])]);
      const decayed = decay && weightDecay > 0 ? b.op('Mul', [param, decayFactor]) : param;
      const p2 = b.op('Sub', [decayed, b.op('Mul', [dir, stepSize])]);
      return { param: p2, state: [m2, v2] };
    });
  }
  const { momentum, nesterov, weightDecay } = { ...SGD_DEFAULTS, ...stripUndefined(cfg) };
  return updates.map(({ param, grad, state, decay }) => {
    const g = decay && weightDecay > 0 ? b.op('Add', [grad, b.op('Mul', [param, c(weightDecay)])]) : grad;
    if (momentum <= 0) return { param: b.op('Sub', [param, b.op('Mul', [g, lr])]), state: [] };
    const buf = b.op('Add', [b.op('Mul', [state[0], c(momentum)]), g]);
    const dir = nesterov ? b.op('Add', [g, b.op('Mul', [buf, c(momentum)])]) : buf;
    return { param: b.op('Sub', [param, b.op('Mul', [dir, lr])]), state: [buf] };
  });
}

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm`. Returns the clipped
 * gradients and the norm before clipping.
 */
export function emitGlobalNormClip(
  b: GraphBuilder,
  dtype: DataType,
  grads: string[],
  maxNorm: number | undefined,
): { grads: string[]; norm: string } {
  const squares = grads.map((g) => b.op('ReduceSumSquare', [g], { keepdims: 0 }));
  const total = squares.length === 1 ? squares[0] : b.op('Sum', squares);
  const norm = b.op('Sqrt', [total], {}, { hint: 'grad_norm' });
  if (maxNorm === undefined) return { grads, norm };
  const scale = b.op('Min', [
    b.scalar(dtype, 1),
    b.op('Div', [b.scalar(dtype, maxNorm), b.op('Add', [norm, b.scalar(dtype, 1e-6)])]),
  ]);
  return { grads: grads.map((g) => b.op('Mul', [g, scale])), norm };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
