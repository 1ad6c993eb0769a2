/**
 * Defaults of every option in this package, in one place. Those the node config also has are
 * defined in `@enjambre/config` and re-exported here under this package's names.
 */

/** {@link BatchSamplerOptions.shuffle}: shuffle every epoch. */
export const DEFAULT_SHUFFLE = true;
/** {@link BatchSamplerOptions.dropLast}: every batch is full. */
export const DEFAULT_DROP_LAST = true;

/** Seed of the deterministic train/validation row split when the spec gives none. */
export const DEFAULT_SPLIT_SEED = 0;

/** Text: tokenizer. */
export const DEFAULT_TOKENIZER = 'char';
/** Text: tokens per example window (nanoGPT's CPU shakespeare-char config). */
export const DEFAULT_CONTEXT = 64;
/** Text: fraction of the tokens (the last ones) held out for validation, as in nanoGPT. */
export { DEFAULT_TEXT_VALID_FRACTION as DEFAULT_TEXT_VALIDATION_FRACTION } from '@enjambre/config';
/** Text: files larger than this many bytes are streamed instead of loaded whole (64 MiB). */
export const DEFAULT_STREAM_THRESHOLD_BYTES = 64 * 1024 * 1024;
/** Text: read-chunk size of the streaming passes (1 MiB). */
export const STREAM_CHUNK_BYTES = 1024 * 1024;
/** Text: name of the cache folder (under the OS temp dir) for encoded token files. */
export const DEFAULT_CACHE_DIR_NAME = 'enjambre-token-cache';

/** MNIST: example layout. */
export const DEFAULT_MNIST_LAYOUT = 'image';
/** MNIST: number of classes; a label ≥ this is an error. */
export const DEFAULT_MNIST_CLASSES = 10;

/** CSV: fraction of rows (a seeded random choice) held out for validation. */
export { DEFAULT_CSV_VALID_FRACTION as DEFAULT_CSV_VALIDATION_FRACTION } from '@enjambre/config';
/** CSV: cell values that mean "missing". */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['', 'NA'];
/** CSV: field delimiter. */
export const DEFAULT_DELIMITER = ',';
/** CSV: standardise numeric features with the training mean and standard deviation. */
export const DEFAULT_STANDARDIZE = true;
/** CSV: task for the target column. */
export { DEFAULT_CSV_TASK } from '@enjambre/config';

/**
 * Defaults of the synthetic task's own spec (`SyntheticSpec`): a larger task than the node config's
 * `data: {format: synthetic}` defaults (DEFAULT_SYNTHETIC_EXAMPLES, _FEATURES, _CLASSES in
 * `@enjambre/config`), which the config always passes explicitly; named apart from those.
 */
export const DEFAULT_SYNTHETIC_SEED = 1234;
export const DEFAULT_SYNTHETIC_TASK_CLASSES = 10;
export const DEFAULT_SYNTHETIC_DIM = 32;
export const DEFAULT_SYNTHETIC_TRAIN_SIZE = 20_000;
export const DEFAULT_SYNTHETIC_TEST_SIZE = 2_000;
export const DEFAULT_SYNTHETIC_LABEL_NOISE = 0.05;
export const DEFAULT_SYNTHETIC_CLUSTERS_PER_CLASS = 3;
