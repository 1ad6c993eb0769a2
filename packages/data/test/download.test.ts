import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  cachedDataset,
  DATA_MIRROR_ENV,
  DatasetDownloadError,
  type DatasetEvent,
  DatasetHashError,
  DatasetNotCachedError,
  datasetManifest,
  datasetSha256,
  defaultCacheDir,
  getDataset,
  isDatasetCached,
  registryDataset,
  UnknownDatasetError,
} from '../src/index.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/datasets');
const SHAKESPEARE = readFileSync(path.join(FIXTURES, 'tinyshakespeare/input.txt'));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What the test server does with the next request for a path. */
interface Behaviour {
  /** Send the headers of the whole answer, then only this many body bytes, then drop the connection. */
  cutAfter?: number;
  /** Flip the bits of the body byte at this offset (of the file). */
  corruptAt?: number;
  /** Answer 200 with the whole file even to a Range request. */
  ignoreRange?: boolean;
  /** Append this many extra bytes. */
  extraBytes?: number;
}

/** A real HTTP server on 127.0.0.1 serving a mirror layout from memory, with Range support. */
class MirrorServer {
  readonly files = new Map<string, Buffer>();
  readonly behaviours = new Map<string, Behaviour>();
  readonly requests: { url: string; range: string | undefined; sent: number }[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const url = decodeURIComponent(req.url ?? '');
    const record = { url, range: req.headers.range, sent: 0 };
    this.requests.push(record);
    const file = this.files.get(url);
    if (file === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    const how = this.behaviours.get(url) ?? {};
    this.behaviours.delete(url);
    let body = Buffer.from(file);
    if (how.corruptAt !== undefined) body[how.corruptAt] ^= 0xff;
    if (how.extraBytes) body = Buffer.concat([body, Buffer.alloc(how.extraBytes, 7)]);
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !how.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    }
    const part = body.subarray(start);
    if (how.cutAfter !== undefined) {
      record.sent = how.cutAfter;
      res.write(part.subarray(0, how.cutAfter), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    record.sent = part.length;
    res.end(part);
  }
}

const server = new MirrorServer();
let tmp: string;
let dir: string;

beforeAll(async () => {
  for (const name of ['tinyshakespeare/input.txt', 'iris/iris.csv', 'penguins/penguins.csv']) {
    server.files.set(`/mirror/${name}`, readFileSync(path.join(FIXTURES, name)));
  }
  await server.start();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'enjambre-download-'));
});
afterAll(async () => {
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = path.join(tmp, `datasets-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir);
  server.requests.length = 0;
});

const shakespeareFile = () => path.join(dir, 'tinyshakespeare/input.txt');

describe('getDataset over HTTP (a real server on 127.0.0.1)', () => {
  it('downloads, reports progress, verifies and renames into place; a second call reuses the file', async () => {
    const events: DatasetEvent[] = [];
    const got = await getDataset('tinyshakespeare', {
      dir,
      from: `${server.url}/mirror/`,
      onEvent: (e) => events.push(e),
    });
    expect(got.files['input.txt']).toBe(shakespeareFile());
    expect(sha256(readFileSync(shakespeareFile()))).toBe(registryDataset('tinyshakespeare').files[0].sha256);
    expect(readdirSync(path.join(dir, 'tinyshakespeare'))).toEqual(['input.txt']);
    expect(server.requests).toEqual([
      { url: '/mirror/tinyshakespeare/input.txt', range: undefined, sent: 1_115_394 },
    ]);

    expect(events[0]).toMatchObject({ type: 'file-start', resumedFrom: 0, total: 1_115_394 });
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.received);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((v, i) => i === 0 || v > progress[i - 1])).toBe(true);
    expect(progress.at(-1)).toBe(1_115_394);
    expect(events.at(-1)).toMatchObject({ type: 'file-done', reused: false, bytes: 1_115_394 });

    const again: DatasetEvent[] = [];
    await getDataset('tinyshakespeare', { dir, from: server.url, onEvent: (e) => again.push(e) });
    expect(server.requests).toHaveLength(1);
    expect(again).toEqual([expect.objectContaining({ type: 'file-done', reused: true })]);
    expect(isDatasetCached('tinyshakespeare', { dir })).toBe(true);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    const from = `${server.url}/mirror`;
    server.behaviours.set('/mirror/tinyshakespeare/input.txt', { cutAfter: 400_000 });
    const err = await getDataset('tinyshakespeare', { dir, from }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetDownloadError);
    expect(err.message).toMatch(/interrupted after \d+ bytes.*run the command again to resume/);
    expect(existsSync(shakespeareFile())).toBe(false);
    const kept = statSync(`${shakespeareFile()}.partial`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(400_000);
    expect(readFileSync(`${shakespeareFile()}.partial`).equals(SHAKESPEARE.subarray(0, kept))).toBe(true);

    const events: DatasetEvent[] = [];
    await getDataset('tinyshakespeare', { dir, from, onEvent: (e) => events.push(e) });
    expect(server.requests[1]).toEqual({
      url: '/mirror/tinyshakespeare/input.txt',
      range: `bytes=${kept}-`,
      sent: 1_115_394 - kept,
    });
    expect(events[0]).toMatchObject({ type: 'file-start', resumedFrom: kept, total: 1_115_394 });
    expect(sha256(readFileSync(shakespeareFile()))).toBe(sha256(SHAKESPEARE));
    expect(existsSync(`${shakespeareFile()}.partial`)).toBe(false);
  });

  it('a corrupt download fails on its hash and leaves neither a partial nor a final file', async () => {
    server.behaviours.set('/mirror/tinyshakespeare/input.txt', { corruptAt: 123_456 });
    const err = await getDataset('tinyshakespeare', { dir, from: `${server.url}/mirror` }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetHashError);
    expect(err.code).toBe('ERR_DATA_HASH');
    const corrupted = Buffer.from(SHAKESPEARE);
    corrupted[123_456] ^= 0xff;
    expect(err.actual).toBe(sha256(corrupted));
    expect(err.message).toContain(registryDataset('tinyshakespeare').files[0].sha256);
    expect(err.message).toContain('/mirror/tinyshakespeare/input.txt');
    expect(readdirSync(path.join(dir, 'tinyshakespeare'))).toEqual([]);
    expect(() => cachedDataset('tinyshakespeare', { dir })).toThrow(DatasetNotCachedError);
  });

  it('a partial file that is not a prefix of the file is detected by the hash and downloaded again once', async () => {
    await mkdir(path.join(dir, 'tinyshakespeare'));
    writeFileSync(`${shakespeareFile()}.partial`, Buffer.alloc(5000, 0x41));
    const events: DatasetEvent[] = [];
    await getDataset('tinyshakespeare', {
      dir,
      from: `${server.url}/mirror`,
      onEvent: (e) => events.push(e),
    });
    expect(server.requests.map((r) => r.range)).toEqual(['bytes=5000-', undefined]);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
    expect(sha256(readFileSync(shakespeareFile()))).toBe(sha256(SHAKESPEARE));
  });

  it('starts over when the server ignores the Range request', async () => {
    await mkdir(path.join(dir, 'tinyshakespeare'));
    writeFileSync(`${shakespeareFile()}.partial`, SHAKESPEARE.subarray(0, 1000));
    server.behaviours.set('/mirror/tinyshakespeare/input.txt', { ignoreRange: true });
    await getDataset('tinyshakespeare', { dir, from: `${server.url}/mirror` });
    expect(server.requests).toHaveLength(1);
    expect(sha256(readFileSync(shakespeareFile()))).toBe(sha256(SHAKESPEARE));
  });

  it('stops a server that sends more than the pinned size, and reports HTTP errors', async () => {
    server.behaviours.set('/mirror/iris/iris.csv', { extraBytes: 10 });
    const big = await getDataset('iris', { dir, from: `${server.url}/mirror` }).catch((e) => e);
    expect(big).toBeInstanceOf(DatasetDownloadError);
    expect(big.message).toContain('sent more than the expected 3858 bytes');
    expect(readdirSync(path.join(dir, 'iris'))).toEqual([]);

    const missing = await getDataset('iris', { dir, from: `${server.url}/elsewhere` }).catch((e) => e);
    expect(missing).toBeInstanceOf(DatasetDownloadError);
    expect(missing.message).toBe(`${server.url}/elsewhere/iris/iris.csv: HTTP 404 Not Found`);
  });
});

describe('mirrors, the cache and the registry', () => {
  it('copies from a mirror folder, verifying: the full fixtures pass, the MNIST subset does not', async () => {
    const got = await getDataset('penguins', { dir, from: FIXTURES });
    expect(readFileSync(got.files['penguins.csv'])).toEqual(
      readFileSync(path.join(FIXTURES, 'penguins/penguins.csv')),
    );
    const err = await getDataset('mnist', { dir, from: FIXTURES }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetHashError);
    expect(err.source).toBe(path.join(FIXTURES, 'mnist/train-images-idx3-ubyte.gz'));
    expect(readdirSync(path.join(dir, 'mnist'))).toEqual([]);
    const absent = await getDataset('iris', { dir, from: path.join(tmp, 'no-mirror') }).catch((e) => e);
    expect(absent.message).toMatch(/no-mirror\/iris\/iris\.csv: not found in the mirror folder/);
  });

  it(`reads the mirror from ${DATA_MIRROR_ENV}`, async () => {
    await getDataset('iris', { dir, env: { [DATA_MIRROR_ENV]: `${server.url}/mirror` } });
    expect(server.requests.map((r) => r.url)).toEqual(['/mirror/iris/iris.csv']);
    // an explicit source wins over the environment
    await getDataset('penguins', { dir, from: FIXTURES, env: { [DATA_MIRROR_ENV]: 'http://127.0.0.1:1' } });
    expect(isDatasetCached('penguins', { dir })).toBe(true);
  });

  it('names the command that downloads a missing dataset', () => {
    const err = (() => {
      try {
        cachedDataset('mnist', { dir });
      } catch (e) {
        return e as DatasetNotCachedError;
      }
    })();
    expect(err).toBeInstanceOf(DatasetNotCachedError);
    expect(err!.message).toBe(
      `dataset 'mnist' is not downloaded (${path.join(dir, 'mnist/train-images-idx3-ubyte.gz')} is missing): ` +
        `run \`enjambre data get mnist --dir ${dir}\``,
    );
    expect(() => cachedDataset('cifar10')).toThrow(UnknownDatasetError);
  });

  it('puts the cache under $XDG_CACHE_HOME/enjambre, else ~/.cache/enjambre', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/me' })).toBe('/var/cache/me/enjambre');
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache/enjambre'));
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(os.homedir(), '.cache/enjambre'));
  });

  it("identifies a dataset by the SHA-256 of its manifest, whose hashes are the fixtures' where they are whole", () => {
    const sums = readFileSync(path.join(FIXTURES, 'SHA256SUMS'), 'utf8');
    for (const name of ['iris', 'penguins', 'tinyshakespeare']) {
      const d = registryDataset(name);
      const lines = sums
        .split('\n')
        .filter((l) => l.endsWith(`  ${name}/${d.files[0].name}`))
        .map((l) => l.replace(`  ${name}/`, '  '));
      expect(datasetManifest(d)).toBe(`${lines.join('\n')}\n`);
      expect(datasetSha256(d)).toBe(sha256(Buffer.from(datasetManifest(d))));
    }
  });
});
