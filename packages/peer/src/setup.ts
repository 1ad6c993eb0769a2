import { type CompiledTraining, compileTraining, type HostTensor } from '@enjambre/autograd';
import { type Config, trainingConfigHash } from '@enjambre/config';
import {
  type Batch,
  BatchSampler,
  type DatasetInfo,
  type DatasetSpec,
  type LoadedData,
  loadDataset,
} from '@enjambre/data';
import { type BuiltModel, createModel, type DataInfo, type ModelSpec } from '@enjambre/models';
import {
  compileRunner,
  compileWorkerRunner,
  type ProviderName,
  type ProviderNotice,
  type Runner,
  type TrainBatch,
  Trainer,
} from '@enjambre/runtime';
import { PeerSetupError } from './errors.ts';
import { learningRateSchedule } from './schedule.ts';

/** Everything a node needs to train: data, model, compiled graphs and a trainer on a provider. */
export interface TrainingSetup {
  config: Config;
  data: LoadedData<DatasetInfo>;
  model: BuiltModel;
  compiled: CompiledTraining;
  trainer: Trainer;
  sampler: BatchSampler;
  /** The execution provider the training graphs run on. */
  provider: ProviderName;
  /** Why preferred providers were skipped. */
  notices: ProviderNotice[];
  /** Hash of what must agree between swarm peers (model, training, averaging). */
  configHash: string;
  /** Examples per optimizer step. */
  batchSize: number;
  /** Learning rate of the update with 0-based index `step`. */
  lr: (step: number) => number;
  /** True when the graphs run in a worker thread ({@link SetupOptions.offThread}). */
  offThread: boolean;
}

export interface SetupOptions {
  /** Reported once per skipped provider (e.g. CUDA not installed), with how to fix it. */
  onNotice?: (notice: ProviderNotice) => void;
  signal?: AbortSignal;
  /** Shard of the built-in synthetic data this node gets (a demo swarm gives each peer its own). */
  peerIndex?: number;
  /** Total optimizer steps when they differ from training.maxSteps (`--max-steps`): the learning-rate schedule ends there. */
  maxSteps?: number;
  /**
   * Run the graphs in a worker thread, so that training leaves this thread's event loop free
   * (a swarm peer's networking runs there). Default false.
   */
  offThread?: boolean;
}

/** Loads the node's data, builds and compiles its model, and starts a trainer on the best provider. */
export async function setupTraining(config: Config, opts: SetupOptions = {}): Promise<TrainingSetup> {
  const data = await loadDataset(datasetSpec(config, opts.peerIndex), {
    fieldPrefix: 'data',
    signal: opts.signal,
  });
  try {
    const configHash = trainingConfigHash(config);
    const model = createModel(modelSpec(config, configHash), dataInfo(data));
    const t = config.training;
    const compiled = compileTraining(model, {
      optimizer:
        t.optimizer.kind === 'adamw'
          ? {
              kind: 'adamw',
              beta1: t.optimizer.beta1,
              beta2: t.optimizer.beta2,
              eps: t.optimizer.eps,
              weightDecay: t.optimizer.weightDecay,
              weightDecayParams: t.optimizer.weightDecayParams,
            }
          : {
              kind: 'sgd',
              momentum: t.optimizer.momentum,
              nesterov: t.optimizer.nesterov,
              weightDecay: t.optimizer.weightDecay,
              weightDecayParams: t.optimizer.weightDecayParams,
            },
      gradClip: t.gradClip,
      stepsPerRun: t.stepsPerRun,
    });
    checkMemoryBudget(config, compiled);
    const lr = learningRateSchedule(opts.maxSteps === undefined ? t : { ...t, maxSteps: opts.maxSteps });
    const notices: ProviderNotice[] = [];
    let provider: ProviderName = 'cpu';
    const makeRunner = (opts.offThread ? compileWorkerRunner : compileRunner)({
      providers: config.hardware.executionProviders,
      cudaDeviceId: config.hardware.cudaDeviceId,
      intraOpThreads: config.hardware.intraOpThreads,
      interOpThreads: config.hardware.interOpThreads,
      onNotice: (n) => {
        notices.push(n);
        opts.onNotice?.(n);
      },
      signal: opts.signal,
    });
    const trainer = await Trainer.create({
      compiled,
      compile: async (m) => {
        const runner = (await makeRunner(m)) as Runner;
        provider = runner.provider;
        return runner;
      },
      initialParams: initialParameters(model, compiled),
      learningRate: lr,
    });
    const sampler = new BatchSampler({
      size: data.train.size,
      batchSize: t.batchSize,
      seed: config.data.seed,
    });
    return {
      config,
      data,
      model,
      compiled,
      trainer,
      sampler,
      provider,
      notices,
      configHash,
      batchSize: t.batchSize,
      lr,
      offThread: opts.offThread ?? false,
    };
  } catch (e) {
    await data.close();
    throw e;
  }
}

/**
 * Refuses a model whose training state alone cannot fit `hardware.memoryBudgetMB`: parameters,
 * their gradients and the optimizer's state, in their dtype. Activations come on top, so this is
 * a lower bound: a model that passes may still need more.
 */
