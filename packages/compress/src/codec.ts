/**
 * Encode / decode one pseudo-gradient update (a Float32Array) in the versioned wire format.
 * The byte layout is described in docs/compression.md.
 */
import { LITTLE_ENDIAN, readF32, readU16, writeF32, writeU16 } from './bytes.ts';
import {
  type CodecName,
  DEFAULT_CHUNK,
  DEFAULT_CODEC,
  DEFAULT_INT8_BLOCK,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_SIGN_DENSE_BELOW,
  DEFAULT_TOPK_FRACTION,
  FORMAT_VERSION,
  HEADER_BYTES,
  MAX_BLOCK,
  MAX_TOPK_CHUNK,
  UPDATE_MAGIC,
} from './constants.ts';
import {
  BadMagicError,
  CompressError,
  IndexOutOfRangeError,
  InvalidHeaderError,
  InvalidOptionError,
  LengthMismatchError,
  MalformedPayloadError,
  NonFiniteValueError,
  TooLargeError,
  TrailingBytesError,
  TruncatedInputError,
  UnknownCodecError,
  UnsupportedVersionError,
  ValueOutOfRangeError,
} from './errors.ts';
import { halfTable, toHalf } from './half.ts';

/** How to encode an update. Every field is optional. */
export interface EncodeOptions {
  /** Codec to use. Default {@link DEFAULT_CODEC} (`'sign'`). */
  codec?: CodecName;
  /** int8: values per absmax block (one fp32 scale each). Default {@link DEFAULT_INT8_BLOCK} (256). */
  blockSize?: number;
  /**
   * sign / top-k: values per chunk (one fp16 scale per chunk for sign; k values per chunk for top-k).
   * With top-k, arrays shorter than the chunk are sent as dense fp16. Default {@link DEFAULT_CHUNK}
   * (4096); at most 65536 for top-k (uint16 indices).
   */
  chunkSize?: number;
  /** sign: arrays shorter than this are sent as dense fp16. Default {@link DEFAULT_SIGN_DENSE_BELOW} (1024). */
  denseBelow?: number;
  /** top-k: values kept per chunk, as a count (1..chunkSize). Takes precedence over `fraction`. */
  k?: number;
  /** top-k: values kept per chunk, as a fraction of the chunk in (0, 1]. Default {@link DEFAULT_TOPK_FRACTION} (0.01). */
  fraction?: number;
}

/** Limits applied when decoding untrusted bytes. */
export interface DecodeOptions {
  /** Required element count; a header announcing another count is rejected. Default: not checked. */
  expectedLength?: number;
  /** Largest accepted buffer in bytes. Default {@link DEFAULT_MAX_BYTES} (1 GiB). */
  maxBytes?: number;
  /** Largest accepted element count. Default {@link DEFAULT_MAX_ELEMENTS} (2^28). */
  maxElements?: number;
}

/** The parsed, validated header of an encoded update. */
export interface UpdateHeader {
  version: number;
  codec: CodecName;
  /** Number of float values the update decodes to. */
  length: number;
  /** int8: block size; sign / top-k: chunk size; 0 for fp32 / fp16. */
  chunkSize: number;
  /** top-k: values kept per full chunk; 0 for other codecs. */
  k: number;
  /** Total size of the encoded update (header + payload) in bytes. */
  byteLength: number;
}

interface Params {
  codec: CodecName;
  chunkSize: number;
  k: number;
}

/**
 * One codec: everything the wire format says about it, in one place. The header always carries
 * (chunkSize, k); each codec gives their meaning, bounds and the payload size they imply.
 */
interface Codec {
  /** Byte 5 of the header. */
  readonly id: number;
  readonly name: CodecName;
  /** Concrete parameters for `length` values (may hand short arrays to fp16); throws on bad options. */
  resolve(options: EncodeOptions, length: number): Params;
  /** Throws {@link InvalidHeaderError} unless a header's (chunkSize, k) are valid for this codec. */
  checkHeader(chunkSize: number, k: number): void;
  /** Exact payload size in bytes for `n` values; bounds what `decode` reads. */
  payloadBytes(n: number, chunkSize: number, k: number): number;
  /** Writes the payload of `values` at `out[o..]`. */
  encode(values: Float32Array, p: Params, out: Uint8Array, o: number): void;
  /** Reads `n` values from the payload at `bytes[o..]` into `out`, validating each. */
  decode(bytes: Uint8Array, o: number, n: number, p: Params, out: Float32Array): void;
}

const isBadNumber = (v: number) => v - v !== 0; // NaN or ±Infinity

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

const DENSE_FP16: Params = Object.freeze({ codec: 'fp16', chunkSize: 0, k: 0 });

