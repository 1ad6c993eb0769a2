import {
  cloneGraph,
  type DataType,
  type Dim,
  type Graph,
  GraphBuilder,
  inferTypes,
  type Model,
  makeModel,
  type Node,
  renameValue,
  type ValueInfo,
} from '@enjambre/onnx';
import { appendGradients } from './backward.ts';
import { CompileError } from './errors.ts';
import { accuracy, meanSquaredError, softmaxCrossEntropy } from './losses.ts';
import type { TrainableModel } from './model.ts';
import {
  decayedParams,
  emitGlobalNormClip,
  emitOptimizer,
  type OptimizerConfig,
  optimizerSlots,
} from './optimizers.ts';

export interface CompileOptions {
  optimizer: OptimizerConfig;
  /** Clip gradients to this global L2 norm. Default: no clipping (the norm is still reported). */
  gradClip?: number;
  /** K: optimizer steps per `session.run` in the loop graph. Default 1 (no loop graph). */
  stepsPerRun?: number;
}

export interface TensorSpec {
  name: string;
  dtype: DataType;
  dims: number[];
}

/**
 * The graphs that train and evaluate one model, and the names to feed and read.
 *
 * Train step inputs: data inputs, labels, every trainable parameter (by its own name), every
 * optimizer state tensor, `lr` and `step` (scalars; `step` is the 1-based count of the update).
 * Outputs: loss, gradient norm, and for each parameter/state the value `newName[name]`.
 * The loop graph takes the same inputs with data, labels and `lr` stacked along a new first
 * axis of size K, runs K updates, and returns the same outputs (losses and norms of shape [K]).
 */
export interface CompiledTraining {
  trainStep: Model;
  trainLoop?: Model;
  /** Loss (and accuracy for classification) without any update; parameters are inputs. */
  evalStep: Model;
  stepsPerRun: number;
  dtype: DataType;
  params: TensorSpec[];
  state: TensorSpec[];
  names: {
    dataInputs: string[];
    labels: string;
    lr: string;
    step: string;
    loss: string;
    gradNorm: string;
    /** Outputs of the eval graph. */
    evalLoss: string;
    accuracy?: string;
    output: string;
    /** Output name of the updated value of each parameter and state tensor. */
    newName: Record<string, string>;
  };
}

export const LR_INPUT = 'lr';
export const STEP_INPUT = 'step';
/** Output names of the eval graph. */
export const EVAL_LOSS = 'eval/loss';
export const EVAL_ACCURACY = 'eval/accuracy';

