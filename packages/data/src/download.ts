/**
 * Registry datasets on demand: downloads into a per-user cache over HTTP(S), from the public URLs or
 * from a mirror (a folder or an http URL laid out as `<mirror>/<dataset>/<file>`), with resume of an
 * interrupted transfer, SHA-256 verification before anything is kept, and an atomic rename into place.
 * A file in the cache is always a verified one; a `.partial` file beside it is an unfinished download.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  acceptedCopies,
  type CachedDataset,
  type DatasetFile,
  datasetFiles,
  defaultDatasetsDir,
  type RegistryDataset,
  registryDataset,
} from '@enjambre/config';
import { DatasetDownloadError, DatasetHashError } from './errors.ts';

/** Environment variable naming a mirror (folder or http URL) that `getDataset` reads from by default. */
export const DATA_MIRROR_ENV = 'ENJAMBRE_DATA_MIRROR';
/** Suffix of an unfinished download, resumed by the next `getDataset`. */
export const PARTIAL_SUFFIX = '.partial';

/** What `getDataset` reports while it works. */
export type DatasetEvent =
  | {
      type: 'file-start';
      dataset: string;
      file: string;
      /** URL or mirror path read. */
      source: string;
      /** Bytes already there from an interrupted download (0 for a fresh start). */
      resumedFrom: number;
      /** Expected size, when known. */
      total: number | undefined;
    }
  | { type: 'progress'; dataset: string; file: string; received: number; total: number | undefined }
  | { type: 'file-done'; dataset: string; file: string; path: string; bytes: number; reused: boolean }
  | { type: 'retry'; dataset: string; file: string; reason: string };

