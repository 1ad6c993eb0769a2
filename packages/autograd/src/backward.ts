import { type Graph, GraphBuilder, inferTypes, type Node, type TypeTable, topoSort } from '@enjambre/onnx';
import { GradContext } from './context.ts';
import { GradientError, UnsupportedOpError } from './errors.ts';
import { type GradientRules, gradientRules, NON_DIFFERENTIABLE } from './rules/index.ts';

export interface GradientOptions {
  /** The scalar value to differentiate. */
  loss: string;
  /** Values (parameters) to differentiate with respect to. Everything else is held constant. */
  wrt: string[];
  /** Prefix of backward value names (default `grad/`). */
  prefix?: string;
  /** The gradient rules to use. Default: the registered ones ({@link gradientRules}). */
  rules?: GradientRules;
}

export interface GradientResult {
  /** Gradient value name for each entry of `wrt`, in the same order. */
  grads: string[];
  /** The type table of the forward and backward graph. */
  table: TypeTable;
}

/**
 * Appends the reverse-mode gradient of `loss` with respect to `wrt` to `graph` (in place).
 * Only nodes that lie on a path from a `wrt` value to the loss are differentiated, so frozen
 * parameters and data get no gradient work at all.
 */
export function appendGradients(graph: Graph, opts: GradientOptions): GradientResult {
  const table = inferTypes(graph);
  const order = topoSort(graph);
  const lossType = table.types.get(opts.loss);
  if (!lossType) throw new GradientError(`the loss ${opts.loss} is not a value of graph ${graph.name}`);
  if (lossType.shape && lossType.shape.length !== 0) {
    throw new GradientError(`the loss ${opts.loss} must be a scalar, it has shape [${lossType.shape}]`);
  }
  for (const w of opts.wrt) {
    if (!table.types.has(w))
      throw new GradientError(`cannot differentiate with respect to ${w}: no such value`);
  }

  // Forward: which values depend on a parameter through differentiable ops.
  const requires = new Set(opts.wrt);
  for (const n of order) {
    if (NON_DIFFERENTIABLE.has(n.op)) continue;
    if (n.inputs.some((i) => requires.has(i))) for (const o of n.outputs) if (o) requires.add(o);
  }
  // Backward: which values the loss depends on.
  const reaches = new Set([opts.loss]);
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    if (n.outputs.some((o) => reaches.has(o))) for (const inp of n.inputs) if (inp) reaches.add(inp);
  }

  const b = new GraphBuilder(graph, opts.prefix ?? 'grad/');
  const partials = new Map<string, string[]>();
  const add = (name: string, g: string) => {
    const list = partials.get(name);
    if (list) list.push(g);
    else partials.set(name, [g]);
  };
  const total = (ctx: GradContext, name: string): string | undefined => {
    const list = partials.get(name);
    if (!list || list.length === 0) return undefined;
    const sum = list.length === 1 ? list[0] : ctx.op('Sum', list);
    partials.set(name, [sum]);
    return sum;
  };

  const seedCtx = new GradContext(b, order[0] ?? dummyNode, table, []);
  add(opts.loss, seedCtx.scalar(1, opts.loss));

  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    const active = node.outputs.some((o) => o && requires.has(o) && reaches.has(o));
    if (!active) continue;
    const needs = node.inputs.map((inp) => !!inp && requires.has(inp) && reaches.has(inp));
    if (!needs.some(Boolean)) continue;
    const rule = (opts.rules ?? gradientRules()).get(node.op);
    if (!rule) {
      throw new UnsupportedOpError(
        `no gradient rule for op ${node.op} (node ${node.name}); run \`enjambre ops\` for the supported ops`,
        node.op,
        node.name,
      );
    }
    const ctx = new GradContext(b, node, table, needs);
    const dOut = node.outputs.map((o) => (o ? total(ctx, o) : undefined));
    if (dOut.every((d) => d === undefined)) continue;
    const dIn = rule.grad(ctx, dOut);
    node.inputs.forEach((inp, k) => {
      const g = dIn[k];
      if (needs[k] && g) add(inp, g);
    });
  }

  const grads = opts.wrt.map((w) => {
    const ctx = new GradContext(b, dummyNode, table, []);
    // A parameter that does not reach the loss has a zero gradient, not a missing one.
    return total(ctx, w) ?? ctx.zerosLike(w);
  });
  return { grads, table };
}

const dummyNode: Node = { op: 'None', domain: '', name: 'gradient', inputs: [], outputs: [], attrs: {} };
