import { meanSquaredError, softmaxCrossEntropy } from '@enjambre/autograd';
import { float } from '@enjambre/onnx';
import type { OpCase } from './helpers.ts';
import { ortRunnerAt } from './ort-runner.ts';

/*
 * Gradcheck cases, one or more per registered gradient rule (rules-coverage.test.ts enforces it).
 * Each case runs on fresh seeded-random values with the loss Σ out ⊙ R (R random in [0.5, 1.5]).
 *
 * Precision: float64 wherever onnxruntime's CPU provider has float64 kernels for the forward
 * and backward ops, held to a relative error < TOL_F64 = 1e-6 (observed ≤ 1e-7). float32 only
 * where it has none: Erf (and so the exact Gelu's gradient and the erf form of GELU), Conv and
 * ConvTranspose, GlobalAveragePool; held to TOL_F32 = 2e-2 (observed ≤ 7e-4), or 1e-3 for Conv,
 * which is linear in each coordinate and so checked with a large exact step (observed ≤ 2e-4).
 */

/** A named gradcheck case. `why` says why a case runs in float32 rather than float64. */
export type NamedCase = OpCase & {
  name: string;
  why?: string;
  /** Relative-error bound overriding TOL_F64 / TOL_F32. */
  tol?: number;
};

const X = (dims: number[], extra = {}) => ({ x: { dims, ...extra } });
const f64 = 'float64' as const;
const f32 = 'float32' as const;
/**
 * Conv is linear in each single coordinate of x, w and bias, so a central difference is exact
 * for any step: a step of 0.5 shrinks float32 rounding in the difference by 50× against the default
 * 1e-2, and the case can be held to TOL_F32_LINEAR.
 */
