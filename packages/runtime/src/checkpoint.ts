/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   a UTF-8 JSON object: {"__metadata__": {string: string}, name: {dtype, shape, data_offsets}}
 *             padded with spaces so that the data starts 8-byte aligned
 *   the rest  the tensors' bytes, little-endian, contiguous, no holes, offsets relative to here
 *
 * Writes are atomic (temp file in the same directory, fsync, rename, fsync of the directory), so
 * a crash leaves either the previous checkpoint or the new one, never a partial file. Reads check
 * every bound and offset before touching the data.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { HostTensor } from '@enjambre/autograd';
import { allocate, type DataType, numElements } from '@enjambre/onnx';
import { CheckpointError, CheckpointWriteError } from './errors.ts';
import { throwIfAborted } from './providers.ts';

/** Header size above which a file is rejected (the reference implementation's limit too). */
export const MAX_HEADER_BYTES = 100_000_000;
/** The header key that holds string metadata. */
export const METADATA_KEY = '__metadata__';

/** safetensors dtype names of the element types Enjambre stores. */
export const SAFETENSORS_DTYPES: Readonly<Record<DataType, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  int64: 'I64',
  int32: 'I32',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_SAFETENSORS = new Map<string, DataType>(
  Object.entries(SAFETENSORS_DTYPES).map(([k, v]) => [v, k as DataType]),
);
/** dtypes of the format that Enjambre does not hold in memory; named in the error. */
const KNOWN_UNSUPPORTED = new Set([
  'BF16',
  'I16',
  'U16',
  'U32',
  'U64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
]);
const ELEMENT_BYTES: Readonly<Record<DataType, number>> = {
  float64: 8,
  int64: 8,
  float32: 4,
  int32: 4,
  float16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Position of each dtype in the file, as the reference (Rust) implementation orders them. */
const DTYPE_ORDER: Readonly<Record<DataType, number>> = {
  int64: 0,
  float64: 1,
  float32: 2,
  int32: 3,
  float16: 4,
  int8: 5,
  uint8: 6,
  bool: 7,
};

/** Named tensors, as written and as read. */
export type TensorMap = Record<string, HostTensor>;

/** A decoded checkpoint. */
export interface Checkpoint {
  /** Tensors by name, in file order. */
  tensors: TensorMap;
  /** The `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
}

/**
 * Metadata to store: strings are kept verbatim, any other JSON-serialisable value (numbers,
 * objects: model spec, vocab, sampler state) is stored as its JSON text. `undefined` values are
 * left out.
 */
export type CheckpointMetadata = Record<string, unknown>;

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** Aborts before the rename (the previous checkpoint is then kept). */
  signal?: AbortSignal;
  /** fsync the file and its directory. Default: true (turning it off loses crash safety). */
  durable?: boolean;
}

/** Converts metadata values to the strings safetensors stores. */
export function metadataStrings(metadata: CheckpointMetadata, file = '<buffer>'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (v === undefined) continue;
    if (typeof v === 'string') {
      out[k] = v;
      continue;
    }
    let s: string | undefined;
    try {
      s = JSON.stringify(v, (_key, x) => (typeof x === 'bigint' ? x.toString() : x));
    } catch (e) {
      throw new CheckpointWriteError(`metadata ${k} is not JSON-serialisable: ${(e as Error).message}`, file);
    }
    if (s === undefined) throw new CheckpointWriteError(`metadata ${k} is not JSON-serialisable`, file);
    out[k] = s;
  }
  return out;
}

/** The header bytes and the ordered data views of an encoded checkpoint. */
interface Encoded {
  header: Uint8Array;
  chunks: Uint8Array[];
  byteLength: number;
}

