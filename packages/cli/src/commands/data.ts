import {
  DATA_MIRROR_ENV,
  DATASET_NAMES,
  type DatasetEvent,
  datasetBytes,
  datasetSha256,
  defaultDatasetsDir,
  getDataset,
  isDatasetCached,
  registryDataset,
} from '@enjambre/data';
import { printJson, table, UsageError } from '../output.ts';
import { bar, bytes, duration, interruptSignal, ProgressLine } from '../progress.ts';
import type { Command } from './command.ts';

const USAGE = `Usage: enjambre data list [--json] [--dir DIR]
       enjambre data get <name> [--from DIR|URL] [--dir DIR]

The reference datasets (${DATASET_NAMES.join(', ')}), downloaded on demand into the per-user cache
($XDG_CACHE_HOME/enjambre/datasets, default ~/.cache/enjambre/datasets) and verified against the
SHA-256 pinned for every file. An interrupted download resumes where it stopped.
A config reads a downloaded dataset with 'data: {dataset: <name>}'.

  list            the datasets, their size, hash and whether they are downloaded
    --json        print {"datasets":[{"name","sha256","bytes","cached","files":[...]}]}; a dataset's
                  sha256 is that of its manifest (the "<sha256>  <file>" line of each file)
  get <name>      download a dataset (a no-op when it is already there and intact)
    --from        a mirror to copy from instead of the public URLs: a folder or an http(s) URL
                  laid out as <mirror>/<name>/<file>. Default: $${DATA_MIRROR_ENV}, if set
  --dir           the datasets folder to use instead of the cache's`;

/** `data get mnist --from x` → `--action get --name mnist --from x` (the CLI parses options only). */
function preprocess(args: string[]): string[] {
  const [action, ...rest] = args;
  if (action === undefined || action.startsWith('-')) return args;
  if (action === 'get' && rest[0] !== undefined && !rest[0].startsWith('-')) {
    return ['--action', action, '--name', rest[0], ...rest.slice(1)];
  }
  return ['--action', action, ...rest];
}

function list(values: Record<string, unknown>, dir: string | undefined): number {
  const datasets = DATASET_NAMES.map((name) => {
    const d = registryDataset(name);
    return {
      name,
      sha256: datasetSha256(d),
      bytes: datasetBytes(d),
      cached: isDatasetCached(name, { dir }),
      title: d.title,
      license: d.license,
      files: d.files.map((f) => ({ name: f.name, sha256: f.sha256, bytes: f.bytes, url: f.url })),
    };
  });
  if (values.json) {
    printJson({ dir: dir ?? defaultDatasetsDir(), datasets });
    return 0;
  }
  console.log(
    table(
      ['name', 'size', 'downloaded', 'sha256 (manifest)', 'contents'],
      datasets.map((d) => [d.name, bytes(d.bytes), d.cached ? 'yes' : 'no', d.sha256.slice(0, 16), d.title]),
    ),
  );
  console.log(`\nfolder: ${dir ?? defaultDatasetsDir()}; download one with: enjambre data get <name>`);
  return 0;
}

async function get(values: Record<string, unknown>, dir: string | undefined): Promise<number> {
  const name = values.name;
  if (typeof name !== 'string') throw new UsageError(`data get needs a dataset name\n\n${USAGE}`);
  registryDataset(name); // an unknown name fails before any output
  const from = typeof values.from === 'string' ? values.from : undefined;
  const progress = new ProgressLine();
  let started = 0;
  let startedAt = 0;
  const onEvent = (e: DatasetEvent) => {
    switch (e.type) {
      case 'file-start':
        started = e.resumedFrom;
        startedAt = Date.now();
        progress.note(
          `${e.file}: from ${e.source}${e.resumedFrom > 0 ? ` (resuming at ${bytes(e.resumedFrom)})` : ''}`,
        );
        break;
      case 'progress': {
        const seconds = (Date.now() - startedAt) / 1000;
        const rate = seconds > 0 ? (e.received - started) / seconds : 0;
        const left = e.total !== undefined && rate > 0 ? (e.total - e.received) / rate : undefined;
        progress.update(
          e.total !== undefined
            ? `${bar(e.received / e.total)} ${bytes(e.received)} / ${bytes(e.total)}  ${bytes(rate)}/s  ${duration(left)} ${e.file}`
            : `${bytes(e.received)}  ${bytes(rate)}/s ${e.file}`,
        );
        break;
      }
      case 'file-done':
        progress.done();
        progress.note(
          `${e.file}: ${e.reused ? 'already there, hash verified' : `verified, ${bytes(e.bytes)}`}`,
        );
        break;
      case 'retry':
        progress.done();
        progress.note(`${e.file}: ${e.reason}`);
        break;
    }
  };
  try {
    const got = await getDataset(name, { dir, from, onEvent, signal: interruptSignal() });
    console.log(`${name}: ready in ${got.dir}`);
  } finally {
    progress.done();
  }
  return 0;
}

export const data: Command = {
  name: 'data',
  usage: USAGE,
  options: {
    action: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean', default: false },
    from: { type: 'string' },
    dir: { type: 'string' },
  },
  preprocess,
  async run(values) {
    const dir = typeof values.dir === 'string' ? values.dir : undefined;
    if (values.action === 'list') {
      if (values.from !== undefined || values.name !== undefined) {
        throw new UsageError(`data list takes only --json and --dir\n\n${USAGE}`);
      }
      return list(values, dir);
    }
    if (values.action === 'get') return get(values, dir);
    throw new UsageError(
      values.action === undefined
        ? `data needs a subcommand: list or get\n\n${USAGE}`
        : `unknown data subcommand '${String(values.action)}': expected list or get\n\n${USAGE}`,
    );
  },
};
