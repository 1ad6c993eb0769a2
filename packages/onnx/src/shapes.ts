import { ShapeInferenceError } from './errors.ts';
import type { Attribute, DataType, Dim, Graph, Node, Tensor, TensorType } from './ir.ts';

/** Static types of every value in a graph: inputs, initializers, and each node's outputs. */
export interface TypeTable {
  types: Map<string, TensorType>;
  /** Values known at build time (Constant nodes, initializers, and what folds from them), as numbers. */
  constants: Map<string, { dims: number[]; values: number[] }>;
  /** 1-D int64 values known as (possibly symbolic) dims, e.g. the output of Shape(x). */
  shapeValues?: Map<string, Dim[]>;
}

const SMALL_CONSTANT = 64;

export function attrInt(node: Node, name: string, fallback: number): number;
export function attrInt(node: Node, name: string): number | undefined;
export function attrInt(node: Node, name: string, fallback?: number): number | undefined {
  const a = node.attrs[name];
  return a && (a.type === 'int' || a.type === 'float') ? a.value : fallback;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && (a.type === 'float' || a.type === 'int') ? a.value : fallback;
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  return a?.type === 'ints' ? a.value : undefined;
}

export function attrString(node: Node, name: string, fallback: string): string {
  const a = node.attrs[name];
  return a?.type === 'string' ? a.value : fallback;
}