export function compileTraining(model: TrainableModel, opts: CompileOptions): CompiledTraining {
  const trainable = new Set(model.trainable);
  const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
  for (const name of trainable) {
    if (!inits.has(name))
      throw new CompileError(`trainable parameter ${name} is not an initializer of the model`);
  }
  const params: TensorSpec[] = model.trainable.map((name) => {
    const t = inits.get(name)!;
    return { name, dtype: t.dtype, dims: t.dims };
  });
  if (params.length === 0) throw new CompileError('the model has no trainable parameters');
  const dtype = params[0].dtype;
  const slots = optimizerSlots(opts.optimizer);
  const state: TensorSpec[] = slots.flatMap((slot) =>
    params.map((p) => ({ ...p, name: `${slot}/${p.name}` })),
  );

  // ---- single training step ----
  const g = withParamsAsInputs(cloneGraph(model.graph), trainable);
  const b = new GraphBuilder(g);
  b.input(model.labels.name, model.labels.dtype, model.labels.shape);
  const loss = attachLoss(b, model);
  const { grads } = appendGradients(g, { loss, wrt: model.trainable });
  const lr = b.input(LR_INPUT, dtype, []);
  const step = b.input(STEP_INPUT, dtype, []);
  for (const s of state) b.input(s.name, s.dtype, s.dims);
  const clipped = emitGlobalNormClip(b, dtype, grads, opts.gradClip);
  const decayed = decayedParams(params, opts.optimizer.weightDecayParams);
  const updated = emitOptimizer(
    b,
    opts.optimizer,
    dtype,
    lr,
    step,
    params.map((p, i) => ({
      param: p.name,
      grad: clipped.grads[i],
      state: slots.map((slot) => `${slot}/${p.name}`),
      decay: decayed.has(p.name),
    })),
  );
  const newName: Record<string, string> = {};
  const outputs: ValueInfo[] = [scalarInfo(loss, dtype), scalarInfo(clipped.norm, dtype)];
  // Updated values get their output names directly: an Identity would copy every tensor each step.
  const nameOutput = (value: string, name: string, dims: number[]) => {
    if (g.inputs.some((v) => v.name === value) || outputs.some((o) => o.name === value)) {
      g.nodes.push(identity(value, name));
    } else renameValue(g, value, name);
    outputs.push({ name, type: { dtype, shape: dims } });
  };
  params.forEach((p, i) => {
    newName[p.name] = `new/${p.name}`;
    nameOutput(updated[i].param, newName[p.name], p.dims);
    slots.forEach((slot, k) => {
      const s = `${slot}/${p.name}`;
      newName[s] = `new/${s}`;
      nameOutput(updated[i].state[k], newName[s], p.dims);
    });
  });
  g.outputs = outputs;
  g.name = 'train_step';
  const names = {
    dataInputs: model.dataInputs,
    labels: model.labels.name,
    lr: LR_INPUT,
    step: STEP_INPUT,
    loss,
    gradNorm: clipped.norm,
    output: model.output,
    newName,
  };

  const k = opts.stepsPerRun ?? 1;
  return {
    trainStep: makeModel(g),
    trainLoop: k > 1 ? makeModel(buildLoop(g, model, params, state, names, k, dtype)) : undefined,
    evalStep: makeModel(buildEval(model, trainable, dtype)),
    stepsPerRun: k,
    dtype,
    params,
    state,
    names: {
      ...names,
      evalLoss: EVAL_LOSS,
      accuracy: model.loss === 'cross-entropy' ? EVAL_ACCURACY : undefined,
    },
  };
}

function attachLoss(b: GraphBuilder, model: TrainableModel): string {
  return model.loss === 'cross-entropy'
    ? softmaxCrossEntropy(b, model.output, model.labels.name)
    : meanSquaredError(b, model.output, model.labels.name);
}

function withParamsAsInputs(g: Graph, trainable: Set<string>): Graph {
  const keep = [];
  for (const t of g.initializers) {
    if (trainable.has(t.name)) g.inputs.push({ name: t.name, type: { dtype: t.dtype, shape: [...t.dims] } });
    else keep.push(t);
  }
  g.initializers = keep;
  return g;
}

function buildEval(model: TrainableModel, trainable: Set<string>, dtype: DataType): Graph {
  const g = withParamsAsInputs(inferenceGraph(model.graph), trainable);
  const b = new GraphBuilder(g);
  b.input(model.labels.name, model.labels.dtype, model.labels.shape);
  const loss = attachLoss(b, model);
  g.nodes.push(identity(loss, EVAL_LOSS));
  g.outputs = [scalarInfo(EVAL_LOSS, dtype)];
  if (model.loss === 'cross-entropy') {
    const acc = accuracy(b, model.output, model.labels.name, dtype === 'float64' ? 'float64' : 'float32');
    g.nodes.push(identity(acc, EVAL_ACCURACY));
    g.outputs.push(scalarInfo(EVAL_ACCURACY, dtype === 'float64' ? 'float64' : 'float32'));
  }
  g.name = 'eval_step';
  return g;
}

/** The forward graph with Dropout turned into Identity: what evaluation and export run. */
export function inferenceGraph(graph: Graph): Graph {
  const g = cloneGraph(graph);
  g.nodes = g.nodes.map((n) => (n.op === 'Dropout' ? identity(n.inputs[0], n.outputs[0]) : n));
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  // Constants that only fed Dropout's ratio and mode are now dead.
  g.nodes = g.nodes.filter((n) => n.op !== 'Constant' || n.outputs.some((o) => used.has(o)));
  return g;
}

