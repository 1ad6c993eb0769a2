import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HostTensor } from '@enjambre/autograd';
import { BatchSampler, type SamplerState } from '@enjambre/data';
import {
  checkCheckpointForResume,
  type ResumeExpectation,
  readCheckpoint,
  type TrainBatch,
  writeCheckpoint,
} from '@enjambre/runtime';
import { PeerSetupError, ResumeError } from './errors.ts';
import { evaluationBatches, type TrainingSetup, toTrainBatch } from './setup.ts';

export interface TrainProgress {
  step: number;
  maxSteps: number | undefined;
  /** Mean loss of the updates since the previous report. */
  loss: number;
  lr: number;
  samplesPerSecond: number;
  /** Seconds left at the current rate, when maxSteps is known. */
  etaSeconds: number | undefined;
}

export interface EvalReport {
  step: number;
  valLoss: number;
  valAccuracy?: number;
}

export interface LocalTrainingOptions {
  /** Stop after this many updates in total. Default: the config's training.maxSteps. */
  maxSteps?: number;
  /** Where checkpoints go. Default: `<workDir>/checkpoint.safetensors`. */
  checkpointPath?: string;
  /** Continue from the checkpoint at checkpointPath when it exists. */
  resume?: boolean;
  /** Start afresh and overwrite an existing checkpoint at checkpointPath. Default false: refuse. */
  overwrite?: boolean;
  onProgress?: (p: TrainProgress) => void;
  onEval?: (e: EvalReport) => void;
  onCheckpoint?: (path: string, step: number) => void;
  signal?: AbortSignal;
}

export interface LocalTrainingResult {
  steps: number;
  /** Mean training loss over the last updates (up to 50). */
  trainLoss: number;
  valLoss: number;
  valAccuracy?: number;
  samplesPerSecond: number;
  executionProvider: string;
  checkpoint: string | undefined;
  seconds: number;
  /** True when the signal stopped training early (the checkpoint holds the progress so far). */
  interrupted: boolean;
}

const LOSS_WINDOW = 50;

/** Single-node training: batches from the node's data, periodic validation, checkpoints, resume. */
export async function trainLocally(
  setup: TrainingSetup,
  opts: LocalTrainingOptions = {},
): Promise<LocalTrainingResult> {
  const t = setup.config.training;
  const maxSteps = opts.maxSteps ?? t.maxSteps;
  if (maxSteps === undefined)
    throw new PeerSetupError('set training.maxSteps in the config or pass --max-steps');
  const checkpoint = opts.checkpointPath ?? `${setup.config.node.workDir}/checkpoint.safetensors`;
  if (!opts.resume && !opts.overwrite && existsSync(checkpoint)) {
    throw new ResumeError(
      `${checkpoint} already exists: continue training from it with --resume, or start afresh and overwrite it with --force`,
    );
  }
  let sampler = setup.sampler;
  if (opts.resume) sampler = (await resumeFrom(setup, checkpoint)) ?? sampler;

  const { trainer } = setup;
  const chunk = setup.compiled.stepsPerRun;
  const recent: number[] = [];
  const start = performance.now();
  let samples = 0;
  let lastReport = start;
  let lastReportSamples = 0;
  let pendingLoss: number[] = [];

  const save = async () => {
    await mkdir(dirname(checkpoint), { recursive: true });
    await writeCheckpoint(checkpoint, checkpointTensors(setup), checkpointMetadata(setup, sampler.state()));
    opts.onCheckpoint?.(checkpoint, trainer.step);
  };
  const evaluate = async (): Promise<EvalReport> => {
    const r = await trainer.evaluate(evaluationBatches(setup, t.evalBatches), opts.signal);
    const report = { step: trainer.step, valLoss: r.loss, valAccuracy: r.accuracy };
    opts.onEval?.(report);
    return report;
  };

  let interrupted = false;
  while (trainer.step < maxSteps) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    const n = Math.min(chunk, maxSteps - trainer.step);
    const batches: TrainBatch[] = [];
    for (let i = 0; i < n; i++)
      batches.push(toTrainBatch(setup.compiled, setup.data.train.batch(sampler.next())));
    const before = trainer.step;
    let losses: number[];
    try {
      ({ losses } = await trainer.train(batches, opts.signal));
    } catch (e) {
      if (!opts.signal?.aborted) throw e;
      interrupted = true;
      break;
    }
    samples += n * setup.batchSize;
    recent.push(...losses);
    pendingLoss.push(...losses);
    if (recent.length > LOSS_WINDOW) recent.splice(0, recent.length - LOSS_WINDOW);

    const now = performance.now();
    if (now - lastReport > 500 || trainer.step >= maxSteps) {
      const rate = ((samples - lastReportSamples) * 1000) / Math.max(1, now - lastReport);
      const overall = (samples * 1000) / Math.max(1, now - start);
      opts.onProgress?.({
        step: trainer.step,
        maxSteps,
        loss: mean(pendingLoss),
        lr: setup.lr(trainer.step - 1),
        samplesPerSecond: rate,
        etaSeconds: ((maxSteps - trainer.step) * setup.batchSize) / Math.max(1e-9, overall),
      });
      lastReport = now;
      lastReportSamples = samples;
      pendingLoss = [];
    }
    if (crossed(before, trainer.step, t.evalEvery) && trainer.step < maxSteps) await evaluate();
    if (crossed(before, trainer.step, t.checkpointEvery)) await save();
  }
  const seconds = (performance.now() - start) / 1000;
  // An interrupted run still reports where it stands (on fewer batches, to exit quickly).
  const final = await trainer.evaluate(evaluationBatches(setup, interrupted ? t.evalBatches : undefined));
  opts.onEval?.({ step: trainer.step, valLoss: final.loss, valAccuracy: final.accuracy });
  await save();
  return {
    steps: trainer.step,
    trainLoss: mean(recent),
    valLoss: final.loss,
    valAccuracy: final.accuracy,
    samplesPerSecond: samples / Math.max(1e-9, seconds),
    executionProvider: setup.provider,
    checkpoint,
    seconds,
    interrupted,
  };
}

