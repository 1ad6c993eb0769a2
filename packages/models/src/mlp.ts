import type { LossKind } from '@enjambre/autograd';
import { DEFAULT_MLP_ACTIVATION, DEFAULT_MLP_HIDDEN } from '@enjambre/config';
import {
  BATCH_DIM,
  checkDType,
  checkEnum,
  checkPositiveInt,
  checkSeed,
  finishModel,
  INPUT_NAME,
  LABELS_NAME,
} from './common.ts';
import { DataShapeError, ModelOptionError } from './errors.ts';
import { ModelBuilder } from './layers.ts';
import type { BuiltModel, DataInfo, ModelDType } from './types.ts';

export type MlpActivation = 'relu' | 'tanh' | 'gelu';

/** Options of the `mlp` model. */
export interface MlpOptions {
  kind: 'mlp';
  /** Parameter dtype. Default `'float32'` (`'float64'` is for gradient checks). */
  dtype?: ModelDType;
  /** Input features. Default: the product of the data's per-example input shape (inputs of higher rank are flattened). */
  inputSize?: number;
  /** Hidden layer sizes, in order (`[]` gives a linear model). Default `[256, 256]`. */
  hidden?: readonly number[];
  /** Activation after each hidden layer (GELU in its tanh form). Default `'relu'`. */
  activation?: MlpActivation;
  /** Classes of a classifier (cross-entropy loss). Default: the data's `numClasses`. */
  classes?: number;
  /** Outputs of a regressor (MSE loss); set instead of `classes`. Default: the size of the data's labels when the task is regression. */
  outputs?: number;
  /** Seed of the weight initialisation: same seed, same weights on every machine. Default 0. */
  seed?: number;
}

/** The options after defaults and data-derived sizes are filled in; what checkpoints store. */
export interface ResolvedMlpOptions {
  kind: 'mlp';
  dtype: ModelDType;
  inputSize: number;
  /** Per-example input shape the data has (flattened to inputSize). */
  inputShape: number[];
  inputDType: 'float32' | 'float64';
  hidden: number[];
  activation: MlpActivation;
  /** Present for classifiers. */
  classes?: number;
  /** Present for regressors. */
  outputs?: number;
  /** Per-example label shape of a regressor. */
  labelShape?: number[];
  seed: number;
}

const NAME = 'mlp';

export function resolveMlpOptions(options: MlpOptions, data?: DataInfo): ResolvedMlpOptions {
  const o = options as MlpOptions & Partial<ResolvedMlpOptions>;
  const dtype = checkDType(o.dtype, NAME);
  const inputShape =
    o.inputShape ?? (data ? [...data.inputs.shape] : o.inputSize !== undefined ? [o.inputSize] : undefined);
  if (!inputShape)
    throw new ModelOptionError(`${NAME}: inputSize is required when no data is given`, 'inputSize');
  const fromData = inputShape.reduce((a, d) => a * d, 1);
  const inputSize = checkPositiveInt(o.inputSize ?? fromData, 'inputSize', NAME);
  if (inputSize !== fromData) {
    throw new DataShapeError(
      `${NAME}: inputSize is ${inputSize} but the data's examples have shape [${inputShape}] (${fromData} features)`,
    );
  }
  const inputDType = o.inputDType ?? (data?.inputs.dtype === 'float64' ? 'float64' : 'float32');
  if (data && data.inputs.dtype === 'int64') {
    throw new DataShapeError(`${NAME}: the data's inputs are int64; an MLP needs float features`);
  }
  const hidden = o.hidden ?? [...DEFAULT_MLP_HIDDEN];
  if (!Array.isArray(hidden))
    throw new ModelOptionError(`${NAME}: hidden must be an array of positive integers`, 'hidden');
  for (const [i, h] of hidden.entries()) checkPositiveInt(h, `hidden.${i}`, NAME);
  const activation = checkEnum(
    o.activation,
    'activation',
    NAME,
    ['relu', 'tanh', 'gelu'],
    DEFAULT_MLP_ACTIVATION,
  );
  const seed = checkSeed(o.seed, NAME);
  if (o.classes !== undefined && o.outputs !== undefined) {
    throw new ModelOptionError(
      `${NAME}: set classes (classifier) or outputs (regressor), not both`,
      'outputs',
    );
  }
  const base = {
    kind: 'mlp' as const,
    dtype,
    inputSize,
    inputShape,
    inputDType,
    hidden: [...hidden],
    activation,
    seed,
  };
  if (o.classes !== undefined) return { ...base, classes: checkPositiveInt(o.classes, 'classes', NAME) };
  if (o.outputs !== undefined) {
    const outputs = checkPositiveInt(o.outputs, 'outputs', NAME);
    return { ...base, outputs, labelShape: o.labelShape ?? [outputs] };
  }
  const task = data?.task ?? (data?.numClasses !== undefined ? 'classification' : undefined);
  if (task === 'classification' && data?.numClasses !== undefined) {
    return { ...base, classes: checkPositiveInt(data.numClasses, 'classes', NAME) };
  }
  if (task === 'regression' && data) {
    const labelShape = [...data.labels.shape];
    const outputs = labelShape.reduce((a, d) => a * d, 1);
    return { ...base, outputs, labelShape };
  }
  throw new ModelOptionError(
    `${NAME}: cannot tell the output size: set classes or outputs, or give data with numClasses (classification) or task 'regression'`,
    'classes',
  );
}

