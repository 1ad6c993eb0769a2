/** Shape rules of network layers: matrix products, reductions, normalization, convolution, pooling. */
import { ShapeInferenceError } from '../errors.ts';
import type { Dim, Node } from '../ir.ts';
import {
  attrInt,
  attrInts,
  attrString,
  broadcastShapes,
  normAxis,
  rules,
  type ShapeRule,
  type TypeTable,
} from './context.ts';

export const nnShapeRules: ShapeRule[] = [
  ...rules(['MatMul'], ({ where, shape, dtype, set }) => {
    const a = shape(0);
    const b = shape(1);
    set(0, { dtype: dtype(0), shape: a && b ? matmulShape(a, b, where) : undefined });
  }),
  ...rules(['Gemm'], ({ node, shape, dtype, set }) => {
    const a = shape(0);
    const b = shape(1);
    if (a && b) {
      const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
      const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
      set(0, { dtype: dtype(0), shape: [m, n] });
    } else set(0, { dtype: dtype(0) });
  }),
  ...rules(
    [
      'ReduceSum',
      'ReduceMean',
      'ReduceMax',
      'ReduceMin',
      'ReduceProd',
      'ReduceSumSquare',
      'ReduceL2',
      'ReduceLogSumExp',
    ],
    ({ node, table, shape, dtype, set }) => {
      const s = shape(0);
      const axes = reduceAxes(node, table);
      const keep = attrInt(node, 'keepdims', 1) === 1;
      if (!s || axes === 'unknown') {
        set(0, { dtype: dtype(0) });
        return;
      }
      const rank = s.length;
      const all = axes.length === 0 && attrInt(node, 'noop_with_empty_axes', 0) === 0;
      if (axes.length === 0 && !all) {
        set(0, { dtype: dtype(0), shape: s });
        return;
      }
      const ax = new Set(all ? s.map((_, i) => i) : axes.map((a) => normAxis(a, rank)));
      const out: Dim[] = [];
      s.forEach((d, i) => {
        if (!ax.has(i)) out.push(d);
        else if (keep) out.push(1);
      });
      set(0, { dtype: dtype(0), shape: out });
    },
  ),
  ...rules(['ArgMax', 'ArgMin'], ({ node, shape, set }) => {
    const s = shape(0);
    const axis = attrInt(node, 'axis', 0);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    set(0, {
      dtype: 'int64',
      shape: s?.flatMap((d, i) => (i === normAxis(axis, s.length) ? (keep ? [1] : []) : [d])),
    });
  }),
  ...rules(['LayerNormalization'], ({ node, shape, dtype, set }) => {
    const s = shape(0);
    set(0, { dtype: dtype(0), shape: s });
    const axis = attrInt(node, 'axis', -1);
    const stat = s?.map((d, i) => (i >= normAxis(axis, s.length) ? 1 : d));
    if (node.outputs[1]) set(1, { dtype: 'float32', shape: stat });
    if (node.outputs[2]) set(2, { dtype: 'float32', shape: stat });
  }),
  ...rules(['BatchNormalization'], ({ shape, dtype, set }) => {
    set(0, { dtype: dtype(0), shape: shape(0) });
  }),
  ...rules(['Conv', 'MaxPool', 'AveragePool'], ({ node, where, shape, dtype, set }) => {
    const x = shape(0);
    const w = node.op === 'Conv' ? shape(1) : undefined;
    if (!x) {
      set(0, { dtype: dtype(0) });
      if (node.outputs[1]) set(1, { dtype: 'int64' });
      return;
    }
    const spatial = x.length - 2;
    const kernel = node.op === 'Conv' ? (w?.slice(2) as number[]) : (attrInts(node, 'kernel_shape') ?? []);
    const strides = attrInts(node, 'strides') ?? new Array(spatial).fill(1);
    const dil = attrInts(node, 'dilations') ?? new Array(spatial).fill(1);
    const pads = attrInts(node, 'pads') ?? new Array(2 * spatial).fill(0);
    const autoPad = attrString(node, 'auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') {
      throw new ShapeInferenceError(
        `${where}: auto_pad=${autoPad} is not supported; use explicit pads`,
        node.name,
      );
    }
    const out: Dim[] = [x[0], node.op === 'Conv' ? (w?.[0] ?? 'channels') : x[1]];
    for (let i = 0; i < spatial; i++) {
      const d = x[2 + i];
      if (typeof d !== 'number') out.push(`${node.outputs[0]}_s${i}`);
      else {
        const k = (kernel[i] - 1) * dil[i] + 1;
        const ceil = attrInt(node, 'ceil_mode', 0) === 1;
        const v = (d + pads[i] + pads[i + spatial] - k) / strides[i];
        out.push((ceil ? Math.ceil(v) : Math.floor(v)) + 1);
      }
    }
    set(0, { dtype: dtype(0), shape: out });
    if (node.outputs[1]) set(1, { dtype: 'int64', shape: out });
  }),
  ...rules(['ConvTranspose'], ({ node, shape, dtype, set }) => {
    const x = shape(0);
    const w = shape(1);
    if (!x || !w) {
      set(0, { dtype: dtype(0) });
      return;
    }
    const spatial = x.length - 2;
    const strides = attrInts(node, 'strides') ?? new Array(spatial).fill(1);
    const dil = attrInts(node, 'dilations') ?? new Array(spatial).fill(1);
    const pads = attrInts(node, 'pads') ?? new Array(2 * spatial).fill(0);
    const outPad = attrInts(node, 'output_padding') ?? new Array(spatial).fill(0);
    const group = attrInt(node, 'group', 1);
    const channels = typeof w[1] === 'number' ? w[1] * group : w[1];
    const out: Dim[] = [x[0], channels];
    for (let i = 0; i < spatial; i++) {
      const d = x[2 + i];
      const k = w[2 + i];
      out.push(
        typeof d === 'number' && typeof k === 'number'
          ? (d - 1) * strides[i] - pads[i] - pads[i + spatial] + dil[i] * (k - 1) + 1 + outPad[i]
          : `${node.outputs[0]}_s${i}`,
      );
    }
    set(0, { dtype: dtype(0), shape: out });
  }),
  ...rules(['GlobalAveragePool', 'GlobalMaxPool'], ({ shape, dtype, set }) => {
    const x = shape(0);
    set(0, { dtype: dtype(0), shape: x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined });
  }),
];

function matmulShape(a: Dim[], b: Dim[], where: string): Dim[] {
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2), where);
  const k1 = a2[a2.length - 1];
  const k2 = b2[b2.length - 2];
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
    throw new ShapeInferenceError(`${where}: inner dimensions ${k1} and ${k2} differ ([${a}] × [${b}])`);
  }
  const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

/** Reduce axes from the attribute (older opsets) or the second input (ReduceSum ≥ 13, others ≥ 18). */
export function reduceAxes(node: Node, table: TypeTable): number[] | 'unknown' {
  const attr = attrInts(node, 'axes');
  if (attr) return attr;
  if (!node.inputs[1]) return [];
  return table.constants.get(node.inputs[1])?.values ?? 'unknown';
}
