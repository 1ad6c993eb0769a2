import { statSync } from 'node:fs';
import { availableParallelism, homedir, hostname } from 'node:os';
import path from 'node:path';
import { cachedDataset, defaultDatasetsDir, registryDataset } from './datasets.ts';
import * as D from './defaults.ts';
import type { ConfigIssue } from './errors.ts';
import { DatasetNotCachedError } from './errors.ts';
import { showValue } from './issues.ts';
import { csvDataSchema, mnistDataSchema, type ParsedConfig, textDataSchema } from './schema.ts';
import type { Config, DataConfig } from './types.ts';

/** Machine facts that fill machine-dependent defaults. */
export interface MachineDefaults {
  /** Default `node.name`. Default: `os.hostname()`. */
  hostname?: string;
  /** Default `hardware.intraOpThreads`. Default: `os.availableParallelism()`. */
  cores?: number;
  /**
   * Folder of the downloaded registry datasets that `data: {dataset: ...}` reads.
   * Default: the per-user cache's (`$XDG_CACHE_HOME/enjambre/datasets`).
   */
  datasetsDir?: string;
}

export interface ResolveOptions extends MachineDefaults {
  /** Folder that relative paths are resolved against (the config file's folder). */
  baseDir: string;
  /** Name of the config file used in error messages. */
  fileName: string;
  /** Check that files named by the config exist. Default: true. */
  checkPaths?: boolean;
}

/** A name usable as `node.name`: printable, at most 64 characters. */
function cleanName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 64);
  return cleaned.length > 0 ? cleaned : 'enjambre-node';
}

function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return path.join(homedir(), p.slice(2));
  return p;
}

/**
 * Fills machine-dependent and derived defaults and makes every path absolute, checking that files
 * the node must read exist. Returns the resolved config and the problems found.
 */
