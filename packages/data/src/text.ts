/**
 * Text datasets for character- or byte-level language models.
 *
 * Small files are read whole. A file above `streamThresholdBytes` is never held in memory:
 * - byte-level: the file itself is the token array; a window is one positional read.
 * - char-level: UTF-8 characters have 1–4 bytes, so a token offset is not a byte offset. The file is
 *   streamed twice, once to collect the vocabulary (unless one is given) and once to encode it into a
 *   token cache file of fixed-width little-endian ids (uint16, or uint32 for vocabularies over 65536
 *   symbols), written to a temporary name and renamed into place; windows are then positional reads
 *   of that cache. The cache is keyed by the file's path, size, mtime and the vocabulary, and reused.
 * Both paths give identical batches (tested).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  checkIndices,
  fieldName,
  type LoadContext,
  makeContext,
  optionalEnum,
  optionalNumber,
  type ResolvedFile,
  resolveFile,
} from './common.ts';
import {
  DEFAULT_CACHE_DIR_NAME,
  DEFAULT_CONTEXT,
  DEFAULT_STREAM_THRESHOLD_BYTES,
  DEFAULT_TEXT_VALIDATION_FRACTION,
  DEFAULT_TOKENIZER,
  STREAM_CHUNK_BYTES,
} from './constants.ts';
import { DataFormatError, EmptyDatasetError, InvalidSpecError } from './errors.ts';
import type { LoadOptions, TextSpec } from './spec.ts';
import type { Batch, Dataset, LoadedData, TensorSpec } from './types.ts';
import {
  BYTE_VOCAB,
  CharEncoder,
  type CharVocab,
  charVocabFromCodePoints,
  checkVocab,
  collectCodePoints,
  type Vocab,
  vocabSize,
} from './vocab.ts';

/** A sequence of token ids that can be read by position. */
export interface TokenSource {
  readonly length: number;
  /** Copy tokens `[start, start + count)` into `out` at `outOffset`. */
  read(start: number, count: number, out: BigInt64Array, outOffset: number): void;
  /** The tokens `[start, end)` as a source sharing the same storage. */
  slice(start: number, end: number): TokenSource;
}

/** Tokens held in a typed array. */
export class ArrayTokenSource implements TokenSource {
  readonly length: number;
  constructor(private readonly tokens: Uint8Array | Uint16Array | Uint32Array) {
    this.length = tokens.length;
  }
  read(start: number, count: number, out: BigInt64Array, outOffset: number): void {
    for (let i = 0; i < count; i++) out[outOffset + i] = BigInt(this.tokens[start + i]);
  }
  slice(start: number, end: number): TokenSource {
    return new ArrayTokenSource(this.tokens.subarray(start, end));
  }
}

/** Tokens stored in a file as fixed-width little-endian unsigned ints, read by position. */
export class FileTokenSource implements TokenSource {
  readonly length: number;
  private scratch: Buffer = Buffer.alloc(0);

  constructor(
    private readonly fd: number,
    readonly file: string,
    private readonly bytesPerToken: 1 | 2 | 4,
    private readonly first: number,
    length: number,
  ) {
    this.length = length;
  }

  read(start: number, count: number, out: BigInt64Array, outOffset: number): void {
    const bytes = count * this.bytesPerToken;
    if (this.scratch.length < bytes) this.scratch = Buffer.alloc(bytes);
    const got = readSync(this.fd, this.scratch, 0, bytes, (this.first + start) * this.bytesPerToken);
    if (got !== bytes) {
      throw new DataFormatError(
        this.file,
        `short read at token ${this.first + start}: file changed or truncated`,
      );
    }
    const s = this.scratch;
    if (this.bytesPerToken === 1) for (let i = 0; i < count; i++) out[outOffset + i] = BigInt(s[i]);
    else if (this.bytesPerToken === 2)
      for (let i = 0; i < count; i++) out[outOffset + i] = BigInt(s.readUInt16LE(2 * i));
    else for (let i = 0; i < count; i++) out[outOffset + i] = BigInt(s.readUInt32LE(4 * i));
  }

  slice(start: number, end: number): TokenSource {
    return new FileTokenSource(this.fd, this.file, this.bytesPerToken, this.first + start, end - start);
  }
}

/**
 * Next-token windows over a token source: example `i` has inputs `tokens[i : i+context]` and labels
 * `tokens[i+1 : i+context+1]` (int64, shape `[context]`), for `i` in `[0, length - context)`.
 */
export class TextWindowDataset implements Dataset {
  readonly size: number;
  readonly inputs: TensorSpec;
  readonly labels: TensorSpec;

  constructor(
    readonly source: TokenSource,
    readonly context: number,
  ) {
    if (source.length <= context) {
      throw new EmptyDatasetError(`${source.length} tokens make no window of ${context} + 1 tokens`);
    }
    this.size = source.length - context;
    this.inputs = { dtype: 'int64', shape: [context] };
    this.labels = { dtype: 'int64', shape: [context] };
  }

