/**
 * Errors raised by `@enjambre/data`. Every class has a stable `name` and `code`; messages name the
 * file, line, field or value at fault and what was expected.
 */
import { EnjambreError } from '@enjambre/core';

/** Base class of every error this package throws. */
export class DataError extends EnjambreError {
  override name = 'DataError';
  override readonly code: string = 'ERR_DATA';
}

/** A data file named by the spec does not exist or cannot be read. */
export class DataFileNotFoundError extends DataError {
  override name = 'DataFileNotFoundError';
  override readonly code = 'ERR_DATA_FILE_NOT_FOUND';
  constructor(
    /** Absolute path that was tried. */
    readonly path: string,
    /** Spec field the path came from (e.g. `data.path`), when known. */
    readonly field?: string,
    cause?: unknown,
  ) {
    super(
      `data file not found: ${path}` +
        (field !== undefined ? ` (from config field '${field}')` : '') +
        (cause instanceof Error && 'code' in cause && cause.code !== 'ENOENT'
          ? ` [${String(cause.code)}]`
          : ''),
      { cause },
    );
  }
}

/** A file's bytes are not in the expected format (bad magic number, wrong size, invalid UTF-8...). */
export class DataFormatError extends DataError {
  override name = 'DataFormatError';
  override readonly code = 'ERR_DATA_FORMAT';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** A CSV row could not be parsed or holds a value that does not fit its column. */
export class CsvRowError extends DataError {
  override name = 'CsvRowError';
  override readonly code = 'ERR_DATA_CSV_ROW';
  constructor(
    readonly file: string,
    /** 1-based line number in the file. */
    readonly line: number,
    detail: string,
    cause?: unknown,
  ) {
    super(`${file}:${line}: ${detail}`, { cause });
  }
}

/** The spec names a CSV column that the file's header does not have. */
export class UnknownColumnError extends DataError {
  override name = 'UnknownColumnError';
  override readonly code = 'ERR_DATA_UNKNOWN_COLUMN';
  constructor(
    readonly file: string,
    readonly column: string,
    readonly field: string,
    readonly available: readonly string[],
  ) {
    super(
      `${file}: column '${column}' (from config field '${field}') is not in the header; ` +
        `available columns: ${available.map((c) => `'${c}'`).join(', ')}`,
    );
  }
}

/** A dataset (or one of its splits) ends up with no usable examples. */
export class EmptyDatasetError extends DataError {
  override name = 'EmptyDatasetError';
  override readonly code = 'ERR_DATA_EMPTY';
}

/** A spec or option has a wrong type or an out-of-range value. */
export class InvalidSpecError extends DataError {
  override name = 'InvalidSpecError';
  override readonly code = 'ERR_DATA_INVALID_SPEC';
  constructor(
    /** Dot-path of the offending field. */
    readonly field: string,
    readonly value: unknown,
    /** What was expected, in words. */
    readonly expected: string,
  ) {
    super(`invalid data spec field '${field}': expected ${expected}, got ${describe(value)}`);
  }
}

/** Text contains a character that the (given) vocabulary does not have. */
export class VocabularyError extends DataError {
  override name = 'VocabularyError';
  override readonly code = 'ERR_DATA_VOCABULARY';
}

/** `batch()` was given an index outside `[0, size)` or a non-integer. */
export class DataIndexError extends DataError {
  override name = 'DataIndexError';
  override readonly code = 'ERR_DATA_INDEX';
  constructor(
    readonly index: unknown,
    readonly size: number,
  ) {
    super(`example index ${describe(index)} out of range: expected an integer in [0, ${size})`);
  }
}

/** A sampler state cannot be restored into this sampler (other seed, size, batch size or malformed). */
export class SamplerStateError extends DataError {
  override name = 'SamplerStateError';
  override readonly code = 'ERR_DATA_SAMPLER_STATE';
}

/** A download or a copy from a mirror failed (HTTP status, network error, missing mirror file, too many bytes). */
export class DatasetDownloadError extends DataError {
  override name = 'DatasetDownloadError';
  override readonly code = 'ERR_DATA_DOWNLOAD';
  constructor(
    /** The URL or mirror path that was read. */
    readonly source: string,
    detail: string,
    cause?: unknown,
  ) {
    super(`${source}: ${detail}`, { cause });
  }
}

/** Downloaded bytes whose SHA-256 is not the one the registry pins: nothing was kept. */
export class DatasetHashError extends DataError {
  override name = 'DatasetHashError';
  override readonly code = 'ERR_DATA_HASH';
  constructor(
    readonly source: string,
    readonly expected: readonly string[],
    readonly actual: string,
    readonly bytes: number,
  ) {
    super(
      `${source}: SHA-256 ${actual} (${bytes} bytes) is not the pinned ${expected.join(' or ')}; ` +
        'the download was discarded',
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  return 'object';
}