function encodeParts(tensors: TensorMap, metadata: CheckpointMetadata, file: string): Encoded {
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === METADATA_KEY)
      throw new CheckpointWriteError(`a tensor cannot be named ${METADATA_KEY}`, file);
    if (name.length === 0) throw new CheckpointWriteError('a tensor name is empty', file);
    checkTensor(name, tensors[name], file);
  }
  // The reference implementation's order: dtype (I64, F64, F32, I32, F16, I8, U8, BOOL), then name.
  // Element sizes never grow along it, so every tensor starts aligned to its element size.
  names.sort((a, b) => {
    const d = DTYPE_ORDER[tensors[a].dtype] - DTYPE_ORDER[tensors[b].dtype];
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  const meta = metadataStrings(metadata, file);
  if (Object.keys(meta).length > 0) header[METADATA_KEY] = meta;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = {
      dtype: SAFETENSORS_DTYPES[t.dtype],
      shape: [...t.dims],
      data_offsets: [offset, offset + bytes.byteLength],
    };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { header: head, chunks, byteLength: head.byteLength + offset };
}

function checkTensor(name: string, t: HostTensor | undefined, file: string): void {
  if (!t || typeof t !== 'object') throw new CheckpointWriteError(`tensor ${name} is not a tensor`, file);
  if (!(t.dtype in SAFETENSORS_DTYPES)) {
    throw new CheckpointWriteError(`tensor ${name}: unsupported dtype ${String(t.dtype)}`, file);
  }
  if (!Array.isArray(t.dims) || !t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointWriteError(
      `tensor ${name}: dims must be non-negative integers, got ${JSON.stringify(t.dims)}`,
      file,
    );
  }
  const expected = allocate(t.dtype, 0).constructor;
  if (!(t.data instanceof expected)) {
    throw new CheckpointWriteError(`tensor ${name}: dtype ${t.dtype} needs a ${expected.name}`, file);
  }
  const n = numElements(t.dims);
  if (t.data.length !== n) {
    throw new CheckpointWriteError(
      `tensor ${name}: dims [${t.dims.join(', ')}] hold ${n} elements but the data has ${t.data.length}`,
      file,
    );
  }
}

/**
 * Encodes tensors and metadata as the bytes of a safetensors file.
 * @throws CheckpointWriteError for a tensor whose data does not match its dtype and dims.
 */
export function encodeSafetensors(tensors: TensorMap, metadata: CheckpointMetadata = {}): Uint8Array {
  const { header, chunks, byteLength } = encodeParts(tensors, metadata, '<buffer>');
  const out = new Uint8Array(byteLength);
  out.set(header, 0);
  let at = header.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Decodes the bytes of a safetensors file, validating the header length, the JSON, every dtype,
 * shape and offset (in bounds, contiguous, no overlap, size = elements × element size) and that
 * the data ends exactly where the file does. Tensor data are views of `bytes` when aligned,
 * copies otherwise.
 * @param file named in errors.
 * @throws CheckpointError naming the file and the defect.
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): Checkpoint {
  const fail = (what: string): never => {
    throw new CheckpointError(`${file} is not a valid safetensors checkpoint: ${what}`, file);
  };
  if (bytes.byteLength < 8) fail(`truncated: ${bytes.byteLength} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${n64} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    fail(`truncated: the header announces ${n} bytes but only ${bytes.byteLength - 8} follow`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('the header is not UTF-8');
  }
  if (!text.startsWith('{')) fail('the header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) return fail('the header is not a JSON object');
  const dataLength = bytes.byteLength - 8 - n;
  const dataStart = 8 + n;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DataType; dims: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) fail(`${METADATA_KEY} is not an object`);
      for (const [k, v] of Object.entries(value as object)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY}.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (!isPlainObject(value)) return fail(`tensor ${name}: the entry is not an object`);
    const { dtype: st, shape, data_offsets: offs } = value as Record<string, unknown>;
    if (typeof st !== 'string') return fail(`tensor ${name}: dtype is missing`);
    const dtype = FROM_SAFETENSORS.get(st);
    if (!dtype) {
      return fail(
        KNOWN_UNSUPPORTED.has(st)
          ? `tensor ${name}: dtype ${st} is not supported by Enjambre (supported: ${[...FROM_SAFETENSORS.keys()].join(', ')})`
          : `tensor ${name}: unknown dtype ${JSON.stringify(st)}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(
        `tensor ${name}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offs[0] > offs[1]
    ) {
      return fail(
        `tensor ${name}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offs)}`,
      );
    }
    const [begin, end] = offs as number[];
    if (end > dataLength) {
      fail(
        `tensor ${name}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes); the file is truncated`,
      );
    }
    let elems = 1;
    for (const d of shape as number[]) {
      elems *= d;
      if (!Number.isSafeInteger(elems)) fail(`tensor ${name}: shape ${JSON.stringify(shape)} is too large`);
    }
    const want = elems * ELEMENT_BYTES[dtype];
    if (end - begin !== want) {
      fail(
        `tensor ${name}: ${dtype} of shape [${(shape as number[]).join(', ')}] needs ${want} bytes but data_offsets span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, dims: shape as number[], begin, end });
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin < cursor)
      fail(`tensor ${e.name}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor`);
    if (e.begin > cursor) fail(`tensor ${e.name}: a hole of ${e.begin - cursor} bytes precedes it`);
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    fail(
      `the tensors cover ${cursor} bytes of data but the file holds ${dataLength} (trailing bytes or a missing tensor)`,
    );
  }
  const tensors: TensorMap = {};
  for (const e of entries) {
    const count = (e.end - e.begin) / ELEMENT_BYTES[e.dtype];
    const at = bytes.byteOffset + dataStart + e.begin;
    const Ctor = allocate(e.dtype, 0).constructor as unknown as {
      new (buffer: ArrayBufferLike, byteOffset: number, length: number): HostTensor['data'];
      new (length: number): HostTensor['data'];
    };
    let data: HostTensor['data'];
    if (at % ELEMENT_BYTES[e.dtype] === 0) {
      data = new Ctor(bytes.buffer, at, count);
    } else {
      data = new Ctor(count);
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    }
    tensors[e.name] = { dtype: e.dtype, dims: [...e.dims], data };
  }
  return { tensors, metadata };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Writes a checkpoint atomically: the bytes go to a temp file in the target's directory, which is
 * fsynced, renamed over `file`, and the directory fsynced. A crash at any moment leaves either the
 * previous file or the new one. Temp files left behind by writers that died are removed.
 * @throws CheckpointWriteError for tensors that do not match their dtype and dims.
 */
