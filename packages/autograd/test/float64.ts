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
 * constants become float64, and Cast-to-float32 becomes Cast-to-float64. With `replaceErf`,
 * each Erf (which onnxruntime runs in float32 only) is replaced by `erfFromPrimitives`, so the
 * rest of an imported graph can be gradient-checked in double precision.
 */
export function toFloat64(graph: Graph, opts: { replaceErf?: boolean } = {}): Graph {
  const retype = <T extends { type: { dtype: string } }>(v: T): T =>
    v.type.dtype === 'float32' ? { ...v, type: { ...v.type, dtype: 'float64' } } : v;
  const nodes: Node[] = [];
  for (const n of graph.nodes) {
    const attrs: Record<string, Attribute> = {};
    for (const [k, a] of Object.entries(n.attrs)) attrs[k] = attr64(a);
    if (n.op === 'Cast' && attrs.to?.type === 'int' && attrs.to.value === FLOAT) {
      attrs.to = { type: 'int', value: DOUBLE };
    }
    if (n.op === 'Erf' && opts.replaceErf && n.domain === '') {
      nodes.push(...erfFromPrimitives(n.name, n.inputs[0], n.outputs[0]));
      continue;
    }
    nodes.push({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs });
  }
  return {
    ...graph,
    nodes,
    inputs: graph.inputs.map(retype),
    outputs: graph.outputs.map(retype),
    valueInfo: graph.valueInfo.map(retype),
    initializers: graph.initializers.map(tensor64),
  };
}

/**
 * erf(x) ≈ sign(x)·(1 − (a1·t + … + a5·t⁵)·exp(−x²)), t = 1/(1 + p|x|) (Abramowitz & Stegun
 * 7.1.26, |error| < 1.5e-7), in float64 ops only. It is a smooth function in its own right, so
 * autodiff and finite differences of it must agree to float64 precision.
 */
export function erfFromPrimitives(name: string, x: string, y: string): Node[] {
  const nodes: Node[] = [];
  let k = 0;
  const v = (hint: string) => `${name}/erf_${hint}_${k++}`;
  const c = (value: number) => {
    const out = v('c');
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
  const op = (type: string, inputs: string[], out = v(type.toLowerCase())) => {
    nodes.push({ op: type, domain: '', name: `${out}_node`, inputs, outputs: [out], attrs: {} });
    return out;
  };
  const [p, a1, a2, a3, a4, a5] = [
    0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429,
  ];
  const ax = op('Abs', [x]);
  const t = op('Reciprocal', [op('Add', [c(1), op('Mul', [c(p), ax])])]);
  // Horner: t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))
  let poly = c(a5);
  for (const a of [a4, a3, a2, a1]) poly = op('Add', [c(a), op('Mul', [t, poly])]);
  poly = op('Mul', [t, poly]);
  const e = op('Exp', [op('Neg', [op('Mul', [x, x])])]);
  const mag = op('Sub', [c(1), op('Mul', [poly, e])]);
  op('Mul', [op('Sign', [x]), mag], y);
  return nodes;
}
