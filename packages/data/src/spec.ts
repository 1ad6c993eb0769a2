/**
 * The plain, JSON-shaped description of a dataset that {@link loadDataset} takes. The config package
 * validates a user's file into one of these. Relative paths are resolved against
 * {@link LoadOptions.baseDir}. Everything is read from local files: nothing is downloaded.
 */
import type { CsvEncoding } from './csv-encoding.ts';
import type { Vocab } from './vocab.ts';

/** Any dataset spec, discriminated by `format`. */
export type DatasetSpec = TextSpec | MnistSpec | CsvSpec | SyntheticSpec;

/** Format names accepted in {@link DatasetSpec.format}. */
export type DatasetFormat = DatasetSpec['format'];

/**
 * Text for a character- or byte-level language model. Examples are windows of `context` tokens with
 * next-token targets (`x = tokens[i : i+context]`, `y = tokens[i+1 : i+context+1]`) at every offset
 * `i`, so a split of `n` tokens has `n - context` examples.
 */
export interface TextSpec {
  format: 'text';
  /** Path of the training text (UTF-8 for `tokenizer: 'char'`, any bytes for `'byte'`). */
  path: string;
  /**
   * Path of a separate validation text. When given, `path` is all training data and
   * `validationFraction` is ignored.
   */
  validationPath?: string;
  /**
   * Fraction of the tokens held out for validation: the LAST ones (nanoGPT: first 90% train, last 10%
   * validation; the cut is at `floor(n * (1 - fraction))`). `0` means no validation split.
   * Default `0.1` ({@link DEFAULT_TEXT_VALIDATION_FRACTION}).
   */
  validationFraction?: number;
  /**
   * `'char'`: one token per Unicode code point, vocabulary = the sorted unique code points of the
   * data (train and validation files together), stored in the result's `info.vocab`.
   * `'byte'`: one token per byte, vocabulary size 256. Default: the kind of `vocab` when one is
   * given, else `'char'`.
   */
  tokenizer?: 'char' | 'byte';
  /** Tokens per example window. Default `64` ({@link DEFAULT_CONTEXT}). */
  context?: number;
  /**
   * A vocabulary saved with a model (from a previous `info.vocab`) to encode with, instead of building
   * one from the data; a character outside it is an error. Must match `tokenizer`.
   */
  vocab?: Vocab;
  /**
   * Files larger than this many bytes are streamed rather than loaded whole.
   * Default 64 MiB ({@link DEFAULT_STREAM_THRESHOLD_BYTES}).
   */
  streamThresholdBytes?: number;
  /**
   * Folder for the encoded token files that streamed char-level text is cached in (created if
   * missing; files are keyed by path, size, mtime and vocabulary, so a stale cache is never used).
   * Default: `<os.tmpdir()>/enjambre-token-cache`.
   */
  cacheDir?: string;
}

/**
 * MNIST-style idx files (gzipped or not: detected by the gzip magic). Images (uint8, idx3) are scaled
 * to `[0, 1]` float32; labels (uint8, idx1) become int64 class indices.
 */
export interface MnistSpec {
  format: 'mnist';
  /** Training images, e.g. `train-images-idx3-ubyte.gz`. */
  trainImages: string;
  /** Training labels, e.g. `train-labels-idx1-ubyte.gz`. */
  trainLabels: string;
  /** Test images, used as the validation split (give both test files or neither). */
  testImages?: string;
  /** Test labels, used as the validation split. */
  testLabels?: string;
  /**
   * When there are no test files: fraction of the training examples (a seeded random choice) held
   * out for validation. Default `0` (no validation split).
   */
  validationFraction?: number;
  /** Seed of that random choice. Default `0` ({@link DEFAULT_SPLIT_SEED}). */
  seed?: number;
  /** `'image'`: inputs `[1, rows, cols]` (for CNNs); `'flat'`: `[rows * cols]` (for MLPs). Default `'image'`. */
  layout?: 'image' | 'flat';
  /** Read only the first `limit` examples of each file (quick runs); default: all. */
  limit?: number;
  /** Number of classes; a label ≥ this is an error. Default `10`. */
  numClasses?: number;
}

