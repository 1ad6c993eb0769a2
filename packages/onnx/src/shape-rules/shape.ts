/** Shape rules of ops that make, read or rearrange shapes and constants. */
import { ShapeInferenceError } from '../errors.ts';
import type { Attribute, DataType, Dim } from '../ir.ts';
import {
  attrInt,
  attrInts,
  broadcastShapes,
  normAxis,
  rules,
  type ShapeRule,
  SMALL_CONSTANT,
  tensorNumbers,
} from './context.ts';

export const shapeShapeRules: ShapeRule[] = [
  ...rules(['Constant'], ({ node, where, set, fold }) => {
    const a = node.attrs.value as Attribute | undefined;
    if (a?.type === 'tensor') {
      set(0, { dtype: a.value.dtype, shape: [...a.value.dims] });
      if (a.value.data.length <= SMALL_CONSTANT && a.value.dtype !== 'float16') {
        fold(0, a.value.dims, tensorNumbers(a.value));
      }
    } else if (node.attrs.value_int) {
      set(0, { dtype: 'int64', shape: [] });
      fold(0, [], [attrInt(node, 'value_int', 0)]);
    } else if (node.attrs.value_ints) {
      const v = attrInts(node, 'value_ints') ?? [];
      set(0, { dtype: 'int64', shape: [v.length] });
      fold(0, [v.length], v);
    } else if (node.attrs.value_float) {
      set(0, { dtype: 'float32', shape: [] });
    } else throw new ShapeInferenceError(`${where}: unsupported Constant form`, node.name);
  }),
  ...rules(['ConstantOfShape'], ({ node, shape, constOf, set }) => {
    const c = constOf(0);
    const a = node.attrs.value;
    const dt: DataType = a?.type === 'tensor' ? a.value.dtype : 'float32';
    const st = shape(0);
    set(0, {
      dtype: dt,
      shape: c ? c.values : st && typeof st[0] === 'number' ? fillUnknown(st[0]) : undefined,
    });
  }),
  ...rules(['Range'], ({ dtype, constOf, set }) => {
    const [a, b, d] = [constOf(0), constOf(1), constOf(2)];
    const n = a && b && d ? Math.max(0, Math.ceil((b.values[0] - a.values[0]) / d.values[0])) : 'range';
    set(0, { dtype: dtype(0), shape: [n] });
  }),
  ...rules(['Shape'], ({ node, table, shape, set, fold }) => {
    const s = shape(0);
    set(0, { dtype: 'int64', shape: [s ? s.length : 'rank'] });
    const start = attrInt(node, 'start');
    if (s && start === undefined && attrInt(node, 'end') === undefined)
      table.shapeValues?.set(node.outputs[0], s);
    if (s?.every((d) => typeof d === 'number')) fold(0, [s.length], s as number[]);
  }),
  ...rules(['Size'], ({ set }) => {
    set(0, { dtype: 'int64', shape: [] });
  }),
  ...rules(['Reshape'], ({ node, table, where, shape, dtype, constOf, set, fold }) => {
    const s = shape(0);
    const target = constOf(1);
    const symbolic = table.shapeValues?.get(node.inputs[1]);
    if (!target && symbolic) {
      set(0, { dtype: dtype(0), shape: [...symbolic] });
      return;
    }
    if (!target) {
      const st = shape(1);
      set(0, { dtype: dtype(0), shape: st && typeof st[0] === 'number' ? fillUnknown(st[0]) : undefined });
      return;
    }
    set(0, {
      dtype: dtype(0),
      shape: reshapeShape(s, target.values, attrInt(node, 'allowzero', 0) === 1, where),
    });
    const c = constOf(0);
    if (c) fold(0, (table.types.get(node.outputs[0])!.shape as number[]) ?? [], c.values);
  }),
  ...rules(['Flatten'], ({ node, shape, dtype, set }) => {
    const s = shape(0);
    if (!s) {
      set(0, { dtype: dtype(0), shape: ['flat0', 'flat1'] });
      return;
    }
    const axis = normAxis(attrInt(node, 'axis', 1), s.length);
    set(0, { dtype: dtype(0), shape: [product(s.slice(0, axis)), product(s.slice(axis))] });
  }),
  ...rules(['Transpose'], ({ node, shape, dtype, set }) => {
    const s = shape(0);
    if (!s) {
      set(0, { dtype: dtype(0) });
      return;
    }
    const perm = attrInts(node, 'perm') ?? s.map((_, i) => s.length - 1 - i);
    set(0, { dtype: dtype(0), shape: perm.map((p) => s[p]) });
  }),
  ...rules(['Unsqueeze'], ({ node, shape, dtype, constOf, set, fold }) => {
    const s = shape(0);
    const axes = constOf(1)?.values ?? attrInts(node, 'axes');
    if (!s || !axes) {
      set(0, { dtype: dtype(0) });
      return;
    }
    const rank = s.length + axes.length;
    const ax = new Set(axes.map((a) => normAxis(a, rank)));
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(ax.has(i) ? 1 : s[j++]);
    set(0, { dtype: dtype(0), shape: out });
    const c = constOf(0);
    if (c) fold(0, out as number[], c.values);
  }),
  ...rules(['Squeeze'], ({ node, shape, dtype, constOf, set, fold }) => {
    const s = shape(0);
    const axes = constOf(1)?.values ?? attrInts(node, 'axes');
    if (!s) {
      set(0, { dtype: dtype(0) });
      return;
    }
    const ax = new Set(
      axes ? axes.map((a) => normAxis(a, s.length)) : s.flatMap((d, i) => (d === 1 ? [i] : [])),
    );
    const out = s.filter((_, i) => !ax.has(i));
    set(0, { dtype: dtype(0), shape: out });
    const c = constOf(0);
    if (c) fold(0, out as number[], c.values);
  }),
  ...rules(['Expand'], ({ node, table, where, shape, dtype, constOf, set }) => {
    const s = shape(0);
    const target = constOf(1)?.values ?? table.shapeValues?.get(node.inputs[1]);
    set(0, { dtype: dtype(0), shape: s && target ? broadcastShapes(s, target, where) : undefined });
  }),
  ...rules(['Tile'], ({ shape, dtype, constOf, set }) => {
    const s = shape(0);
    const reps = constOf(1);
    set(0, {
      dtype: dtype(0),
      shape: s && reps ? s.map((d, i) => (typeof d === 'number' ? d * reps.values[i] : d)) : undefined,
    });
  }),
  ...rules(['Concat'], ({ node, shape, dtype, constOf, set, fold }) => {
    const shapes = node.inputs.map((_, i) => shape(i));
    const axis = attrInt(node, 'axis', 0);
    if (shapes.some((s) => !s)) {
      set(0, { dtype: dtype(0) });
      return;
    }
    const s0 = shapes[0]!;
    const ax = normAxis(axis, s0.length);
    const out = [...s0];
    out[ax] = sumDims(shapes.map((s) => s![ax]));
    set(0, { dtype: dtype(0), shape: out });
    const cs = node.inputs.map((_, i) => constOf(i));
    if (s0.length === 1 && cs.every(Boolean)) {
      const values = cs.flatMap((c) => c!.values);
      fold(0, [values.length], values);
    }
  }),
  ...rules(['Split'], ({ node, shape, dtype, constOf, set }) => {
    const s = shape(0);
    const axis = attrInt(node, 'axis', 0);
    const sizes = constOf(1)?.values ?? attrInts(node, 'split');
    for (let i = 0; i < node.outputs.length; i++) {
      if (!s) {
        set(i, { dtype: dtype(0) });
        continue;
      }
      const ax = normAxis(axis, s.length);
      const out = [...s];
      const d = s[ax];
      out[ax] = sizes ? sizes[i] : typeof d === 'number' ? Math.ceil(d / node.outputs.length) : `${d}_split`;
      set(i, { dtype: dtype(0), shape: out });
    }
  }),
  ...rules(['Slice'], ({ node, shape, dtype, constOf, set, fold }) => {
    const s = shape(0);
    const [starts, ends, axesC, stepsC] = [constOf(1), constOf(2), constOf(3), constOf(4)];
    if (!s || !starts || !ends || (node.inputs[3] && !axesC) || (node.inputs[4] && !stepsC)) {
      set(0, { dtype: dtype(0), shape: s ? s.map((_, i) => `${node.outputs[0]}_d${i}`) : undefined });
      return;
    }
    const axes = axesC?.values ?? starts.values.map((_, i) => i);
    const out = [...s];
    axes.forEach((a, i) => {
      const ax = normAxis(a, s.length);
      const d = s[ax];
      if (typeof d !== 'number') {
        out[ax] = `${node.outputs[0]}_d${ax}`;
        return;
      }
      const step = stepsC?.values[i] ?? 1;
      const { start, end } = clampSlice(starts.values[i], ends.values[i], step, d);
      out[ax] = Math.max(0, Math.ceil((end - start) / step));
    });
    set(0, { dtype: dtype(0), shape: out });
    const c = constOf(0);
    if (c && s.length === 1 && axes.length === 1 && (stepsC?.values[0] ?? 1) === 1) {
      const { start, end } = clampSlice(starts.values[0], ends.values[0], 1, c.values.length);
      fold(0, [Math.max(0, end - start)], c.values.slice(start, end));
    }
  }),
  ...rules(['Gather'], ({ node, shape, dtype, constOf, set, fold }) => {
    const data = shape(0);
    const idx = shape(1);
    if (!data || !idx) {
      set(0, { dtype: dtype(0) });
      return;
    }
    const axis = normAxis(attrInt(node, 'axis', 0), data.length);
    set(0, { dtype: dtype(0), shape: [...data.slice(0, axis), ...idx, ...data.slice(axis + 1)] });
    const c = constOf(0);
    const ci = constOf(1);
    if (c && ci && data.length === 1) {
      const n = c.values.length;
      fold(
        0,
        idx as number[],
        ci.values.map((i) => c.values[i < 0 ? i + n : i]),
      );
    }
  }),
  ...rules(['GatherElements'], ({ shape, dtype, set }) => {
    set(0, { dtype: dtype(0), shape: shape(1) });
  }),
  ...rules(['OneHot'], ({ node, shape, dtype, constOf, set }) => {
    const s = shape(0);
    const depth = constOf(1)?.values[0];
    const axis = attrInt(node, 'axis', -1);
    if (!s) set(0, { dtype: dtype(2) });
    else {
      const out: Dim[] = [...s];
      out.splice(axis < 0 ? s.length + 1 + axis : axis, 0, depth ?? 'depth');
      set(0, { dtype: dtype(2), shape: out });
    }
  }),
  ...rules(['ScatterElements', 'ScatterND'], ({ shape, dtype, set }) => {
    set(0, { dtype: dtype(0), shape: shape(0) });
  }),
];

