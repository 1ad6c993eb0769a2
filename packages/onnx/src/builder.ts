import { GraphBuildError } from './errors.ts';
import type { Attribute, DataType, Dim, Graph, Model, Node, Tensor, TensorData } from './ir.ts';
import { DEFAULT_IR_VERSION, DEFAULT_OPSET, emptyGraph } from './ir.ts';

/** Attribute shorthand: integers and integer lists become INT/INTS; use `float()`/`floats()` for floats. */
export type AttrInput = Attribute | number | number[] | string;

export const float = (value: number): Attribute => ({ type: 'float', value });
export const floats = (value: number[]): Attribute => ({ type: 'floats', value });
export const graphAttr = (value: Graph): Attribute => ({ type: 'graph', value });

export function toAttribute(a: AttrInput, where: string): Attribute {
  if (typeof a === 'string') return { type: 'string', value: a };
  if (typeof a === 'number') {
    if (!Number.isInteger(a))
      throw new GraphBuildError(`${where}: ${a} is not an integer; wrap floats with float()`);
    return { type: 'int', value: a };
  }
  if (Array.isArray(a)) {
    if (!a.every(Number.isInteger)) throw new GraphBuildError(`${where}: wrap float lists with floats()`);
    return { type: 'ints', value: a };
  }
  return a;
}

/** A tensor's values from plain numbers, in the typed array `dtype` needs. */
export function tensorValues(dtype: DataType, values: ArrayLike<number> | readonly bigint[]): TensorData {
  const src = values as ArrayLike<number | bigint>;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(src, Number);
    case 'float64':
      return Float64Array.from(src, Number);
    case 'int64':
      return BigInt64Array.from(src, (v) => BigInt(v));
    case 'int32':
      return Int32Array.from(src, Number);
    case 'int8':
      return Int8Array.from(src, Number);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(src, Number);
    case 'float16':
      throw new GraphBuildError('float16 constants must be given as raw Uint16Array bits');
  }
}

/**
 * Appends nodes to a graph with fresh, unique value names. Every model, gradient rule and
 * optimizer is written with it.
 */
export class GraphBuilder {
  readonly graph: Graph;
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(
    graph: Graph | string = 'graph',
    private readonly prefix = '',
  ) {
    this.graph = typeof graph === 'string' ? emptyGraph(graph) : graph;
    for (const v of this.graph.inputs) this.used.add(v.name);
    for (const t of this.graph.initializers) this.used.add(t.name);
    for (const n of this.graph.nodes) {
      this.used.add(n.name);
      for (const o of n.outputs) this.used.add(o);
    }
  }

  /** A name not used yet in this graph, derived from `hint`. */
  fresh(hint: string): string {
    let name = `${this.prefix}${hint}`;
    while (this.used.has(name)) name = `${this.prefix}${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dtype: DataType, shape: Dim[]): string {
    this.claim(name);
    this.graph.inputs.push({ name, type: { dtype, shape: [...shape] } });
    return name;
  }

  output(name: string, dtype: DataType, shape?: Dim[]): string {
    this.graph.outputs.push({ name, type: shape ? { dtype, shape: [...shape] } : { dtype } });
    return name;
  }

  initializer(name: string, dtype: DataType, dims: number[], data: TensorData): string {
    this.claim(name);
    this.graph.initializers.push({ name, dtype, dims: [...dims], data });
    return name;
  }

  /** A constant value as a Constant node; identical small constants are shared. */
  constant(
    dtype: DataType,
    dims: number[],
    values: ArrayLike<number> | readonly bigint[],
    hint = 'const',
  ): string {
    const key =
      values.length <= 16
        ? `${dtype}|${dims.join(',')}|${Array.from(values as ArrayLike<unknown>).join(',')}`
        : '';
    const cached = key ? this.constants.get(key) : undefined;
    if (cached) return cached;
    const value: Tensor = { name: '', dtype, dims: [...dims], data: tensorValues(dtype, values) };
    const out = this.op('Constant', [], { value: { type: 'tensor', value } }, { hint });
    if (key) this.constants.set(key, out);
    return out;
  }

  scalar(dtype: DataType, value: number): string {
    return this.constant(dtype, [], [value], 'scalar');
  }

  /** A 1-D int64 constant, the form ONNX takes for axes, shapes and indices. */
  ints(values: number[]): string {
    return this.constant('int64', [values.length], values, 'ints');
  }

  /** Appends one node and returns its single output. */
  op(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrInput> = {},
    opts: { hint?: string; domain?: string } = {},
  ): string {
    return this.opN(op, inputs, 1, attrs, opts)[0];
  }

  /** Appends one node with `outputs` outputs and returns their names. */
  opN(
    op: string,
    inputs: string[],
    outputs: number,
    attrs: Record<string, AttrInput> = {},
    opts: { hint?: string; domain?: string } = {},
  ): string[] {
    const hint = opts.hint ?? op.toLowerCase();
    const name = this.fresh(`${op}`);
    const outs = Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? hint : `${hint}_${i}`));
    const converted: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(attrs)) converted[k] = toAttribute(v, `${op}.${k}`);
    const node: Node = { op, domain: opts.domain ?? '', name, inputs, outputs: outs, attrs: converted };
    this.graph.nodes.push(node);
    return outs;
  }

  private claim(name: string): void {
    if (this.used.has(name))
      throw new GraphBuildError(`the name ${name} is already used in graph ${this.graph.name}`);
    this.used.add(name);
  }
}

export function makeModel(
  graph: Graph,
  opts: { opset?: number; metadata?: Record<string, string> } = {},
): Model {
  return {
    irVersion: DEFAULT_IR_VERSION,
    opsetImports: [{ domain: '', version: opts.opset ?? DEFAULT_OPSET }],
    producerName: 'enjambre',
    producerVersion: '0.1.0',
    graph,
    metadata: opts.metadata ?? {},
  };
}

/** Renames a value everywhere in a graph (producer, consumers, graph inputs/outputs, value info). */
export function renameValue(graph: Graph, from: string, to: string): void {
  const swap = (n: string) => (n === from ? to : n);
  for (const n of graph.nodes) {
    n.inputs = n.inputs.map(swap);
    n.outputs = n.outputs.map(swap);
  }
  for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) v.name = swap(v.name);
  for (const t of graph.initializers) t.name = swap(t.name);
}
