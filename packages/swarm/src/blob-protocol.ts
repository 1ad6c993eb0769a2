/**
 * `/enjambre/blob/1.0.0`: fetch a content-addressed blob from a peer over a direct stream.
 *
 * Request:  u32 length-prefixed frame [u8 version = 1][32-byte sha256].
 * Response: [u8 status: 0 found, 1 not found][if found: f64 byte length] then the bytes in chunks; the server
 *           closes its side after the last byte. The client checks the announced length against its bounds
 *           (the blob limit, and the caller's `maxBytes`: for an update, the largest this model's update can be),
 *           keeps only the bytes that actually arrived, fails on a short or long body, gives up at a total
 *           deadline however slowly the bytes trickle in, and verifies the sha256 before accepting.
 */
import { pipe } from 'it-pipe';
import { ByteReader, ByteWriter, fromHex, toHex } from './binary.ts';
import { BlobStore, type BlobStoreOptions, isSha256Hex, sha256Hex } from './blob-store.ts';
import {
  AbortError,
  BlobFetchError,
  InvalidOptionError,
  ProtocolError,
  toError,
  WireDecodeError,
} from './errors.ts';
import type { ByteStream, Host } from './host.ts';
import { sleep } from './sleep.ts';
import { chunks, DEFAULT_PEER_TIMEOUT_MS, frame, StreamReader } from './stream-io.ts';

/** Protocol id of the blob protocol. */
export const BLOB_PROTOCOL = '/enjambre/blob/1.0.0';
/** Default chunk size when serving a blob (bytes). */
export const DEFAULT_BLOB_CHUNK_BYTES = 64 * 1024;

const VERSION = 1;
const STATUS_FOUND = 0;
const STATUS_NOT_FOUND = 1;
/** Passes over the candidate peers before a fetch gives up, and the pause before pass n (× n), ms. */
const FETCH_PASSES = 3;
const FETCH_RETRY_MS = 300;
/** Default longest time one fetch (all peers and passes together) may take, ms. */
export const DEFAULT_FETCH_DEADLINE_MS = 30_000;

/** Options of {@link BlobService}. */
export interface BlobServiceOptions extends BlobStoreOptions {
  /** Chunk size when serving, bytes. Default {@link DEFAULT_BLOB_CHUNK_BYTES}. */
  chunkBytes?: number;
  /** Idle timeout per peer: a peer silent this long is abandoned, ms. Default {@link DEFAULT_PEER_TIMEOUT_MS}. */
  peerTimeoutMs?: number;
  /** Longest time one fetch may take in all, ms. Default {@link DEFAULT_FETCH_DEADLINE_MS}. */
  fetchDeadlineMs?: number;
}

