/**
 * Outer optimizer (protocol step 7): Nesterov momentum on the aggregated pseudo-gradient D,
 * `m ← μ·m + D; θ ← θ − lr·(D + μ·m)`. With μ = 0 it is plain `θ ← θ − lr·D` (the top-k setting).
 */
import { DEFAULT_OUTER_LR, DEFAULT_OUTER_MOMENTUM } from './constants.ts';
import { AggregationError } from './errors.ts';

/** Options of {@link OuterNesterov}. */
export interface OuterNesterovOptions {
  /** Outer learning rate. Default {@link DEFAULT_OUTER_LR} (0.7); use 1.0 with top-k. */
  lr?: number;
  /** Momentum μ in [0, 1); 0 disables momentum. Default {@link DEFAULT_OUTER_MOMENTUM} (0.9); use 0 with top-k. */
  momentum?: number;
}

/** Outer Nesterov optimizer. Momentum buffers are kept per key (one per tensor, or one for a flat vector). */
export class OuterNesterov {
  readonly lr: number;
  readonly momentum: number;
  readonly #buffers = new Map<string, Float32Array>();

  constructor(options: OuterNesterovOptions = {}) {
    const lr = options.lr ?? DEFAULT_OUTER_LR;
    const momentum = options.momentum ?? DEFAULT_OUTER_MOMENTUM;
    if (!(Number.isFinite(lr) && lr > 0))
      throw new AggregationError('lr', `expected a finite number > 0, got ${lr}`);
    if (!(momentum >= 0 && momentum < 1)) {
      throw new AggregationError('momentum', `expected a number in [0, 1), got ${momentum}`);
    }
    this.lr = lr;
    this.momentum = momentum;
  }

  /**
   * Applies one outer step in place on `params` from the aggregate `update` (D = θ_anchor − θ_local
   * averaged), using the momentum buffer stored under `key` (default `''`).
   */
  step(params: Float32Array, update: Float32Array, key = ''): void {
    if (params.length !== update.length) {
      throw new AggregationError(
        'update',
        `has ${update.length} values, params "${key}" have ${params.length}`,
      );
    }
    const lr = this.lr;
    const mu = this.momentum;
    if (mu === 0) {
      for (let i = 0; i < params.length; i++) params[i] -= lr * update[i];
      return;
    }
    let m = this.#buffers.get(key);
    if (m && m.length !== params.length) {
      throw new AggregationError(
        'params',
        `"${key}" has ${params.length} values, its momentum has ${m.length}`,
      );
    }
    if (!m) {
      m = new Float32Array(params.length);
      this.#buffers.set(key, m);
    }
    for (let i = 0; i < params.length; i++) {
      const d = update[i];
      const mi = mu * m[i] + d;
      m[i] = mi;
      params[i] -= lr * (d + mu * mi);
    }
  }

  /** Copies of the momentum buffers (for snapshots sent to joining peers and checkpoints). */
  state(): { key: string; momentum: Float32Array }[] {
    return [...this.#buffers].map(([key, m]) => ({ key, momentum: m.slice() }));
  }

  /** Replaces the momentum buffers (from a snapshot or checkpoint). */
  loadState(state: readonly { key: string; momentum: Float32Array }[]): void {
    this.#buffers.clear();
    for (const s of state) {
      for (let i = 0; i < s.momentum.length; i++) {
        const v = s.momentum[i];
        if (v - v !== 0)
          throw new AggregationError(`state["${s.key}"].momentum[${i}]`, `is not finite (${v})`);
      }
      this.#buffers.set(s.key, s.momentum.slice());
    }
  }

  /** Clears all momentum. */
  reset(): void {
    this.#buffers.clear();
  }
}