  batch(indices: ArrayLike<number>): Batch {
    checkIndices(indices, this.size);
    const n = indices.length;
    const c = this.context;
    const x = new BigInt64Array(n * c);
    const y = new BigInt64Array(n * c);
    const window = new BigInt64Array(c + 1);
    for (let b = 0; b < n; b++) {
      this.source.read(indices[b], c + 1, window, 0);
      x.set(window.subarray(0, c), b * c);
      y.set(window.subarray(1), b * c);
    }
    return {
      inputs: { dtype: 'int64', data: x, dims: [n, c] },
      labels: { dtype: 'int64', data: y, dims: [n, c] },
    };
  }
}

/** `info` of a loaded text dataset. */
export interface TextInfo {
  readonly format: 'text';
  readonly task: 'language-model';
  /** The vocabulary (save it with the model). */
  readonly vocab: Vocab;
  readonly vocabSize: number;
  readonly context: number;
  /** Tokens in each split. */
  readonly tokens: { readonly train: number; readonly validation: number };
  /** Whether any file was streamed rather than loaded whole. */
  readonly streamed: boolean;
}

/** Knobs for tests; not part of the spec. */
export interface TextTuning {
  /** Read-chunk size of the streaming passes. Default 1 MiB. */
  chunkBytes?: number;
}