const LINEAR_STEP = { epsilon: 0.5, tol: 1e-3 };
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const elementwiseCases: NamedCase[] = [
  {
    name: 'Add [2,3,4]+[4]',
    dtype: f64,
    params: { a: { dims: [2, 3, 4] }, b: { dims: [4] } },
    build: (b, v) => b.op('Add', [v.a, v.b]),
  },
  {
    name: 'Add [4]+[2,3,4] (first input broadcast)',
    dtype: f64,
    params: { a: { dims: [4] }, b: { dims: [2, 3, 4] } },
    build: (b, v) => b.op('Add', [v.a, v.b]),
  },
  {
    name: 'Sub [3,1]-[1,4]',
    dtype: f64,
    params: { a: { dims: [3, 1] }, b: { dims: [1, 4] } },
    build: (b, v) => b.op('Sub', [v.a, v.b]),
  },
  {
    name: 'Mul [2,1,4]*[3,1]',
    dtype: f64,
    params: { a: { dims: [2, 1, 4] }, b: { dims: [3, 1] } },
    build: (b, v) => b.op('Mul', [v.a, v.b]),
  },
  {
    name: 'Mul x*x (same value twice)',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => b.op('Mul', [v.x, v.x]),
  },
  {
    name: 'Div [2,3]/[3]',
    dtype: f64,
    params: { a: { dims: [2, 3] }, b: { dims: [3], gap: 0.5 } },
    build: (b, v) => b.op('Div', [v.a, v.b]),
  },
  {
    name: 'Sum of [2,1,3], [3], [4,1]',
    dtype: f64,
    params: { a: { dims: [2, 1, 3] }, b: { dims: [3] }, c: { dims: [4, 1] } },
    build: (b, v) => b.op('Sum', [v.a, v.b, v.c]),
  },
  {
    name: 'Pow base>0 [2,3] ^ [3]',
    dtype: f64,
    params: { a: { dims: [2, 3], lo: 0.5, hi: 2 }, p: { dims: [3], lo: -1.5, hi: 2.5 } },
    build: (b, v) => b.op('Pow', [v.a, v.p]),
  },
  {
    name: 'Max of [2,3,4], [4], [3,1]',
    dtype: f64,
    params: { a: { dims: [2, 3, 4] }, b: { dims: [4] }, c: { dims: [3, 1] } },
    build: (b, v) => b.op('Max', [v.a, v.b, v.c]),
  },
  {
    name: 'Min [3,4] and [4]',
    dtype: f64,
    params: { a: { dims: [3, 4] }, b: { dims: [4] } },
    build: (b, v) => b.op('Min', [v.a, v.b]),
  },
  { name: 'Neg', dtype: f64, params: X([3, 4]), build: (b, v) => b.op('Neg', [v.x]) },
  { name: 'Identity', dtype: f64, params: X([3, 4]), build: (b, v) => b.op('Identity', [v.x]) },
  {
    name: 'Abs (away from 0)',
    dtype: f64,
    params: X([3, 4], { gap: 0.05 }),
    build: (b, v) => b.op('Abs', [v.x]),
  },
  {
    name: 'Sqrt (x > 0)',
    dtype: f64,
    params: X([3, 4], { lo: 0.2, hi: 3 }),
    build: (b, v) => b.op('Sqrt', [v.x]),
  },
  { name: 'Exp', dtype: f64, params: X([3, 4]), build: (b, v) => b.op('Exp', [v.x]) },
  {
    name: 'Log (x > 0)',
    dtype: f64,
    params: X([3, 4], { lo: 0.2, hi: 3 }),
    build: (b, v) => b.op('Log', [v.x]),
  },
  {
    name: 'Reciprocal (away from 0)',
    dtype: f64,
    params: X([3, 4], { lo: -2, hi: 2, gap: 0.3 }),
    build: (b, v) => b.op('Reciprocal', [v.x]),
  },
  { name: 'Tanh', dtype: f64, params: X([3, 4], { lo: -2, hi: 2 }), build: (b, v) => b.op('Tanh', [v.x]) },
  {
    name: 'Sigmoid',
    dtype: f64,
    params: X([3, 4], { lo: -3, hi: 3 }),
    build: (b, v) => b.op('Sigmoid', [v.x]),
  },
  {
    name: 'Relu (away from 0)',
    dtype: f64,
    params: X([3, 4], { gap: 0.05 }),
    build: (b, v) => b.op('Relu', [v.x]),
  },
  {
    name: 'LeakyRelu alpha 0.2 (away from 0)',
    dtype: f64,
    params: X([3, 4], { gap: 0.05 }),
    build: (b, v) => b.op('LeakyRelu', [v.x], { alpha: float(0.2) }),
  },
  {
    name: 'Erf',
    dtype: f32,
    why: 'onnxruntime CPU implements Erf for float32 only',
    params: X([3, 4], { lo: -2, hi: 2 }),
    build: (b, v) => b.op('Erf', [v.x]),
  },
  {
    name: 'Clip with min and max (some values clipped)',
    dtype: f64,
    params: X([4, 5], { lo: -2, hi: 2 }),
    build: (b, v) => b.op('Clip', [v.x, b.scalar('float64', -0.5), b.scalar('float64', 0.5)]),
  },
  {
    name: 'Clip without bounds',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => b.op('Clip', [v.x]),
  },
  {
    name: 'Cast float64 → float64',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => b.op('Mul', [b.op('Cast', [v.x], { to: 11 }), v.x]),
  },
  {
    name: 'Cast float32 → float64 → float32',
    dtype: f32,
    why: 'the round trip starts from a float32 parameter',
    params: X([3, 4]),
    build: (b, v) => {
      const d = b.op('Cast', [v.x], { to: 11 });
      return b.op('Cast', [b.op('Mul', [d, d])], { to: 1 });
    },
  },
  {
    name: 'Where with a broadcast mask [3,1], x [3,4], y [4]',
    dtype: f64,
    params: { x: { dims: [3, 4] }, y: { dims: [4] } },
    data: { c: { dims: [3, 1], dtype: 'bool', values: [1, 0, 1] } },
    build: (b, v) => b.op('Where', [v.c, v.x, v.y]),
  },
  {
    name: 'Dropout, inference (no training input)',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => b.op('Dropout', [v.x]),
  },
  {
    name: 'Dropout, ratio 0.3 with training_mode false',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => {
      const training = b.constant('bool', [], [0]);
      return b.op('Dropout', [v.x, b.scalar('float64', 0.3), training]);
    },
  },
  {
    name: 'Dropout, ratio 0 in training mode (mask output)',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => {
      const training = b.constant('bool', [], [1]);
      return b.opN('Dropout', [v.x, b.scalar('float64', 0), training], 2)[0];
    },
  },
  {
    name: 'Softmax axis 1 on [2,3,4]',
    dtype: f64,
    params: X([2, 3, 4], { lo: -2, hi: 2 }),
    build: (b, v) => b.op('Softmax', [v.x], { axis: 1 }),
  },
  {
    name: 'Softmax axis -1 on [2,3,4]',
    dtype: f64,
    params: X([2, 3, 4], { lo: -2, hi: 2 }),
    build: (b, v) => b.op('Softmax', [v.x], { axis: -1 }),
  },
  {
    name: 'LogSoftmax axis 1 on [2,3,4]',
    dtype: f64,
    params: X([2, 3, 4], { lo: -2, hi: 2 }),
    build: (b, v) => b.op('LogSoftmax', [v.x], { axis: 1 }),
  },
  {
    name: 'LogSoftmax axis -1 on [2,3,4]',
    dtype: f64,
    params: X([2, 3, 4], { lo: -2, hi: 2 }),
    build: (b, v) => b.op('LogSoftmax', [v.x], { axis: -1 }),
  },
  {
    name: 'Gelu op (opset 20), exact',
    dtype: f32,
    why: 'its gradient uses Erf, which onnxruntime runs in float32 only',
    runner: ortRunnerAt(20),
    params: X([3, 4], { lo: -3, hi: 3 }),
    build: (b, v) => b.op('Gelu', [v.x]),
  },
  {
    name: 'Gelu op (opset 20), tanh approximation',
    dtype: f64,
    runner: ortRunnerAt(20),
    params: X([3, 4], { lo: -3, hi: 3 }),
    build: (b, v) => b.op('Gelu', [v.x], { approximate: 'tanh' }),
  },
  {
    name: 'GELU decomposed, erf form 0.5·x·(1+erf(x/√2))',
    dtype: f32,
    why: 'Erf runs in float32 only',
    params: X([3, 4], { lo: -3, hi: 3 }),
    build: (b, v) => {
      const e = b.op('Erf', [b.op('Mul', [v.x, b.scalar('float32', Math.SQRT1_2)])]);
      const cdf = b.op('Mul', [b.scalar('float32', 0.5), b.op('Add', [b.scalar('float32', 1), e])]);
      return b.op('Mul', [v.x, cdf]);
    },
  },
  {
    name: 'GELU decomposed, tanh form from primitives',
    dtype: f64,
    params: X([3, 4], { lo: -3, hi: 3 }),
    build: (b, v) => {
      const s = (c: number) => b.scalar('float64', c);
      const x3 = b.op('Pow', [v.x, s(3)]);
      const inner = b.op('Mul', [s(SQRT_2_OVER_PI), b.op('Add', [v.x, b.op('Mul', [s(0.044715), x3])])]);
      const t = b.op('Tanh', [inner]);
      return b.op('Mul', [b.op('Mul', [s(0.5), v.x]), b.op('Add', [s(1), t])]);
    },
  },
];