/** fp32 / fp16 carry no parameters. */
function checkNoParams(this: Codec, chunkSize: number, k: number): void {
  if (chunkSize !== 0 || k !== 0) {
    throw new InvalidHeaderError(`${this.name} header params are (${chunkSize}, ${k}), expected (0, 0)`);
  }
}

/** int8 / sign carry a block (chunk) size and no k. */
function checkBlockParams(this: Codec, chunkSize: number, k: number): void {
  if (chunkSize < 1 || chunkSize > MAX_BLOCK || k !== 0) {
    throw new InvalidHeaderError(
      `${this.name} header params are (${chunkSize}, ${k}), expected (1..${MAX_BLOCK}, 0)`,
    );
  }
}

function topkTotal(n: number, chunk: number, k: number): number {
  if (n === 0) return 0;
  const chunks = Math.ceil(n / chunk);
  return (chunks - 1) * k + Math.min(k, n - (chunks - 1) * chunk);
}

/** The codecs, keyed by name; the type makes sure each name has exactly one definition. */
const CODECS: { readonly [N in CodecName]: Codec & { readonly name: N } } = {
  fp32: {
    id: 0,
    name: 'fp32',
    resolve: () => ({ codec: 'fp32', chunkSize: 0, k: 0 }),
    checkHeader: checkNoParams,
    payloadBytes: (n) => 4 * n,
    encode: (values, _p, out, o) => writeF32(out, o, values),
    decode: decodeFp32,
  },
  fp16: {
    id: 1,
    name: 'fp16',
    resolve: () => DENSE_FP16,
    checkHeader: checkNoParams,
    payloadBytes: (n) => 2 * n,
    encode: encodeFp16,
    decode: decodeFp16,
  },
  int8: {
    id: 2,
    name: 'int8',
    resolve: (options) => ({
      codec: 'int8',
      chunkSize: checkInt('blockSize', options.blockSize ?? DEFAULT_INT8_BLOCK, 1, MAX_BLOCK),
      k: 0,
    }),
    checkHeader: checkBlockParams,
    payloadBytes: (n, block) => 4 * Math.ceil(n / block) + n,
    encode: encodeInt8,
    decode: decodeInt8,
  },
  sign: {
    id: 3,
    name: 'sign',
    resolve(options, length) {
      const chunkSize = checkInt('chunkSize', options.chunkSize ?? DEFAULT_CHUNK, 1, MAX_BLOCK);
      const denseBelow = checkInt('denseBelow', options.denseBelow ?? DEFAULT_SIGN_DENSE_BELOW, 0, MAX_BLOCK);
      if (length < denseBelow || length === 0) return DENSE_FP16;
      // One chunk covers an array shorter than the chunk: the header then announces its length.
      return { codec: 'sign', chunkSize: Math.min(chunkSize, length), k: 0 };
    },
    checkHeader: checkBlockParams,
    payloadBytes: (n, chunk) => 2 * Math.ceil(n / chunk) + Math.ceil(n / 8),
    encode: encodeSign,
    decode: decodeSign,
  },
  topk: {
    id: 4,
    name: 'topk',
    resolve(options, length) {
      const chunkSize = checkInt('chunkSize', options.chunkSize ?? DEFAULT_CHUNK, 1, MAX_TOPK_CHUNK);
      let k: number;
      if (options.k !== undefined) {
        k = checkInt('k', options.k, 1, chunkSize);
      } else {
        const fraction = options.fraction ?? DEFAULT_TOPK_FRACTION;
        if (!(fraction > 0 && fraction <= 1)) {
          throw new InvalidOptionError('fraction', `must be in (0, 1], got ${fraction}`);
        }
        k = Math.min(chunkSize, Math.max(1, Math.round(fraction * chunkSize)));
      }
      return length < chunkSize ? DENSE_FP16 : { codec: 'topk', chunkSize, k };
    },
    checkHeader(chunkSize, k) {
      if (chunkSize < 1 || chunkSize > MAX_TOPK_CHUNK || k < 1 || k > chunkSize) {
        throw new InvalidHeaderError(
          `topk header params are (chunk ${chunkSize}, k ${k}), expected chunk 1..${MAX_TOPK_CHUNK} and 1 <= k <= chunk`,
        );
      }
    },
    payloadBytes: (n, chunk, k) => 4 * topkTotal(n, chunk, k),
    encode: encodeTopk,
    decode: decodeTopk,
  },
};

/** Codecs in id order (the header's byte 5 indexes this list). */
const CODEC_BY_ID: readonly Codec[] = Object.values(CODECS).sort((a, b) => a.id - b.id);

