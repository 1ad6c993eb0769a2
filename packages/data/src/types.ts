/**
 * The contract between datasets and trainers. A trainer only needs {@link Dataset}: its size, the
 * per-example shapes and dtypes, and `batch(indices)` returning typed arrays ready to wrap in
 * `new ort.Tensor(dtype, data, dims)`.
 */

/** Element type of a tensor, named as onnxruntime names it. */
export type DType = 'float32' | 'int64';

/** Shape and dtype of ONE example's inputs or labels (the batch dimension is not included). */
export interface TensorSpec {
  readonly dtype: DType;
  /** Per-example shape; `[]` for a scalar (e.g. a class index). */
  readonly shape: readonly number[];
}

/** A batch tensor: `float32` data is a `Float32Array`, `int64` data a `BigInt64Array`. */
export type BatchTensor =
  | { readonly dtype: 'float32'; readonly data: Float32Array; readonly dims: number[] }
  | { readonly dtype: 'int64'; readonly data: BigInt64Array; readonly dims: number[] };

/** One batch: `dims` are `[batchSize, ...spec.shape]`, row-major. */
export interface Batch {
  readonly inputs: BatchTensor;
  readonly labels: BatchTensor;
}

/**
 * A finite, randomly addressable set of examples. `batch()` is synchronous: in-memory datasets copy
 * from arrays; streamed ones do small positional reads (`fs.readSync` at an offset) of a few kB.
 * Every call returns fresh arrays that the caller may keep.
 */
export interface Dataset {
  /** Number of examples. Always ≥ 1 for a dataset returned by a loader. */
  readonly size: number;
  /** Shape and dtype of one example's inputs. */
  readonly inputs: TensorSpec;
  /** Shape and dtype of one example's labels. */
  readonly labels: TensorSpec;
  /**
   * Gather the examples at `indices` (integers in `[0, size)`, repeats allowed) into one batch.
   * @throws DataIndexError on an index out of range.
   */
  batch(indices: ArrayLike<number>): Batch;
}

/** What a model is trained to do on a dataset. */
export type Task = 'classification' | 'regression' | 'language-model';

/**
 * What a loader returns: the training split, the validation split (absent when the spec asks for
 * none), and JSON-serialisable information to save with the model (vocabulary, CSV encoding,
 * class names...). Call `close()` when done: streamed datasets hold open files.
 */
export interface LoadedData<Info> {
  readonly train: Dataset;
  readonly validation: Dataset | undefined;
  readonly info: Info;
  close(): Promise<void>;
}