function reshapeShape(input: Dim[] | undefined, target: number[], allowZero: boolean, where: string): Dim[] {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (input?.[i] ?? `reshape_d${i}`) : t));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    if (!input) out[neg] = 'reshape_inferred';
    else {
      const total = product(input);
      const known = product(out.filter((_, i) => i !== neg));
      if (typeof total === 'number' && typeof known === 'number') {
        if (known === 0 || total % known !== 0) {
          throw new ShapeInferenceError(`${where}: cannot reshape [${input}] to [${target}]`);
        }
        out[neg] = total / known;
      } else
        out[neg] = divideSymbolic(
          input,
          out.filter((_, i) => i !== neg),
        );
    }
  }
  return out;
}

/** The -1 of a reshape when symbols are involved: cancels equal symbols, keeps the rest as one name. */
function divideSymbolic(input: Dim[], known: Dim[]): Dim {
  const num = [...input];
  const den: Dim[] = [];
  for (const d of known) {
    const i = num.indexOf(d);
    if (i >= 0) num.splice(i, 1);
    else den.push(d);
  }
  const n = product(num);
  const d = product(den);
  if (typeof n === 'number' && typeof d === 'number') return n / d;
  if (den.length === 0) return n;
  // Numeric factors cancel on their own: [batch, 12] → [-1, 3, 4] gives batch, not (batch*12)/(3*4).
  const numSyms = num.filter((x) => typeof x === 'string');
  const numInt = product(num.filter((x) => typeof x === 'number'));
  if (typeof d === 'number' && typeof numInt === 'number' && numInt % d === 0) {
    return product(numInt / d === 1 ? numSyms : [numInt / d, ...numSyms]);
  }
  return `(${num.join('*')})/(${den.join('*')})`;
}

function product(dims: Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  return n === 1 && syms.length === 1
    ? syms[0]
    : [n === 1 ? '' : String(n), ...syms].filter(Boolean).join('*');
}

function sumDims(dims: Dim[]): Dim {
  if (dims.every((d) => typeof d === 'number')) return (dims as number[]).reduce((a, b) => a + b, 0);
  return dims.join('+');
}

function fillUnknown(rank: number): Dim[] {
  return Array.from({ length: rank }, (_, i) => `d${i}`);
}

function clampSlice(start: number, end: number, step: number, dim: number): { start: number; end: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
  } else {
    s = clamp(s, -1, dim - 1);
    e = clamp(e, -1, dim - 1);
  }
  return { start: s, end: e };
}
