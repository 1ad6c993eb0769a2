/**
 * MNIST-style idx files. Format (big-endian): two zero bytes, a type byte (0x08 = uint8), the number
 * of dimensions, one uint32 per dimension, then the values. Gzip is detected by its magic bytes
 * (1f 8b), not by the file name. With a `limit`, decompression stops as soon as enough bytes are in.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import {
  checkIndices,
  fieldName,
  type LoadContext,
  makeContext,
  optionalEnum,
  optionalNumber,
  type ResolvedFile,
  resolveFile,
  splitRows,
} from './common.ts';
import { DEFAULT_MNIST_CLASSES, DEFAULT_MNIST_LAYOUT, DEFAULT_SPLIT_SEED } from './constants.ts';
import { DataFormatError, EmptyDatasetError, InvalidSpecError } from './errors.ts';
import { checkSeed } from './rng.ts';
import type { LoadOptions, MnistSpec } from './spec.ts';
import type { Batch, Dataset, LoadedData, TensorSpec } from './types.ts';

/** A uint8 idx array. */
export interface IdxArray {
  /** Dimensions as read (the first one reduced to `limit` when one was given). */
  readonly dims: number[];
  /** Dimensions stated by the file header. */
  readonly headerDims: number[];
  /** Values, row-major. */
  readonly data: Uint8Array;
}

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /** Read only the first `limit` entries along the first dimension. Default: all. */
  limit?: number;
  /** Number of dimensions the file must have (3 for images, 1 for labels). Default: any. */
  expectDims?: number;
  signal?: AbortSignal;
}

const IDX_UBYTE = 0x08;
/** `v / 255` as float32 for every byte value. */
const SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Read a uint8 idx file (gzipped or not). Errors name the file. */
export async function readIdx(file: string, options: ReadIdxOptions = {}): Promise<IdxArray> {
  const gz = await isGzip(file);
  let stream: NodeJS.ReadableStream = createReadStream(file, { signal: options.signal });
  const source = stream as ReturnType<typeof createReadStream>;
  if (gz) stream = stream.pipe(createGunzip());
  const chunks: Buffer[] = [];
  let have = 0;
  let header: { dims: number[]; headerDims: number[]; start: number; need: number } | undefined;
  let complete = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (header === undefined && have >= 4) {
        const head = Buffer.concat(chunks);
        header = parseHeader(file, head, options);
        if (header !== undefined) {
          chunks.length = 0;
          chunks.push(head);
        }
      }
      if (header !== undefined && have >= header.start + header.need) {
        if (options.limit !== undefined) {
          complete = true;
          break;
        }
        // never hold more than the header announces (a hostile or corrupt file could be huge)
        if (have > header.start + header.need) break;
      }
    }
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    if ((err as { name?: string }).name === 'AbortError') throw err;
    throw new DataFormatError(
      file,
      `cannot be read${gz ? ' (corrupt gzip data)' : ''}: ${(err as Error).message}`,
    );
  } finally {
    source.destroy();
    if (gz) (stream as ReturnType<typeof createGunzip>).destroy();
  }
  const all = Buffer.concat(chunks);
  if (header === undefined) {
    header = parseHeader(file, all, options);
    if (header === undefined)
      throw new DataFormatError(file, `is ${all.length} bytes long: too short for an idx header`);
  }
  const available = all.length - header.start;
  if (available < header.need) {
    throw new DataFormatError(
      file,
      `truncated: header ${JSON.stringify(header.headerDims)} needs ${header.need} data bytes` +
        `${options.limit !== undefined ? ` for the first ${header.dims[0]} entries` : ''}, found ${available}`,
    );
  }
  if (!complete && options.limit === undefined && available > header.need) {
    throw new DataFormatError(
      file,
      `has at least ${available - header.need} bytes after the ${header.need} that its header ${JSON.stringify(header.headerDims)} announces`,
    );
  }
  const data = new Uint8Array(all.buffer, all.byteOffset + header.start, header.need);
  return { dims: header.dims, headerDims: header.headerDims, data };
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function parseHeader(
  file: string,
  head: Buffer,
  options: ReadIdxOptions,
): { dims: number[]; headerDims: number[]; start: number; need: number } | undefined {
  if (head.length < 4) return undefined;
  const magic = head.readUInt32BE(0);
  const hex = `0x${magic.toString(16).padStart(8, '0')}`;
  if (head[0] !== 0 || head[1] !== 0) {
    throw new DataFormatError(file, `bad magic number ${hex}: not an idx file (expected 0x0000TTNN)`);
  }
  if (head[2] !== IDX_UBYTE) {
    throw new DataFormatError(
      file,
      `idx element type 0x${head[2].toString(16)} is not supported (only 0x08, unsigned byte)`,
    );
  }
  const ndim = head[3];
  if (options.expectDims !== undefined && ndim !== options.expectDims) {
    const want = (0x800 + options.expectDims).toString(16).padStart(8, '0');
    throw new DataFormatError(
      file,
      `bad magic number ${hex}: expected 0x${want} (${options.expectDims}-dimensional uint8 idx)`,
    );
  }
  if (ndim === 0) throw new DataFormatError(file, 'idx header declares 0 dimensions');
  const start = 4 + 4 * ndim;
  if (head.length < start) return undefined;
  const headerDims: number[] = [];
  for (let i = 0; i < ndim; i++) headerDims.push(head.readUInt32BE(4 + 4 * i));
  const dims = [...headerDims];
  if (options.limit !== undefined) dims[0] = Math.min(dims[0], options.limit);
  const need = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(need) || need > 2 ** 32) {
    throw new DataFormatError(file, `idx dimensions ${JSON.stringify(headerDims)} are too large`);
  }
  return { dims, headerDims, start, need };
}