/** Whether a multiple of `every` lies in (before, after]. */
function crossed(before: number, after: number, every: number): boolean {
  return every > 0 && Math.floor(after / every) > Math.floor(before / every);
}

function mean(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Tensors of a checkpoint: parameters under their own names, optimizer state under `optimizer/`. */
export function checkpointTensors(setup: TrainingSetup): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = { ...setup.trainer.parameters() };
  for (const [name, t] of Object.entries(setup.trainer.optimizerState())) out[`optimizer/${name}`] = t;
  return out;
}

export function checkpointMetadata(
  setup: TrainingSetup,
  sampler: SamplerState,
  extra: Record<string, unknown> = {},
) {
  return {
    format: 'enjambre-checkpoint/1',
    step: setup.trainer.step,
    configHash: setup.configHash,
    model: setup.model.metadata,
    data: setup.data.info,
    sampler,
    ...extra,
  };
}

/** The tensors a checkpoint of this run holds: parameters and `optimizer/` state, with their shapes. */
export function resumeExpectation(setup: TrainingSetup): ResumeExpectation {
  const params = setup.trainer.parameters();
  const state = setup.trainer.optimizerState();
  return {
    configHash: setup.configHash,
    requiredMetadata: ['step', 'sampler'],
    tensors: [
      ...Object.entries(params).map(([name, t]) => ({ name, dims: t.dims })),
      ...Object.entries(state).map(([name, t]) => ({ name: `optimizer/${name}`, dims: t.dims })),
    ],
  };
}

/** Loads parameters, optimizer state and data position from a checkpoint of the same run. */
async function resumeFrom(setup: TrainingSetup, file: string): Promise<BatchSampler | undefined> {
  if (!existsSync(file)) return undefined;
  const ck = await readCheckpoint(file);
  if (ck.metadata.configHash !== setup.configHash) {
    throw new ResumeError(
      `${file} was written by a run with another model or training config (hash ${ck.metadata.configHash?.slice(0, 12)}…, this config ${setup.configHash.slice(0, 12)}…)`,
    );
  }
  // Every tensor finite and of this model's shape, before anything is loaded.
  try {
    checkCheckpointForResume(ck, resumeExpectation(setup), file);
  } catch (e) {
    throw new ResumeError((e as Error).message, { cause: e });
  }
  const params: Record<string, HostTensor> = {};
  const state: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (name.startsWith('optimizer/')) state[name.slice('optimizer/'.length)] = t;
    else params[name] = t;
  }
  setup.trainer.setParameters(params);
  setup.trainer.setOptimizerState(state, Number(ck.metadata.step));
  let sampler: SamplerState;
  try {
    sampler = JSON.parse(ck.metadata.sampler) as SamplerState;
  } catch (e) {
    throw new ResumeError(`${file}: metadata.sampler is not JSON (${(e as Error).message})`, { cause: e });
  }
  return BatchSampler.fromState(sampler);
}
