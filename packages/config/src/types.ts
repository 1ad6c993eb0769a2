import type { ParsedConfig } from './schema.ts';

type Parsed = ParsedConfig;

/** `node` section, resolved: `name` filled (hostname by default), `workDir` absolute. */
export type NodeConfig = Parsed['node'] & { name: string };

/** `hardware` section, resolved: `intraOpThreads` filled, `executionProviders` ends with `'cpu'`. */
export type HardwareConfig = Parsed['hardware'] & { intraOpThreads: number };

/** One of the execution providers a node may ask for. */
export type ExecutionProvider = HardwareConfig['executionProviders'][number];

/** `model` section (paths absolute). */
export type ModelConfig = Parsed['model'];
export type MlpModelConfig = Extract<ModelConfig, { kind: 'mlp' }>;
export type CnnModelConfig = Extract<ModelConfig, { kind: 'cnn' }>;
export type CharTransformerModelConfig = Extract<ModelConfig, { kind: 'char-transformer' }>;
export type OnnxModelConfig = Extract<ModelConfig, { kind: 'onnx' }>;

/**
 * `data` section (paths absolute, files checked to exist). A registry dataset named in the file is
 * resolved to its format, with the paths of its files in the cache.
 */
export type DataConfig = Exclude<Parsed['data'], { dataset: string }>;
export type TextDataConfig = Extract<DataConfig, { format: 'text' }>;
export type MnistDataConfig = Extract<DataConfig, { format: 'mnist' }>;
export type CsvDataConfig = Extract<DataConfig, { format: 'csv' }>;
export type SyntheticDataConfig = Extract<DataConfig, { format: 'synthetic' }>;

export type OptimizerConfig = Parsed['training']['optimizer'];
/** Learning-rate schedule, resolved: `minLr` filled. */
export type LrScheduleConfig = Parsed['training']['lrSchedule'] & { minLr: number };
/** `training` section, resolved. */
export type TrainingConfig = Omit<Parsed['training'], 'lrSchedule'> & { lrSchedule: LrScheduleConfig };

/** Averaging protocol settings, resolved: outer lr and momentum filled (codec-dependent defaults). */
export type AveragingConfig = Parsed['swarm']['averaging'] & { outerLr: number; outerMomentum: number };
/** One of the update codecs. */
export type Codec = AveragingConfig['codec'];
/** `swarm` section, resolved: `identityFile` absolute and filled. */
export type SwarmConfig = Omit<Parsed['swarm'], 'averaging' | 'identityFile'> & {
  identityFile: string;
  averaging: AveragingConfig;
};

export type MetricsConfig = Parsed['metrics'];

/** A node config with every default filled and every path absolute: what `loadConfig` returns. */
export interface Config {
  version: Parsed['version'];
  node: NodeConfig;
  hardware: HardwareConfig;
  model: ModelConfig;
  data: DataConfig;
  training: TrainingConfig;
  swarm: SwarmConfig;
  metrics: MetricsConfig;
}
