import { GraphBuilder } from '@enjambre/onnx';
import { ModelOptionError } from './errors.ts';
import { type FloatDType, filledTensor, normalTensor, uniformTensor } from './random.ts';

/** Largest parameter tensor a model may have (values); larger requests are refused, not attempted. */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;

/** Weight initialisation of a parameter. */
export type Init =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'constant'; value: number };

/**
 * A GraphBuilder plus the model's dtype and seed: adds parameters (initializers whose values
 * come from the seeded stream named after the parameter) and the layers the zoo is built from.
 */
export class ModelBuilder {
  readonly b: GraphBuilder;
  readonly trainable: string[] = [];

  constructor(
    name: string,
    readonly dtype: FloatDType,
    readonly seed: number,
  ) {
    this.b = new GraphBuilder(name);
  }

  /** A trainable parameter named `name`. */
  param(name: string, dims: number[], init: Init): string {
    const size = dims.reduce((a, d) => a * d, 1);
    if (!(size <= MAX_TENSOR_ELEMENTS)) {
      throw new ModelOptionError(
        `${this.b.graph.name}: parameter ${name} [${dims}] would hold ${size} values, more than the limit of ${MAX_TENSOR_ELEMENTS}`,
        name,
      );
    }
    const data =
      init.kind === 'uniform'
        ? uniformTensor(this.dtype, size, init.bound, this.seed, name)
        : init.kind === 'normal'
          ? normalTensor(this.dtype, size, init.std, this.seed, name)
          : filledTensor(this.dtype, size, init.value);
    this.b.initializer(name, this.dtype, dims, data);
    this.trainable.push(name);
    return name;
  }

  scalar(value: number): string {
    return this.b.scalar(this.dtype, value);
  }

  /** `x @ W (+ b)` with W [in, out] named `${name}.weight`, b [out] named `${name}.bias`. */
  linear(
    x: string,
    name: string,
    inFeatures: number,
    outFeatures: number,
    opts: { weight: Init; bias?: Init | false },
  ): string {
    const w = this.param(`${name}.weight`, [inFeatures, outFeatures], opts.weight);
    const y = this.b.op('MatMul', [x, w], {}, { hint: `${name}.matmul` });
    if (opts.bias === false) return y;
    const bias = this.param(`${name}.bias`, [outFeatures], opts.bias ?? { kind: 'constant', value: 0 });
    return this.b.op('Add', [y, bias], {}, { hint: `${name}.out` });
  }

  /** LayerNormalization over the last axis, scale `${name}.weight` (ones), bias `${name}.bias` (zeros). */
  layerNorm(x: string, name: string, width: number, bias: boolean, epsilon = 1e-5): string {
    const scale = this.param(`${name}.weight`, [width], { kind: 'constant', value: 1 });
    const inputs = [x, scale];
    if (bias) inputs.push(this.param(`${name}.bias`, [width], { kind: 'constant', value: 0 }));
    return this.b.op(
      'LayerNormalization',
      inputs,
      { axis: -1, epsilon: { type: 'float', value: epsilon } },
      { hint: `${name}.out` },
    );
  }

  /** GELU, exact form `0.5·x·(1 + erf(x/√2))` (Erf is float32-only on onnxruntime's CPU provider). */
  geluErf(x: string): string {
    const erf = this.b.op('Erf', [this.b.op('Mul', [x, this.scalar(Math.SQRT1_2)])]);
    return this.b.op(
      'Mul',
      [this.b.op('Mul', [x, this.scalar(0.5)]), this.b.op('Add', [erf, this.scalar(1)])],
      {},
      { hint: 'gelu' },
    );
  }

  /** GELU, tanh approximation `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`; runs in float64 too. */
  geluTanh(x: string): string {
    const x3 = this.b.op('Mul', [this.b.op('Mul', [x, x]), x]);
    const inner = this.b.op('Mul', [
      this.b.op('Add', [x, this.b.op('Mul', [x3, this.scalar(0.044715)])]),
      this.scalar(Math.sqrt(2 / Math.PI)),
    ]);
    const t = this.b.op('Tanh', [inner]);
    return this.b.op(
      'Mul',
      [this.b.op('Mul', [x, this.scalar(0.5)]), this.b.op('Add', [t, this.scalar(1)])],
      {},
      { hint: 'gelu' },
    );
  }

  /**
   * Training-mode Dropout: constant ratio, constant `training_mode` true and the mask output
   * present, as the autodiff requires; the compiler turns it into Identity for evaluation.
   * A ratio of 0 adds nothing.
   */
  dropout(x: string, ratio: number): string {
    if (ratio <= 0) return x;
    const [y] = this.b.opN(
      'Dropout',
      [x, this.scalar(ratio), this.b.constant('bool', [], [1], 'training_mode')],
      2,
      {},
      { hint: 'dropout' },
    );
    return y;
  }
}
