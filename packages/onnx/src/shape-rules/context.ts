/** What a shape rule sees of one node: its input types and constants, and setters for its outputs. */
import { ShapeInferenceError } from '../errors.ts';
import type { DataType, Dim, Node, Tensor, TensorType } from '../ir.ts';

/** Static types of every value in a graph: inputs, initializers, and each node's outputs. */
export interface TypeTable {
  types: Map<string, TensorType>;
  /** Values known at build time (Constant nodes, initializers, and what folds from them), as numbers. */
  constants: Map<string, { dims: number[]; values: number[] }>;
  /** 1-D int64 values known as (possibly symbolic) dims, e.g. the output of Shape(x). */
  shapeValues?: Map<string, Dim[]>;
}

/** Initializers and Constant values up to this many elements are kept as numbers for folding. */
export const SMALL_CONSTANT = 64;

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

export function tensorNumbers(t: Tensor): number[] {
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

export const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** One node under inference, with shorthands over its inputs and outputs. */
export interface ShapeContext {
  node: Node;
  table: TypeTable;
  /** `node <name> (<op>)`, the start of every error message. */
  where: string;
  /** Type of input `i`, if known. */
  inT(i: number): TensorType | undefined;
  /** Shape of input `i`, if known. */
  shape(i: number): Dim[] | undefined;
  /** Dtype of input `i`; throws when its type is unknown. */
  dtype(i: number): DataType;
  /** Value of input `i` when known at build time. */
  constOf(i: number): { dims: number[]; values: number[] } | undefined;
  /** Sets the type of output `i`. */
  set(i: number, t: TensorType): void;
  /** Records the build-time value of output `i`. */
  fold(i: number, dims: number[], values: number[]): void;
}

export function shapeContext(node: Node, table: TypeTable): ShapeContext {
  const { types, constants } = table;
  const where = `node ${node.name} (${node.op})`;
  const inT = (i: number): TensorType | undefined => (node.inputs[i] ? types.get(node.inputs[i]) : undefined);
  return {
    node,
    table,
    where,
    inT,
    shape: (i) => inT(i)?.shape,
    dtype(i) {
      const t = inT(i);
      if (!t)
        throw new ShapeInferenceError(
          `${where}: input ${i} (${node.inputs[i]}) has no known type`,
          node.name,
        );
      return t.dtype;
    },
    constOf: (i) => (node.inputs[i] ? constants.get(node.inputs[i]) : undefined),
    set: (i, t) => {
      types.set(node.outputs[i], t);
    },
    fold: (i, dims, values) => {
      constants.set(node.outputs[i], { dims, values });
    },
  };
}

/** How one op type's outputs get their dtype and shape (and, for small constants, their values). */
export interface ShapeRule {
  op: string;
  infer(ctx: ShapeContext): void;
}

/** The same inference for several op types. */
export const rules = (ops: readonly string[], infer: (ctx: ShapeContext) => void): ShapeRule[] =>
  ops.map((op) => ({ op, infer }));
