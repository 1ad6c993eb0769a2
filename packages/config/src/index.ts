export {
  acceptedCopies,
  type CachedDataset,
  cachedDataset,
  DATASET_NAMES,
  DATASETS,
  type DatasetFile,
  type DatasetName,
  dataGetCommand,
  datasetBytes,
  datasetFiles,
  datasetManifest,
  datasetSha256,
  defaultCacheDir,
  defaultDatasetsDir,
  isDatasetCached,
  type RegistryDataset,
  type RegistrySpec,
  registryDataset,
} from './datasets.ts';
export * from './defaults.ts';
export {
  ConfigError,
  type ConfigIssue,
  DatasetNotCachedError,
  formatIssue,
  formatPath,
  UnknownDatasetError,
} from './errors.ts';
export {
  canonicalJson,
  TRAINING_CONFIG_HASH_VERSION,
  trainingConfigFingerprint,
  trainingConfigHash,
} from './hash.ts';
export {
  CONFIG_SCHEMA_ID,
  configJsonSchema,
  configJsonSchemaText,
  type JsonSchemaNode,
} from './json-schema.ts';
export {
  configFromObject,
  type LoadConfigOptions,
  loadConfig,
  type ParseConfigOptions,
  parseConfig,
  requireRunId,
} from './load.ts';
export {
  compileNamePatterns,
  isValidParamPattern,
  matchesNamePattern,
  matchesParamPattern,
} from './patterns.ts';
export { defaultsDoc } from './reference.ts';
export { type MachineDefaults, roundTimeoutMs } from './resolve.ts';
export {
  CODECS,
  type ConfigInput,
  configSchema,
  EXECUTION_PROVIDERS,
  multiaddrProblem,
  type ParsedConfig,
} from './schema.ts';
export {
  type MachineProbe,
  renderConfigTemplate,
  suggestedExecutionProviders,
  type TemplateAnswers,
  templateValues,
  WORKLOADS,
  type WorkloadId,
  workloadPreset,
} from './template.ts';
export type * from './types.ts';
