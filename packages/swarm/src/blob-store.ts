/** In-memory content-addressed (sha256) blob store, bounded in total bytes, evicting least recently used. */
import { createHash } from 'node:crypto';
import { isHex } from './binary.ts';
import { BlobTooLargeError, InvalidOptionError } from './errors.ts';

/** Default bound of all blobs held in memory: 512 MiB. */
export const DEFAULT_BLOB_STORE_MAX_BYTES = 512 * 1024 * 1024;
/** Default bound of one blob: 256 MiB. */
export const DEFAULT_MAX_BLOB_BYTES = 256 * 1024 * 1024;

/** Options of {@link BlobStore}. */
export interface BlobStoreOptions {
  /** Total bytes held before least-recently-used blobs are evicted. Default {@link DEFAULT_BLOB_STORE_MAX_BYTES}. */
  maxBytes?: number;
  /** Largest single blob accepted (stored or fetched). Default {@link DEFAULT_MAX_BLOB_BYTES}. */
  maxBlobBytes?: number;
}

/** sha256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** True when `hash` is a sha256 in lowercase hex. */
export function isSha256Hex(hash: unknown): hash is string {
  return isHex(hash, 32) && hash === hash.toLowerCase();
}

/**
 * Content-addressed store. Stored arrays are kept by reference: do not mutate a blob after `put`.
 */
export class BlobStore {
  readonly maxBytes: number;
  readonly maxBlobBytes: number;
  private readonly blobs = new Map<string, Uint8Array>();
  private total = 0;

  constructor(options: BlobStoreOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_BLOB_STORE_MAX_BYTES;
    this.maxBlobBytes = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes <= 0) {
      throw new InvalidOptionError('blobStore.maxBytes', `expected a positive integer, got ${this.maxBytes}`);
    }
    if (
      !Number.isSafeInteger(this.maxBlobBytes) ||
      this.maxBlobBytes <= 0 ||
      this.maxBlobBytes > this.maxBytes
    ) {
      throw new InvalidOptionError(
        'blobStore.maxBlobBytes',
        `expected a positive integer ≤ maxBytes (${this.maxBytes}), got ${this.maxBlobBytes}`,
      );
    }
  }

  /** Stores `bytes` and returns its sha256 (hex). Evicts least recently used blobs to make room. */
  put(bytes: Uint8Array): string {
    const hash = sha256Hex(bytes);
    this.putVerified(hash, bytes);
    return hash;
  }

  /** Stores bytes whose sha256 the caller has just verified to be `hash`. */
  putVerified(hash: string, bytes: Uint8Array): void {
    if (bytes.length > this.maxBlobBytes) {
      throw new BlobTooLargeError(
        `blob of ${bytes.length} bytes exceeds the store's per-blob limit ${this.maxBlobBytes}`,
      );
    }
    const old = this.blobs.get(hash);
    if (old !== undefined) {
      this.blobs.delete(hash);
      this.blobs.set(hash, old);
      return;
    }
    while (this.total + bytes.length > this.maxBytes && this.blobs.size > 0) {
      const [oldest, b] = this.blobs.entries().next().value as [string, Uint8Array];
      this.blobs.delete(oldest);
      this.total -= b.length;
    }
    this.blobs.set(hash, bytes);
    this.total += bytes.length;
  }

  /** The blob with this hash (marking it recently used), or undefined. */
  get(hash: string): Uint8Array | undefined {
    const b = this.blobs.get(hash);
    if (b !== undefined) {
      this.blobs.delete(hash);
      this.blobs.set(hash, b);
    }
    return b;
  }

  has(hash: string): boolean {
    return this.blobs.has(hash);
  }

  delete(hash: string): boolean {
    const b = this.blobs.get(hash);
    if (b === undefined) return false;
    this.blobs.delete(hash);
    this.total -= b.length;
    return true;
  }

  /** Number of blobs held. */
  get size(): number {
    return this.blobs.size;
  }

  /** Total bytes held. */
  get bytes(): number {
    return this.total;
  }
}
