import { OpsetUpgradeError } from './errors.ts';
import type { Attribute, Graph, Model, Node, Tensor } from './ir.ts';
import { DEFAULT_IR_VERSION, DEFAULT_OPSET } from './ir.ts';
import { inferTypes, type TypeTable } from './shapes.ts';

/** The oldest default-domain opset `upgradeOpset` converts from. */
export const MIN_UPGRADE_OPSET = 11;

/** Reductions whose `axes` attribute became an input at opset 18 (ReduceSum moved at 13). */
const REDUCE_AXES_AT_18 = new Set([
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceSumSquare',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
]);

/** Ops that coerced their input to 2-D before opset 13 and work on one axis since. */
const COERCED_TO_2D = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx';

/**
 * Converts a model of default-domain opset 11–18 to opset `target` (default 18, the opset the
 * backward pass writes). The input is not modified: the result shares only tensor data with it.
 *
 * Conversions, each applied when the model's opset is below the version that changed the op and
 * `target` is at or above it:
 * - 12: Dropout's `ratio` attribute becomes an input.
 * - 13: the `axes` of ReduceSum, Squeeze and Unsqueeze and the `split` of Split become int64
 *   inputs; Softmax/LogSoftmax/Hardmax, which coerced their input to 2-D at `axis`, become
 *   one-axis ops (wrapped in Flatten → op(axis −1) → Reshape unless `axis` is the last).
 * - 18: the `axes` of the other reductions become inputs; Split without sizes gets `num_outputs`.
 *
 * Subgraphs (If/Loop/Scan bodies) are converted too; nodes of other domains are left alone.
 * The IR version is raised to at least 8 (what opset 18 needs).
 *
 * @throws OpsetUpgradeError when the model has no default-domain opset import, its opset is
 *   below 11 or above `target`, or `target` is above 18.
 */
export function upgradeOpset(model: Model, target: number = DEFAULT_OPSET): Model {
  const imp = model.opsetImports.find((o) => isDefaultDomain(o.domain));
  if (!imp) throw new OpsetUpgradeError('the model imports no default-domain (ai.onnx) opset');
  const from = imp.version;
  if (target > DEFAULT_OPSET) {
    throw new OpsetUpgradeError(
      `cannot upgrade to opset ${target}: the newest supported is ${DEFAULT_OPSET}`,
    );
  }
  if (from > target) {
    throw new OpsetUpgradeError(
      `the model is at opset ${from}, above the target ${target}; downgrades are not supported`,
    );
  }
  if (from < MIN_UPGRADE_OPSET) {
    throw new OpsetUpgradeError(
      `the model is at opset ${from}; upgrades start at opset ${MIN_UPGRADE_OPSET} (re-export it at a newer opset)`,
    );
  }
  const names = new Set<string>();
  collectNames(model.graph, names);
  const up = new Upgrader(from, target, names);
  let table: TypeTable | undefined;
  try {
    table = inferTypes(model.graph);
  } catch {
    // Types only let Softmax-family rewrites stay simple; without them the general form is used.
    table = undefined;
  }
  const graph = up.graph(model.graph, table);
  return {
    ...model,
    irVersion: Math.max(model.irVersion, target >= 18 ? DEFAULT_IR_VERSION : model.irVersion),
    opsetImports: model.opsetImports.map((o) =>
      isDefaultDomain(o.domain) ? { domain: o.domain, version: target } : { ...o },
    ),
    graph,
    metadata: { ...model.metadata },
  };
}

class Upgrader {
  private counter = 0;
  constructor(
    private readonly from: number,
    private readonly target: number,
    private readonly names: Set<string>,
  ) {}

  /** Whether the change made at opset `version` applies to this conversion. */
  private crosses(version: number): boolean {
    return this.from < version && this.target >= version;
  }

  graph(g: Graph, table: TypeTable | undefined): Graph {
    const nodes: Node[] = [];
    for (const node of g.nodes) nodes.push(...this.node(node, table));
    return {
      name: g.name,
      nodes,
      inputs: g.inputs.map((v) => ({ ...v })),
      outputs: g.outputs.map((v) => ({ ...v })),
      initializers: [...g.initializers],
      valueInfo: g.valueInfo.map((v) => ({ ...v })),
    };
  }

