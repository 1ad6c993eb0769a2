/**
 * Export of a trained model as a plain ONNX inference graph: the forward graph with the trained
 * weights as initializers, Dropout in inference mode, and nothing that the requested outputs do
 * not need (no loss, labels, gradients or optimizer). Any onnxruntime (Python, C++, web) runs it.
 */
import type { HostTensor } from '@enjambre/autograd';
import {
  cloneGraph,
  type Graph,
  inferTypes,
  type Model,
  makeModel,
  type Node,
  numElements,
  serializeModel,
  type ValueInfo,
} from '@enjambre/onnx';
import { ExportError } from './errors.ts';

/** Options of {@link exportInferenceModel}. */
export interface ExportOptions {
  /** Values the exported graph returns. Default: the outputs of the forward graph. */
  outputs?: readonly string[];
  /** Name of the exported graph. Default: the forward graph's name. */
  name?: string;
  /** Model metadata (`metadata_props`), merged over the source model's. Default: none. */
  metadata?: Record<string, string>;
  /** Opset when the source is a bare Graph. Default: `makeModel`'s (DEFAULT_OPSET). */
  opset?: number;
  /**
   * Reject trained tensors that are neither an initializer nor an input of the graph.
   * Default: true (a misspelt name would otherwise silently keep the untrained weight).
   */
  strict?: boolean;
}

/** An exported model: the IR and its `.onnx` bytes. */
export interface ExportedModel {
  model: Model;
  bytes: Uint8Array;
}

/** Op domains and ops that only training graphs contain. */
const TRAINING_DOMAINS = new Set(['ai.onnx.preview.training']);
const TRAINING_OPS = new Set(['Gradient', 'Momentum', 'Adam', 'Adagrad']);

/**
 * Builds the inference model of a trained forward graph.
 * @param forward the forward graph (or a model holding it); parameters are its initializers, or
 *   inputs of the graph when it was compiled with parameters as inputs.
 * @param trainedParams the trained values by name; each replaces the initializer (or input) of
 *   that name and must match its dtype and shape. Data are copied.
 * @throws ExportError for an unknown parameter, a dtype or shape mismatch, an unknown output, or a
 *   training-only op still needed by the outputs.
 */
export function exportInferenceModel(
  forward: Graph | Model,
  trainedParams: Record<string, HostTensor> | ReadonlyMap<string, HostTensor>,
  options: ExportOptions = {},
): ExportedModel {
  const source = 'graph' in forward ? forward : undefined;
  const g = cloneGraph(source ? source.graph : (forward as Graph));
  if (options.name) g.name = options.name;
  const params = trainedParams instanceof Map ? [...trainedParams] : Object.entries(trainedParams);

  for (const [name, t] of params) {
    const i = g.initializers.findIndex((x) => x.name === name);
    if (i >= 0) {
      const init = g.initializers[i];
      checkParam(name, t, init.dtype, init.dims);
      g.initializers[i] = { name, dtype: t.dtype, dims: [...t.dims], data: t.data.slice() };
      continue;
    }
    const j = g.inputs.findIndex((v) => v.name === name);
    if (j >= 0) {
      const { type } = g.inputs[j];
      checkParam(name, t, type.dtype, type.shape);
      g.inputs.splice(j, 1);
      g.initializers.push({ name, dtype: t.dtype, dims: [...t.dims], data: t.data.slice() });
      continue;
    }
    if (options.strict ?? true) {
      throw new ExportError(
        `trained parameter ${name} is neither an initializer nor an input of graph ${g.name}`,
      );
    }
  }

  dropoutToInference(g);

  if (options.outputs) {
    const types = inferTypes(g).types;
    const declared = new Map<string, ValueInfo>(g.outputs.map((o) => [o.name, o]));
    g.outputs = options.outputs.map((name) => {
      const known = declared.get(name);
      if (known) return known;
      const type = types.get(name);
      if (!type) throw new ExportError(`output ${name} is not a value of graph ${g.name}`);
      return { name, type };
    });
  }
  if (g.outputs.length === 0) throw new ExportError(`graph ${g.name} has no outputs to export`);

  prune(g);
  for (const n of g.nodes) {
    if (TRAINING_DOMAINS.has(n.domain) || (n.domain === '' && TRAINING_OPS.has(n.op))) {
      throw new ExportError(
        `node ${n.name} (${n.domain ? `${n.domain}.` : ''}${n.op}) is a training op needed by the outputs; export the forward graph`,
      );
    }
  }

  const metadata = { ...(source?.metadata ?? {}), ...(options.metadata ?? {}) };
  let model: Model;
  if (source) {
    model = { ...source, graph: g, metadata, opsetImports: source.opsetImports.map((o) => ({ ...o })) };
  } else {
    model = makeModel(g, { opset: options.opset, metadata });
  }
  return { model, bytes: serializeModel(model) };
}

