/**
 * The reference datasets that a config can name (`data: {dataset: mnist}`) and `enjambre data get`
 * downloads: for each, its files with the canonical
 * public URL, byte size and SHA-256 they are pinned to, and how the files load (a {@link DatasetSpec}
 * whose paths are file names inside the dataset's folder). Every file is verified against its pin
 * before it is kept, whatever its source (public URL, mirror folder or mirror URL).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { DatasetNotCachedError, UnknownDatasetError } from './errors.ts';

/** How a registry dataset's files load: the data section of its format, with file names for paths. */
export type RegistrySpec =
  | { format: 'text'; path: string }
  | { format: 'csv'; path: string; target: string }
  | { format: 'mnist'; trainImages: string; trainLabels: string; testImages: string; testLabels: string };

/** One file of a registry dataset. */
export interface DatasetFile {
  /** File name, in the dataset's folder of the cache and of a mirror (`<mirror>/<dataset>/<name>`). */
  name: string;
  /** Size in bytes of the pinned copy. */
  bytes: number;
  /** SHA-256 (hex) of the pinned copy: what a mirror holds and what `data list` reports. */
  sha256: string;
  /** Canonical public URL of the file. */
  url: string;
  /**
   * Set when `url` serves other bytes than the pinned copy with the same decompressed content (another
   * gzip of the same data): the size and SHA-256 of what `url` serves, accepted as well.
   */
  urlCopy?: { bytes: number; sha256: string; note: string };
}

/** A dataset of the registry. */
export interface RegistryDataset {
  name: string;
  /** One line for `data list`. */
  title: string;
  /** Licence or terms, as stated by the origin. */
  license: string;
  /** How the files load: the data section of its format, with paths relative to the dataset's folder. */
  spec: RegistrySpec;
  files: readonly DatasetFile[];
}

const CHAR_RNN =
  'https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e';
const SEABORN_DATA =
  'https://raw.githubusercontent.com/mwaskom/seaborn-data/71e2436a092d714350de0fc409ca8a8714e7e78f';
const ANAX32_DATA = 'https://raw.githubusercontent.com/anax32/data/c7634e4b6122b2227c50a71ba962d63fe2856c16';

/** Every dataset `enjambre data get` knows, by name. */
export const DATASETS = {
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits: 60,000 train / 10,000 test, 28x28 idx files (gzip)',
    license:
      'CC BY-SA 3.0 (Yann LeCun and Corinna Cortes, derived from NIST); attribute LeCun, Cortes & Burges',
    spec: {
      format: 'mnist',
      trainImages: 'train-images-idx3-ubyte.gz',
      trainLabels: 'train-labels-idx1-ubyte.gz',
      testImages: 't10k-images-idx3-ubyte.gz',
      testLabels: 't10k-labels-idx1-ubyte.gz',
    },
    files: [
      {
        name: 'train-images-idx3-ubyte.gz',
        bytes: 9_630_610,
        sha256: '71524e2cd1ad2968737f7f2f2ff69cbfc32df8ccddff51593f7cb2d4e0eb5b64',
        // No public copy of the pinned gzip exists (it was rebuilt from karpathy/convnetjs's PNG
        // batches): the URL is torchvision's mirror of the original LeCun file, whose gzip differs
        // but whose decompressed bytes are the same (sha256 ba891046e6505d7a...).
        url: 'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz',
        urlCopy: {
          bytes: 9_912_422,
          sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
          note: 'the original LeCun gzip; decompresses to the same idx bytes as the pinned copy (sha256 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db)',
        },
      },
      {
        name: 'train-labels-idx1-ubyte.gz',
        bytes: 27_494,
        sha256: '8dcabeac9a026701b846659c1961f69619080fc79521aac72a5a1a4a0e9a9173',
        url: `${ANAX32_DATA}/mnist/train-labels-idx1-ubyte.gz`,
      },
      {
        name: 't10k-images-idx3-ubyte.gz',
        bytes: 1_529_611,
        sha256: '893c89736f094c134ee8b22757c4417297db16fba5654d64dfd11a2d2b498023',
        url: `${ANAX32_DATA}/mnist/t10k-images-idx3-ubyte.gz`,
      },
      {
        name: 't10k-labels-idx1-ubyte.gz',
        bytes: 4_318,
        sha256: '7e7ba33ca5a726f6f9ad100a3efbd8dddfdb698420cb6bdc9fa0f95020ce1514',
        url: `${ANAX32_DATA}/mnist/t10k-labels-idx1-ubyte.gz`,
      },
    ],
  },
  tinyshakespeare: {
    name: 'tinyshakespeare',
    title: 'Tiny Shakespeare: 1,115,394 characters, 65-symbol vocabulary (char-rnn, nanoGPT)',
    license: "Shakespeare's text is public domain; char-rnn (the origin repository) is MIT",
    spec: { format: 'text', path: 'input.txt' },
    files: [
      {
        name: 'input.txt',
        bytes: 1_115_394,
        sha256: '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed',
        url: `${CHAR_RNN}/data/tinyshakespeare/input.txt`,
      },
    ],
  },
  iris: {
    name: 'iris',
    title: 'Iris (Fisher 1936): 150 rows, 4 features, 3 species',
    license: 'attribute Fisher (1936) and the UCI Machine Learning Repository (CC BY 4.0)',
    spec: { format: 'csv', path: 'iris.csv', target: 'species' },
    files: [
      {
        name: 'iris.csv',
        bytes: 3_858,
        sha256: '9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355',
        url: `${SEABORN_DATA}/iris.csv`,
      },
    ],
  },
  penguins: {
    name: 'penguins',
    title: 'Palmer penguins: 344 rows, 4 numeric + 2 categorical features, 3 species, some missing',
    license: 'CC0 (palmerpenguins); cite Gorman, Williams & Fraser (2014) PLoS ONE 9(3): e90081',
    spec: { format: 'csv', path: 'penguins.csv', target: 'species' },
    files: [
      {
        name: 'penguins.csv',
        bytes: 13_478,
        sha256: 'e07636bd8af74260099ea2f8678e2eabbf35def579940cc76f67061ee16c06c1',
        url: `${SEABORN_DATA}/penguins.csv`,
      },
    ],
  },
} as const satisfies Record<string, RegistryDataset>;