/**
 * MNIST examples: uint8 images kept as they are in memory (scaled to `[0, 1]` float32 in `batch`),
 * int64 labels of shape `[]`.
 */
export class MnistDataset implements Dataset {
  readonly size: number;
  readonly inputs: TensorSpec;
  readonly labels: TensorSpec = { dtype: 'int64', shape: [] };
  private readonly pixels: number;

  constructor(
    /** uint8 pixels, `[size, rows, cols]` row-major. */
    readonly images: Uint8Array,
    /** uint8 labels, `[size]`. */
    readonly classes: Uint8Array,
    readonly rows: number,
    readonly cols: number,
    readonly layout: 'image' | 'flat',
  ) {
    this.size = classes.length;
    this.pixels = rows * cols;
    this.inputs = { dtype: 'float32', shape: layout === 'image' ? [1, rows, cols] : [rows * cols] };
  }

  batch(indices: ArrayLike<number>): Batch {
    checkIndices(indices, this.size);
    const n = indices.length;
    const p = this.pixels;
    const x = new Float32Array(n * p);
    const y = new BigInt64Array(n);
    for (let b = 0; b < n; b++) {
      const src = indices[b] * p;
      const dst = b * p;
      for (let j = 0; j < p; j++) x[dst + j] = SCALE[this.images[src + j]];
      y[b] = BigInt(this.classes[indices[b]]);
    }
    const dims = this.layout === 'image' ? [n, 1, this.rows, this.cols] : [n, p];
    return { inputs: { dtype: 'float32', data: x, dims }, labels: { dtype: 'int64', data: y, dims: [n] } };
  }

  /** The examples at `indices` (ascending order kept) as a new dataset sharing nothing mutable. */
  subset(indices: readonly number[]): MnistDataset {
    const p = this.pixels;
    const images = new Uint8Array(indices.length * p);
    const classes = new Uint8Array(indices.length);
    indices.forEach((k, i) => {
      images.set(this.images.subarray(k * p, k * p + p), i * p);
      classes[i] = this.classes[k];
    });
    return new MnistDataset(images, classes, this.rows, this.cols, this.layout);
  }
}