function buildLoop(
  step: Graph,
  model: TrainableModel,
  params: TensorSpec[],
  state: TensorSpec[],
  names: { loss: string; gradNorm: string; newName: Record<string, string> },
  k: number,
  dtype: DataType,
): Graph {
  const types = inferTypes(step).types;
  const P = 'k/';
  const inner = new Set<string>([...step.inputs.map((v) => v.name), ...step.nodes.flatMap((n) => n.outputs)]);
  const rename = (v: string) => (v && inner.has(v) ? P + v : v);
  const carried = [...params, ...state];

  // Loop body: pick this iteration's slice of the stacked inputs, then run one step.
  const body = new GraphBuilder('train_loop_body', P);
  const iter = body.input(`${P}iter`, 'int64', []);
  const cond = body.input(`${P}cond`, 'bool', []);
  for (const c of carried) body.input(P + c.name, c.dtype, c.dims);
  for (const name of [...model.dataInputs, model.labels.name, LR_INPUT]) {
    body.graph.nodes.push(node('Gather', [name, iter], P + name, { axis: { type: 'int', value: 0 } }));
  }
  const iterAsFloat = body.op('Cast', [iter], { to: dtype === 'float64' ? 11 : 1 });
  body.graph.nodes.push(node('Add', [STEP_INPUT, iterAsFloat], P + STEP_INPUT));
  for (const n of step.nodes) {
    body.graph.nodes.push({
      ...n,
      name: P + n.name,
      inputs: n.inputs.map(rename),
      outputs: n.outputs.map(rename),
    });
  }
  body.graph.nodes.push(node('Identity', [cond], `${P}cond_out`));
  body.graph.outputs = [
    { name: `${P}cond_out`, type: { dtype: 'bool', shape: [] } },
    ...carried.map((c) => ({ name: P + names.newName[c.name], type: { dtype: c.dtype, shape: c.dims } })),
    scalarInfo(P + names.loss, dtype),
    scalarInfo(P + names.gradNorm, dtype),
  ];

  // Outer graph: same interface as the single step, with data, labels and lr stacked K deep.
  const outer = new GraphBuilder('train_loop');
  const stacked = (v: string): Dim[] => [k, ...(types.get(v)?.shape ?? [])];
  for (const d of model.dataInputs) outer.input(d, types.get(d)!.dtype, stacked(d));
  outer.input(model.labels.name, model.labels.dtype, [k, ...model.labels.shape]);
  outer.input(LR_INPUT, dtype, [k]);
  outer.input(STEP_INPUT, dtype, []);
  for (const c of carried) outer.input(c.name, c.dtype, c.dims);
  outer.graph.initializers = step.initializers;
  const trip = outer.constant('int64', [], [k], 'trip_count');
  const yes = outer.constant('bool', [], [1], 'keep_going');
  const outs = [...carried.map((c) => names.newName[c.name]), names.loss, names.gradNorm];
  outer.graph.nodes.push({
    op: 'Loop',
    domain: '',
    name: 'train_loop',
    inputs: [trip, yes, ...carried.map((c) => c.name)],
    outputs: outs,
    attrs: { body: { type: 'graph', value: body.graph } },
  });
  outer.graph.outputs = [
    { name: names.loss, type: { dtype, shape: [k] } },
    { name: names.gradNorm, type: { dtype, shape: [k] } },
    ...carried.map((c) => ({ name: names.newName[c.name], type: { dtype: c.dtype, shape: c.dims } })),
  ];
  return outer.graph;
}

function identity(input: string, output: string): Node {
  return node('Identity', [input], output);
}

function node(op: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node {
  return { op, domain: '', name: `${op}:${output}`, inputs, outputs: [output], attrs };
}

function scalarInfo(name: string, dtype: DataType): ValueInfo {
  return { name, type: { dtype, shape: [] } };
}