/** A name of the registry. */
export type DatasetName = keyof typeof DATASETS;

/** The registry's dataset names, in listing order. */
export const DATASET_NAMES = Object.keys(DATASETS) as [DatasetName, ...DatasetName[]];

/** The registry entry of `name`; an {@link UnknownDatasetError} for any other name. */
export function registryDataset(name: string): RegistryDataset {
  if (!Object.hasOwn(DATASETS, name)) throw new UnknownDatasetError(name, DATASET_NAMES);
  return DATASETS[name as DatasetName];
}

/**
 * The dataset's manifest in `sha256sum` format (`<sha256>  <file>` per line, in registry order): the
 * text whose SHA-256 identifies the whole dataset (`sha256` of `data list --json`). Inside a dataset
 * folder, `sha256sum -c` of this text verifies the files.
 */
export function datasetManifest(dataset: RegistryDataset): string {
  return dataset.files.map((f) => `${f.sha256}  ${f.name}\n`).join('');
}

/** SHA-256 (hex) of {@link datasetManifest}. */
export function datasetSha256(dataset: RegistryDataset): string {
  return createHash('sha256').update(datasetManifest(dataset)).digest('hex');
}

/** Total size of the dataset's pinned files. */
export function datasetBytes(dataset: RegistryDataset): number {
  return dataset.files.reduce((sum, f) => sum + f.bytes, 0);
}

/**
 * The per-user cache folder: `$XDG_CACHE_HOME/enjambre`, else `~/.cache/enjambre`.
 * Datasets live in its `datasets/` folder.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec ignores relative paths.
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache');
  return path.join(base, 'enjambre');
}

/** The folder that holds the datasets (`<dir>/<dataset>/<file>`): `<cache>/datasets`. */
export function defaultDatasetsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(defaultCacheDir(env), 'datasets');
}

/** The command that downloads `name` into `dir` (the default folder needs no `--dir`). */
export function dataGetCommand(name: string, dir?: string): string {
  const custom = dir !== undefined && path.resolve(dir) !== defaultDatasetsDir();
  return `enjambre data get ${name}${custom ? ` --dir ${dir}` : ''}`;
}

/** A dataset present in the cache. */
export interface CachedDataset {
  name: string;
  /** The dataset's folder (the `baseDir` of `registryDataset(name).spec`). */
  dir: string;
  /** Absolute path of each file, by file name. */
  files: Record<string, string>;
}

/** The accepted (size, SHA-256) pairs of a file: the pinned copy and, if any, what its URL serves. */
export function acceptedCopies(file: DatasetFile): { bytes: number; sha256: string }[] {
  return file.urlCopy ? [file, file.urlCopy] : [file];
}

/**
 * The first file of the dataset that is not in `folder` with an accepted size, or undefined when all
 * are there. Sizes only, no hashing: files only get there verified.
 */
function firstMissing(dataset: RegistryDataset, folder: string): string | undefined {
  for (const file of dataset.files) {
    const p = path.join(folder, file.name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s?.isFile() || !acceptedCopies(file).some((a) => a.bytes === s.size)) return p;
  }
  return undefined;
}

/** Whether the dataset is fully in the cache (file sizes checked, not hashes). */
export function isDatasetCached(name: string, options: { dir?: string } = {}): boolean {
  const dataset = registryDataset(name);
  const dir = options.dir ?? defaultDatasetsDir();
  return firstMissing(dataset, path.join(dir, dataset.name)) === undefined;
}

/** The paths of a dataset's files in `folder`. */
export function datasetFiles(dataset: RegistryDataset, folder: string): CachedDataset {
  return {
    name: dataset.name,
    dir: folder,
    files: Object.fromEntries(dataset.files.map((f) => [f.name, path.join(folder, f.name)])),
  };
}

/**
 * The cached files of `name`, without downloading anything (synchronous: config loading uses it).
 * @throws DatasetNotCachedError naming the `enjambre data get` command when a file is missing.
 */
export function cachedDataset(name: string, options: { dir?: string } = {}): CachedDataset {
  const dataset = registryDataset(name);
  const dir = options.dir ?? defaultDatasetsDir();
  const folder = path.join(dir, dataset.name);
  const missing = firstMissing(dataset, folder);
  if (missing !== undefined)
    throw new DatasetNotCachedError(name, missing, dataGetCommand(name, options.dir));
  return datasetFiles(dataset, folder);
}