/**
 * A CSV file with a header row. Feature columns are numeric (standardised with the training mean and
 * standard deviation) or categorical (one-hot over the categories seen in training plus one slot for
 * missing or unseen values). Missing numeric values take the training mean. Everything learned from
 * the training rows is returned as `info.encoding` so validation and inference encode the same way.
 */
export interface CsvSpec {
  format: 'csv';
  /** Path of the training CSV. */
  path: string;
  /** Path of a separate validation CSV (same header). When given, `validationFraction` is ignored. */
  validationPath?: string;
  /**
   * Fraction of rows held out for validation (a seeded random choice, so class-sorted files split
   * fairly). `0` means no validation split. Default `0.2` ({@link DEFAULT_CSV_VALIDATION_FRACTION}).
   */
  validationFraction?: number;
  /** Seed of that random choice. Default `0` ({@link DEFAULT_SPLIT_SEED}). */
  seed?: number;
  /** Name of the target column. Rows whose target is missing are dropped (counted in `info.droppedRows`). */
  target: string;
  /**
   * `'classification'`: the target's distinct training values (sorted) are the classes, labels are
   * int64 indices of shape `[]`. `'regression'`: the target must be numeric, labels are float32 of
   * shape `[1]`. Default `'classification'`.
   */
  task?: 'classification' | 'regression';
  /** Feature columns, in the order they are encoded. Default: every column but the target and `ignore`. */
  features?: string[];
  /** Columns left out when `features` is not given (identifiers, free text). Default: none. */
  ignore?: string[];
  /**
   * Feature columns to one-hot encode; all other features must then be numeric. Default: detected
   * from the training rows (a column is categorical if any non-missing value is not a number).
   */
  categorical?: string[];
  /** Cell values meaning "missing" (compared after trimming spaces). Default `['', 'NA']`. */
  missingValues?: string[];
  /** Field delimiter (one character). Default `','`. */
  delimiter?: string;
  /** Standardise numeric features to mean 0, std 1 over the training rows. Default `true`. */
  standardize?: boolean;
  /**
   * An encoding saved from a previous load (`info.encoding`) to apply instead of learning one from
   * this file's rows (for inference, or to give every peer the same columns).
   */
  encoding?: CsvEncoding;
}

/**
 * The built-in demo task: a seeded classification problem. Each class is a mixture of Gaussian
 * clusters in a latent space, mapped through a random 2-layer tanh network to the feature space, with
 * label noise. The task (clusters and map) depends only on `seed`; each peer draws its own training
 * shard from `(seed, peerIndex)`; the held-out test set (the validation split) depends only on `seed`
 * and is the same for every peer.
 */
export interface SyntheticSpec {
  format: 'synthetic';
  /** Seed of the task and the test set. Default `1234` ({@link DEFAULT_SYNTHETIC_SEED}). */
  seed?: number;
  /** This peer's shard (a non-negative integer). Default `0`. */
  peerIndex?: number;
  /** Number of classes. Default `10`. */
  classes?: number;
  /** Feature dimension. Default `32`. */
  dim?: number;
  /** Training examples in this peer's shard. Default `20000`. */
  trainSize?: number;
  /** Examples in the shared test set (`0`: none). Default `2000`. */
  testSize?: number;
  /** Probability that a label is replaced by a uniformly random class. Default `0.05`. */
  labelNoise?: number;
  /** Gaussian clusters per class. Default `3`. */
  clustersPerClass?: number;
}

/** Options of {@link loadDataset}. */
export interface LoadOptions {
  /** Folder that relative paths in the spec are resolved against. Default: `process.cwd()`. */
  baseDir?: string;
  /**
   * Prefix of the spec's field names in error messages, e.g. `'data'` makes a missing `path` read as
   * "from config field 'data.path'". Default: none.
   */
  fieldPrefix?: string;
  /** Cancels loading. */
  signal?: AbortSignal;
}
