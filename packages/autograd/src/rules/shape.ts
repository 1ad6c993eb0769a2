import { attrInt, attrInts, reduceAxes } from '@enjambre/onnx';
import type { GradContext, GradientRule } from '../context.ts';
import { dtypeCode } from './elementwise.ts';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Ops that only rearrange elements without reordering them: the gradient is dy reshaped back. */
const reshaping = (op: string): GradientRule => ({
  op,
  grad(ctx, [dy]) {
    if (!dy || !ctx.needs(0)) return [];
    return [ctx.reshapeLike(dy, ctx.node.inputs[0])];
  },
});

/** `dy` of a reduction, broadcast back to the shape of the reduced input. */
function expandReduced(ctx: GradContext, dy: string): string {
  const x = ctx.node.inputs[0];
  const rank = ctx.rank(x);
  const axes = reduceAxes(ctx.node, ctx.table);
  if (axes === 'unknown') throw ctx.fail('reduction axes must be constants');
  const all = axes.length === 0;
  let g = dy;
  if (attrInt(ctx.node, 'keepdims', 1) === 0) {
    const ax = all ? [...Array(rank).keys()] : axes.map((a) => norm(a, rank)).sort((a, b) => a - b);
    if (ax.length > 0) g = ctx.op('Unsqueeze', [g, ctx.ints(ax)]);
  }
  const shape = ctx.shape(x);
  const target = shape.every((d) => typeof d === 'number')
    ? ctx.ints(shape as number[])
    : ctx.op('Shape', [x]);
  return ctx.op('Expand', [g, target]);
}

function reductionRatio(ctx: GradContext): string {
  // mean = sum / (|x| / |y|); the ratio is static when shapes are, else read at run time.
  const x = ctx.node.inputs[0];
  const y = ctx.node.outputs[0];
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if ([...xs, ...ys].every((d) => typeof d === 'number')) {
    const n = (xs as number[]).reduce((a, b) => a * b, 1) / (ys as number[]).reduce((a, b) => a * b, 1);
    return ctx.scalar(1 / n, x);
  }
  const to = dtypeCode(ctx, x);
  return ctx.op('Div', [
    ctx.op('Cast', [ctx.op('Size', [y])], { to }),
    ctx.op('Cast', [ctx.op('Size', [x])], { to }),
  ]);
}

function swapLast(ctx: GradContext, v: string): string {
  const r = ctx.rank(v);
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return ctx.op('Transpose', [v], { perm });
}

