import { DEFAULT_DROP_LAST, DEFAULT_SHUFFLE } from './constants.ts';
import { InvalidSpecError, SamplerStateError } from './errors.ts';
import { checkSeed, FeistelPermutation } from './rng.ts';

/** Options of {@link BatchSampler}. */
export interface BatchSamplerOptions {
  /** Number of examples in the dataset (`dataset.size`). */
  size: number;
  /** Examples per batch. */
  batchSize: number;
  /** Seed of the per-epoch shuffles (a safe integer, typically from the config). */
  seed: number;
  /** Visit examples in a fresh pseudo-random order every epoch. Default {@link DEFAULT_SHUFFLE} (`true`). */
  shuffle?: boolean;
  /**
   * Skip the last, incomplete batch of each epoch so that every batch has exactly `batchSize`
   * examples (ONNX training graphs usually have a fixed batch dimension).
   * Default {@link DEFAULT_DROP_LAST} (`true`).
   */
  dropLast?: boolean;
}

/** JSON-serialisable position of a {@link BatchSampler}; see {@link BatchSampler.state}. */
export interface SamplerState {
  readonly version: 1;
  readonly size: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Epoch of the next batch (0-based). */
  readonly epoch: number;
  /** Position within that epoch's order of the next batch's first example. */
  readonly position: number;
}

/**
 * Deterministic batch order: the same options give the same sequence of batches on every machine.
 * Epoch `e` visits the examples in the order of a seeded pseudo-random permutation keyed by
 * `(seed, e)`, computed index by index in O(1) memory (so it also serves datasets with billions of
 * examples, such as every window offset of a huge text file). `state()`/`restore()` let a resumed
 * run continue with exactly the batches it would have seen.
 */
export class BatchSampler {
  readonly size: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private epochValue = 0;
  private positionValue = 0;
  private perm: FeistelPermutation | undefined;
  private permEpoch = -1;

  constructor(options: BatchSamplerOptions) {
    const { size, batchSize } = options;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new InvalidSpecError('size', size, 'a positive integer number of examples');
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new InvalidSpecError('batchSize', batchSize, 'a positive integer');
    }
    this.size = size;
    this.batchSize = batchSize;
    this.seed = checkSeed(options.seed, 'seed');
    this.shuffle = options.shuffle ?? DEFAULT_SHUFFLE;
    this.dropLast = options.dropLast ?? DEFAULT_DROP_LAST;
    if (this.dropLast && batchSize > size) {
      throw new InvalidSpecError(
        'batchSize',
        batchSize,
        `at most the dataset size (${size}) when incomplete batches are dropped`,
      );
    }
  }

  /** Rebuild a sampler from a saved {@link SamplerState}. */
  static fromState(state: SamplerState): BatchSampler {
    validateState(state);
    const sampler = new BatchSampler(state);
    sampler.restore(state);
    return sampler;
  }

  /** Epoch of the next batch (0-based). */
  get epoch(): number {
    return this.epochValue;
  }

  /** Number of batches in one epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** Example index at `position` of epoch `epoch`'s visiting order. */
  indexAt(epoch: number, position: number): number {
    if (!this.shuffle) return position;
    if (this.permEpoch !== epoch || this.perm === undefined) {
      this.perm = new FeistelPermutation(this.size, this.seed, epoch);
      this.permEpoch = epoch;
    }
    return this.perm.at(position);
  }

  /** Indices of the next batch; moves to the next epoch when this one is used up. */
  next(): number[] {
    if (
      this.positionValue >= this.size ||
      (this.dropLast && this.positionValue + this.batchSize > this.size)
    ) {
      this.epochValue += 1;
      this.positionValue = 0;
    }
    const count = Math.min(this.batchSize, this.size - this.positionValue);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = this.indexAt(this.epochValue, this.positionValue + i);
    this.positionValue += count;
    return out;
  }

  /** Current position, to save with a checkpoint. */
  state(): SamplerState {
    return {
      version: 1,
      size: this.size,
      batchSize: this.batchSize,
      seed: this.seed,
      shuffle: this.shuffle,
      dropLast: this.dropLast,
      epoch: this.epochValue,
      position: this.positionValue,
    };
  }

  /**
   * Continue from a saved state.
   * @throws SamplerStateError if the state is malformed or was made with another size, batch size,
   * seed, shuffle or dropLast setting (its batches would not be the ones this run expects).
   */
  restore(state: SamplerState): void {
    validateState(state);
    for (const key of ['size', 'batchSize', 'seed', 'shuffle', 'dropLast'] as const) {
      if (state[key] !== this[key]) {
        throw new SamplerStateError(
          `sampler state has ${key}=${String(state[key])} but this sampler has ${key}=${String(this[key])}`,
        );
      }
    }
    if (state.position > this.size) {
      throw new SamplerStateError(`sampler state position ${state.position} exceeds the size ${this.size}`);
    }
    this.epochValue = state.epoch;
    this.positionValue = state.position;
  }
}

function validateState(state: unknown): asserts state is SamplerState {
  if (state === null || typeof state !== 'object') {
    throw new SamplerStateError('sampler state must be an object');
  }
  const s = state as Record<string, unknown>;
  if (s.version !== 1) throw new SamplerStateError(`unsupported sampler state version ${String(s.version)}`);
  for (const key of ['size', 'batchSize', 'seed', 'epoch', 'position']) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || (key !== 'seed' && v < 0)) {
      throw new SamplerStateError(
        `sampler state field '${key}' must be a non-negative integer, got ${String(v)}`,
      );
    }
  }
  for (const key of ['shuffle', 'dropLast']) {
    if (typeof s[key] !== 'boolean') {
      throw new SamplerStateError(`sampler state field '${key}' must be a boolean, got ${String(s[key])}`);
    }
  }
}