/**
 * A multi-layer perceptron: `MatMul + Add` layers, the chosen activation between them, class
 * scores (cross-entropy) or regression outputs (MSE) at the end. Parameters `hidden.<i>.weight`
 * [in, out], `hidden.<i>.bias`, `output.weight`, `output.bias`. Hidden weights get He-uniform
 * init (ReLU/GELU) or Xavier-uniform (tanh), the output layer Xavier-uniform; biases start at 0.
 */
export function buildMlp(options: MlpOptions, data?: DataInfo): BuiltModel {
  const o = resolveMlpOptions(options, data);
  const m = new ModelBuilder(NAME, o.dtype, o.seed);
  const b = m.b;
  b.input(INPUT_NAME, o.inputDType, [BATCH_DIM, ...o.inputShape]);
  let x = INPUT_NAME;
  if (o.inputShape.length !== 1) x = b.op('Flatten', [x], { axis: 1 });
  if (o.inputDType !== o.dtype) x = b.op('Cast', [x], { to: o.dtype === 'float64' ? 11 : 1 });
  let width = o.inputSize;
  o.hidden.forEach((h, i) => {
    const bound = o.activation === 'tanh' ? Math.sqrt(6 / (width + h)) : Math.sqrt(6 / width);
    x = m.linear(x, `hidden.${i}`, width, h, { weight: { kind: 'uniform', bound } });
    x =
      o.activation === 'relu'
        ? b.op('Relu', [x])
        : o.activation === 'tanh'
          ? b.op('Tanh', [x])
          : m.geluTanh(x);
    width = h;
  });
  const out = o.classes ?? o.outputs ?? 1;
  let y = m.linear(x, 'output', width, out, {
    weight: { kind: 'uniform', bound: Math.sqrt(6 / (width + out)) },
  });
  const loss: LossKind = o.classes !== undefined ? 'cross-entropy' : 'mse';
  const labelShape = o.labelShape ?? [];
  if (loss === 'mse' && !(labelShape.length === 1 && labelShape[0] === out)) {
    y = b.op('Reshape', [y, b.ints([-1, ...labelShape])], {}, { hint: 'output.reshape' });
  }
  const outShape = loss === 'cross-entropy' ? [BATCH_DIM, out] : [BATCH_DIM, ...labelShape];
  b.output(y, o.dtype, outShape);
  const arch = [o.inputSize, ...o.hidden, out].join('-');
  return finishModel({
    kind: 'mlp',
    graph: b.graph,
    dataInputs: [INPUT_NAME],
    output: y,
    loss,
    labels:
      loss === 'cross-entropy'
        ? { name: LABELS_NAME, dtype: 'int64', shape: [BATCH_DIM] }
        : { name: LABELS_NAME, dtype: o.dtype, shape: [BATCH_DIM, ...labelShape] },
    trainable: m.trainable,
    options: o,
    describe: `mlp ${arch} ${o.activation} ${loss === 'mse' ? 'regression ' : ''}${o.dtype}`,
  });
}