/** Codec names in id order. */
export const CODEC_NAMES: readonly CodecName[] = CODEC_BY_ID.map((c) => c.name);
/** Codec ids as written in byte 5 of the header. */
export const CODEC_IDS: Readonly<Record<CodecName, number>> = Object.fromEntries(
  CODEC_BY_ID.map((c) => [c.name, c.id]),
) as Record<CodecName, number>;

/** Resolves options to the concrete codec and parameters used for an array of `length` values. */
export function resolveParams(options: EncodeOptions, length: number): Params {
  const codec = options.codec ?? DEFAULT_CODEC;
  if (!Object.hasOwn(CODECS, codec)) {
    throw new UnknownCodecError(
      `option codec must be one of ${CODEC_NAMES.join(', ')}, got ${String(codec)}`,
    );
  }
  return CODECS[codec].resolve(options, length);
}

const payloadBytes = (p: Params, n: number) => CODECS[p.codec].payloadBytes(n, p.chunkSize, p.k);

/** Size in bytes of `encode(values, options)` for an array of `length` values, without encoding. */
export function encodedSize(length: number, options: EncodeOptions = {}): number {
  return HEADER_BYTES + payloadBytes(resolveParams(options, length), length);
}

function writeHeader(out: Uint8Array, p: Params, n: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  dv.setUint32(0, UPDATE_MAGIC, true);
  dv.setUint8(4, FORMAT_VERSION);
  dv.setUint8(5, CODECS[p.codec].id);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, n, true);
  dv.setUint32(12, p.chunkSize, true);
  dv.setUint32(16, p.k, true);
}

function halfOrThrow(v: number, what: string, index: number): number {
  const h = toHalf(v);
  if ((h & 0x7fff) === 0x7c00) {
    throw new ValueOutOfRangeError(
      `${what} at index ${index} is ${v}, outside the fp16 range (|x| <= 65504)`,
    );
  }
  return h;
}

/**
 * Encodes `values` with the chosen codec. Throws {@link NonFiniteValueError} on NaN/Infinity input and
 * {@link ValueOutOfRangeError} when a value that must go as fp16 exceeds its range.
 */
export function encode(values: Float32Array, options: EncodeOptions = {}): Uint8Array {
  if (!(values instanceof Float32Array)) throw new InvalidOptionError('values', 'must be a Float32Array');
  const n = values.length;
  if (n > 0xffffffff) throw new TooLargeError(`values has ${n} elements, more than the u32 header allows`);
  const p = resolveParams(options, n);
  for (let i = 0; i < n; i++) {
    if (isBadNumber(values[i])) throw new NonFiniteValueError(`input value at index ${i} is ${values[i]}`);
  }
  const out = new Uint8Array(HEADER_BYTES + payloadBytes(p, n));
  writeHeader(out, p, n);
  CODECS[p.codec].encode(values, p, out, HEADER_BYTES);
  return out;
}

