/**
 * Tiny bounded binary reader/writer used by the wire format and the direct protocols. Little-endian. Every read
 * checks the remaining length first, and every length-prefixed field is checked against a caller-supplied maximum
 * before anything is allocated; failures are {@link WireDecodeError}s naming the field.
 */
import { toString as bytesToString, fromString } from 'uint8arrays';
import { WireDecodeError, WireEncodeError } from './errors.ts';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Growable little-endian byte writer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(field: string, v: number): this {
    checkInt(field, v, 0, 0xff);
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }

  u16(field: string, v: number): this {
    checkInt(field, v, 0, 0xffff);
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }

  u32(field: string, v: number): this {
    checkInt(field, v, 0, 0xffffffff);
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  /** A non-negative integer up to 2^53 − 1, stored as a float64. */
  uint53(field: string, v: number): this {
    checkInt(field, v, 0, Number.MAX_SAFE_INTEGER);
    return this.f64(field, v);
  }

  f32(_field: string, v: number): this {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  f64(field: string, v: number): this {
    if (typeof v !== 'number') throw new WireEncodeError(field, `expected a number, got ${typeof v}`);
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  /** Raw bytes without a length prefix (fixed-size fields). */
  raw(field: string, bytes: Uint8Array, expectedLength?: number): this {
    if (!(bytes instanceof Uint8Array)) throw new WireEncodeError(field, 'expected a Uint8Array');
    if (expectedLength !== undefined && bytes.length !== expectedLength) {
      throw new WireEncodeError(field, `expected exactly ${expectedLength} bytes, got ${bytes.length}`);
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** u32 length prefix + bytes, at most `max` bytes. */
  bytes(field: string, bytes: Uint8Array, max: number): this {
    if (!(bytes instanceof Uint8Array)) throw new WireEncodeError(field, 'expected a Uint8Array');
    if (bytes.length > max)
      throw new WireEncodeError(field, `${bytes.length} bytes exceeds the maximum ${max}`);
    this.u32(field, bytes.length);
    return this.raw(field, bytes);
  }

  /** u8 length prefix + UTF-8, at most `maxBytes` (≤ 255) bytes once encoded. */
  str8(field: string, s: string, maxBytes: number): this {
    if (typeof s !== 'string') throw new WireEncodeError(field, `expected a string, got ${typeof s}`);
    const b = textEncoder.encode(s);
    if (b.length > maxBytes || b.length > 0xff) {
      throw new WireEncodeError(
        field,
        `${b.length} UTF-8 bytes exceeds the maximum ${Math.min(maxBytes, 255)}`,
      );
    }
    this.u8(field, b.length);
    return this.raw(field, b);
  }

  /** u16 length prefix + UTF-8, at most `maxBytes` (≤ 65535) bytes once encoded. */
  str16(field: string, s: string, maxBytes: number): this {
    if (typeof s !== 'string') throw new WireEncodeError(field, `expected a string, got ${typeof s}`);
    const b = textEncoder.encode(s);
    if (b.length > maxBytes || b.length > 0xffff) {
      throw new WireEncodeError(
        field,
        `${b.length} UTF-8 bytes exceeds the maximum ${Math.min(maxBytes, 65535)}`,
      );
    }
    this.u16(field, b.length);
    return this.raw(field, b);
  }

  get length(): number {
    return this.pos;
  }

  /** The written bytes (a copy trimmed to length). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function checkInt(field: string, v: number, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new WireEncodeError(field, `expected an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

/** Bounds-checked little-endian reader over a byte array. */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(field: string, n: number): void {
    if (this.remaining < n) {
      throw new WireDecodeError(
        field,
        `truncated: needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`,
      );
    }
  }

  u8(field: string): number {
    this.need(field, 1);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u16(field: string): number {
    this.need(field, 2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(field, 4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f32(field: string): number {
    this.need(field, 4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(field: string): number {
    this.need(field, 8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A float64 that must hold a non-negative safe integer. */
  uint53(field: string): number {
    const v = this.f64(field);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new WireDecodeError(field, `expected a non-negative integer, got ${v}`);
    }
    return v;
  }

  /** A float64 that must be finite and ≥ 0. */
  nonNegative(field: string): number {
    const v = this.f64(field);
    if (!Number.isFinite(v) || v < 0)
      throw new WireDecodeError(field, `expected a finite number ≥ 0, got ${v}`);
    return v;
  }

  /** Fixed-size field; returns a view (no copy). */
  raw(field: string, n: number): Uint8Array {
    this.need(field, n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** u32 length-prefixed bytes; the length is checked against `max` and the remaining input before use. */
  bytes(field: string, max: number): Uint8Array {
    const n = this.u32(`${field}.length`);
    if (n > max) throw new WireDecodeError(field, `length ${n} exceeds the maximum ${max}`);
    return this.raw(field, n);
  }

  str8(field: string, maxBytes: number): string {
    const n = this.u8(`${field}.length`);
    if (n > maxBytes) throw new WireDecodeError(field, `length ${n} exceeds the maximum ${maxBytes}`);
    return decodeUtf8(field, this.raw(field, n));
  }

  str16(field: string, maxBytes: number): string {
    const n = this.u16(`${field}.length`);
    if (n > maxBytes) throw new WireDecodeError(field, `length ${n} exceeds the maximum ${maxBytes}`);
    return decodeUtf8(field, this.raw(field, n));
  }

  /** Throws unless all input was consumed. */
  end(field: string): void {
    if (this.remaining !== 0) throw new WireDecodeError(field, `${this.remaining} unexpected trailing bytes`);
  }
}

function decodeUtf8(field: string, b: Uint8Array): string {
  try {
    return textDecoder.decode(b);
  } catch {
    throw new WireDecodeError(field, 'invalid UTF-8');
  }
}

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  return bytesToString(b, 'base16');
}

const HEX_RE = /^[0-9a-f]*$/;

/** Parses lowercase/uppercase hex of exactly `bytes` bytes; throws WireEncodeError naming `field`. */
export function fromHex(field: string, hex: string, bytes: number): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== bytes * 2 || !HEX_RE.test(hex.toLowerCase())) {
    throw new WireEncodeError(
      field,
      `expected ${bytes * 2} hex characters, got '${String(hex).slice(0, 80)}'`,
    );
  }
  return fromString(hex.toLowerCase(), 'base16');
}

/** True when `hex` is exactly `bytes` bytes of hex. */
export function isHex(hex: unknown, bytes: number): hex is string {
  return typeof hex === 'string' && hex.length === bytes * 2 && HEX_RE.test(hex.toLowerCase());
}