/** `info` of a loaded MNIST dataset. */
export interface MnistInfo {
  readonly format: 'mnist';
  readonly task: 'classification';
  readonly numClasses: number;
  /** `[rows, cols]` of one image. */
  readonly imageSize: readonly [number, number];
  readonly layout: 'image' | 'flat';
}

/** Load a {@link MnistSpec}. */
export async function loadMnist(spec: MnistSpec, options: LoadOptions = {}): Promise<LoadedData<MnistInfo>> {
  const ctx = makeContext(options);
  const layout = optionalEnum(ctx, spec.layout, 'layout', ['image', 'flat'] as const, DEFAULT_MNIST_LAYOUT);
  const numClasses = optionalNumber(ctx, spec.numClasses, 'numClasses', DEFAULT_MNIST_CLASSES, {
    integer: true,
    min: 2,
    max: 256,
  });
  const limit =
    spec.limit === undefined
      ? undefined
      : optionalNumber(ctx, spec.limit, 'limit', 0, { integer: true, min: 1 });
  const fraction = optionalNumber(ctx, spec.validationFraction, 'validationFraction', 0, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const seed = spec.seed === undefined ? DEFAULT_SPLIT_SEED : checkSeed(spec.seed, fieldName(ctx, 'seed'));
  if ((spec.testImages === undefined) !== (spec.testLabels === undefined)) {
    const missing = spec.testImages === undefined ? 'testImages' : 'testLabels';
    throw new InvalidSpecError(
      fieldName(ctx, missing),
      undefined,
      'a path: testImages and testLabels go together',
    );
  }
  const trainImages = await resolveFile(ctx, spec.trainImages, 'trainImages');
  const trainLabels = await resolveFile(ctx, spec.trainLabels, 'trainLabels');
  const testFiles =
    spec.testImages !== undefined
      ? [
          await resolveFile(ctx, spec.testImages, 'testImages'),
          await resolveFile(ctx, spec.testLabels, 'testLabels'),
        ]
      : undefined;

  let train = await readPair(ctx, trainImages, trainLabels, layout, numClasses, limit);
  let validation: MnistDataset | undefined;
  if (testFiles !== undefined) {
    validation = await readPair(ctx, testFiles[0], testFiles[1], layout, numClasses, limit);
  } else if (fraction > 0) {
    const split = splitRows(train.size, fraction, seed, trainImages.path);
    validation = train.subset(split.validation);
    train = train.subset(split.train);
  }
  const info: MnistInfo = {
    format: 'mnist',
    task: 'classification',
    numClasses,
    imageSize: [train.rows, train.cols],
    layout,
  };
  return { train, validation, info, close: async () => undefined };
}

async function readPair(
  ctx: LoadContext,
  imagesFile: ResolvedFile,
  labelsFile: ResolvedFile,
  layout: 'image' | 'flat',
  numClasses: number,
  limit: number | undefined,
): Promise<MnistDataset> {
  const [images, labels] = await Promise.all([
    readIdx(imagesFile.path, { limit, expectDims: 3, signal: ctx.signal }),
    readIdx(labelsFile.path, { limit, expectDims: 1, signal: ctx.signal }),
  ]);
  if (images.headerDims[0] !== labels.headerDims[0]) {
    throw new DataFormatError(
      labelsFile.path,
      `has ${labels.headerDims[0]} labels but ${imagesFile.path} has ${images.headerDims[0]} images`,
    );
  }
  if (images.dims[0] === 0) throw new EmptyDatasetError(`${imagesFile.path} holds no images`);
  if (images.dims[1] === 0 || images.dims[2] === 0) {
    throw new DataFormatError(imagesFile.path, `image size ${images.dims[1]}×${images.dims[2]} is empty`);
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] >= numClasses) {
      throw new DataFormatError(
        labelsFile.path,
        `label ${labels.data[i]} at index ${i} is not below numClasses = ${numClasses}`,
      );
    }
  }
  return new MnistDataset(images.data, labels.data, images.dims[1], images.dims[2], layout);
}
