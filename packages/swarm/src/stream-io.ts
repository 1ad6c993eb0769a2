/**
 * Helpers to read bounded frames from a {@link ByteStream} without ever hanging: every read races the
 * stream against an idle timer and the caller's AbortSignal, and every length is checked before use.
 */
import { Uint8ArrayList } from 'uint8arraylist';
import { AbortError, PeerTimeoutError, ProtocolError, toError } from './errors.ts';
import type { ByteStream } from './host.ts';

/** Default idle timeout of a direct-protocol exchange: no byte for this long fails the exchange (ms). */
export const DEFAULT_PEER_TIMEOUT_MS = 10_000;

/** Reads from a stream with an idle timeout and an abort signal. */
export class StreamReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private readonly buf = new Uint8ArrayList();
  private ended = false;

  constructor(
    private readonly stream: ByteStream,
    private readonly idleMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.it = stream.source[Symbol.asyncIterator]();
  }

  /** Bytes buffered but not yet consumed. */
  get buffered(): number {
    return this.buf.byteLength;
  }

  /** Pulls one more chunk into the buffer; returns false at end of stream. */
  async pull(what: string): Promise<boolean> {
    if (this.ended) return false;
    const res = await this.race(this.it.next(), what);
    if (res.done === true) {
      this.ended = true;
      return false;
    }
    if (res.value.length > 0) this.buf.append(res.value);
    return true;
  }

  /** Reads exactly `n` bytes (n must already be bounded by the caller). */
  async readExactly(n: number, what: string): Promise<Uint8Array> {
    while (this.buf.byteLength < n) {
      if (!(await this.pull(what))) {
        throw this.protocolError(
          `stream ended while reading ${what}: needed ${n} bytes, got ${this.buf.byteLength}`,
        );
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf.consume(n);
    return out;
  }

  /** Reads a u32 little-endian length prefix, checks it against `max`, then reads the frame. */
  async readFrame(max: number, what: string): Promise<Uint8Array> {
    const head = await this.readExactly(4, `${what} length`);
    const n = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
    if (n > max) throw this.protocolError(`${what} frame of ${n} bytes exceeds the maximum ${max}`);
    return this.readExactly(n, what);
  }

  /** Takes whatever is buffered (up to `max` bytes). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.buf.byteLength);
    const out = this.buf.subarray(0, n);
    this.buf.consume(n);
    return out;
  }

  /** Resolves when the remote closed its side; fails if more bytes arrive. */
  async expectEnd(what: string): Promise<void> {
    if (this.buf.byteLength > 0 || (await this.pull(what))) {
      throw this.protocolError(`unexpected extra bytes after ${what}`);
    }
  }

  protocolError(message: string): ProtocolError {
    return new ProtocolError(this.stream.remotePeer, this.stream.protocol, message);
  }

  private race<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        const err = new AbortError(`${this.stream.protocol} with ${this.stream.remotePeer}`, {
          cause: this.signal?.reason,
        });
        this.stream.abort(err);
        reject(err);
      };
      const timer = setTimeout(() => {
        cleanup();
        const err = new PeerTimeoutError(
          this.stream.remotePeer,
          this.stream.protocol,
          `no data for ${this.idleMs} ms while reading ${what}`,
        );
        this.stream.abort(err);
        reject(err);
      }, this.idleMs);
      if (this.signal?.aborted) {
        onAbort();
        return;
      }
      this.signal?.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          cleanup();
          resolve(v);
        },
        (err) => {
          cleanup();
          reject(
            err instanceof ProtocolError || err instanceof AbortError
              ? err
              : this.protocolError(`stream failed while reading ${what}: ${toError(err).message}`),
          );
        },
      );
    });
  }
}

/** u32 little-endian length prefix + bytes. */
export function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, true);
  out.set(bytes, 4);
  return out;
}

/** Splits `bytes` into views of at most `size` bytes. */
export function* chunks(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let off = 0; off < bytes.length; off += size)
    yield bytes.subarray(off, Math.min(off + size, bytes.length));
}
