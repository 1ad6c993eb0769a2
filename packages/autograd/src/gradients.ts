import {
  cloneGraph,
  DEFAULT_OPSET,
  type Graph,
  GraphBuilder,
  inferTypes,
  isFloat,
  type Model,
  makeModel,
  upgradeOpset,
} from '@enjambre/onnx';
import { appendGradients } from './backward.ts';
import { GradientError } from './errors.ts';
import { meanSquaredError, softmaxCrossEntropy } from './losses.ts';
import type { LossKind } from './model.ts';
import type { GradientRules } from './rules/index.ts';

/** A loss to attach to a model that does not compute one. */
export interface AttachedLoss {
  /** `'cross-entropy'` (class scores on the last axis against int64 labels) or `'mse'`. */
  kind: LossKind;
  /** The value the loss reads. Default: the first graph output. */
  output?: string;
  /** Name of the label input added to the graph. Default `'labels'`. */
  labels?: string;
}

/** Options of {@link gradients}. */
export interface GradientsOptions {
  /** Values to differentiate with respect to (initializers or inputs). Default: every float initializer. */
  wrt?: readonly string[];
  /**
   * The scalar to differentiate: a value of the graph, or a loss to attach. Default: the graph's
   * only output, when it is a scalar.
   */
  loss?: string | AttachedLoss;
  /** Gradient rules. Default: the registered ones. */
  rules?: GradientRules;
}

/** Output name of the gradient with respect to `name` in a model built by {@link gradients}. */
export function gradientOutputName(name: string): string {
  return `${name}.grad`;
}

/**
 * The gradient graph of an ONNX model: a model with the same inputs (plus the label input when a
 * loss is attached) whose outputs are the loss, then `<name>.grad` for each `wrt` value, in order.
 * A model at an older opset is brought to opset 18 first (the backward ops are written at 18).
 * @throws GradientError for a missing or non-scalar loss, an unknown `wrt` value, or an op without
 *   a gradient rule (UnsupportedOpError)
 */
export function gradients(model: Model | Graph, opts: GradientsOptions = {}): Model {
  const source = 'graph' in model ? model : makeModel(model);
  const opset = source.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
  const upgraded = opset !== undefined && opset < DEFAULT_OPSET ? upgradeOpset(source) : source;
  const g: Graph = cloneGraph(upgraded.graph);
  const wrt = [...(opts.wrt ?? g.initializers.filter((t) => isFloat(t.dtype)).map((t) => t.name))];
  if (wrt.length === 0) throw new GradientError(`graph ${g.name} has no float initializer to differentiate`);

  const loss = resolveLoss(g, opts.loss);
  const { grads } = appendGradients(g, { loss, wrt, rules: opts.rules });
  const table = inferTypes(g);
  const b = new GraphBuilder(g);
  const lossType = table.types.get(loss)!;
  g.outputs = [{ name: loss, type: { dtype: lossType.dtype, shape: [] } }];
  wrt.forEach((w, i) => {
    const name = gradientOutputName(w);
    if (table.types.has(name))
      throw new GradientError(`cannot name the gradient of ${w} ${name}: the name is taken`);
    b.graph.nodes.push({
      op: 'Identity',
      domain: '',
      name: `${name}/identity`,
      inputs: [grads[i]],
      outputs: [name],
      attrs: {},
    });
    const t = table.types.get(w)!;
    g.outputs.push({ name, type: { dtype: t.dtype, ...(t.shape && { shape: [...t.shape] }) } });
  });
  return { ...upgraded, graph: g };
}

function resolveLoss(g: Graph, loss: GradientsOptions['loss']): string {
  if (typeof loss === 'string') return loss;
  if (loss === undefined) {
    const only = g.outputs.length === 1 ? g.outputs[0] : undefined;
    const shape = only ? inferTypes(g).types.get(only.name)?.shape : undefined;
    if (!only || !shape || shape.length !== 0) {
      throw new GradientError(
        `graph ${g.name} has no single scalar output: name the loss value, or attach one with loss: { kind: 'cross-entropy' | 'mse' }`,
      );
    }
    return only.name;
  }
  const output = loss.output ?? g.outputs[0]?.name;
  const type = output ? inferTypes(g).types.get(output) : undefined;
  if (!output || !type?.shape)
    throw new GradientError(`the loss output ${output ?? '(none)'} has no known shape`);
  const b = new GraphBuilder(g);
  const labels = loss.labels ?? 'labels';
  if (loss.kind === 'cross-entropy') {
    b.input(labels, 'int64', type.shape.slice(0, -1));
    return softmaxCrossEntropy(b, output, labels);
  }
  b.input(labels, type.dtype, [...type.shape]);
  return meanSquaredError(b, output, labels);
}
