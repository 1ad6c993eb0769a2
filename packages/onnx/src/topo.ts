import { GraphBuildError } from './errors.ts';
import type { Graph, Node } from './ir.ts';

/**
 * Nodes in an order where each runs after the producers of its inputs. Names that no node
 * produces (graph inputs, initializers, values of an enclosing graph) count as available.
 */
export function topoSort(graph: Graph): Node[] {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const state = new Map<Node, 'visiting' | 'done'>();
  const order: Node[] = [];
  const visit = (root: Node) => {
    // Iterative DFS: imported graphs can be deep enough to overflow the call stack.
    const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const deps = [...top.node.inputs, ...subgraphFreeInputs(top.node)];
      if (top.next < deps.length) {
        const p = producer.get(deps[top.next++]);
        if (!p) continue;
        const s = state.get(p);
        if (s === 'visiting')
          throw new GraphBuildError(`graph ${graph.name} has a cycle through node ${p.name}`);
        if (!s) {
          state.set(p, 'visiting');
          stack.push({ node: p, next: 0 });
        }
      } else {
        state.set(top.node, 'done');
        order.push(top.node);
        stack.pop();
      }
    }
  };
  for (const n of graph.nodes) if (!state.has(n)) visit(n);
  return order;
}

/** Outer-scope names a Loop/If body reads: they are dependencies of the node that owns the body. */
function subgraphFreeInputs(node: Node): string[] {
  const out: string[] = [];
  for (const a of Object.values(node.attrs)) {
    if (a.type !== 'graph') continue;
    const g = a.value;
    const local = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name)]);
    for (const n of g.nodes) for (const o of n.outputs) local.add(o);
    for (const n of g.nodes) for (const i of n.inputs) if (i && !local.has(i)) out.push(i);
  }
  return out;
}