export function resolveConfig(
  parsed: ParsedConfig,
  opts: ResolveOptions,
): { config: Config; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const checkPaths = opts.checkPaths ?? true;
  const abs = (p: string) => path.resolve(opts.baseDir, expandHome(p));
  const existingFile = (fieldPath: (string | number)[], p: string): string => {
    const resolved = abs(p);
    if (!checkPaths) return resolved;
    let problem: string | undefined;
    try {
      const st = statSync(resolved, { throwIfNoEntry: false });
      if (st === undefined) problem = `file not found: ${resolved}`;
      else if (st.isDirectory()) problem = `is a folder, not a file: ${resolved}`;
    } catch (err) {
      problem = `cannot read ${resolved}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    if (problem !== undefined) {
      issues.push({
        file: opts.fileName,
        path: fieldPath,
        message: problem,
        got: showValue(p),
        expected: "an existing file (relative paths start at the config file's folder)",
      });
    }
    return resolved;
  };

  const workDir = abs(parsed.node.workDir);
  const node = { ...parsed.node, name: cleanName(parsed.node.name ?? opts.hostname ?? hostname()), workDir };

  const providers = [...parsed.hardware.executionProviders];
  if (!providers.includes('cpu')) providers.push('cpu');
  const hardware = {
    ...parsed.hardware,
    executionProviders: providers,
    intraOpThreads: parsed.hardware.intraOpThreads ?? Math.max(1, opts.cores ?? availableParallelism()),
  };

  let model = parsed.model;
  if (model.kind === 'onnx') model = { ...model, path: existingFile(['model', 'path'], model.path) };

  const data: DataConfig =
    'dataset' in parsed.data
      ? resolveDataset(parsed.data, opts.datasetsDir, checkPaths, (message, got) =>
          issues.push({
            file: opts.fileName,
            path: ['data', 'dataset'],
            message,
            got: showValue(got),
            expected: 'a dataset in the local cache',
          }),
        )
      : resolveDataFiles(parsed.data, existingFile);

  const { optimizer, lrSchedule } = parsed.training;
  const training = {
    ...parsed.training,
    lrSchedule: { ...lrSchedule, minLr: lrSchedule.minLr ?? optimizer.lr * D.DEFAULT_MIN_LR_RATIO },
  };

  const avg = parsed.swarm.averaging;
  const topk = avg.codec === 'topk';
  const swarm = {
    ...parsed.swarm,
    ...(parsed.swarm.swarmKeyFile !== undefined
      ? { swarmKeyFile: existingFile(['swarm', 'swarmKeyFile'], parsed.swarm.swarmKeyFile) }
      : {}),
    identityFile:
      parsed.swarm.identityFile !== undefined
        ? abs(parsed.swarm.identityFile)
        : path.join(workDir, D.DEFAULT_IDENTITY_FILE_NAME),
    averaging: {
      ...avg,
      outerLr: avg.outerLr ?? (topk ? D.DEFAULT_TOPK_OUTER_LR : D.DEFAULT_OUTER_LR),
      outerMomentum: avg.outerMomentum ?? (topk ? D.DEFAULT_TOPK_OUTER_MOMENTUM : D.DEFAULT_OUTER_MOMENTUM),
    },
  };

  const config: Config = { ...parsed, node, hardware, model, data, training, swarm };
  return { config, issues };
}

/** The data section with its file paths absolute and checked. */
function resolveDataFiles(
  data: DataConfig,
  existingFile: (fieldPath: (string | number)[], p: string) => string,
): DataConfig {
  switch (data.format) {
    case 'text':
    case 'csv':
      return { ...data, path: existingFile(['data', 'path'], data.path) };
    case 'mnist':
      return {
        ...data,
        trainImages: existingFile(['data', 'trainImages'], data.trainImages),
        trainLabels: existingFile(['data', 'trainLabels'], data.trainLabels),
        ...(data.testImages !== undefined
          ? { testImages: existingFile(['data', 'testImages'], data.testImages) }
          : {}),
        ...(data.testLabels !== undefined
          ? { testLabels: existingFile(['data', 'testLabels'], data.testLabels) }
          : {}),
      };
    case 'synthetic':
      return data;
  }
}

/**
 * A registry dataset as the config of its format, with the paths of its files in the cache (or where
 * they would be, when `checkPaths` is off or the dataset is missing, which `problem` reports).
 */
function resolveDataset(
  d: Extract<ParsedConfig['data'], { dataset: string }>,
  datasetsDir: string | undefined,
  checkPaths: boolean,
  problem: (message: string, got: unknown) => void,
): DataConfig {
  const registry = registryDataset(d.dataset);
  const folder = path.join(datasetsDir ?? defaultDatasetsDir(), registry.name);
  if (checkPaths) {
    try {
      cachedDataset(d.dataset, { dir: datasetsDir });
    } catch (err) {
      if (!(err instanceof DatasetNotCachedError)) throw err;
      problem(err.message, d.dataset);
    }
  }
  const at = (file: string) => path.join(folder, file);
  const spec = registry.spec;
  // Parsed by the format's own schema, so that its defaults apply.
  switch (spec.format) {
    case 'text':
      return textDataSchema.parse({
        format: 'text',
        seed: d.seed,
        path: at(spec.path),
        byteLevel: d.byteLevel,
        validFraction: d.validFraction,
      });
    case 'csv':
      return csvDataSchema.parse({
        format: 'csv',
        seed: d.seed,
        path: at(spec.path),
        target: spec.target,
        validFraction: d.validFraction,
      });
    case 'mnist':
      return mnistDataSchema.parse({
        format: 'mnist',
        seed: d.seed,
        trainImages: at(spec.trainImages),
        trainLabels: at(spec.trainLabels),
        testImages: spec.testImages && at(spec.testImages),
        testLabels: spec.testLabels && at(spec.testLabels),
      });
  }
}

/**
 * The round timeout for an inner phase that took `innerPhaseMs`: `swarm.averaging.roundTimeoutMs`
 * when set, else max(10 s, min(30 s, 0.25 × the inner phase)) ({@link D.defaultRoundTimeoutMs}).
 */
export function roundTimeoutMs(config: Pick<Config, 'swarm'>, innerPhaseMs: number): number {
  return config.swarm.averaging.roundTimeoutMs ?? D.defaultRoundTimeoutMs(innerPhaseMs);
}