/** Parses and validates the header of an encoded update against `options`, without decoding the payload. */
export function readHeader(bytes: Uint8Array, options: DecodeOptions = {}): UpdateHeader {
  if (!(bytes instanceof Uint8Array)) throw new InvalidOptionError('bytes', 'must be a Uint8Array');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
  if (bytes.length > maxBytes)
    throw new TooLargeError(`update is ${bytes.length} bytes, more than maxBytes ${maxBytes}`);
  if (bytes.length < HEADER_BYTES) {
    throw new TruncatedInputError(
      `update is ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const magic = dv.getUint32(0, true);
  if (magic !== UPDATE_MAGIC) {
    throw new BadMagicError(`update magic is 0x${magic.toString(16).padStart(8, '0')}, expected "ENJC"`);
  }
  const version = dv.getUint8(4);
  if (version !== FORMAT_VERSION) {
    throw new UnsupportedVersionError(
      `update format version is ${version}, this build reads version ${FORMAT_VERSION}`,
    );
  }
  const codecId = dv.getUint8(5);
  const codec = CODEC_BY_ID[codecId];
  if (codec === undefined)
    throw new UnknownCodecError(`update codec id is ${codecId}, expected 0..${CODEC_BY_ID.length - 1}`);
  const flags = dv.getUint16(6, true);
  if (flags !== 0)
    throw new InvalidHeaderError(`update header flags are 0x${flags.toString(16)}, expected 0`);
  const length = dv.getUint32(8, true);
  if (options.expectedLength !== undefined && length !== options.expectedLength) {
    throw new LengthMismatchError(`update has ${length} elements, expected ${options.expectedLength}`);
  }
  if (length > maxElements) {
    throw new TooLargeError(`update claims ${length} elements, more than maxElements ${maxElements}`);
  }
  const chunkSize = dv.getUint32(12, true);
  const k = dv.getUint32(16, true);
  codec.checkHeader(chunkSize, k);
  const byteLength = HEADER_BYTES + codec.payloadBytes(length, chunkSize, k);
  if (bytes.length < byteLength) {
    throw new TruncatedInputError(
      `${codec.name} update of ${length} elements needs ${byteLength} bytes, got ${bytes.length}`,
    );
  }
  if (bytes.length > byteLength) {
    throw new TrailingBytesError(
      `${codec.name} update of ${length} elements is ${byteLength} bytes, got ${bytes.length}`,
    );
  }
  return { version, codec: codec.name, length, chunkSize, k, byteLength };
}

/**
 * Decodes an update, validating every field first. Throws a {@link CompressError} subclass (never reads
 * out of bounds) on malformed input. The result is a fresh array containing only finite values.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Float32Array {
  const h = readHeader(bytes, options);
  const n = h.length;
  const out = new Float32Array(n);
  CODECS[h.codec].decode(bytes, HEADER_BYTES, n, h, out);
  return out;
}

function encodeFp16(values: Float32Array, _p: Params, out: Uint8Array, o: number): void {
  const n = values.length;
  const h = new Uint16Array(n);
  for (let i = 0; i < n; i++) h[i] = halfOrThrow(values[i], 'value', i);
  writeU16(out, o, h);
}

function encodeInt8(values: Float32Array, p: Params, out: Uint8Array, o: number): void {
  const block = p.chunkSize;
  const n = values.length;
  const blocks = Math.ceil(n / block);
  const scales = new Float32Array(blocks);
  const q = new Int8Array(out.buffer, out.byteOffset + o + 4 * blocks, n);
  for (let b = 0; b < blocks; b++) {
    const start = b * block;
    const end = Math.min(n, start + block);
    let absmax = 0;
    for (let i = start; i < end; i++) {
      const a = Math.abs(values[i]);
      if (a > absmax) absmax = a;
    }
    const scale = Math.fround(absmax / 127);
    scales[b] = scale;
    if (scale === 0) continue; // all zeros (or below float32 range): q stays 0
    const inv = 1 / scale;
    for (let i = start; i < end; i++) {
      let v = Math.round(values[i] * inv);
      if (v > 127) v = 127;
      else if (v < -127) v = -127;
      q[i] = v;
    }
  }
  writeF32(out, o, scales);
}

function encodeSign(values: Float32Array, p: Params, out: Uint8Array, o: number): void {
  const chunk = p.chunkSize;
  const n = values.length;
  const chunks = Math.ceil(n / chunk);
  const scales = new Uint16Array(chunks);
  for (let c = 0; c < chunks; c++) {
    const start = c * chunk;
    const end = Math.min(n, start + chunk);
    let sum = 0;
    for (let i = start; i < end; i++) sum += Math.abs(values[i]);
    scales[c] = halfOrThrow(sum / (end - start), 'sign scale of chunk', c);
  }
  writeU16(out, o, scales);
  const bits = o + 2 * chunks;
  const full = n >>> 3;
  for (let j = 0; j < full; j++) {
    const i = j << 3;
    out[bits + j] =
      (values[i] < 0 ? 1 : 0) |
      (values[i + 1] < 0 ? 2 : 0) |
      (values[i + 2] < 0 ? 4 : 0) |
      (values[i + 3] < 0 ? 8 : 0) |
      (values[i + 4] < 0 ? 16 : 0) |
      (values[i + 5] < 0 ? 32 : 0) |
      (values[i + 6] < 0 ? 64 : 0) |
      (values[i + 7] < 0 ? 128 : 0);
  }
  if (n & 7) {
    let byte = 0;
    for (let i = full << 3; i < n; i++) if (values[i] < 0) byte |= 1 << (i & 7);
    out[bits + full] = byte;
  }
}

/** Returns the value of rank `kth` (0-based, ascending) among a[0..n), partially reordering `a`. */
function quickselect(a: Float32Array, n: number, kth: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return a[kth];
  }
  return a[kth];
}

function encodeTopk(values: Float32Array, p: Params, out: Uint8Array, o: number): void {
  const { chunkSize: chunk, k } = p;
  const n = values.length;
  const total = topkTotal(n, chunk, k);
  const idx = new Uint16Array(total);
  const val = new Uint16Array(total);
  const scratch = new Float32Array(chunk);
  let w = 0;
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const kc = Math.min(k, len);
    for (let i = 0; i < len; i++) scratch[i] = Math.abs(values[start + i]);
    const threshold = quickselect(scratch, len, len - kc);
    let above = 0;
    for (let i = 0; i < len; i++) if (Math.abs(values[start + i]) > threshold) above++;
    let ties = kc - above; // values equal to the threshold to keep, lowest index first
    for (let i = 0; i < len; i++) {
      const v = values[start + i];
      const a = Math.abs(v);
      if (a > threshold || (a === threshold && ties-- > 0)) {
        idx[w] = i;
        val[w] = halfOrThrow(v, 'top-k value', start + i);
        w++;
      }
    }
  }
  writeU16(out, o, idx);
  writeU16(out, o + 2 * total, val);
}

function decodeFp32(bytes: Uint8Array, o: number, n: number, _p: Params, out: Float32Array): void {
  const src = readF32(bytes, o, n);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (isBadNumber(v)) throw new NonFiniteValueError(`fp32 value at index ${i} is ${v}`);
    out[i] = v;
  }
}

function decodeFp16(bytes: Uint8Array, o: number, n: number, _p: Params, out: Float32Array): void {
  const src = readU16(bytes, o, n);
  const t = halfTable();
  for (let i = 0; i < n; i++) {
    const b = src[i];
    if ((b & 0x7c00) === 0x7c00) throw new NonFiniteValueError(`fp16 value at index ${i} is ${t[b]}`);
    out[i] = t[b];
  }
}

function checkScale(s: number, what: string, index: number): void {
  if (isBadNumber(s)) throw new NonFiniteValueError(`${what} scale of block ${index} is ${s}`);
  if (s < 0) throw new MalformedPayloadError(`${what} scale of block ${index} is negative (${s})`);
}

function decodeInt8(bytes: Uint8Array, o: number, n: number, p: Params, out: Float32Array): void {
  const block = p.chunkSize;
  const blocks = Math.ceil(n / block);
  const scales = readF32(bytes, o, blocks);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + o + 4 * blocks, n);
  for (let b = 0; b < blocks; b++) {
    const s = scales[b];
    checkScale(s, 'int8', b);
    const end = Math.min(n, (b + 1) * block);
    for (let i = b * block; i < end; i++) {
      const v = q[i];
      if (v === -128) throw new MalformedPayloadError(`int8 value at index ${i} is -128, expected -127..127`);
      out[i] = v * s;
    }
  }
}

function decodeSign(bytes: Uint8Array, o: number, n: number, p: Params, out: Float32Array): void {
  const chunk = p.chunkSize;
  const chunks = Math.ceil(n / chunk);
  const scaleBits = readU16(bytes, o, chunks);
  const t = halfTable();
  const bits = o + 2 * chunks;
  for (let c = 0; c < chunks; c++) {
    const s = t[scaleBits[c]];
    checkScale(s, 'sign', c);
    const end = Math.min(n, (c + 1) * chunk);
    for (let i = c * chunk; i < end; i++) out[i] = (bytes[bits + (i >>> 3)] >>> (i & 7)) & 1 ? -s : s;
  }
  if (n & 7 && bytes[bits + (n >>> 3)] >>> (n & 7) !== 0) {
    throw new MalformedPayloadError('sign payload has non-zero padding bits after the last value');
  }
}

function decodeTopk(bytes: Uint8Array, o: number, n: number, p: Params, out: Float32Array): void {
  const { chunkSize: chunk, k } = p;
  const total = topkTotal(n, chunk, k);
  const idx = readU16(bytes, o, total);
  const val = readU16(bytes, o + 2 * total, total);
  const t = halfTable();
  let r = 0;
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const kc = Math.min(k, len);
    let prev = -1;
    for (let j = 0; j < kc; j++, r++) {
      const i = idx[r];
      if (i >= len) {
        throw new IndexOutOfRangeError(
          `topk index ${i} in chunk at ${start} is outside the chunk length ${len}`,
        );
      }
      if (i <= prev) {
        throw new MalformedPayloadError(
          `topk indices in chunk at ${start} are not strictly increasing (${prev}, ${i})`,
        );
      }
      prev = i;
      const b = val[r];
      if ((b & 0x7c00) === 0x7c00)
        throw new NonFiniteValueError(`topk value for index ${start + i} is ${t[b]}`);
      out[start + i] = t[b];
    }
  }
}

/** True when `e` is an error raised by this package. */
export function isCompressError(e: unknown): e is CompressError {
  return e instanceof CompressError;
}

/** Whether this platform stores typed arrays little-endian (the wire order); informational. */
export const NATIVE_LITTLE_ENDIAN = LITTLE_ENDIAN;
