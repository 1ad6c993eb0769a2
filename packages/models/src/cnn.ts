import { DEFAULT_CNN_CHANNELS, DEFAULT_CNN_HIDDEN } from '@enjambre/config';
import {
  BATCH_DIM,
  checkDType,
  checkPositiveInt,
  checkSeed,
  finishModel,
  INPUT_NAME,
  LABELS_NAME,
} from './common.ts';
import { DataShapeError, ModelOptionError } from './errors.ts';
import { ModelBuilder } from './layers.ts';
import type { BuiltModel, DataInfo } from './types.ts';

/** Default convolution kernel size. */
export const DEFAULT_CNN_KERNEL = 3;
/** Default max-pool window (and stride). */
export const DEFAULT_CNN_POOL = 2;

/** Options of the `cnn` model (float32 only: Conv runs in float32 on onnxruntime's CPU provider). */
export interface CnnOptions {
  kind: 'cnn';
  /** Parameter dtype; only `'float32'`. Default `'float32'`. */
  dtype?: 'float32';
  /**
   * Per-example image shape [channels, height, width]. Default: the data's input shape;
   * [H, W] means one channel, and a flat [P] with P a perfect square means [1, √P, √P].
   */
  imageShape?: readonly number[];
  /** Output channels of the unpadded convolutions, in order; each is followed by ReLU. Default `[32, 64]`. */
  channels?: readonly number[];
  /** Convolution kernel size. Default 3. */
  kernel?: number;
  /** Max-pool window and stride after the last convolution. Default 2. */
  pool?: number;
  /** Width of the fully connected hidden layer. Default 128. */
  hidden?: number;
  /** Number of classes. Default: the data's `numClasses`. */
  classes?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

export interface ResolvedCnnOptions {
  kind: 'cnn';
  dtype: 'float32';
  /** Per-example shape of the data input (reshaped to imageShape when it differs). */
  inputShape: number[];
  imageShape: [number, number, number];
  channels: number[];
  kernel: number;
  pool: number;
  hidden: number;
  classes: number;
  seed: number;
}

const NAME = 'cnn';

function imageShapeOf(shape: readonly number[]): [number, number, number] | undefined {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 2) return [1, shape[0], shape[1]];
  if (shape.length === 1) {
    const side = Math.round(Math.sqrt(shape[0]));
    if (side * side === shape[0]) return [1, side, side];
  }
  return undefined;
}

export function resolveCnnOptions(options: CnnOptions, data?: DataInfo): ResolvedCnnOptions {
  const o = options as CnnOptions & Partial<ResolvedCnnOptions>;
  checkDType(o.dtype, NAME, ['float32']);
  if (data && data.inputs.dtype !== 'float32') {
    throw new DataShapeError(
      `${NAME}: the data's inputs are ${data.inputs.dtype}; the CNN needs float32 images`,
    );
  }
  const inputShape =
    o.inputShape ?? (data ? [...data.inputs.shape] : o.imageShape ? [...o.imageShape] : undefined);
  if (!inputShape)
    throw new ModelOptionError(`${NAME}: imageShape is required when no data is given`, 'imageShape');
  const image = o.imageShape ? imageShapeOf(o.imageShape) : imageShapeOf(inputShape);
  if (!image || (o.imageShape && o.imageShape.length !== 3)) {
    throw new DataShapeError(
      `${NAME}: cannot read [${o.imageShape ?? inputShape}] as an image: expected [channels, height, width], [height, width] or a flat square`,
    );
  }
  for (const [i, d] of image.entries()) checkPositiveInt(d, `imageShape.${i}`, NAME);
  if (image[0] * image[1] * image[2] !== inputShape.reduce((a, d) => a * d, 1)) {
    throw new DataShapeError(
      `${NAME}: the data's examples have shape [${inputShape}], which does not hold a [${image}] image`,
    );
  }
  const channels = o.channels ?? [...DEFAULT_CNN_CHANNELS];
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new ModelOptionError(
      `${NAME}: channels must be a non-empty array of positive integers`,
      'channels',
    );
  }
  for (const [i, c] of channels.entries()) checkPositiveInt(c, `channels.${i}`, NAME);
  const kernel = checkPositiveInt(o.kernel ?? DEFAULT_CNN_KERNEL, 'kernel', NAME);
  const pool = checkPositiveInt(o.pool ?? DEFAULT_CNN_POOL, 'pool', NAME);
  const hidden = checkPositiveInt(o.hidden ?? DEFAULT_CNN_HIDDEN, 'hidden', NAME);
  const classes = o.classes ?? data?.numClasses;
  if (classes === undefined) {
    throw new ModelOptionError(`${NAME}: classes is required (the data gives no numClasses)`, 'classes');
  }
  checkPositiveInt(classes, 'classes', NAME);
  const seed = checkSeed(o.seed, NAME);
  const side = Math.min(image[1], image[2]) - channels.length * (kernel - 1);
  if (Math.floor(side / pool) < 1) {
    throw new DataShapeError(
      `${NAME}: a ${image[1]}×${image[2]} image is too small for ${channels.length} ${kernel}×${kernel} convolutions and a ${pool}×${pool} pool`,
    );
  }
  return {
    kind: 'cnn',
    dtype: 'float32',
    inputShape,
    imageShape: image,
    channels: [...channels],
    kernel,
    pool,
    hidden,
    classes,
    seed,
  };
}