export const shapeRules: GradientRule[] = [
  reshaping('Reshape'),
  reshaping('Flatten'),
  reshaping('Squeeze'),
  reshaping('Unsqueeze'),
  {
    op: 'Transpose',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const r = ctx.rank(ctx.node.inputs[0]);
      const perm = attrInts(ctx.node, 'perm') ?? [...Array(r).keys()].reverse();
      const inverse = new Array<number>(r);
      perm.forEach((p, i) => {
        inverse[p] = i;
      });
      return [ctx.op('Transpose', [dy], { perm: inverse })];
    },
  },
  {
    op: 'Expand',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      return [ctx.unbroadcast(dy, ctx.node.inputs[0])];
    },
  },
  {
    op: 'Concat',
    grad(ctx, [dy]) {
      if (!dy) return [];
      const inputs = ctx.node.inputs;
      const axis = norm(attrInt(ctx.node, 'axis', 0), ctx.rank(dy));
      const dims = inputs.map((x) => ctx.shape(x)[axis]);
      const sizes = dims.every((d) => typeof d === 'number')
        ? ctx.ints(dims as number[])
        : ctx.op(
            'Concat',
            inputs.map((x) =>
              ctx.op('Slice', [ctx.op('Shape', [x]), ctx.ints([axis]), ctx.ints([axis + 1])]),
            ),
            { axis: 0 },
          );
      return ctx.opN('Split', [dy, sizes], inputs.length, { axis });
    },
  },
  {
    op: 'Split',
    grad(ctx, dys) {
      if (!ctx.needs(0)) return [];
      const axis = attrInt(ctx.node, 'axis', 0);
      const parts = ctx.node.outputs.map((o, i) => dys[i] ?? ctx.zerosLike(o));
      return [ctx.op('Concat', parts, { axis })];
    },
  },
  {
    op: 'Slice',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const [x, startsN, endsN, axesN, stepsN] = ctx.node.inputs;
      const starts = ctx.constant(startsN);
      const ends = ctx.constant(endsN);
      const axes = axesN ? ctx.constant(axesN) : starts?.map((_, i) => i);
      const steps = stepsN ? ctx.constant(stepsN) : starts?.map(() => 1);
      if (!starts || !ends || !axes || !steps)
        throw ctx.fail('Slice gradients need constant starts, ends, axes and steps');
      if (steps.some((s) => s !== 1)) throw ctx.fail('Slice gradients support step 1 only');
      const shape = ctx.shape(x);
      const rank = shape.length;
      const pads = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        const ax = norm(a, rank);
        const d = shape[ax];
        if (typeof d !== 'number') throw ctx.fail(`Slice gradients need a static size on axis ${ax}`);
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
        const s = clamp(starts[i]);
        const e = Math.max(clamp(ends[i]), s);
        pads[ax] = s;
        pads[ax + rank] = d - e;
      });
      return [ctx.op('Pad', [dy, ctx.ints(pads)])];
    },
  },
  {
    op: 'Gather',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const [data, indices] = ctx.node.inputs;
      const r = ctx.rank(data);
      const q = ctx.rank(indices);
      const a = norm(attrInt(ctx.node, 'axis', 0), r);
      // Move the gathered axis to the front, scatter-add dy rows into zeros, move it back.
      const permData = [a, ...[...Array(r).keys()].filter((i) => i !== a)];
      const moved = a === 0 ? data : ctx.op('Transpose', [data], { perm: permData });
      const permDy = [
        ...Array.from({ length: q }, (_, i) => a + i),
        ...Array.from({ length: a }, (_, i) => i),
        ...Array.from({ length: r - 1 - a }, (_, i) => a + q + i),
      ];
      const dyMoved = a === 0 ? dy : ctx.op('Transpose', [dy], { perm: permDy });
      const idx = ctx.op('Unsqueeze', [indices, ctx.ints([-1])]);
      const scattered = ctx.op('ScatterND', [ctx.zerosLike(moved), idx, dyMoved], { reduction: 'add' });
      if (a === 0) return [scattered];
      const inverse = new Array<number>(r);
      permData.forEach((p, i) => {
        inverse[p] = i;
      });
      return [ctx.op('Transpose', [scattered], { perm: inverse })];
    },
  },
  {
    op: 'GatherElements',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const [data, indices] = ctx.node.inputs;
      const axis = attrInt(ctx.node, 'axis', 0);
      return [ctx.op('ScatterElements', [ctx.zerosLike(data), indices, dy], { axis, reduction: 'add' })];
    },
  },
  {
    op: 'ReduceSum',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      return [expandReduced(ctx, dy)];
    },
  },
  {
    op: 'ReduceMean',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      return [ctx.op('Mul', [expandReduced(ctx, dy), reductionRatio(ctx)])];
    },
  },
  {
    op: 'ReduceSumSquare',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const x = ctx.node.inputs[0];
      return [ctx.op('Mul', [expandReduced(ctx, dy), ctx.op('Mul', [x, ctx.scalar(2, x)])])];
    },
  },
  {
    op: 'MatMul',
    grad(ctx, [dy]) {
      if (!dy) return [];
      let [a, b] = ctx.node.inputs;
      const [a0, b0] = [a, b];
      let g = dy;
      // Vectors are matrices with a unit dimension, as numpy treats them. b first: when both are
      // vectors dy is a scalar, and only after its trailing axis is restored does -2 exist.
      if (ctx.rank(b) === 1) {
        b = ctx.op('Unsqueeze', [b, ctx.ints([-1])]);
        g = ctx.op('Unsqueeze', [g, ctx.ints([-1])]);
      }
      if (ctx.rank(a) === 1) {
        a = ctx.op('Unsqueeze', [a, ctx.ints([0])]);
        g = ctx.op('Unsqueeze', [g, ctx.ints([-2])]);
      }
      const da = ctx.needs(0) ? ctx.unbroadcast(ctx.op('MatMul', [g, swapLast(ctx, b)]), a) : undefined;
      const db = ctx.needs(1) ? ctx.unbroadcast(ctx.op('MatMul', [swapLast(ctx, a), g]), b) : undefined;
      return [da && ctx.reshapeLike(da, a0), db && ctx.reshapeLike(db, b0)];
    },
  },
  {
    op: 'Gemm',
    grad(ctx, [dy]) {
      if (!dy) return [];
      const [a, b, c] = ctx.node.inputs;
      const alpha = ctx.node.attrs.alpha?.type === 'float' ? ctx.node.attrs.alpha.value : 1;
      const beta = ctx.node.attrs.beta?.type === 'float' ? ctx.node.attrs.beta.value : 1;
      const ta = attrInt(ctx.node, 'transA', 0);
      const tb = attrInt(ctx.node, 'transB', 0);
      const f = (value: number) => ({ type: 'float' as const, value });
      let da: string | undefined;
      let db: string | undefined;
      if (ctx.needs(0)) {
        da = ta
          ? ctx.op('Gemm', [b, dy], { transA: tb, transB: 1, alpha: f(alpha) })
          : ctx.op('Gemm', [dy, b], { transB: 1 - tb, alpha: f(alpha) });
      }
      if (ctx.needs(1)) {
        db = tb
          ? ctx.op('Gemm', [dy, a], { transA: 1, transB: ta, alpha: f(alpha) })
          : ctx.op('Gemm', [a, dy], { transA: 1 - ta, alpha: f(alpha) });
      }
      let dc: string | undefined;
      if (c && ctx.needs(2)) {
        const scaled = beta === 1 ? dy : ctx.op('Mul', [dy, ctx.scalar(beta, dy)]);
        dc = ctx.unbroadcast(scaled, c);
      }
      return [da, db, dc];
    },
  },
];
