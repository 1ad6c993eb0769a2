import { attrFloat, attrInt, attrString } from '@enjambre/onnx';
import type { GradContext, GradientRule } from '../context.ts';

/** Rule for an op whose inputs are broadcast against each other: per-input partials, then unbroadcast. */
function broadcasting(
  op: string,
  partial: (ctx: GradContext, dy: string, i: number) => string,
): GradientRule {
  return {
    op,
    grad(ctx, [dy]) {
      if (!dy) return [];
      return ctx.node.inputs.map((inp, i) =>
        ctx.needs(i) ? ctx.unbroadcast(partial(ctx, dy, i), inp) : undefined,
      );
    },
  };
}

/** Rule for a one-input op: dx = f(ctx, dy, x, y). */
function unary(op: string, f: (ctx: GradContext, dy: string, x: string, y: string) => string): GradientRule {
  return {
    op,
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      return [f(ctx, dy, ctx.node.inputs[0], ctx.node.outputs[0])];
    },
  };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const elementwiseRules: GradientRule[] = [
  broadcasting('Add', (_ctx, dy) => dy),
  broadcasting('Sum', (_ctx, dy) => dy),
  broadcasting('Sub', (ctx, dy, i) => (i === 0 ? dy : ctx.op('Neg', [dy]))),
  broadcasting('Mul', (ctx, dy, i) => ctx.op('Mul', [dy, ctx.node.inputs[1 - i]])),
  broadcasting('Div', (ctx, dy, i) => {
    const b = ctx.node.inputs[1];
    if (i === 0) return ctx.op('Div', [dy, b]);
    // d(a/b)/db = -y/b
    return ctx.op('Neg', [ctx.op('Div', [ctx.op('Mul', [dy, ctx.node.outputs[0]]), b])]);
  }),
  broadcasting('Pow', (ctx, dy, i) => {
    const [a, b] = ctx.node.inputs;
    const y = ctx.node.outputs[0];
    if (i === 0) {
      const bm1 = ctx.op('Sub', [b, ctx.scalar(1, b)]);
      return ctx.op('Mul', [dy, ctx.op('Mul', [b, ctx.op('Pow', [a, bm1])])]);
    }
    return ctx.op('Mul', [dy, ctx.op('Mul', [y, ctx.op('Log', [a])])]);
  }),
  {
    op: 'Max',
    grad: (ctx, [dy]) => minMax(ctx, dy),
  },
  {
    op: 'Min',
    grad: (ctx, [dy]) => minMax(ctx, dy),
  },
  unary('Neg', (ctx, dy) => ctx.op('Neg', [dy])),
  unary('Identity', (_ctx, dy) => dy),
  unary('Abs', (ctx, dy, x) => ctx.op('Mul', [dy, ctx.op('Sign', [x])])),
  unary('Sqrt', (ctx, dy, _x, y) => ctx.op('Div', [ctx.op('Mul', [dy, ctx.scalar(0.5, y)]), y])),
  unary('Exp', (ctx, dy, _x, y) => ctx.op('Mul', [dy, y])),
  unary('Log', (ctx, dy, x) => ctx.op('Div', [dy, x])),
  unary('Reciprocal', (ctx, dy, _x, y) => ctx.op('Neg', [ctx.op('Mul', [dy, ctx.op('Mul', [y, y])])])),
  unary('Tanh', (ctx, dy, _x, y) =>
    ctx.op('Mul', [dy, ctx.op('Sub', [ctx.scalar(1, y), ctx.op('Mul', [y, y])])]),
  ),
  unary('Sigmoid', (ctx, dy, _x, y) =>
    ctx.op('Mul', [dy, ctx.op('Mul', [y, ctx.op('Sub', [ctx.scalar(1, y), y])])]),
  ),
  unary('Relu', (ctx, dy, x) =>
    ctx.op('Where', [ctx.op('Greater', [x, ctx.scalar(0, x)]), dy, ctx.scalar(0, dy)]),
  ),
  unary('LeakyRelu', (ctx, dy, x) => {
    const alpha = attrFloat(ctx.node, 'alpha', 0.01);
    return ctx.op('Where', [
      ctx.op('Greater', [x, ctx.scalar(0, x)]),
      dy,
      ctx.op('Mul', [dy, ctx.scalar(alpha, dy)]),
    ]);
  }),
  unary('Erf', (ctx, dy, x) => {
    // d erf(x)/dx = 2/sqrt(pi) · exp(-x²)
    const e = ctx.op('Exp', [ctx.op('Neg', [ctx.op('Mul', [x, x])])]);
    return ctx.op('Mul', [dy, ctx.op('Mul', [e, ctx.scalar(TWO_OVER_SQRT_PI, x)])]);
  }),
  unary('Gelu', (ctx, dy, x) => {
    if (attrString(ctx.node, 'approximate', 'none') === 'tanh') {
      // y = 0.5x(1+t), t = tanh(k(x + 0.044715x³)); dy/dx = 0.5(1+t) + 0.5x(1-t²)·k(1 + 3·0.044715x²)
      const x2 = ctx.op('Mul', [x, x]);
      const inner = ctx.op('Mul', [
        ctx.scalar(SQRT_2_OVER_PI, x),
        ctx.op('Add', [x, ctx.op('Mul', [ctx.scalar(0.044715, x), ctx.op('Mul', [x2, x])])]),
      ]);
      const t = ctx.op('Tanh', [inner]);
      const half = ctx.scalar(0.5, x);
      const left = ctx.op('Mul', [half, ctx.op('Add', [ctx.scalar(1, x), t])]);
      const dInner = ctx.op('Mul', [
        ctx.scalar(SQRT_2_OVER_PI, x),
        ctx.op('Add', [ctx.scalar(1, x), ctx.op('Mul', [ctx.scalar(3 * 0.044715, x), x2])]),
      ]);
      const right = ctx.op('Mul', [
        ctx.op('Mul', [half, x]),
        ctx.op('Mul', [ctx.op('Sub', [ctx.scalar(1, x), ctx.op('Mul', [t, t])]), dInner]),
      ]);
      return ctx.op('Mul', [dy, ctx.op('Add', [left, right])]);
    }
    // y = xΦ(x); dy/dx = Φ(x) + xφ(x)
    const cdf = ctx.op('Mul', [
      ctx.scalar(0.5, x),
      ctx.op('Add', [ctx.scalar(1, x), ctx.op('Erf', [ctx.op('Mul', [x, ctx.scalar(Math.SQRT1_2, x)])])]),
    ]);
    const pdf = ctx.op('Mul', [
      ctx.scalar(INV_SQRT_2PI, x),
      ctx.op('Exp', [ctx.op('Mul', [ctx.scalar(-0.5, x), ctx.op('Mul', [x, x])])]),
    ]);
    return ctx.op('Mul', [dy, ctx.op('Add', [cdf, ctx.op('Mul', [x, pdf])])]);
  }),
  {
    op: 'Clip',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const [x, lo, hi] = ctx.node.inputs;
      let mask = ctx.op('Equal', [x, ctx.node.outputs[0]]);
      // Where clipping happened the output equals a bound, not x (ties count as pass-through).
      if (!lo && !hi) mask = ctx.op('Equal', [x, x]);
      return [ctx.op('Where', [mask, dy, ctx.scalar(0, dy)])];
    },
  },
  {
    op: 'Cast',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const x = ctx.node.inputs[0];
      const to = ctx.dtype(x) === 'float64' ? 11 : ctx.dtype(x) === 'float16' ? 10 : 1;
      return [ctx.op('Cast', [dy], { to })];
    },
  },
  {
    op: 'Where',
    grad(ctx, [dy]) {
      if (!dy) return [];
      const [c, x, y] = ctx.node.inputs;
      const zero = ctx.scalar(0, dy);
      return [
        undefined,
        ctx.needs(1) ? ctx.unbroadcast(ctx.op('Where', [c, dy, zero]), x) : undefined,
        ctx.needs(2) ? ctx.unbroadcast(ctx.op('Where', [c, zero, dy]), y) : undefined,
      ];
    },
  },
  {
    op: 'Dropout',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const training = ctx.constant(ctx.node.inputs[2]);
      if (!training || training[0] === 0) return [dy];
      const ratio = ctx.constant(ctx.node.inputs[1])?.[0] ?? 0.5;
      if (!ctx.node.outputs[1])
        throw ctx.fail('training-mode Dropout needs its mask output; build it with dropout()');
      const scaled = ctx.op('Mul', [dy, ctx.scalar(1 / (1 - ratio), dy)]);
      return [ctx.op('Where', [ctx.node.outputs[1], scaled, ctx.scalar(0, dy)])];
    },
  },
  {
    op: 'Softmax',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const y = ctx.node.outputs[0];
      const axis = attrInt(ctx.node, 'axis', -1);
      const dot = ctx.op('ReduceSum', [ctx.op('Mul', [dy, y]), ctx.ints([axis])], { keepdims: 1 });
      return [ctx.op('Mul', [y, ctx.op('Sub', [dy, dot])])];
    },
  },
  {
    op: 'LogSoftmax',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const y = ctx.node.outputs[0];
      const axis = attrInt(ctx.node, 'axis', -1);
      const s = ctx.op('ReduceSum', [dy, ctx.ints([axis])], { keepdims: 1 });
      return [ctx.op('Sub', [dy, ctx.op('Mul', [ctx.op('Exp', [y]), s])])];
    },
  },
];

function minMax(ctx: GradContext, dy: string | undefined): (string | undefined)[] {
  if (!dy) return [];
  const y = ctx.node.outputs[0];
  // The gradient goes to the input(s) that equal the result; ties share it equally.
  const masks = ctx.node.inputs.map((inp) =>
    ctx.op('Cast', [ctx.op('Equal', [inp, y])], { to: dtypeCode(ctx, y) }),
  );
  const count = masks.length === 1 ? masks[0] : ctx.op('Sum', masks);
  return ctx.node.inputs.map((inp, i) =>
    ctx.needs(i) ? ctx.unbroadcast(ctx.op('Div', [ctx.op('Mul', [dy, masks[i]]), count]), inp) : undefined,
  );
}

export function dtypeCode(ctx: GradContext, like: string): number {
  const dt = ctx.dtype(like);
  return dt === 'float64' ? 11 : dt === 'float16' ? 10 : 1;
}