export interface GetDatasetOptions {
  /** Folder of the datasets. Default {@link defaultDatasetsDir}. */
  dir?: string;
  /**
   * A mirror to read from instead of the public URLs: a folder or an `http(s)://` URL, laid out as
   * `<mirror>/<dataset>/<file>`. Default: the `ENJAMBRE_DATA_MIRROR` environment variable, else none.
   */
  from?: string;
  /** Progress reports. */
  onEvent?: (event: DatasetEvent) => void;
  signal?: AbortSignal;
  /** Environment read for the defaults. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

function maxBytes(file: DatasetFile): number {
  return Math.max(...acceptedCopies(file).map((a) => a.bytes));
}

async function fileSize(p: string): Promise<number | undefined> {
  const s = await stat(p).catch(() => undefined);
  return s?.isFile() ? s.size : undefined;
}

async function sha256File(p: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function isHttp(from: string): boolean {
  return /^https?:\/\//i.test(from);
}

/**
 * Makes `name` present and verified in the cache: files already there are checked against their
 * SHA-256 and kept; the others are downloaded (resuming a `.partial` left by an interrupted
 * download), verified, and renamed into place. A file whose hash is wrong is deleted and the call
 * fails: the cache never holds an unverified file.
 */
export async function getDataset(name: string, options: GetDatasetOptions = {}): Promise<CachedDataset> {
  const dataset = registryDataset(name);
  const env = options.env ?? process.env;
  const dir = options.dir ?? defaultDatasetsDir(env);
  const from = options.from ?? (env[DATA_MIRROR_ENV] || undefined);
  const folder = path.join(dir, dataset.name);
  await mkdir(folder, { recursive: true });
  for (const file of dataset.files) {
    options.signal?.throwIfAborted();
    await getFile(dataset, file, folder, from, options);
  }
  return datasetFiles(dataset, folder);
}

async function getFile(
  dataset: RegistryDataset,
  file: DatasetFile,
  folder: string,
  from: string | undefined,
  options: GetDatasetOptions,
): Promise<void> {
  const emit = options.onEvent ?? (() => {});
  const final = path.join(folder, file.name);
  const partial = final + PARTIAL_SUFFIX;
  const size = await fileSize(final);
  if (size !== undefined) {
    const sha = await sha256File(final);
    if (acceptedCopies(file).some((a) => a.sha256 === sha && a.bytes === size)) {
      emit({
        type: 'file-done',
        dataset: dataset.name,
        file: file.name,
        path: final,
        bytes: size,
        reused: true,
      });
      return;
    }
    // Not one of ours (edited or damaged by hand): fetch it again.
    emit({ type: 'retry', dataset: dataset.name, file: file.name, reason: `${final} fails its hash` });
    await rm(final, { force: true });
  }
  const source =
    from === undefined
      ? file.url
      : isHttp(from)
        ? `${from.replace(/\/+$/, '')}/${encodeURIComponent(dataset.name)}/${encodeURIComponent(file.name)}`
        : path.resolve(from, dataset.name, file.name);
  const fromHttp = from === undefined || isHttp(from);

  // A resumed download that fails its hash may have started from stale bytes: start over once.
  for (let attempt = 0; ; attempt++) {
    const resumedFrom = fromHttp
      ? await download(dataset, file, source, partial, options)
      : await copyFromMirror(dataset, file, source, partial, options);
    const bytes = (await fileSize(partial)) ?? 0;
    const sha = await sha256File(partial);
    if (acceptedCopies(file).some((a) => a.sha256 === sha && a.bytes === bytes)) {
      await rename(partial, final);
      emit({ type: 'file-done', dataset: dataset.name, file: file.name, path: final, bytes, reused: false });
      return;
    }
    await rm(partial, { force: true });
    if (resumedFrom > 0 && attempt === 0) {
      emit({
        type: 'retry',
        dataset: dataset.name,
        file: file.name,
        reason: `the download resumed at byte ${resumedFrom} fails its hash; starting over`,
      });
      continue;
    }
    throw new DatasetHashError(
      source,
      acceptedCopies(file).map((a) => a.sha256),
      sha,
      bytes,
    );
  }
}

/** Streams `chunks` onto the end of `partial`, enforcing the size bound and reporting progress. */
async function appendChunks(
  chunks: AsyncIterable<Uint8Array>,
  partial: string,
  start: number,
  limit: number,
  source: string,
  report: (received: number) => void,
  truncate: boolean,
): Promise<void> {
  const handle = await open(partial, truncate ? 'w' : 'a');
  let received = start;
  try {
    for await (const chunk of chunks) {
      received += chunk.byteLength;
      if (received > limit) {
        await handle.close().catch(() => {});
        await rm(partial, { force: true });
        throw new DatasetDownloadError(source, `sent more than the expected ${limit} bytes; discarded`);
      }
      await handle.write(chunk);
      report(received);
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Downloads `source` into `partial`, resuming from the bytes already there with an HTTP Range request.
 * Returns the offset it resumed from. An interrupted transfer leaves `partial` for the next call.
 */
async function download(
  dataset: RegistryDataset,
  file: DatasetFile,
  source: string,
  partial: string,
  options: GetDatasetOptions,
): Promise<number> {
  const emit = options.onEvent ?? (() => {});
  const limit = maxBytes(file);
  let offset = (await fileSize(partial)) ?? 0;
  if (offset >= limit) {
    // Longer than any accepted copy: useless to resume.
    await rm(partial, { force: true });
    offset = 0;
  }
  let response: Response;
  try {
    response = await fetch(source, {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      signal: options.signal,
      redirect: 'follow',
    });
  } catch (cause) {
    options.signal?.throwIfAborted();
    throw new DatasetDownloadError(source, `request failed: ${(cause as Error).message}`, cause);
  }
  if (response.status === 416 && offset > 0) {
    // The server has no bytes past ours: the partial file is not a prefix of this file. Start over.
    await response.body?.cancel();
    await rm(partial, { force: true });
    return download(dataset, file, source, partial, options);
  }
  let resumed = false;
  if (response.status === 206) {
    const range = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
    if (range === null || Number(range[1]) !== offset) {
      await response.body?.cancel();
      throw new DatasetDownloadError(
        source,
        `answered a request for bytes ${offset}- with Content-Range ${JSON.stringify(response.headers.get('content-range'))}`,
      );
    }
    resumed = true;
  } else if (response.status !== 200) {
    await response.body?.cancel();
    throw new DatasetDownloadError(source, `HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  if (response.body === null) throw new DatasetDownloadError(source, 'empty response');
  const start = resumed ? offset : 0;
  const length = Number(response.headers.get('content-length'));
  const total =
    Number.isFinite(length) && length > 0 ? start + length : file.urlCopy ? undefined : file.bytes;
  emit({ type: 'file-start', dataset: dataset.name, file: file.name, source, resumedFrom: start, total });
  try {
    await appendChunks(
      // Node's web streams are async iterable; the lib types do not say so.
      response.body as unknown as AsyncIterable<Uint8Array>,
      partial,
      start,
      limit,
      source,
      (received) => emit({ type: 'progress', dataset: dataset.name, file: file.name, received, total }),
      !resumed,
    );
  } catch (cause) {
    if (cause instanceof DatasetDownloadError) throw cause;
    options.signal?.throwIfAborted();
    const kept = (await fileSize(partial)) ?? 0;
    throw new DatasetDownloadError(
      source,
      `transfer interrupted after ${kept} bytes (${(cause as Error).message}); run the command again to resume`,
      cause,
    );
  }
  return start;
}

/** Copies a file of a mirror folder into `partial`. */
async function copyFromMirror(
  dataset: RegistryDataset,
  file: DatasetFile,
  source: string,
  partial: string,
  options: GetDatasetOptions,
): Promise<0> {
  const emit = options.onEvent ?? (() => {});
  const size = await fileSize(source);
  if (size === undefined) throw new DatasetDownloadError(source, 'not found in the mirror folder');
  emit({ type: 'file-start', dataset: dataset.name, file: file.name, source, resumedFrom: 0, total: size });
  await appendChunks(
    createReadStream(source, { signal: options.signal }),
    partial,
    0,
    maxBytes(file),
    source,
    (received) => emit({ type: 'progress', dataset: dataset.name, file: file.name, received, total: size }),
    true,
  );
  return 0;
}