export async function writeCheckpoint(
  file: string,
  tensors: TensorMap,
  metadata: CheckpointMetadata = {},
  options: WriteCheckpointOptions = {},
): Promise<void> {
  const target = resolve(file);
  const durable = options.durable ?? true;
  const { header, chunks } = encodeParts(tensors, metadata, target);
  throwIfAborted(options.signal);
  const dir = dirname(target);
  const tmp = join(dir, `${tempPrefix(target)}${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let renamed = false;
  try {
    fh = await open(tmp, 'wx', 0o644);
    // writev takes the tensors' own memory: no concatenated copy of the whole checkpoint.
    const all = [header, ...chunks.filter((c) => c.byteLength > 0)];
    for (let i = 0; i < all.length; i += 512) await writeAll(fh, all.slice(i, i + 512));
    if (durable) await fh.sync();
    await fh.close();
    fh = undefined;
    throwIfAborted(options.signal);
    await rename(tmp, target);
    renamed = true;
    if (durable) await syncDirectory(dir);
  } catch (e) {
    if (e instanceof CheckpointError || (e as Error).name === 'AbortError') throw e;
    throw new CheckpointError(`could not write checkpoint ${target}: ${(e as Error).message}`, target);
  } finally {
    await fh?.close().catch(() => undefined);
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
  await removeStaleTemps(target);
}

async function writeAll(fh: Awaited<ReturnType<typeof open>>, buffers: Uint8Array[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    const rest: Uint8Array[] = [];
    for (const b of pending) {
      if (bytesWritten >= b.byteLength) bytesWritten -= b.byteLength;
      else {
        rest.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

function tempPrefix(target: string): string {
  return `.${basename(target)}.`;
}

async function syncDirectory(dir: string): Promise<void> {
  let dh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch (e) {
    // Some platforms (Windows) cannot open or fsync a directory; the rename itself is still atomic.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw e;
  } finally {
    await dh?.close().catch(() => undefined);
  }
}

/** Removes `.<name>.<pid>.<rand>.tmp` files whose writing process no longer exists. */
async function removeStaleTemps(target: string): Promise<void> {
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    await unlink(join(dirname(target), name)).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reads and validates a checkpoint file.
 * @throws CheckpointError naming the file: missing, truncated, corrupt or not safetensors.
 */
export async function readCheckpoint(
  file: string,
  options: { signal?: AbortSignal } = {},
): Promise<Checkpoint> {
  const target = resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(target, { signal: options.signal });
  } catch (e) {
    throwIfAborted(options.signal);
    throw new CheckpointError(`could not read checkpoint ${target}: ${(e as Error).message}`, target);
  }
  return decodeSafetensors(bytes, target);
}

/** What a checkpoint must hold to resume a run: its config hash and every tensor's name and shape. */
export interface ResumeExpectation {
  configHash: string;
  /** Parameters and optimizer-state tensors (names as stored, e.g. `optimizer/…`) with their dims. */
  tensors: { name: string; dims: readonly number[] }[];
  /** Metadata fields that must be present (e.g. `step`, `sampler`). */
  requiredMetadata?: string[];
}

/**
 * Refuses a checkpoint that cannot resume this run, naming the field or tensor: another config hash, a
 * missing or unexpected tensor, another shape, a non-finite value anywhere (parameters and optimizer state),
 * a missing metadata field or a `step` that is not a non-negative integer. Throws {@link CheckpointError}.
 */
export function checkCheckpointForResume(ck: Checkpoint, expected: ResumeExpectation, file: string): void {
  const fail = (message: string): never => {
    throw new CheckpointError(`${file}: ${message}`, file);
  };
  if (ck.metadata.configHash !== expected.configHash) {
    fail(
      `metadata.configHash is ${String(ck.metadata.configHash).slice(0, 16)}…, this run's model and config hash to ${expected.configHash.slice(0, 16)}…: it was written by another run or model`,
    );
  }
  for (const field of expected.requiredMetadata ?? []) {
    if (ck.metadata[field] === undefined) fail(`metadata.${field} is missing`);
  }
  if (ck.metadata.step !== undefined) {
    const step = Number(ck.metadata.step);
    if (!Number.isSafeInteger(step) || step < 0)
      fail(`metadata.step is ${JSON.stringify(ck.metadata.step)}, expected a non-negative integer`);
  }
  const wanted = new Map(expected.tensors.map((t) => [t.name, t.dims]));
  for (const name of Object.keys(ck.tensors)) {
    if (!wanted.has(name)) fail(`tensor '${name}' is not part of this model`);
  }
  for (const [name, dims] of wanted) {
    const t = ck.tensors[name];
    if (t === undefined) fail(`tensor '${name}' is missing`);
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      fail(`tensor '${name}' has shape [${t.dims.join(', ')}], this model expects [${dims.join(', ')}]`);
    }
    const data = t.data;
    if (data instanceof Float32Array || data instanceof Float64Array) {
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v - v !== 0) fail(`tensor '${name}' holds a non-finite value (${v}) at index ${i}`);
      }
    }
  }
}
