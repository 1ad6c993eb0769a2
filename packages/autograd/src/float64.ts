import type { Attribute, Graph, Node, Tensor } from '@enjambre/onnx';

/** Cast's `to` codes: float32 = 1, float64 = 11. */
const FLOAT = 1;
const DOUBLE = 11;

function tensor64(t: Tensor): Tensor {
  return t.dtype === 'float32'
    ? { ...t, dtype: 'float64', data: Float64Array.from(t.data as Float32Array) }
    : t;
}

function attr64(a: Attribute): Attribute {
  if (a.type === 'tensor') return { type: 'tensor', value: tensor64(a.value) };
  if (a.type === 'graph') return { type: 'graph', value: toFloat64(a.value) };
  return a;
}

/**
 * A copy of `graph` computed in float64: float32 initializers, inputs, outputs, value types and
 * constants become float64, and Cast-to-float32 becomes Cast-to-float64. Integer values (token
 * ids, shapes) keep their types. The ops stay the same: see {@link lowerErfToFloat64} for Erf,
 * which onnxruntime's CPU provider runs in float32 only.
 */
export function toFloat64(graph: Graph): Graph {
  const retype = <T extends { type: { dtype: string } }>(v: T): T =>
    v.type.dtype === 'float32' ? { ...v, type: { ...v.type, dtype: 'float64' } } : v;
  const nodes = graph.nodes.map((n): Node => {
    const attrs: Record<string, Attribute> = {};
    for (const [k, a] of Object.entries(n.attrs)) attrs[k] = attr64(a);
    if (n.op === 'Cast' && attrs.to?.type === 'int' && attrs.to.value === FLOAT) {
      attrs.to = { type: 'int', value: DOUBLE };
    }
    return { ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs };
  });
  return {
    ...graph,
    nodes,
    inputs: graph.inputs.map(retype),
    outputs: graph.outputs.map(retype),
    valueInfo: graph.valueInfo.map(retype),
    initializers: graph.initializers.map(tensor64),
  };
}

/** Terms of the erf series: enough for |x| ≤ {@link ERF_CLAMP} to float64 precision. */
const ERF_TERMS = 110;
/** Beyond ±6, erf is ±1 to float64 precision (erfc(6) ≈ 2e-17). */
const ERF_CLAMP = 6;

/**
 * Replaces every default-domain Erf node by float64 primitive ops computing erf to a few ulp
 * (measured ≤ 2e-15): erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), a series of positive terms
 * (no cancellation), on x clamped to ±6. Apply it after differentiation: the backward nodes of
 * the Erf rule stay as they were, so a gradient check of the lowered graph checks the Erf rule
 * against finite differences of an erf that is exact up to rounding.
 */
export function lowerErfToFloat64(graph: Graph): Graph {
  if (!graph.nodes.some((n) => n.op === 'Erf' && n.domain === '')) return graph;
  const nodes: Node[] = [];
  for (const [i, n] of graph.nodes.entries()) {
    if (n.op === 'Erf' && n.domain === '')
      nodes.push(...erfNodes(`${n.name || 'erf'}#${i}`, n.inputs[0], n.outputs[0]));
    else nodes.push(n);
  }
  return { ...graph, nodes };
}

function erfNodes(name: string, input: string, output: string): Node[] {
  const nodes: Node[] = [];
  let k = 0;
  const fresh = (hint: string) => `${name}/erf64_${hint}_${k++}`;
  const c = (value: number) => {
    const out = fresh('c');
    nodes.push({
      op: 'Constant',
      domain: '',
      name: `${out}_node`,
      inputs: [],
      outputs: [out],
      attrs: {
        value: {
          type: 'tensor',
          value: { name: '', dtype: 'float64', dims: [], data: Float64Array.of(value) },
        },
      },
    });
    return out;
  };
  const op = (type: string, inputs: string[], out = fresh(type.toLowerCase())) => {
    nodes.push({ op: type, domain: '', name: `${out}_node`, inputs, outputs: [out], attrs: {} });
    return out;
  };
  const x = op('Max', [op('Min', [input, c(ERF_CLAMP)]), c(-ERF_CLAMP)]);
  const x2 = op('Mul', [x, x]);
  const z = op('Mul', [x2, c(2)]);
  // Horner: 1 + z/3·(1 + z/5·(1 + …)).
  let p = c(1);
  const one = c(1);
  for (let n = ERF_TERMS; n >= 1; n--)
    p = op('Add', [one, op('Mul', [op('Mul', [z, c(1 / (2 * n + 1))]), p])]);
  const scaled = op('Mul', [op('Mul', [x, p]), op('Exp', [op('Neg', [x2])])]);
  op('Mul', [scaled, c(2 / Math.sqrt(Math.PI))], output);
  return nodes;
}
