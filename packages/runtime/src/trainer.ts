import type { CompiledTraining, CompileRunner, HostTensor, ModelRunner } from '@enjambre/autograd';
import { allocate, type TensorData } from '@enjambre/onnx';
import { InvalidOptionError } from './errors.ts';

/** One batch as the training graphs take it: the model's data input(s) and the labels. */
export interface TrainBatch {
  inputs: Record<string, HostTensor>;
  labels: HostTensor;
}

export interface StepResult {
  /** Loss of each update, in order. */
  losses: number[];
  /** Global gradient norm (before clipping) of each update. */
  gradNorms: number[];
}

export interface EvalResult {
  loss: number;
  accuracy?: number;
  batches: number;
}

export interface TrainerOptions {
  compiled: CompiledTraining;
  /** Builds a runner for a graph (the execution provider is the caller's choice). */
  compile: CompileRunner;
  /** Starting values of the trainable parameters, by name. */
  initialParams: Record<string, HostTensor>;
  /** Learning rate of the update with 0-based index `step`. */
  learningRate: (step: number) => number;
}

/**
 * Runs compiled training graphs: keeps parameters and optimizer state between runs, feeds
 * them back as inputs, and uses the K-step Loop graph whenever K batches are at hand.
 */
export class Trainer {
  private params: Record<string, HostTensor>;
  private state: Record<string, HostTensor>;
  private updates = 0;

  private constructor(
    readonly compiled: CompiledTraining,
    private readonly stepRunner: ModelRunner,
    private readonly loopRunner: ModelRunner | undefined,
    private readonly evalRunner: ModelRunner,
    params: Record<string, HostTensor>,
    private readonly learningRate: (step: number) => number,
  ) {
    this.params = params;
    this.state = zeroState(compiled);
  }

  static async create(opts: TrainerOptions): Promise<Trainer> {
    const c = opts.compiled;
    const [step, loop, evaluate] = await Promise.all([
      opts.compile(c.trainStep),
      c.trainLoop ? opts.compile(c.trainLoop) : Promise.resolve(undefined),
      opts.compile(c.evalStep),
    ]);
    const params: Record<string, HostTensor> = {};
    for (const p of c.params) {
      const v = opts.initialParams[p.name];
      if (!v) throw new InvalidOptionError('initialParams', `no value for parameter ${p.name}`);
      params[p.name] = v;
    }
    return new Trainer(c, step, loop, evaluate, params, opts.learningRate);
  }

  /** Number of optimizer updates done so far. */
  get step(): number {
    return this.updates;
  }

  /** Current trainable parameters (the trainer's own tensors: copy before mutating). */
  parameters(): Record<string, HostTensor> {
    return { ...this.params };
  }

  /** Replaces parameters, e.g. with the swarm's anchor at the start of a round. */
  setParameters(values: Record<string, HostTensor>): void {
    for (const p of this.compiled.params) {
      const v = values[p.name];
      if (!v) throw new InvalidOptionError('setParameters', `missing ${p.name}`);
      if (v.data.length !== this.params[p.name].data.length) {
        throw new InvalidOptionError(
          'setParameters',
          `${p.name} has ${v.data.length} values, expected ${this.params[p.name].data.length}`,
        );
      }
      this.params[p.name] = v;
    }
  }

  optimizerState(): Record<string, HostTensor> {
    return { ...this.state };
  }

  setOptimizerState(values: Record<string, HostTensor>, step: number): void {
    for (const s of this.compiled.state) {
      const v = values[s.name];
      if (!v) throw new InvalidOptionError('setOptimizerState', `missing ${s.name}`);
      this.state[s.name] = v;
    }
    this.updates = step;
  }

  /** Fresh optimizer state, keeping the step count (a joining swarm peer starts this way). */
  resetOptimizerState(): void {
    this.state = zeroState(this.compiled);
  }