function tensorNumbers(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Broadcasts two shapes the numpy way; symbolic dims broadcast against 1 and against themselves. */
export function broadcastShapes(a: Dim[], b: Dim[], where = ''): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (typeof da === 'number' && typeof db === 'number') {
      throw new ShapeInferenceError(`${where}: shapes [${a}] and [${b}] do not broadcast`);
    } else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/**
 * Infers the dtype and shape of every value in `graph`. Ops it does not know get an unknown
 * shape (and the dtype of their first input), so callers can still use what is known.
 */
export function inferTypes(graph: Graph, outer?: TypeTable): TypeTable {
  const types = new Map<string, TensorType>(outer?.types);
  const constants = new Map(outer?.constants);
  for (const v of graph.inputs) types.set(v.name, v.type);
  for (const t of graph.initializers) {
    types.set(t.name, { dtype: t.dtype, shape: [...t.dims] });
    if (t.data.length <= SMALL_CONSTANT && t.dtype !== 'float16') {
      constants.set(t.name, { dims: t.dims, values: tensorNumbers(t) });
    }
  }
  const table = { types, constants, shapeValues: new Map(outer?.shapeValues) };
  for (const node of graph.nodes) inferNode(node, table);
  // Declared types fill in what inference could not (e.g. outputs of unknown ops in imported models).
  for (const v of [...graph.valueInfo, ...graph.outputs]) {
    const t = types.get(v.name);
    if (!t || (!t.shape && v.type.shape)) types.set(v.name, v.type);
  }
  return table;
}

export function inferNode(node: Node, table: TypeTable): void {
  const { types, constants } = table;
  const where = `node ${node.name} (${node.op})`;
  const inT = (i: number): TensorType | undefined => (node.inputs[i] ? types.get(node.inputs[i]) : undefined);
  const shape = (i: number): Dim[] | undefined => inT(i)?.shape;
  const dtype = (i: number): DataType => {
    const t = inT(i);
    if (!t)
      throw new ShapeInferenceError(`${where}: input ${i} (${node.inputs[i]}) has no known type`, node.name);
    return t.dtype;
  };
  const constOf = (i: number) => (node.inputs[i] ? constants.get(node.inputs[i]) : undefined);
  const set = (i: number, t: TensorType) => types.set(node.outputs[i], t);
  const fold = (i: number, dims: number[], values: number[]) =>
    constants.set(node.outputs[i], { dims, values });

  switch (node.op) {
    case 'Constant': {
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
      return;
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow':
    case 'Max':
    case 'Min':
    case 'Sum':
    case 'Mean': {
      let s: Dim[] | undefined = shape(0);
      for (let i = 1; i < node.inputs.length && s; i++) {
        const si = shape(i);
        s = si ? broadcastShapes(s, si, where) : undefined;
      }
      set(0, { dtype: dtype(0), shape: s });
      foldElementwise(node, table);
      return;
    }
    case 'Equal':
    case 'Less':
    case 'Greater':
    case 'LessOrEqual':
    case 'GreaterOrEqual':
    case 'And':
    case 'Or': {
      const a = shape(0);
      const b = shape(1);
      set(0, { dtype: 'bool', shape: a && b ? broadcastShapes(a, b, where) : undefined });
      return;
    }
    case 'Not':
      set(0, { dtype: 'bool', shape: shape(0) });
      return;
    case 'Where': {
      const [c, a, b] = [shape(0), shape(1), shape(2)];
      set(0, {
        dtype: dtype(1),
        shape: c && a && b ? broadcastShapes(broadcastShapes(c, a, where), b, where) : undefined,
      });
      return;
    }
    case 'Neg':
    case 'Abs':
    case 'Relu':
    case 'LeakyRelu':
    case 'Tanh':
    case 'Sigmoid':
    case 'Exp':
    case 'Log':
    case 'Sqrt':
    case 'Reciprocal':
    case 'Sign':
    case 'Erf':
    case 'Gelu':
    case 'Softmax':
    case 'LogSoftmax':
    case 'Identity':
    case 'Clip':
    case 'Elu':
    case 'Softplus':
    case 'Sin':
    case 'Cos':
    case 'Floor':
    case 'Ceil':
    case 'Round':
    case 'CumSum':
      set(0, { dtype: dtype(0), shape: shape(0) });
      if (node.op === 'Identity' && constOf(0)) fold(0, constOf(0)!.dims, constOf(0)!.values);
      if (node.op === 'Neg' && constOf(0))
        fold(
          0,
          constOf(0)!.dims,
          constOf(0)!.values.map((v) => -v),
        );
      return;
    case 'Dropout':
      set(0, { dtype: dtype(0), shape: shape(0) });
      if (node.outputs[1]) set(1, { dtype: 'bool', shape: shape(0) });
      return;
    case 'Cast': {
      const to = attrInt(node, 'to', 1);
      set(0, { dtype: castTarget(to, where), shape: shape(0) });
      if (constOf(0)) fold(0, constOf(0)!.dims, constOf(0)!.values);
      return;
    }
    case 'MatMul': {
      const a = shape(0);
      const b = shape(1);
      set(0, { dtype: dtype(0), shape: a && b ? matmulShape(a, b, where) : undefined });
      return;
    }
    case 'Gemm': {
      const a = shape(0);
      const b = shape(1);
      if (a && b) {
        const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
        const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
        set(0, { dtype: dtype(0), shape: [m, n] });
      } else set(0, { dtype: dtype(0) });
      return;
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceSumSquare':
    case 'ReduceL2':
    case 'ReduceLogSumExp': {
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
      return;
    }
    case 'ArgMax':
    case 'ArgMin': {
      const s = shape(0);
      const axis = attrInt(node, 'axis', 0);
      const keep = attrInt(node, 'keepdims', 1) === 1;
      set(0, {
        dtype: 'int64',
        shape: s?.flatMap((d, i) => (i === normAxis(axis, s.length) ? (keep ? [1] : []) : [d])),
      });
      return;
    }
    case 'Shape': {
      const s = shape(0);
      set(0, { dtype: 'int64', shape: [s ? s.length : 'rank'] });
      const start = attrInt(node, 'start');
      if (s && start === undefined && attrInt(node, 'end') === undefined)
        table.shapeValues?.set(node.outputs[0], s);
      if (s?.every((d) => typeof d === 'number')) fold(0, [s.length], s as number[]);
      return;
    }
    case 'Size':
      set(0, { dtype: 'int64', shape: [] });
      return;
    case 'Reshape': {
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
      if (c) fold(0, (types.get(node.outputs[0])!.shape as number[]) ?? [], c.values);
      return;
    }
    case 'Flatten': {
      const s = shape(0);
      if (!s) {
        set(0, { dtype: dtype(0), shape: ['flat0', 'flat1'] });
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', 1), s.length);
      set(0, { dtype: dtype(0), shape: [product(s.slice(0, axis)), product(s.slice(axis))] });
      return;
    }
    case 'Transpose': {
      const s = shape(0);
      if (!s) {
        set(0, { dtype: dtype(0) });
        return;
      }
      const perm = attrInts(node, 'perm') ?? s.map((_, i) => s.length - 1 - i);
      set(0, { dtype: dtype(0), shape: perm.map((p) => s[p]) });
      return;
    }
    case 'Unsqueeze': {
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
      return;
    }
    case 'Squeeze': {
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
      return;
    }
    case 'Expand': {
      const s = shape(0);
      const target = constOf(1)?.values ?? table.shapeValues?.get(node.inputs[1]);
      set(0, { dtype: dtype(0), shape: s && target ? broadcastShapes(s, target, where) : undefined });
      return;
    }
    case 'Tile': {
      const s = shape(0);
      const reps = constOf(1);
      set(0, {
        dtype: dtype(0),
        shape: s && reps ? s.map((d, i) => (typeof d === 'number' ? d * reps.values[i] : d)) : undefined,
      });
      return;
    }
    case 'Concat': {
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
      return;
    }
    case 'Split': {
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
        out[ax] = sizes
          ? sizes[i]
          : typeof d === 'number'
            ? Math.ceil(d / node.outputs.length)
            : `${d}_split`;
        set(i, { dtype: dtype(0), shape: out });
      }
      return;
    }
    case 'Slice': {
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
      return;
    }
    case 'Gather': {
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
      return;
    }
    case 'GatherElements':
    case 'OneHot':
      if (node.op === 'GatherElements') set(0, { dtype: dtype(0), shape: shape(1) });
      else {
        const s = shape(0);
        const depth = constOf(1)?.values[0];
        const axis = attrInt(node, 'axis', -1);
        if (!s) set(0, { dtype: dtype(2) });
        else {
          const out: Dim[] = [...s];
          out.splice(axis < 0 ? s.length + 1 + axis : axis, 0, depth ?? 'depth');
          set(0, { dtype: dtype(2), shape: out });
        }
      }
      return;
    case 'ScatterElements':
    case 'ScatterND':
      set(0, { dtype: dtype(0), shape: shape(0) });
      return;
    case 'ConstantOfShape': {
      const c = constOf(0);
      const a = node.attrs.value;
      const dt: DataType = a?.type === 'tensor' ? a.value.dtype : 'float32';
      const st = shape(0);
      set(0, {
        dtype: dt,
        shape: c ? c.values : st && typeof st[0] === 'number' ? fillUnknown(st[0]) : undefined,
      });
      return;
    }
    case 'Range': {
      const [a, b, d] = [constOf(0), constOf(1), constOf(2)];
      const n = a && b && d ? Math.max(0, Math.ceil((b.values[0] - a.values[0]) / d.values[0])) : 'range';
      set(0, { dtype: dtype(0), shape: [n] });
      return;
    }
    case 'LayerNormalization': {
      const s = shape(0);
      set(0, { dtype: dtype(0), shape: s });
      const axis = attrInt(node, 'axis', -1);
      const stat = s?.map((d, i) => (i >= normAxis(axis, s.length) ? 1 : d));
      if (node.outputs[1]) set(1, { dtype: 'float32', shape: stat });
      if (node.outputs[2]) set(2, { dtype: 'float32', shape: stat });
      return;
    }
    case 'BatchNormalization':
      set(0, { dtype: dtype(0), shape: shape(0) });
      return;
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool': {
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
      return;
    }
    case 'ConvTranspose': {
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
      return;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const x = shape(0);
      set(0, { dtype: dtype(0), shape: x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined });
      return;
    }
    case 'Loop':
    case 'If':
      for (let i = 0; i < node.outputs.length; i++) set(i, { dtype: inT(i + 2)?.dtype ?? 'float32' });
      return;
    default:
      for (let i = 0; i < node.outputs.length; i++) set(i, { dtype: inT(0)?.dtype ?? 'float32' });
  }
}

function foldElementwise(node: Node, { types, constants }: TypeTable): void {
  const cs = node.inputs.map((n) => constants.get(n));
  if (node.inputs.length !== 2 || !cs[0] || !cs[1]) return;
  const [a, b] = cs as { dims: number[]; values: number[] }[];
  if (a.values.length !== b.values.length && a.values.length !== 1 && b.values.length !== 1) return;
  const n = Math.max(a.values.length, b.values.length);
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y,
    Sub: (x, y) => x - y,
    Mul: (x, y) => x * y,
    Div: (x, y) => (types.get(node.outputs[0])?.dtype === 'int64' ? Math.trunc(x / y) : x / y),
  };
  const op = f[node.op];
  if (!op) return;
  const values = Array.from({ length: n }, (_, i) =>
    op(a.values[a.values.length === 1 ? 0 : i], b.values[b.values.length === 1 ? 0 : i]),
  );
  constants.set(node.outputs[0], { dims: a.values.length >= b.values.length ? a.dims : b.dims, values });
}

function castTarget(to: number, where: string): DataType {
  const table: Record<number, DataType> = {
    1: 'float32',
    11: 'float64',
    10: 'float16',
    7: 'int64',
    6: 'int32',
    3: 'int8',
    2: 'uint8',
    9: 'bool',
  };
  const dt = table[to];
  if (!dt) throw new ShapeInferenceError(`${where}: Cast to element type ${to} is not supported`);
  return dt;
}

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