/**
 * A Keras mnist_cnn-like network: unpadded k×k convolutions with ReLU, a max-pool, flatten,
 * a ReLU fully connected layer and the class scores. Parameters `conv.<i>.weight` [out, in, k, k],
 * `conv.<i>.bias`, `fc.weight` [features, hidden], `fc.bias`, `output.weight`, `output.bias`;
 * He-uniform init, zero biases.
 */
export function buildCnn(options: CnnOptions, data?: DataInfo): BuiltModel {
  const o = resolveCnnOptions(options, data);
  const m = new ModelBuilder(NAME, 'float32', o.seed);
  const b = m.b;
  b.input(INPUT_NAME, 'float32', [BATCH_DIM, ...o.inputShape]);
  let x = INPUT_NAME;
  if (o.inputShape.length !== 3)
    x = b.op('Reshape', [x, b.ints([-1, ...o.imageShape])], {}, { hint: 'image' });
  let [c, h, w] = o.imageShape;
  o.channels.forEach((out, i) => {
    const fanIn = c * o.kernel * o.kernel;
    const weight = m.param(`conv.${i}.weight`, [out, c, o.kernel, o.kernel], {
      kind: 'uniform',
      bound: Math.sqrt(6 / fanIn),
    });
    const bias = m.param(`conv.${i}.bias`, [out], { kind: 'constant', value: 0 });
    x = b.op('Conv', [x, weight, bias], { kernel_shape: [o.kernel, o.kernel] }, { hint: `conv.${i}.out` });
    x = b.op('Relu', [x]);
    c = out;
    h -= o.kernel - 1;
    w -= o.kernel - 1;
  });
  x = b.op('MaxPool', [x], { kernel_shape: [o.pool, o.pool], strides: [o.pool, o.pool] }, { hint: 'pool' });
  h = Math.floor(h / o.pool);
  w = Math.floor(w / o.pool);
  const features = c * h * w;
  x = b.op('Flatten', [x], { axis: 1 });
  x = m.linear(x, 'fc', features, o.hidden, { weight: { kind: 'uniform', bound: Math.sqrt(6 / features) } });
  x = b.op('Relu', [x]);
  const y = m.linear(x, 'output', o.hidden, o.classes, {
    weight: { kind: 'uniform', bound: Math.sqrt(6 / (o.hidden + o.classes)) },
  });
  b.output(y, 'float32', [BATCH_DIM, o.classes]);
  return finishModel({
    kind: 'cnn',
    graph: b.graph,
    dataInputs: [INPUT_NAME],
    output: y,
    loss: 'cross-entropy',
    labels: { name: LABELS_NAME, dtype: 'int64', shape: [BATCH_DIM] },
    trainable: m.trainable,
    options: o,
    describe: `cnn [${o.imageShape}] conv${o.kernel}×${o.kernel} ${o.channels.join('-')} pool${o.pool} fc${o.hidden} → ${o.classes} float32`,
  });
}