export function checkMemoryBudget(config: Config, compiled: CompiledTraining): void {
  const budget = config.hardware.memoryBudgetMB;
  if (budget === undefined) return;
  const bytes = (specs: { dims: number[]; dtype: string }[]) =>
    specs.reduce((sum, p) => sum + p.dims.reduce((a, b) => a * b, 1) * (p.dtype === 'float64' ? 8 : 4), 0);
  const needed = (2 * bytes(compiled.params) + bytes(compiled.state)) / 2 ** 20;
  if (needed > budget) {
    throw new PeerSetupError(
      `hardware.memoryBudgetMB: the model's parameters, gradients and optimizer state alone take ${needed.toFixed(1)} MiB, more than the budget of ${budget} MiB; choose a smaller model or raise the budget`,
    );
  }
}

/** The data package's spec for the config's `data` section. */
export function datasetSpec(config: Config, peerIndex?: number): DatasetSpec {
  const d = config.data;
  switch (d.format) {
    case 'text':
      return {
        format: 'text',
        path: d.path,
        tokenizer: d.byteLevel ? 'byte' : 'char',
        validationFraction: d.validFraction,
        context: config.model.kind === 'char-transformer' ? config.model.context : undefined,
      };
    case 'mnist':
      return {
        format: 'mnist',
        trainImages: d.trainImages,
        trainLabels: d.trainLabels,
        testImages: d.testImages,
        testLabels: d.testLabels,
      };
    case 'csv':
      return {
        format: 'csv',
        path: d.path,
        target: d.target,
        categorical: d.categorical,
        validationFraction: d.validFraction,
        seed: d.seed,
        task: d.task,
        ignore: d.ignore,
      };
    case 'synthetic':
      return {
        format: 'synthetic',
        seed: d.seed,
        peerIndex: peerIndex ?? d.shard,
        trainSize: d.examples,
        dim: d.features,
        classes: d.classes,
      };
  }
}

/** The models package's spec for the config's `model` section. */
export function modelSpec(config: Config, configHash: string): ModelSpec {
  // Every peer of a swarm must start from the same anchor: seed the weights from the config hash.
  const seed = Number.parseInt(configHash.slice(0, 8), 16);
  const m = config.model;
  switch (m.kind) {
    case 'mlp':
      return { kind: 'mlp', inputSize: m.inputSize, hidden: m.hidden, activation: m.activation, seed };
    case 'cnn':
      return { kind: 'cnn', channels: m.channels, hidden: m.hidden, seed };
    case 'char-transformer':
      return {
        kind: 'char-transformer',
        layers: m.layers,
        heads: m.heads,
        width: m.width,
        context: m.context,
        dropout: m.dropout,
        bias: m.bias,
        tieWeights: m.tieWeights,
        seed,
      };
    case 'onnx':
      return {
        kind: 'onnx',
        path: m.path,
        trainable: m.trainable,
        frozen: m.frozen,
        output: m.output,
        loss: m.loss,
      };
  }
}

export function dataInfo(data: LoadedData<DatasetInfo>): DataInfo {
  const info = data.info;
  return {
    inputs: data.train.inputs,
    labels: data.train.labels,
    task: info.task,
    numClasses: 'numClasses' in info ? info.numClasses : undefined,
    vocabSize: info.format === 'text' ? info.vocabSize : undefined,
  };
}

/** Initial values of the trainable parameters: the model's initializers. */
export function initialParameters(model: BuiltModel, compiled: CompiledTraining): Record<string, HostTensor> {
  const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const out: Record<string, HostTensor> = {};
  for (const p of compiled.params) {
    const t = byName.get(p.name)!;
    out[p.name] = { dtype: t.dtype, dims: t.dims, data: t.data.slice() };
  }
  return out;
}

/** A batch from the data package, keyed by the model's input names. */
export function toTrainBatch(compiled: CompiledTraining, batch: Batch): TrainBatch {
  return {
    inputs: { [compiled.names.dataInputs[0]]: batch.inputs as HostTensor },
    labels: batch.labels as HostTensor,
  };
}

/**
 * Windows of a full evaluation on text: nanoGPT's eval_iters × batch (200 × 12). A fixed count
 * rather than a batch count, so that runs with different batch sizes evaluate the same windows.
 */
export const FULL_TEXT_EVAL_WINDOWS = 2400;

/**
 * Validation batches (training batches when there is no validation split) in a fixed order:
 * all of the split (200 batches spread over it for text), or `count` batches spread over it.
 */
export function evaluationBatches(setup: TrainingSetup, count?: number): TrainBatch[] {
  const ds = setup.data.validation ?? setup.data.train;
  const bs = Math.min(evalBatchSize(setup), ds.size);
  const available = Math.floor(ds.size / bs);
  // A text split has a window at every character offset: "all of it" would be one forward pass
  // per character. Like nanoGPT's estimate_loss, a full text evaluation takes 2400 windows.
  const all =
    setup.data.info.format === 'text'
      ? Math.min(available, Math.ceil(FULL_TEXT_EVAL_WINDOWS / bs))
      : available;
  const n = count === undefined ? all : Math.min(count, available);
  // Examples spread evenly over the whole split (for text: windows far apart, not overlapping
  // neighbours), the same ones at every evaluation. With every batch this is the whole split.
  const total = n * bs;
  const out: TrainBatch[] = [];
  for (let b = 0; b < n; b++) {
    const indices = Array.from({ length: bs }, (_, i) => Math.floor(((b * bs + i) * ds.size) / total));
    out.push(toTrainBatch(setup.compiled, ds.batch(indices)));
  }
  return out;
}

/** Evaluation runs no backward pass: larger batches than training are cheaper per example. */
function evalBatchSize(setup: TrainingSetup): number {
  return setup.config.model.kind === 'char-transformer' ? setup.batchSize : Math.max(setup.batchSize, 500);
}
