// The registry and the cache's layout belong to the config package (a config names a dataset);
// re-exported here beside the download.
export {
  type CachedDataset,
  cachedDataset,
  DATASET_NAMES,
  DATASETS,
  type DatasetFile,
  type DatasetName,
  DatasetNotCachedError,
  dataGetCommand,
  datasetBytes,
  datasetManifest,
  datasetSha256,
  defaultCacheDir,
  defaultDatasetsDir,
  isDatasetCached,
  type RegistryDataset,
  registryDataset,
  UnknownDatasetError,
} from '@enjambre/config';
export * from './constants.ts';
export {
  type CsvCategoricalFeature,
  type CsvEncoding,
  type CsvFeature,
  type CsvInfo,
  type CsvNumericFeature,
  type CsvTable,
  type CsvTarget,
  encodeCsvTable,
  encodedFeatureNames,
  encodedWidth,
  type FitCsvOptions,
  fitCsvEncoding,
  loadCsv,
  readCsvTable,
} from './csv.ts';
export {
  DATA_MIRROR_ENV,
  type DatasetEvent,
  type GetDatasetOptions,
  getDataset,
  PARTIAL_SUFFIX,
} from './download.ts';
export {
  CsvRowError,
  DataError,
  DataFileNotFoundError,
  DataFormatError,
  DataIndexError,
  DatasetDownloadError,
  DatasetHashError,
  EmptyDatasetError,
  InvalidSpecError,
  SamplerStateError,
  UnknownColumnError,
  VocabularyError,
} from './errors.ts';
export { DATASET_FORMATS, type DatasetInfo, loadDataset } from './load.ts';
export {
  type IdxArray,
  loadMnist,
  MnistDataset,
  type MnistInfo,
  type ReadIdxOptions,
  readIdx,
} from './mnist.ts';
export { FeistelPermutation, Rng } from './rng.ts';
export { BatchSampler, type BatchSamplerOptions, type SamplerState } from './sampler.ts';
export type {
  CsvSpec,
  DatasetFormat,
  DatasetSpec,
  LoadOptions,
  MnistSpec,
  SyntheticSpec,
  TextSpec,
} from './spec.ts';
export { randomSplit, type ShardOptions, SubsetDataset, shardDataset } from './split.ts';
export {
  loadSynthetic,
  resolveSyntheticSpec,
  type SyntheticInfo,
  type SyntheticOptions,
} from './synthetic.ts';
export { TabularDataset, type TabularLabels } from './tabular.ts';
export {
  ArrayTokenSource,
  FileTokenSource,
  loadText,
  type TextInfo,
  TextWindowDataset,
  type TokenSource,
} from './text.ts';
export type { Batch, BatchTensor, Dataset, DType, LoadedData, Task, TensorSpec } from './types.ts';
export {
  BYTE_VOCAB,
  type ByteVocab,
  buildCharVocab,
  type CharVocab,
  decodeTokens,
  encodeText,
  type Vocab,
  vocabSize,
} from './vocab.ts';