  /** The node converted, preceded by any Constant/helper nodes it now needs. */
  private node(original: Node, table: TypeTable | undefined): Node[] {
    const attrs: Record<string, Attribute> = {};
    for (const [k, a] of Object.entries(original.attrs)) {
      attrs[k] = a.type === 'graph' ? { type: 'graph', value: this.subgraph(a.value, table) } : a;
    }
    const node: Node = { ...original, inputs: [...original.inputs], outputs: [...original.outputs], attrs };
    if (!isDefaultDomain(node.domain)) return [node];
    const before: Node[] = [];
    const op = node.op;

    if (op === 'Dropout' && this.crosses(12) && attrs.ratio) {
      const ratio = attrs.ratio;
      delete attrs.ratio;
      if (ratio.type !== 'float') throw this.fail(node, 'its ratio attribute is not a float');
      node.inputs[1] = this.constant(before, node, 'ratio', {
        dtype: 'float32',
        dims: [],
        data: Float32Array.of(ratio.value),
      });
      node.inputs.length = 2;
    }

    if (this.crosses(13)) {
      if (op === 'ReduceSum' || op === 'Squeeze' || op === 'Unsqueeze') this.axesToInput(before, node);
      if (op === 'Split' && attrs.split) {
        const split = this.ints(node, 'split');
        delete attrs.split;
        node.inputs[1] = this.int64(before, node, 'split', split);
      }
      if (COERCED_TO_2D.has(op)) return [...before, ...this.coerced(node, table)];
    }

    if (this.crosses(18)) {
      if (REDUCE_AXES_AT_18.has(op)) this.axesToInput(before, node);
      if (op === 'Split' && !node.inputs[1] && !attrs.num_outputs) {
        attrs.num_outputs = { type: 'int', value: node.outputs.length };
      }
    }
    return [...before, node];
  }

  private subgraph(g: Graph, outer: TypeTable | undefined): Graph {
    let table: TypeTable | undefined;
    try {
      table = outer ? inferTypes(g, outer) : undefined;
    } catch {
      table = undefined;
    }
    return this.graph(g, table);
  }

  /** Moves an `axes` attribute to the second input (dropping it when absent: "all axes"). */
  private axesToInput(before: Node[], node: Node): void {
    if (!node.attrs.axes) return;
    const axes = this.ints(node, 'axes');
    delete node.attrs.axes;
    if (node.inputs.length > 1 && node.inputs[1])
      throw this.fail(node, 'it has both an axes attribute and input');
    node.inputs[1] = this.int64(before, node, 'axes', axes);
  }

  /**
   * Softmax-family ops before 13 flatten their input to [prod(dims < axis), prod(dims ≥ axis)]
   * and normalise over the second dimension. When `axis` is the last axis that is the same as the
   * one-axis op; otherwise the coercion is written out.
   */
  private coerced(node: Node, table: TypeTable | undefined): Node[] {
    const axis = node.attrs.axis?.type === 'int' ? node.attrs.axis.value : 1;
    const rank = table?.types.get(node.inputs[0])?.shape?.length;
    if (axis === -1 || (rank !== undefined && axis === rank - 1)) {
      node.attrs.axis = { type: 'int', value: -1 };
      return [node];
    }
    const x = node.inputs[0];
    const y = node.outputs[0];
    const flat = this.fresh(`${y}_2d`);
    const inner = this.fresh(`${y}_2d_out`);
    const shape = this.fresh(`${y}_shape`);
    const base = node.name || node.op;
    return [
      {
        op: 'Flatten',
        domain: '',
        name: this.fresh(`${base}_flatten`),
        inputs: [x],
        outputs: [flat],
        attrs: { axis: { type: 'int', value: axis } },
      },
      {
        ...node,
        inputs: [flat],
        outputs: [inner],
        attrs: { ...node.attrs, axis: { type: 'int', value: -1 } },
      },
      {
        op: 'Shape',
        domain: '',
        name: this.fresh(`${base}_shape`),
        inputs: [x],
        outputs: [shape],
        attrs: {},
      },
      {
        op: 'Reshape',
        domain: '',
        name: this.fresh(`${base}_reshape`),
        inputs: [inner, shape],
        outputs: [y],
        attrs: {},
      },
    ];
  }

  private ints(node: Node, name: string): number[] {
    const a = node.attrs[name];
    if (a?.type !== 'ints') throw this.fail(node, `its ${name} attribute is not a list of integers`);
    return a.value;
  }

  private int64(before: Node[], node: Node, hint: string, values: number[]): string {
    return this.constant(before, node, hint, {
      dtype: 'int64',
      dims: [values.length],
      data: BigInt64Array.from(values, (v) => BigInt(v)),
    });
  }

  private constant(before: Node[], node: Node, hint: string, value: Omit<Tensor, 'name'>): string {
    const out = this.fresh(`${node.name || node.op}_${hint}`);
    before.push({
      op: 'Constant',
      domain: '',
      name: this.fresh(`${out}_const`),
      inputs: [],
      outputs: [out],
      attrs: { value: { type: 'tensor', value: { name: '', ...value } } },
    });
    return out;
  }

  private fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private fail(node: Node, why: string): OpsetUpgradeError {
    return new OpsetUpgradeError(
      `cannot upgrade ${node.op} node ${node.name} from opset ${this.from} to ${this.target}: ${why}`,
      node.name,
    );
  }
}

/** Every value and node name in a graph and its subgraphs, so new names collide with none. */
function collectNames(g: Graph, names: Set<string>): void {
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) names.add(v.name);
  for (const t of g.initializers) names.add(t.name);
  for (const n of g.nodes) {
    names.add(n.name);
    for (const v of [...n.inputs, ...n.outputs]) if (v) names.add(v);
    for (const a of Object.values(n.attrs)) if (a.type === 'graph') collectNames(a.value, names);
  }
}
