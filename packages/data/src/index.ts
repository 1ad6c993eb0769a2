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
  type CachedDataset,
  cachedDataset,
  DATA_MIRROR_ENV,
  type DatasetEvent,
  dataGetCommand,
  defaultCacheDir,
  defaultDatasetsDir,
  type GetDatasetOptions,
  getDataset,
  isDatasetCached,
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
  DatasetNotCachedError,
  EmptyDatasetError,
  InvalidSpecError,
  SamplerStateError,
  UnknownColumnError,
  UnknownDatasetError,
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
export {
  DATASET_NAMES,
  DATASETS,
  type DatasetFile,
  type DatasetName,
  datasetBytes,
  datasetManifest,
  datasetSha256,
  type RegistryDataset,
  registryDataset,
} from './registry.ts';
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