export const shapeCases: NamedCase[] = [
  {
    name: 'Reshape [2,3,4] → [0,-1]',
    dtype: f64,
    params: X([2, 3, 4]),
    build: (b, v) => b.op('Reshape', [v.x, b.ints([0, -1])]),
  },
  {
    name: 'Reshape [2,3,4] → [4,-1,2]',
    dtype: f64,
    params: X([2, 3, 4]),
    build: (b, v) => b.op('Reshape', [v.x, b.ints([4, -1, 2])]),
  },
  {
    name: 'Flatten axis 2 on [2,3,2,2]',
    dtype: f64,
    params: X([2, 3, 2, 2]),
    build: (b, v) => b.op('Flatten', [v.x], { axis: 2 }),
  },
  {
    name: 'Flatten axis 0 on [2,3]',
    dtype: f64,
    params: X([2, 3]),
    build: (b, v) => b.op('Flatten', [v.x], { axis: 0 }),
  },
  {
    name: 'Transpose perm [2,0,1]',
    dtype: f64,
    params: X([2, 3, 4]),
    build: (b, v) => b.op('Transpose', [v.x], { perm: [2, 0, 1] }),
  },
  {
    name: 'Transpose default perm (reverse)',
    dtype: f64,
    params: X([2, 3, 4]),
    build: (b, v) => b.op('Transpose', [v.x]),
  },
  {
    name: 'Unsqueeze axes [0,-1]',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => b.op('Unsqueeze', [v.x, b.ints([0, -1])]),
  },
  {
    name: 'Squeeze axes [1]',
    dtype: f64,
    params: X([3, 1, 4, 1]),
    build: (b, v) => b.op('Squeeze', [v.x, b.ints([1])]),
  },
  {
    name: 'Squeeze all unit axes',
    dtype: f64,
    params: X([3, 1, 4, 1]),
    build: (b, v) => b.op('Squeeze', [v.x]),
  },
  {
    name: 'Expand [3,1] → [2,3,4]',
    dtype: f64,
    params: X([3, 1]),
    build: (b, v) => b.op('Expand', [v.x, b.ints([2, 3, 4])]),
  },
  {
    name: 'Concat three inputs on axis 1',
    dtype: f64,
    params: { a: { dims: [2, 1, 3] }, b: { dims: [2, 2, 3] }, c: { dims: [2, 3, 3] } },
    build: (b, v) => b.op('Concat', [v.a, v.b, v.c], { axis: 1 }),
  },
  {
    name: 'Concat on axis -1 with a data input',
    dtype: f64,
    params: { a: { dims: [3, 2] } },
    data: { d: { dims: [3, 4] } },
    build: (b, v) => b.op('Concat', [v.d, v.a], { axis: -1 }),
  },
  {
    name: 'Slice with negative starts and ends, clamped end',
    dtype: f64,
    params: X([5, 6]),
    build: (b, v) => b.op('Slice', [v.x, b.ints([-3, 1]), b.ints([100, -1]), b.ints([0, 1])]),
  },
  {
    name: 'Slice without axes, explicit steps 1',
    dtype: f64,
    params: X([4, 5, 3]),
    build: (b, v) => b.op('Slice', [v.x, b.ints([1, 0]), b.ints([3, 4]), b.ints([0, -2]), b.ints([1, 1])]),
  },
  {
    name: 'Slice without axes input',
    dtype: f64,
    params: X([4, 5]),
    build: (b, v) => b.op('Slice', [v.x, b.ints([1, 2]), b.ints([3, 5])]),
  },
  {
    name: 'Split axis 1 sizes [1,2,3], middle output unused',
    dtype: f64,
    params: X([2, 6]),
    build: (b, v) => {
      const [p0, , p2] = b.opN('Split', [v.x, b.ints([1, 2, 3])], 3, { axis: 1 });
      return [p0, p2];
    },
  },
  {
    name: 'Split num_outputs 2 on axis -1, second output unused',
    dtype: f64,
    params: X([3, 4]),
    build: (b, v) => b.opN('Split', [v.x], 2, { axis: -1, num_outputs: 2 })[0],
  },
  {
    name: 'Gather axis 0 (embedding, repeated indices)',
    dtype: f64,
    params: { table: { dims: [5, 3] } },
    data: { idx: { dims: [2, 4], dtype: 'int64', values: [1, 3, 1, 0, 4, 1, 1, 2] } },
    build: (b, v) => b.op('Gather', [v.table, v.idx], { axis: 0 }),
  },
  {
    name: 'Gather axis 1 on [3,5,2], repeated indices',
    dtype: f64,
    params: X([3, 5, 2]),
    data: { idx: { dims: [4], dtype: 'int64', values: [4, 0, 4, 2] } },
    build: (b, v) => b.op('Gather', [v.x, v.idx], { axis: 1 }),
  },
  {
    name: 'Gather axis 1 with 2-D indices on [2,4,3]',
    dtype: f64,
    params: X([2, 4, 3]),
    data: { idx: { dims: [2, 2], dtype: 'int64', values: [3, 1, 1, 0] } },
    build: (b, v) => b.op('Gather', [v.x, v.idx], { axis: 1 }),
  },
  {
    name: 'Gather scalar index, axis 0',
    dtype: f64,
    params: X([4, 3]),
    data: { idx: { dims: [], dtype: 'int64', values: [2] } },
    build: (b, v) => b.op('Gather', [v.x, v.idx], { axis: 0 }),
  },
  {
    name: 'Gather scalar index, axis 1',
    dtype: f64,
    params: X([2, 4, 3]),
    data: { idx: { dims: [], dtype: 'int64', values: [3] } },
    build: (b, v) => b.op('Gather', [v.x, v.idx], { axis: 1 }),
  },
  {
    name: 'GatherElements axis 1, repeated indices',
    dtype: f64,
    params: X([3, 4]),
    data: { idx: { dims: [3, 5], dtype: 'int64', values: [0, 3, 3, 1, 0, 2, 2, 2, 0, 1, 3, 0, 1, 1, 2] } },
    build: (b, v) => b.op('GatherElements', [v.x, v.idx], { axis: 1 }),
  },
  {
    name: 'GatherElements axis 0',
    dtype: f64,
    params: X([3, 2]),
    data: { idx: { dims: [4, 2], dtype: 'int64', values: [0, 2, 2, 2, 1, 0, 0, 1] } },
    build: (b, v) => b.op('GatherElements', [v.x, v.idx], { axis: 0 }),
  },
  ...(['ReduceSum', 'ReduceMean', 'ReduceSumSquare'] as const).flatMap((op) =>
    (
      [
        [[1], 0],
        [[1], 1],
        [[0, 2], 0],
        [[-1], 1],
        [[], 0],
        [[], 1],
      ] as [number[], number][]
    ).map(
      ([axes, keepdims]): NamedCase => ({
        name: `${op} axes [${axes}] keepdims ${keepdims} on [2,3,4]`,
        dtype: f64,
        params: X([2, 3, 4]),
        build: (b, v) => b.op(op, axes.length ? [v.x, b.ints(axes)] : [v.x], { keepdims }),
      }),
    ),
  ),
  {
    name: 'MatMul batched [2,3,4,5]@[5,6]',
    dtype: f64,
    params: { a: { dims: [2, 3, 4, 5] }, b: { dims: [5, 6] } },
    build: (b, v) => b.op('MatMul', [v.a, v.b]),
  },
  {
    name: 'MatMul [5]@[5,6]',
    dtype: f64,
    params: { a: { dims: [5] }, b: { dims: [5, 6] } },
    build: (b, v) => b.op('MatMul', [v.a, v.b]),
  },
  {
    name: 'MatMul [2,3,4]@[4]',
    dtype: f64,
    params: { a: { dims: [2, 3, 4] }, b: { dims: [4] } },
    build: (b, v) => b.op('MatMul', [v.a, v.b]),
  },
  {
    name: 'MatMul [3,4]@[2,4,5] (first input broadcast)',
    dtype: f64,
    params: { a: { dims: [3, 4] }, b: { dims: [2, 4, 5] } },
    build: (b, v) => b.op('MatMul', [v.a, v.b]),
  },
  {
    name: 'MatMul [2,1,3,4]@[3,4,2] (both batch dims broadcast)',
    dtype: f64,
    params: { a: { dims: [2, 1, 3, 4] }, b: { dims: [3, 4, 2] } },
    build: (b, v) => b.op('MatMul', [v.a, v.b]),
  },
  {
    name: 'MatMul [4]@[4] (dot product)',
    dtype: f64,
    params: { a: { dims: [4] }, b: { dims: [4] } },
    build: (b, v) => b.op('MatMul', [v.a, v.b]),
  },
  ...[0, 1].flatMap((transA) =>
    [0, 1].flatMap((transB) =>
      (
        [
          [[4], 'C [N]'],
          [[3, 1], 'C [M,1]'],
          [[3, 4], 'C [M,N]'],
        ] as [number[], string][]
      ).map(
        ([cDims, label]): NamedCase => ({
          name: `Gemm transA=${transA} transB=${transB} alpha 1.5 beta 0.5 ${label}`,
          dtype: f64,
          params: {
            a: { dims: transA ? [5, 3] : [3, 5] },
            b: { dims: transB ? [4, 5] : [5, 4] },
            c: { dims: cDims },
          },
          build: (b, v) =>
            b.op('Gemm', [v.a, v.b, v.c], { transA, transB, alpha: float(1.5), beta: float(0.5) }),
        }),
      ),
    ),
  ),
  {
    name: 'Gemm without C',
    dtype: f64,
    params: { a: { dims: [3, 5] }, b: { dims: [5, 4] } },
    build: (b, v) => b.op('Gemm', [v.a, v.b]),
  },
];
export const nnCases: NamedCase[] = [
  {
    name: 'LayerNormalization axis -1, scale and bias [4]',
    dtype: f64,
    params: { x: { dims: [2, 3, 4] }, scale: { dims: [4] }, bias: { dims: [4] } },
    build: (b, v) => b.op('LayerNormalization', [v.x, v.scale, v.bias], { axis: -1, epsilon: float(1e-5) }),
  },
  {
    name: 'LayerNormalization axis -2, scale and bias [3,4]',
    dtype: f64,
    params: { x: { dims: [2, 3, 4] }, scale: { dims: [3, 4] }, bias: { dims: [3, 4] } },
    build: (b, v) => b.op('LayerNormalization', [v.x, v.scale, v.bias], { axis: -2 }),
  },
  {
    name: 'LayerNormalization axis 1 without bias',
    dtype: f64,
    params: { x: { dims: [3, 5] }, scale: { dims: [5] } },
    build: (b, v) => b.op('LayerNormalization', [v.x, v.scale], { axis: 1 }),
  },
  {
    name: 'Conv 2-D stride 2, pads 1, output size rounded down (7×6 → 4×3)',
    dtype: f32,
    why: 'onnxruntime CPU implements Conv and ConvTranspose for float32 only',
    ...LINEAR_STEP,
    params: { x: { dims: [2, 2, 7, 6] }, w: { dims: [3, 2, 3, 3] }, bias: { dims: [3] } },
    build: (b, v) => b.op('Conv', [v.x, v.w, v.bias], { strides: [2, 2], pads: [1, 1, 1, 1] }),
  },
  {
    name: 'Conv 2-D dilation 2, asymmetric pads, strides [1,2]',
    dtype: f32,
    why: 'Conv is float32-only',
    ...LINEAR_STEP,
    params: { x: { dims: [1, 2, 7, 7] }, w: { dims: [2, 2, 2, 2] } },
    build: (b, v) =>
      b.op('Conv', [v.x, v.w], {
        dilations: [2, 2],
        pads: [0, 1, 1, 0],
        strides: [1, 2],
        kernel_shape: [2, 2],
      }),
  },
  {
    name: 'Conv 1-D stride 2 (9 → 4)',
    dtype: f32,
    why: 'Conv is float32-only',
    ...LINEAR_STEP,
    params: { x: { dims: [2, 3, 9] }, w: { dims: [2, 3, 3] }, bias: { dims: [2] } },
    build: (b, v) => b.op('Conv', [v.x, v.w, v.bias], { strides: [2] }),
  },
  {
    name: 'MaxPool kernel 2 stride 2',
    dtype: f64,
    params: X([2, 2, 4, 6]),
    build: (b, v) => b.op('MaxPool', [v.x], { kernel_shape: [2, 2], strides: [2, 2] }),
  },
  {
    name: 'MaxPool overlapping kernel 3 stride 2, pads 1',
    dtype: f64,
    params: X([1, 2, 7, 6]),
    build: (b, v) => b.op('MaxPool', [v.x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  },
  {
    name: 'GlobalAveragePool [2,3,4,5]',
    dtype: f32,
    why: 'onnxruntime CPU implements GlobalAveragePool for float32 only',
    params: X([2, 3, 4, 5]),
    build: (b, v) => b.op('GlobalAveragePool', [v.x]),
  },
  {
    name: 'softmaxCrossEntropy on a linear layer',
    dtype: f64,
    params: { w: { dims: [5, 3] }, bias: { dims: [3] } },
    data: { x: { dims: [4, 5], lo: -2, hi: 2 }, labels: { dims: [4], dtype: 'int64', values: [2, 0, 1, 2] } },
    build: (b, v) => softmaxCrossEntropy(b, b.op('Add', [b.op('MatMul', [v.x, v.w]), v.bias]), v.labels),
  },
  {
    name: 'softmaxCrossEntropy on [2,3,4] logits (labels [2,3])',
    dtype: f64,
    params: { logits: { dims: [2, 3, 4], lo: -2, hi: 2 } },
    data: { labels: { dims: [2, 3], dtype: 'int64', values: [3, 0, 1, 1, 2, 3] } },
    build: (b, v) => softmaxCrossEntropy(b, v.logits, v.labels),
  },
  {
    name: 'meanSquaredError on a linear layer',
    dtype: f64,
    params: { w: { dims: [5, 2] } },
    data: { x: { dims: [4, 5] }, y: { dims: [4, 2] } },
    build: (b, v) => meanSquaredError(b, b.op('MatMul', [v.x, v.w]), v.y),
  },
];
