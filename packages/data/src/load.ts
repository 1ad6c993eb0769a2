import { fieldName, makeContext } from './common.ts';
import { type CsvInfo, loadCsv } from './csv.ts';
import { InvalidSpecError } from './errors.ts';
import { loadMnist, type MnistInfo } from './mnist.ts';
import type { DatasetSpec, LoadOptions } from './spec.ts';
import { loadSynthetic, type SyntheticInfo } from './synthetic.ts';
import { loadText, type TextInfo } from './text.ts';
import type { LoadedData } from './types.ts';

/** `info` of any loaded dataset, discriminated by `format`. */
export type DatasetInfo = TextInfo | MnistInfo | CsvInfo | SyntheticInfo;

/** The formats {@link loadDataset} understands. */
export const DATASET_FORMATS = ['text', 'mnist', 'csv', 'synthetic'] as const;

/**
 * Load a dataset described by a plain spec object (see {@link DatasetSpec}). Relative paths are
 * resolved against `options.baseDir`. The returned `info` is JSON-serialisable: save it with the model
 * (it holds the text vocabulary or the CSV encoding that inference must reuse).
 *
 * @throws InvalidSpecError for an unknown format or a bad option; DataFileNotFoundError for a missing
 * file (naming the path and the spec field); DataFormatError, CsvRowError, UnknownColumnError,
 * VocabularyError or EmptyDatasetError for data that cannot be used.
 */
export async function loadDataset(
  spec: DatasetSpec,
  options: LoadOptions = {},
): Promise<LoadedData<DatasetInfo>> {
  options.signal?.throwIfAborted();
  if (spec === null || typeof spec !== 'object') {
    throw new InvalidSpecError(fieldName(makeContext(options), 'format'), spec, 'a dataset spec object');
  }
  switch (spec.format) {
    case 'text':
      return loadText(spec, options);
    case 'mnist':
      return loadMnist(spec, options);
    case 'csv':
      return loadCsv(spec, options);
    case 'synthetic':
      return loadSynthetic(spec, options);
    default:
      throw new InvalidSpecError(
        fieldName(makeContext(options), 'format'),
        (spec as { format?: unknown }).format,
        `one of ${DATASET_FORMATS.map((f) => `'${f}'`).join(', ')}`,
      );
  }
}
