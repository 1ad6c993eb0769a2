/**
 * Error feedback (Karimireddy et al. 2019): the compression error of one round is added to the next
 * round's update, so nothing is lost in the long run: `u = Δ + e; bytes = C(u); e ← u − decode(bytes)`.
 */
import { decode, type EncodeOptions, encode } from './codec.ts';
import { TensorMismatchError } from './errors.ts';
import { packTensors, type Tensor } from './tensors.ts';

/** Result of compressing one update: the bytes to send and exactly what receivers will decode. */
export interface CompressedUpdate {
  bytes: Uint8Array;
  decoded: Float32Array;
}

/** Residual-keeping compressor. One instance per peer; residuals are kept per tensor name. */
export class ErrorFeedback {
  readonly options: EncodeOptions;
  readonly #residuals = new Map<string, Float32Array>();

  /** @param options codec options used for every tensor (see {@link EncodeOptions}). */
  constructor(options: EncodeOptions = {}) {
    this.options = { ...options };
  }

  /** Compresses `delta + residual(name)` and updates the residual. `delta` is not modified. */
  compress(name: string, delta: Float32Array): CompressedUpdate {
    let e = this.#residuals.get(name);
    if (e && e.length !== delta.length) {
      throw new TensorMismatchError(
        `tensor "${name}" has ${delta.length} values, its residual has ${e.length}`,
      );
    }
    const u = new Float32Array(delta.length);
    if (e) for (let i = 0; i < u.length; i++) u[i] = delta[i] + e[i];
    else u.set(delta);
    const bytes = encode(u, this.options);
    const decoded = decode(bytes, {
      expectedLength: u.length,
      maxBytes: bytes.length,
      maxElements: u.length,
    });
    if (!e) {
      e = new Float32Array(u.length);
      this.#residuals.set(name, e);
    }
    for (let i = 0; i < u.length; i++) e[i] = u[i] - decoded[i];
    return { bytes, decoded };
  }

  /** Compresses a whole parameter list into one tensor-list buffer (see {@link packTensors}). */
  compressTensors(deltas: readonly Tensor[]): { bytes: Uint8Array; decoded: Tensor[] } {
    const parts = deltas.map((t) => ({ name: t.name, ...this.compress(t.name, t.values) }));
    return {
      bytes: packTensors(parts.map((p) => ({ name: p.name, bytes: p.bytes }))),
      decoded: parts.map((p) => ({ name: p.name, values: p.decoded })),
    };
  }

  /** The residual kept for `name` (a live view: do not modify), or undefined before its first round. */
  residual(name: string): Float32Array | undefined {
    return this.#residuals.get(name);
  }

  /** Copies of all residuals, e.g. for a checkpoint. */
  residuals(): Tensor[] {
    return [...this.#residuals].map(([name, values]) => ({ name, values: values.slice() }));
  }

  /** Replaces all residuals (from a checkpoint). */
  loadResiduals(tensors: readonly Tensor[]): void {
    this.#residuals.clear();
    for (const t of tensors) this.#residuals.set(t.name, t.values.slice());
  }

  /** Forgets all residuals (e.g. after a re-sync of the anchor). */
  reset(): void {
    this.#residuals.clear();
  }
}