/** Options of {@link BlobService.fetch}. */
export interface FetchBlobOptions {
  /** Candidate peers, tried in order (this node is skipped). */
  from: string[];
  /** Expected byte length (e.g. from the update message); a peer announcing another length is skipped. */
  expectedLength?: number;
  /** Largest blob accepted for this fetch (below the store's limit). Default: the store's limit. */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** Serves the local {@link BlobStore} and fetches blobs from peers. */
export class BlobService {
  readonly store: BlobStore;
  private readonly chunkBytes: number;
  private readonly peerTimeoutMs: number;
  private readonly fetchDeadlineMs: number;
  private readonly inflight = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly host: Host,
    options: BlobServiceOptions = {},
  ) {
    this.store = new BlobStore(options);
    this.chunkBytes = options.chunkBytes ?? DEFAULT_BLOB_CHUNK_BYTES;
    this.peerTimeoutMs = options.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
    this.fetchDeadlineMs = options.fetchDeadlineMs ?? DEFAULT_FETCH_DEADLINE_MS;
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1) {
      throw new InvalidOptionError('chunkBytes', `expected a positive integer, got ${this.chunkBytes}`);
    }
  }

  /** Registers the protocol handler (call after the host started). */
  async start(): Promise<void> {
    await this.host.handle(BLOB_PROTOCOL, (stream) => this.serve(stream));
  }

  async stop(): Promise<void> {
    await this.host.unhandle(BLOB_PROTOCOL).catch(() => {});
  }

  private async serve(stream: ByteStream): Promise<void> {
    const reader = new StreamReader(stream, this.peerTimeoutMs);
    let hash: string;
    try {
      const req = new ByteReader(await reader.readFrame(64, 'blob request'));
      const v = req.u8('blob.request.version');
      if (v !== VERSION) throw new WireDecodeError('blob.request.version', `unsupported version ${v}`);
      hash = toHex(req.raw('blob.request.hash', 32));
      req.end('blob.request');
    } catch (err) {
      stream.abort(toError(err));
      return;
    }
    const blob = this.store.get(hash);
    const head = new ByteWriter(16);
    if (blob === undefined) {
      head.u8('status', STATUS_NOT_FOUND);
      await stream.sink([head.finish()]);
      return;
    }
    head.u8('status', STATUS_FOUND).uint53('length', blob.length);
    const chunkBytes = this.chunkBytes;
    await pipe(
      function* () {
        yield head.finish();
        yield* chunks(blob, chunkBytes);
      },
      (source) => stream.sink(source),
    );
  }

  /**
   * Returns the blob with sha256 `hash`: from the local store, or fetched from the candidate peers in turn
   * (verified, then stored so this node serves it too). Throws {@link BlobFetchError} listing why each peer
   * failed, or {@link AbortError}.
   */
  async fetch(hash: string, options: FetchBlobOptions): Promise<Uint8Array> {
    if (!isSha256Hex(hash))
      throw new InvalidOptionError('hash', `expected a lowercase sha256 hex, got '${hash}'`);
    const local = this.store.get(hash);
    if (local !== undefined) return local;
    const pending = this.inflight.get(hash);
    if (pending !== undefined) return pending;
    const p = this.fetchFromPeers(hash, options).finally(() => this.inflight.delete(hash));
    this.inflight.set(hash, p);
    return p;
  }

  private async fetchFromPeers(hash: string, options: FetchBlobOptions): Promise<Uint8Array> {
    const { expectedLength } = options;
    const maxBytes = Math.min(options.maxBytes ?? this.store.maxBlobBytes, this.store.maxBlobBytes);
    const deadline = AbortSignal.timeout(this.fetchDeadlineMs);
    const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
    if (expectedLength !== undefined && expectedLength > maxBytes) {
      throw new BlobFetchError(hash, [
        {
          peer: '(local)',
          error: new InvalidOptionError(
            'expectedLength',
            `${expectedLength} bytes exceeds the limit ${maxBytes}`,
          ),
        },
      ]);
    }
    const attempts: { peer: string; error: Error }[] = [];
    const peers = [...new Set(options.from)].filter((p) => p !== this.host.peerId);
    // Peers that are fetching the blob themselves hold it a moment later: try the list again.
    for (let pass = 0; pass < FETCH_PASSES; pass++) {
      if (pass > 0) await sleep(FETCH_RETRY_MS * pass, signal);
      attempts.length = 0;
      for (const peer of peers) {
        if (signal.aborted) throw this.aborted(hash, options.signal, deadline);
        try {
          const bytes = await this.fetchFrom(peer, hash, expectedLength, maxBytes, signal);
          this.store.putVerified(hash, bytes);
          return bytes;
        } catch (err) {
          if (signal.aborted) throw this.aborted(hash, options.signal, deadline);
          if (err instanceof AbortError) throw err;
          attempts.push({ peer, error: toError(err) });
        }
      }
    }
    throw new BlobFetchError(hash, attempts);
  }

  /** The caller's abort as an AbortError; the deadline as a BlobFetchError saying so. */
  private aborted(hash: string, caller: AbortSignal | undefined, deadline: AbortSignal): Error {
    if (caller?.aborted) return new AbortError(`fetch of blob ${hash}`, { cause: caller.reason });
    return new BlobFetchError(hash, [
      {
        peer: '(all)',
        error: new ProtocolError(
          '(all)',
          BLOB_PROTOCOL,
          `no complete blob within ${this.fetchDeadlineMs} ms`,
          {
            cause: deadline.reason,
          },
        ),
      },
    ]);
  }

  private async fetchFrom(
    peer: string,
    hash: string,
    expectedLength: number | undefined,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const stream = await this.host.openStream(peer, BLOB_PROTOCOL, { signal });
    const reader = new StreamReader(stream, this.peerTimeoutMs, signal);
    try {
      const req = new ByteWriter(40)
        .u8('version', VERSION)
        .raw('hash', fromHex('hash', hash, 32))
        .finish();
      await stream.sink([frame(req)]);
      const status = (await reader.readExactly(1, 'blob status'))[0];
      if (status === STATUS_NOT_FOUND) throw reader.protocolError('peer does not hold the blob');
      if (status !== STATUS_FOUND) throw reader.protocolError(`unknown status ${status}`);
      const length = new ByteReader(await reader.readExactly(8, 'blob length')).f64('blob.length');
      if (!Number.isSafeInteger(length) || length < 0 || length > maxBytes) {
        throw reader.protocolError(`announced length ${length} is not in [0, ${maxBytes}]`);
      }
      if (expectedLength !== undefined && length !== expectedLength) {
        throw reader.protocolError(`announced length ${length} differs from the expected ${expectedLength}`);
      }
      // Keep what arrives, not what was announced: a peer that announces much and sends little costs little.
      const parts: Uint8Array[] = [];
      let got = 0;
      while (got < length) {
        if (reader.buffered === 0 && !(await reader.pull('blob body'))) {
          throw reader.protocolError(`stream ended after ${got} of ${length} bytes`);
        }
        const part = reader.take(length - got).slice();
        parts.push(part);
        got += part.length;
      }
      const out = new Uint8Array(length);
      let at = 0;
      for (const part of parts) {
        out.set(part, at);
        at += part.length;
      }
      if (reader.buffered > 0 || (await reader.pull('blob end'))) {
        throw reader.protocolError(`peer sent more than the announced ${length} bytes`);
      }
      const actual = sha256Hex(out);
      if (actual !== hash) throw reader.protocolError(`hash mismatch: received bytes hash to ${actual}`);
      return out;
    } catch (err) {
      stream.abort(toError(err));
      if (err instanceof ProtocolError || err instanceof AbortError) throw err;
      throw new ProtocolError(peer, BLOB_PROTOCOL, toError(err).message, { cause: err });
    } finally {
      await stream.close().catch(() => {});
    }
  }
}
