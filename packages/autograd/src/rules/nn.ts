import { attrFloat, attrInt, attrInts, inferNode } from '@enjambre/onnx';
import type { GradContext, GradientRule } from '../context.ts';

function staticSpatial(ctx: GradContext, v: string): number[] {
  const s = ctx.shape(v).slice(2);
  if (!s.every((d) => typeof d === 'number')) throw ctx.fail(`spatial dimensions of ${v} must be static`);
  return s as number[];
}

export const nnRules: GradientRule[] = [
  {
    op: 'LayerNormalization',
    grad(ctx, [dy]) {
      if (!dy) return [];
      const [x, scale, bias] = ctx.node.inputs;
      const rank = ctx.rank(x);
      const axis = attrInt(ctx.node, 'axis', -1);
      const first = axis < 0 ? axis + rank : axis;
      const axes = ctx.ints(Array.from({ length: rank - first }, (_, i) => first + i));
      const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
      // Recompute the statistics in x's own precision (the op's optional outputs are float32).
      const mean = (v: string) => ctx.op('ReduceMean', [v, axes], { keepdims: 1 });
      const xc = ctx.op('Sub', [x, mean(x)]);
      const variance = mean(ctx.op('Mul', [xc, xc]));
      const rstd = ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(eps, x)])])]);
      const xhat = ctx.op('Mul', [xc, rstd]);
      let dx: string | undefined;
      if (ctx.needs(0)) {
        const dxhat = ctx.op('Mul', [dy, scale]);
        const inner = ctx.op('Sub', [
          ctx.op('Sub', [dxhat, mean(dxhat)]),
          ctx.op('Mul', [xhat, mean(ctx.op('Mul', [dxhat, xhat]))]),
        ]);
        dx = ctx.op('Mul', [rstd, inner]);
      }
      const dscale = ctx.needs(1) ? ctx.unbroadcast(ctx.op('Mul', [dy, xhat]), scale) : undefined;
      const dbias = bias && ctx.needs(2) ? ctx.unbroadcast(dy, bias) : undefined;
      return [dx, dscale, dbias];
    },
  },
  {
    op: 'Conv',
    grad(ctx, [dy]) {
      if (!dy) return [];
      const [x, w, bias] = ctx.node.inputs;
      if (attrInt(ctx.node, 'group', 1) !== 1) throw ctx.fail('Conv gradients support group=1 only');
      const autoPad = ctx.node.attrs.auto_pad;
      if (autoPad?.type === 'string' && autoPad.value !== 'NOTSET' && autoPad.value !== 'VALID') {
        throw ctx.fail('Conv gradients need explicit pads (auto_pad NOTSET)');
      }
      const spatialX = staticSpatial(ctx, x);
      const spatialY = staticSpatial(ctx, dy);
      const kernel = staticSpatial(ctx, w);
      const n = spatialX.length;
      const strides = attrInts(ctx.node, 'strides') ?? new Array(n).fill(1);
      const dilations = attrInts(ctx.node, 'dilations') ?? new Array(n).fill(1);
      const pads = attrInts(ctx.node, 'pads') ?? new Array(2 * n).fill(0);
      let dx: string | undefined;
      if (ctx.needs(0)) {
        // The transpose of a convolution; output_padding recovers sizes that the stride rounded away.
        const outputPadding = spatialX.map(
          (h, i) =>
            h - ((spatialY[i] - 1) * strides[i] - pads[i] - pads[i + n] + dilations[i] * (kernel[i] - 1) + 1),
        );
        dx = ctx.op('ConvTranspose', [dy, w], { strides, pads, dilations, output_padding: outputPadding });
      }
      let dw: string | undefined;
      if (ctx.needs(1)) {
        // dW[o,c] = Σ_n x[n,c] ⋆ dy[n,o]: a convolution over the batch, with stride and dilation swapped.
        const perm = [1, 0, ...Array.from({ length: n }, (_, i) => i + 2)];
        const xT = ctx.op('Transpose', [x], { perm });
        const dyT = ctx.op('Transpose', [dy], { perm });
        let full = ctx.op('Conv', [xT, dyT], { strides: dilations, dilations: strides, pads });
        const got = staticSpatial(ctx, full);
        if (got.some((g, i) => g !== kernel[i])) {
          full = ctx.op('Slice', [
            full,
            ctx.ints(kernel.map(() => 0)),
            ctx.ints(kernel),
            ctx.ints(kernel.map((_, i) => i + 2)),
          ]);
        }
        dw = ctx.op('Transpose', [full], { perm });
      }
      let db: string | undefined;
      if (bias && ctx.needs(2)) {
        db = ctx.op('ReduceSum', [dy, ctx.ints([0, ...Array.from({ length: n }, (_, i) => i + 2)])], {
          keepdims: 0,
        });
      }
      return [dx, dw, db];
    },
  },
  {
    op: 'MaxPool',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const x = ctx.node.inputs[0];
      if (attrInt(ctx.node, 'storage_order', 0) !== 0)
        throw ctx.fail('MaxPool gradients need storage_order 0');
      if (!ctx.node.outputs[1]) {
        // Ask the forward node for the argmax indices it already computes.
        ctx.node.outputs[1] = ctx.b.fresh(`${ctx.node.outputs[0]}_indices`);
        inferNode(ctx.node, ctx.table);
      }
      // MaxPool's indices index the whole flattened input (batch and channel included).
      const flat = ctx.ints([-1]);
      const zeros = ctx.op('Reshape', [ctx.zerosLike(x), flat]);
      const idx = ctx.op('Reshape', [ctx.node.outputs[1], flat]);
      const scattered = ctx.op('ScatterElements', [zeros, idx, ctx.op('Reshape', [dy, flat])], {
        axis: 0,
        reduction: 'add',
      });
      return [ctx.reshapeLike(scattered, x)];
    },
  },
  {
    op: 'GlobalAveragePool',
    grad(ctx, [dy]) {
      if (!dy || !ctx.needs(0)) return [];
      const x = ctx.node.inputs[0];
      const area = staticSpatial(ctx, x).reduce((a, b) => a * b, 1);
      const expanded = ctx.op('Expand', [dy, ctx.op('Shape', [x])]);
      return [ctx.op('Mul', [expanded, ctx.scalar(1 / area, x)])];
    },
  },
];
