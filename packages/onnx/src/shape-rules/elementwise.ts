/** Shape rules of elementwise ops: broadcasting arithmetic, comparisons, activations, casts. */
import { ShapeInferenceError } from '../errors.ts';
import type { DataType, Dim, Node } from '../ir.ts';
import { attrInt, broadcastShapes, rules, type ShapeRule, type TypeTable } from './context.ts';

export const elementwiseShapeRules: ShapeRule[] = [
  // Numpy broadcasting over every input; small constants fold.
  ...rules(
    ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean'],
    ({ node, table, where, shape, dtype, set }) => {
      let s: Dim[] | undefined = shape(0);
      for (let i = 1; i < node.inputs.length && s; i++) {
        const si = shape(i);
        s = si ? broadcastShapes(s, si, where) : undefined;
      }
      set(0, { dtype: dtype(0), shape: s });
      foldElementwise(node, table);
    },
  ),
  ...rules(
    ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or'],
    ({ where, shape, set }) => {
      const a = shape(0);
      const b = shape(1);
      set(0, { dtype: 'bool', shape: a && b ? broadcastShapes(a, b, where) : undefined });
    },
  ),
  ...rules(['Not'], ({ shape, set }) => {
    set(0, { dtype: 'bool', shape: shape(0) });
  }),
  ...rules(['Where'], ({ where, shape, dtype, set }) => {
    const [c, a, b] = [shape(0), shape(1), shape(2)];
    set(0, {
      dtype: dtype(1),
      shape: c && a && b ? broadcastShapes(broadcastShapes(c, a, where), b, where) : undefined,
    });
  }),
  // Same dtype and shape as the first input.
  ...rules(
    [
      'Abs',
      'Relu',
      'LeakyRelu',
      'Tanh',
      'Sigmoid',
      'Exp',
      'Log',
      'Sqrt',
      'Reciprocal',
      'Sign',
      'Erf',
      'Gelu',
      'Softmax',
      'LogSoftmax',
      'Clip',
      'Elu',
      'Softplus',
      'Sin',
      'Cos',
      'Floor',
      'Ceil',
      'Round',
      'CumSum',
    ],
    ({ shape, dtype, set }) => {
      set(0, { dtype: dtype(0), shape: shape(0) });
    },
  ),
  ...rules(['Identity'], ({ shape, dtype, constOf, set, fold }) => {
    set(0, { dtype: dtype(0), shape: shape(0) });
    const c = constOf(0);
    if (c) fold(0, c.dims, c.values);
  }),
  ...rules(['Neg'], ({ shape, dtype, constOf, set, fold }) => {
    set(0, { dtype: dtype(0), shape: shape(0) });
    const c = constOf(0);
    if (c)
      fold(
        0,
        c.dims,
        c.values.map((v) => -v),
      );
  }),
  ...rules(['Dropout'], ({ node, shape, dtype, set }) => {
    set(0, { dtype: dtype(0), shape: shape(0) });
    if (node.outputs[1]) set(1, { dtype: 'bool', shape: shape(0) });
  }),
  ...rules(['Cast'], ({ node, where, shape, constOf, set, fold }) => {
    const to = attrInt(node, 'to', 1);
    set(0, { dtype: castTarget(to, where), shape: shape(0) });
    if (constOf(0)) fold(0, constOf(0)!.dims, constOf(0)!.values);
  }),
];

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
