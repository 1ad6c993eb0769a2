import {
  type DataType,
  type Dim,
  type GraphBuilder,
  inferNode,
  type Node,
  type TensorType,
  type TypeTable,
} from '@enjambre/onnx';
import { GradientError } from './errors.ts';

/**
 * What a gradient rule sees: the forward node, the static types of every value, a builder
 * that appends backward nodes, and the few helpers every rule needs.
 */
export class GradContext {
  constructor(
    readonly b: GraphBuilder,
    readonly node: Node,
    readonly table: TypeTable,
    private readonly needsGrad: readonly boolean[],
  ) {}

  /** Whether input `i` of the node needs a gradient (trainable and on a path to the loss). */
  needs(i: number): boolean {
    return this.needsGrad[i] ?? false;
  }

  type(name: string): TensorType {
    const t = this.table.types.get(name);
    if (!t) throw this.fail(`value ${name} has no known type`);
    return t;
  }

  shape(name: string): Dim[] {
    const s = this.type(name).shape;
    if (!s) throw this.fail(`the shape of ${name} is unknown; gradients need static ranks`);
    return s;
  }

  rank(name: string): number {
    return this.shape(name).length;
  }

  dtype(name: string): DataType {
    return this.type(name).dtype;
  }

  /** A compile-time constant input (axes, shapes, starts), if it is one. */
  constant(name: string | undefined): number[] | undefined {
    return name ? this.table.constants.get(name)?.values : undefined;
  }

  /** Appends a node and infers its output types, so later rules can ask for shapes. */
  op(op: string, inputs: string[], attrs: Parameters<GraphBuilder['op']>[2] = {}): string {
    const before = this.b.graph.nodes.length;
    const out = this.b.op(op, inputs, attrs);
    this.inferFrom(before);
    return out;
  }

  opN(
    op: string,
    inputs: string[],
    outputs: number,
    attrs: Parameters<GraphBuilder['op']>[2] = {},
  ): string[] {
    const before = this.b.graph.nodes.length;
    const outs = this.b.opN(op, inputs, outputs, attrs);
    this.inferFrom(before);
    return outs;
  }

  /** A scalar constant with the dtype of `like`. */
  scalar(value: number, like: string): string {
    const before = this.b.graph.nodes.length;
    const out = this.b.scalar(this.dtype(like), value);
    this.inferFrom(before);
    return out;
  }

  ints(values: number[]): string {
    const before = this.b.graph.nodes.length;
    const out = this.b.ints(values);
    this.inferFrom(before);
    return out;
  }

  /** Zeros shaped like `like`. */
  zerosLike(like: string): string {
    return this.op('Mul', [like, this.scalar(0, like)]);
  }

  /**
   * Undoes numpy broadcasting: sums `grad` (shaped like the op's output) over the axes along
   * which `input` was broadcast, then gives it `input`'s shape. The one place broadcasting is undone.
   */
  unbroadcast(grad: string, input: string): string {
    const gs = this.shape(grad);
    const is = this.shape(input);
    if (sameShape(gs, is)) return grad;
    const lead = gs.length - is.length;
    if (lead < 0) throw this.fail(`gradient ${grad} has lower rank than input ${input}`);
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      if (i < lead || (is[i - lead] === 1 && gs[i] !== 1)) axes.push(i);
    }
    let out = grad;
    if (axes.length > 0) out = this.op('ReduceSum', [out, this.ints(axes)], { keepdims: 1 });
    return this.reshapeLike(out, input);
  }

  /** Reshapes `value` to the shape of `like`: statically when the shape is known, else through Shape. */
  reshapeLike(value: string, like: string): string {
    const target = this.shape(like);
    if (sameShape(this.shape(value), target)) return value;
    const shape = target.every((d) => typeof d === 'number')
      ? this.ints(target as number[])
      : this.op('Shape', [like]);
    return this.op('Reshape', [value, shape]);
  }

  fail(message: string): GradientError {
    return new GradientError(
      `${this.node.op} node ${this.node.name}: ${message}`,
      this.node.op,
      this.node.name,
    );
  }

  private inferFrom(start: number): void {
    const nodes = this.b.graph.nodes;
    for (let i = start; i < nodes.length; i++) inferNode(nodes[i], this.table);
  }
}

export function sameShape(a: Dim[], b: Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * One gradient rule: given the gradients of a node's outputs (undefined where an output does
 * not reach the loss), return the gradients of its inputs (undefined where none is needed).
 */
export interface GradientRule {
  op: string;
  grad(ctx: GradContext, dOutputs: (string | undefined)[]): (string | undefined)[];
}
