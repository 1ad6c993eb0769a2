/** Views over any {@link Dataset}: a subset by indices, a seeded random split, and per-peer shards. */
import { checkIndices, splitRows } from './common.ts';
import { DEFAULT_SPLIT_SEED } from './constants.ts';
import { EmptyDatasetError, InvalidSpecError } from './errors.ts';
import { checkSeed, FeistelPermutation } from './rng.ts';
import type { Batch, Dataset, TensorSpec } from './types.ts';

/** The examples of `base` at `indices` (in that order), without copying them. */
export class SubsetDataset implements Dataset {
  readonly size: number;
  readonly inputs: TensorSpec;
  readonly labels: TensorSpec;
  private readonly map: Float64Array;

  constructor(
    readonly base: Dataset,
    indices: ArrayLike<number>,
  ) {
    checkIndices(indices, base.size);
    if (indices.length === 0) throw new EmptyDatasetError('a subset needs at least one example');
    this.map = Float64Array.from(indices);
    this.size = indices.length;
    this.inputs = base.inputs;
    this.labels = base.labels;
  }

  batch(indices: ArrayLike<number>): Batch {
    checkIndices(indices, this.size);
    const mapped = new Array<number>(indices.length);
    for (let i = 0; i < indices.length; i++) mapped[i] = this.map[indices[i]];
    return this.base.batch(mapped);
  }
}

/**
 * Deterministic random split of any dataset: `round(size * fraction)` examples (a seeded choice)
 * form `validation`, the rest `train`; both keep ascending example order.
 * @param seed default {@link DEFAULT_SPLIT_SEED}.
 */
export function randomSplit(
  dataset: Dataset,
  fraction: number,
  seed: number = DEFAULT_SPLIT_SEED,
): { train: Dataset; validation: Dataset } {
  if (!(typeof fraction === 'number' && fraction > 0 && fraction < 1)) {
    throw new InvalidSpecError('fraction', fraction, 'a number strictly between 0 and 1');
  }
  const rows = splitRows(dataset.size, fraction, checkSeed(seed, 'seed'), 'dataset');
  return {
    train: new SubsetDataset(dataset, rows.train),
    validation: new SubsetDataset(dataset, rows.validation),
  };
}

/** Options of {@link shardDataset}. */
export interface ShardOptions {
  /** This shard, in `[0, count)` (e.g. the peer index). */
  index: number;
  /** Number of shards. */
  count: number;
  /** Seed of the assignment of examples to shards. Default {@link DEFAULT_SPLIT_SEED}. */
  seed?: number;
}

/**
 * One of `count` disjoint shards that together cover the dataset, each a seeded random choice of
 * `floor(size / count)` or `ceil(size / count)` examples, in ascending order. Every peer that uses
 * the same seed and count gets a different, non-overlapping part: private data in a simulation.
 */
export function shardDataset(dataset: Dataset, options: ShardOptions): Dataset {
  const { index, count } = options;
  if (!Number.isSafeInteger(count) || count < 1 || count > dataset.size) {
    throw new InvalidSpecError('count', count, `an integer in [1, ${dataset.size}] (the dataset size)`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new InvalidSpecError('index', index, `an integer in [0, ${count})`);
  }
  const seed = checkSeed(options.seed ?? DEFAULT_SPLIT_SEED, 'seed');
  const perm = new FeistelPermutation(dataset.size, seed, 0x5a4d);
  const picked: number[] = [];
  for (let k = index; k < dataset.size; k += count) picked.push(perm.at(k));
  picked.sort((a, b) => a - b);
  return new SubsetDataset(dataset, picked);
}