/** Load a {@link TextSpec}. */
export async function loadText(
  spec: TextSpec,
  options: LoadOptions = {},
  tuning: TextTuning = {},
): Promise<LoadedData<TextInfo>> {
  const ctx = makeContext(options);
  const vocabKind = (spec.vocab as { kind?: unknown } | undefined)?.kind;
  const tokenizer = optionalEnum(
    ctx,
    spec.tokenizer,
    'tokenizer',
    ['char', 'byte'] as const,
    vocabKind === 'byte' || vocabKind === 'char' ? vocabKind : DEFAULT_TOKENIZER,
  );
  const context = optionalNumber(ctx, spec.context, 'context', DEFAULT_CONTEXT, { integer: true, min: 1 });
  const fraction = optionalNumber(
    ctx,
    spec.validationFraction,
    'validationFraction',
    DEFAULT_TEXT_VALIDATION_FRACTION,
    {
      min: 0,
      max: 1,
      maxExclusive: true,
    },
  );
  const threshold = optionalNumber(
    ctx,
    spec.streamThresholdBytes,
    'streamThresholdBytes',
    DEFAULT_STREAM_THRESHOLD_BYTES,
    {
      integer: true,
      min: 0,
    },
  );
  const chunkBytes = tuning.chunkBytes ?? STREAM_CHUNK_BYTES;
  let givenVocab: Vocab | undefined;
  if (spec.vocab !== undefined) {
    givenVocab = checkVocab(spec.vocab, fieldName(ctx, 'vocab'));
    if (givenVocab.kind !== tokenizer) {
      throw new InvalidSpecError(
        fieldName(ctx, 'vocab'),
        spec.vocab,
        `a '${tokenizer}' vocabulary to match tokenizer`,
      );
    }
  }
  if (spec.cacheDir !== undefined && (typeof spec.cacheDir !== 'string' || spec.cacheDir === '')) {
    throw new InvalidSpecError(fieldName(ctx, 'cacheDir'), spec.cacheDir, 'a folder path');
  }
  const cacheDir =
    spec.cacheDir !== undefined
      ? path.resolve(ctx.baseDir, spec.cacheDir)
      : path.join(os.tmpdir(), DEFAULT_CACHE_DIR_NAME);

  const files: ResolvedFile[] = [await resolveFile(ctx, spec.path, 'path')];
  if (spec.validationPath !== undefined)
    files.push(await resolveFile(ctx, spec.validationPath, 'validationPath'));
  for (const f of files) {
    if (f.size === 0) throw new EmptyDatasetError(`${f.path} (config field '${f.field}') is empty`);
  }

  const fds: number[] = [];
  const closeAll = async (): Promise<void> => {
    for (const fd of fds.splice(0)) closeSync(fd);
  };
  try {
    let vocab: Vocab;
    let sources: TokenSource[];
    if (tokenizer === 'byte') {
      vocab = BYTE_VOCAB;
      sources = [];
      for (const f of files) {
        if (f.size > threshold) {
          const fd = openSync(f.path, 'r');
          fds.push(fd);
          sources.push(new FileTokenSource(fd, f.path, 1, 0, f.size));
        } else {
          sources.push(new ArrayTokenSource(new Uint8Array(await readFile(f.path, { signal: ctx.signal }))));
        }
      }
    } else {
      const texts = new Map<ResolvedFile, string>();
      for (const f of files) if (f.size <= threshold) texts.set(f, await readUtf8(f, ctx));
      if (givenVocab !== undefined) {
        vocab = givenVocab;
      } else {
        const codePoints = new Set<number>();
        for (const f of files) {
          const text = texts.get(f);
          if (text !== undefined) collectCodePoints(text, codePoints);
          else await streamText(f, ctx, chunkBytes, (s) => collectCodePoints(s, codePoints));
        }
        vocab = charVocabFromCodePoints(codePoints);
      }
      const encoder = new CharEncoder(vocab as CharVocab);
      sources = [];
      for (const f of files) {
        const text = texts.get(f);
        if (text !== undefined) {
          const out = encoder.size <= 65536 ? new Uint16Array(text.length) : new Uint32Array(text.length);
          const n = encoder.encodeInto(text, out, f.path);
          sources.push(new ArrayTokenSource(out.subarray(0, n)));
        } else {
          const { cachePath, bytesPerToken, tokens } = await encodeToCache(
            f,
            encoder,
            cacheDir,
            ctx,
            chunkBytes,
          );
          const fd = openSync(cachePath, 'r');
          fds.push(fd);
          sources.push(new FileTokenSource(fd, cachePath, bytesPerToken, 0, tokens));
        }
      }
    }

    let trainSource: TokenSource;
    let valSource: TokenSource | undefined;
    if (sources.length === 2) {
      [trainSource, valSource] = sources;
    } else if (fraction > 0) {
      const n = sources[0].length;
      const cut = Math.floor(n * (1 - fraction));
      trainSource = sources[0].slice(0, cut);
      valSource = sources[0].slice(cut, n);
    } else {
      trainSource = sources[0];
    }
    const train = windows(trainSource, context, `training split of ${files[0].path}`);
    const validation =
      valSource === undefined
        ? undefined
        : windows(valSource, context, `validation split of ${files.at(-1)!.path}`);
    const info: TextInfo = {
      format: 'text',
      task: 'language-model',
      vocab,
      vocabSize: vocabSize(vocab),
      context,
      tokens: { train: trainSource.length, validation: valSource?.length ?? 0 },
      streamed: files.some((f) => f.size > threshold),
    };
    return { train, validation, info, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function windows(source: TokenSource, context: number, what: string): TextWindowDataset {
  if (source.length <= context) {
    throw new EmptyDatasetError(
      `${what} has ${source.length} tokens: a window needs context + 1 = ${context + 1}; use a longer text or a smaller context`,
    );
  }
  return new TextWindowDataset(source, context);
}

function utf8Error(f: ResolvedFile, err: unknown): DataFormatError {
  const e = new DataFormatError(f.path, "is not valid UTF-8 text; use tokenizer 'byte' for arbitrary bytes");
  (e as { cause?: unknown }).cause = err;
  return e;
}

async function readUtf8(f: ResolvedFile, ctx: LoadContext): Promise<string> {
  const bytes = await readFile(f.path, { signal: ctx.signal });
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw utf8Error(f, err);
  }
}

/** Stream a UTF-8 file as decoded string pieces (no piece splits a code point). */
async function streamText(
  f: ResolvedFile,
  ctx: LoadContext,
  chunkBytes: number,
  onText: (text: string) => void | Promise<void>,
): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const stream = createReadStream(f.path, { highWaterMark: chunkBytes, signal: ctx.signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch (err) {
      stream.destroy();
      throw utf8Error(f, err);
    }
    if (text !== '') await onText(text);
  }
  let tail: string;
  try {
    tail = decoder.decode();
  } catch (err) {
    throw utf8Error(f, err);
  }
  if (tail !== '') await onText(tail);
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Encode a UTF-8 file into a cache of fixed-width token ids (reused when already there). */
async function encodeToCache(
  f: ResolvedFile,
  encoder: CharEncoder,
  cacheDir: string,
  ctx: LoadContext,
  chunkBytes: number,
): Promise<{ cachePath: string; bytesPerToken: 2 | 4; tokens: number }> {
  const bytesPerToken = encoder.size <= 65536 ? 2 : 4;
  const key = createHash('sha256')
    .update(
      JSON.stringify({ v: 1, path: f.path, size: f.size, mtimeMs: f.mtimeMs, chars: encoder.vocab.chars }),
    )
    .digest('hex')
    .slice(0, 32);
  const cachePath = path.join(cacheDir, `${key}.u${bytesPerToken * 8}le`);
  try {
    const cached = await stat(cachePath);
    if (cached.isFile() && cached.size % bytesPerToken === 0) {
      return { cachePath, bytesPerToken, tokens: cached.size / bytesPerToken };
    }
  } catch {
    // not cached yet
  }
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${cachePath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  let tokens = 0;
  try {
    await streamText(f, ctx, chunkBytes, async (text) => {
      const ids = bytesPerToken === 2 ? new Uint16Array(text.length) : new Uint32Array(text.length);
      const n = encoder.encodeInto(text, ids, f.path);
      const bytes = new Uint8Array(ids.buffer, 0, n * bytesPerToken);
      if (!LITTLE_ENDIAN) {
        const view = new DataView(ids.buffer);
        for (let i = 0; i < n; i++) {
          if (bytesPerToken === 2) view.setUint16(2 * i, ids[i], true);
          else view.setUint32(4 * i, ids[i], true);
        }
      }
      await handle.write(bytes);
      tokens += n;
    });
    await handle.close();
    await rename(tmp, cachePath);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  return { cachePath, bytesPerToken, tokens };
}