  /** One update per batch; K batches at a time go through the Loop graph. */
  async train(batches: TrainBatch[], signal?: AbortSignal): Promise<StepResult> {
    const result: StepResult = { losses: [], gradNorms: [] };
    const k = this.compiled.stepsPerRun;
    let i = 0;
    while (i < batches.length) {
      signal?.throwIfAborted();
      const group = this.loopRunner && batches.length - i >= k ? batches.slice(i, i + k) : [batches[i]];
      const out =
        group.length > 1 ? await this.runLoop(this.loopRunner!, group) : await this.runStep(group[0]);
      result.losses.push(...Array.from(out[this.compiled.names.loss].data as ArrayLike<number>, Number));
      result.gradNorms.push(
        ...Array.from(out[this.compiled.names.gradNorm].data as ArrayLike<number>, Number),
      );
      this.absorb(out);
      this.updates += group.length;
      i += group.length;
    }
    return result;
  }

  /** Mean loss (and accuracy) over the batches, with the current parameters. */
  async evaluate(batches: TrainBatch[], signal?: AbortSignal): Promise<EvalResult> {
    const names = this.compiled.names;
    let loss = 0;
    let acc = 0;
    for (const b of batches) {
      signal?.throwIfAborted();
      const out = await this.evalRunner.run({ ...this.params, ...b.inputs, [names.labels]: b.labels });
      loss += Number(out[names.evalLoss].data[0]);
      if (names.accuracy) acc += Number(out[names.accuracy].data[0]);
    }
    const n = Math.max(1, batches.length);
    return { loss: loss / n, accuracy: names.accuracy ? acc / n : undefined, batches: batches.length };
  }

  private async runStep(batch: TrainBatch): Promise<Record<string, HostTensor>> {
    const names = this.compiled.names;
    return this.stepRunner.run({
      ...this.params,
      ...this.state,
      ...batch.inputs,
      [names.labels]: batch.labels,
      [names.lr]: this.scalarTensor([this.learningRate(this.updates)], []),
      [names.step]: this.scalarTensor([this.updates + 1], []),
    });
  }

  private async runLoop(runner: ModelRunner, group: TrainBatch[]): Promise<Record<string, HostTensor>> {
    const names = this.compiled.names;
    const inputs: Record<string, HostTensor> = {};
    for (const name of Object.keys(group[0].inputs)) inputs[name] = stack(group.map((b) => b.inputs[name]));
    const lrs = group.map((_, j) => this.learningRate(this.updates + j));
    return runner.run({
      ...this.params,
      ...this.state,
      ...inputs,
      [names.labels]: stack(group.map((b) => b.labels)),
      [names.lr]: this.scalarTensor(lrs, [group.length]),
      [names.step]: this.scalarTensor([this.updates + 1], []),
    });
  }

  private absorb(out: Record<string, HostTensor>): void {
    const { newName } = this.compiled.names;
    for (const p of this.compiled.params) this.params[p.name] = out[newName[p.name]];
    for (const s of this.compiled.state) this.state[s.name] = out[newName[s.name]];
  }

  private scalarTensor(values: number[], dims: number[]): HostTensor {
    const dtype = this.compiled.dtype;
    const data = allocate(dtype, values.length) as Float32Array | Float64Array;
    data.set(values);
    return { dtype, dims, data };
  }
}

function zeroState(c: CompiledTraining): Record<string, HostTensor> {
  const state: Record<string, HostTensor> = {};
  for (const s of c.state) {
    state[s.name] = {
      dtype: s.dtype,
      dims: s.dims,
      data: allocate(
        s.dtype,
        s.dims.reduce((a, b) => a * b, 1),
      ),
    };
  }
  return state;
}

/** Stacks same-shaped tensors along a new first axis. */
export function stack(tensors: HostTensor[]): HostTensor {
  const first = tensors[0];
  const n = first.data.length;
  const data = allocate(first.dtype, n * tensors.length) as TensorData & {
    set(a: ArrayLike<unknown>, o: number): void;
  };
  tensors.forEach((t, i) => {
    data.set(t.data as ArrayLike<unknown>, i * n);
  });
  return { dtype: first.dtype, dims: [tensors.length, ...first.dims], data };
}
