/**
 * Static shape and dtype inference over a graph. Each op type's rule lives in `shape-rules/`,
 * grouped like the gradient rules; this file walks the graph and applies them.
 */
import type { Graph, Node, TensorType } from './ir.ts';
import { SMALL_CONSTANT, shapeContext, type TypeTable, tensorNumbers } from './shape-rules/context.ts';
import { shapeRule } from './shape-rules/index.ts';

export {
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  broadcastShapes,
  type TypeTable,
} from './shape-rules/context.ts';
export { reduceAxes } from './shape-rules/nn.ts';

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

/** Infers the output types of one node into `table`; an unknown op's outputs get the dtype of its first input. */
export function inferNode(node: Node, table: TypeTable): void {
  const ctx = shapeContext(node, table);
  const rule = shapeRule(node.op);
  if (rule) rule.infer(ctx);
  else for (let i = 0; i < node.outputs.length; i++) ctx.set(i, { dtype: ctx.inT(0)?.dtype ?? 'float32' });
}