function checkParam(
  name: string,
  t: HostTensor,
  dtype: string,
  shape: readonly (number | string)[] | undefined,
): void {
  if (!t || typeof t !== 'object' || !Array.isArray(t.dims) || !t.data) {
    throw new ExportError(`trained parameter ${name} is not a tensor`);
  }
  if (t.dtype !== dtype)
    throw new ExportError(`trained parameter ${name} is ${t.dtype}, the graph expects ${dtype}`);
  if (t.data.length !== numElements(t.dims)) {
    throw new ExportError(
      `trained parameter ${name}: dims [${t.dims.join(', ')}] hold ${numElements(t.dims)} elements but the data has ${t.data.length}`,
    );
  }
  if (!shape) return;
  const fits =
    shape.length === t.dims.length && shape.every((d, k) => typeof d === 'string' || d === t.dims[k]);
  if (!fits) {
    throw new ExportError(
      `trained parameter ${name} has shape [${t.dims.join(', ')}], the graph expects [${shape.join(', ')}]`,
    );
  }
}

/**
 * Dropout in inference mode: output = input, mask (when used) = all true. Nested graphs too.
 */
function dropoutToInference(g: Graph): void {
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    for (const a of Object.values(n.attrs)) if (a.type === 'graph') dropoutToInference(a.value);
    if (n.op !== 'Dropout' || n.domain !== '') {
      nodes.push(n);
      continue;
    }
    nodes.push({
      op: 'Identity',
      domain: '',
      name: n.name,
      inputs: [n.inputs[0]],
      outputs: [n.outputs[0]],
      attrs: {},
    });
    const mask = n.outputs[1];
    if (mask) {
      const shape = `${n.name}/shape`;
      nodes.push({
        op: 'Shape',
        domain: '',
        name: `${n.name}/mask_shape`,
        inputs: [n.inputs[0]],
        outputs: [shape],
        attrs: {},
      });
      nodes.push({
        op: 'ConstantOfShape',
        domain: '',
        name: `${n.name}/mask`,
        inputs: [shape],
        outputs: [mask],
        attrs: {
          value: { type: 'tensor', value: { name: '', dtype: 'bool', dims: [1], data: new Uint8Array([1]) } },
        },
      });
    }
  }
  g.nodes = nodes;
}

/** Names a node reads, including those its subgraphs read from the enclosing scope. */
function reads(n: Node): string[] {
  const out = n.inputs.filter((i) => i !== '');
  for (const a of Object.values(n.attrs)) if (a.type === 'graph') out.push(...freeNames(a.value));
  return out;
}

function freeNames(g: Graph): string[] {
  const local = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name)]);
  for (const n of g.nodes) for (const o of n.outputs) local.add(o);
  return g.nodes.flatMap(reads).filter((i) => !local.has(i));
}

/** Keeps only the nodes, initializers and inputs that the outputs depend on. */
function prune(g: Graph): void {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const needed = new Set<string>();
  const keep = new Set<Node>();
  const stack = g.outputs.map((o) => o.name);
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (needed.has(v)) continue;
    needed.add(v);
    const p = producer.get(v);
    if (p && !keep.has(p)) {
      keep.add(p);
      stack.push(...reads(p));
    }
  }
  const known = new Set<string>([
    ...g.inputs.map((v) => v.name),
    ...g.initializers.map((t) => t.name),
    ...producer.keys(),
  ]);
  for (const v of needed) {
    if (!known.has(v))
      throw new ExportError(`value ${v} is needed by the outputs but nothing in graph ${g.name} defines it`);
  }
  g.nodes = g.nodes.filter((n) => keep.has(n));
  g.initializers = g.initializers.filter((t) => needed.has(t.name));
  g.inputs = g.inputs.filter((v) => needed.has(v.name));
  const values = new Set(g.nodes.flatMap((n) => n.outputs));
  g.valueInfo = g.valueInfo.filter((v) => values.has(v.name));
}
