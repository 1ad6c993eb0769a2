/**
 * A model's parameter list (`{name, values}[]`) as one buffer: a small directory of names plus one
 * encoded update per tensor. Layout in docs/compression.md.
 */
import { type DecodeOptions, decode, type EncodeOptions, encode } from './codec.ts';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ELEMENTS,
  FORMAT_VERSION,
  LIST_HEADER_BYTES,
  LIST_MAGIC,
  MAX_TENSORS,
} from './constants.ts';
import {
  BadMagicError,
  InvalidHeaderError,
  InvalidOptionError,
  TensorMismatchError,
  TooLargeError,
  TrailingBytesError,
  TruncatedInputError,
  UnsupportedVersionError,
} from './errors.ts';

/** One named tensor of a model, flattened. */
export interface Tensor {
  name: string;
  values: Float32Array;
}

/** What the receiver expects for one tensor. */
export interface TensorSpec {
  name: string;
  length: number;
}

/** Limits for {@link decodeTensors}. `maxElements` bounds the sum over all tensors. */
export type DecodeTensorsOptions = Omit<DecodeOptions, 'expectedLength'>;

/** Longest tensor name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024;

const pad4 = (n: number) => (4 - (n & 3)) & 3;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes every tensor with `options` (sign/top-k send tensors shorter than a chunk as dense fp16)
 * into one buffer.
 */
export function encodeTensors(tensors: readonly Tensor[], options: EncodeOptions = {}): Uint8Array {
  return packTensors(tensors.map((t) => ({ name: t.name, bytes: encode(t.values, options) })));
}

/** Packs already-encoded updates (see {@link encode}) into one tensor-list buffer. */
export function packTensors(parts: readonly { name: string; bytes: Uint8Array }[]): Uint8Array {
  if (parts.length > MAX_TENSORS)
    throw new InvalidOptionError('tensors', `tensor list has ${parts.length} tensors, max ${MAX_TENSORS}`);
  const names = parts.map((p) => utf8.encode(p.name));
  let size = LIST_HEADER_BYTES;
  for (let i = 0; i < parts.length; i++) {
    if (names[i].length > MAX_NAME_BYTES) {
      throw new InvalidOptionError(
        'tensors',
        `tensor name "${parts[i].name.slice(0, 40)}..." is longer than ${MAX_NAME_BYTES} bytes`,
      );
    }
    size += 2 + names[i].length;
    size += pad4(size) + 4 + parts[i].bytes.length;
    size += pad4(size);
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, LIST_MAGIC, true);
  dv.setUint8(4, FORMAT_VERSION);
  dv.setUint32(8, parts.length, true);
  let o = LIST_HEADER_BYTES;
  for (let i = 0; i < parts.length; i++) {
    dv.setUint16(o, names[i].length, true);
    out.set(names[i], o + 2);
    o += 2 + names[i].length;
    o += pad4(o);
    dv.setUint32(o, parts[i].bytes.length, true);
    out.set(parts[i].bytes, o + 4);
    o += 4 + parts[i].bytes.length;
    o += pad4(o);
  }
  return out;
}

/**
 * Splits a tensor-list buffer into its named encoded updates, checking names against `expected` (same
 * order) and structural bounds. Payloads are not decoded (see {@link decodeTensors}).
 */
export function unpackTensors(
  bytes: Uint8Array,
  expected: readonly TensorSpec[],
  options: DecodeTensorsOptions = {},
): { name: string; bytes: Uint8Array }[] {
  if (!(bytes instanceof Uint8Array)) throw new InvalidOptionError('bytes', 'must be a Uint8Array');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes)
    throw new TooLargeError(`tensor list is ${bytes.length} bytes, more than maxBytes ${maxBytes}`);
  if (bytes.length < LIST_HEADER_BYTES) {
    throw new TruncatedInputError(
      `tensor list is ${bytes.length} bytes, shorter than its ${LIST_HEADER_BYTES}-byte header`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== LIST_MAGIC) {
    throw new BadMagicError(`tensor list magic is 0x${magic.toString(16).padStart(8, '0')}, expected "ENJL"`);
  }
  const version = dv.getUint8(4);
  if (version !== FORMAT_VERSION) {
    throw new UnsupportedVersionError(
      `tensor list version is ${version}, this build reads version ${FORMAT_VERSION}`,
    );
  }
  if (dv.getUint8(5) !== 0 || dv.getUint16(6, true) !== 0) {
    throw new InvalidHeaderError('tensor list reserved bytes 5..7 must be 0');
  }
  const count = dv.getUint32(8, true);
  if (count !== expected.length) {
    throw new TensorMismatchError(`tensor list has ${count} tensors, expected ${expected.length}`);
  }
  const need = (o: number, n: number, what: string) => {
    if (o + n > bytes.length) {
      throw new TruncatedInputError(
        `tensor list ends at byte ${bytes.length} inside ${what} (needs ${o + n})`,
      );
    }
  };
  const checkPad = (o: number, n: number, what: string) => {
    need(o, n, what);
    for (let j = 0; j < n; j++) {
      if (bytes[o + j] !== 0) throw new InvalidHeaderError(`tensor list padding after ${what} is not zero`);
    }
  };
  const parts: { name: string; bytes: Uint8Array }[] = [];
  let o = LIST_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const spec = expected[i];
    need(o, 2, `the name length of tensor ${i}`);
    const nameLen = dv.getUint16(o, true);
    if (nameLen > MAX_NAME_BYTES)
      throw new InvalidHeaderError(`tensor ${i} name is ${nameLen} bytes, max ${MAX_NAME_BYTES}`);
    need(o + 2, nameLen, `the name of tensor ${i}`);
    let name: string;
    try {
      name = utf8Strict.decode(bytes.subarray(o + 2, o + 2 + nameLen));
    } catch {
      throw new InvalidHeaderError(`tensor ${i} name is not valid UTF-8`);
    }
    if (name !== spec.name) {
      throw new TensorMismatchError(`tensor ${i} is named "${name.slice(0, 80)}", expected "${spec.name}"`);
    }
    o += 2 + nameLen;
    checkPad(o, pad4(o), `the name of "${name}"`);
    o += pad4(o);
    need(o, 4, `the segment length of "${name}"`);
    const len = dv.getUint32(o, true);
    need(o + 4, len, `the update of "${name}"`);
    parts.push({ name, bytes: bytes.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
    checkPad(o, pad4(o), `the update of "${name}"`);
    o += pad4(o);
  }
  if (o !== bytes.length) throw new TrailingBytesError(`tensor list is ${o} bytes long, got ${bytes.length}`);
  return parts;
}

/**
 * Decodes a tensor-list buffer against the expected names and sizes (same order). Every tensor is
 * validated like {@link decode} with `expectedLength` = its spec's length.
 */
export function decodeTensors(
  bytes: Uint8Array,
  expected: readonly TensorSpec[],
  options: DecodeTensorsOptions = {},
): Tensor[] {
  const maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
  let total = 0;
  for (const s of expected) {
    if (!Number.isInteger(s.length) || s.length < 0) {
      throw new InvalidOptionError(
        'expected',
        `length of tensor "${s.name}" must be a non-negative integer, got ${s.length}`,
      );
    }
    total += s.length;
  }
  if (total > maxElements)
    throw new TooLargeError(`expected tensors hold ${total} elements, more than maxElements ${maxElements}`);
  const parts = unpackTensors(bytes, expected, options);
  return parts.map((p, i) => ({
    name: p.name,
    values: decode(p.bytes, { expectedLength: expected[i].length, maxBytes: options.maxBytes, maxElements }),
  }));
}
