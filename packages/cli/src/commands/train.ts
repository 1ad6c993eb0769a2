import { loadConfig } from '@enjambre/config';
import { setupTraining, trainLocally } from '@enjambre/peer';
import { printJsonLine, UsageError } from '../output.ts';
import { surviveClosedOutput } from '../pipes.ts';
import { bar, duration, interruptSignal, ProgressLine } from '../progress.ts';
import type { Command } from './command.ts';

export const train: Command = {
  name: 'train',
  usage: `Usage: enjambre train --config FILE [--max-steps N] [--resume | --force] [--json]

Trains the config's model on its local data with the config's optimizer: a progress line
(step, loss, samples/s, ETA), periodic validation, checkpoints in safetensors format.
Ctrl-C stops after the current step group and writes a checkpoint.

  --config      the node's config file (required; see \`enjambre init\`)
  --max-steps   optimizer steps in total (default: training.maxSteps of the config)
  --checkpoint  checkpoint file (default: <node.workDir>/checkpoint.safetensors)
  --resume      continue from the checkpoint when it exists (same model and config)
  --force       start afresh and overwrite the checkpoint when it exists (without --resume
                or --force, train refuses to overwrite an existing checkpoint)
  --json        print a final JSON line on stdout`,
  options: {
    config: { type: 'string' },
    'max-steps': { type: 'string' },
    checkpoint: { type: 'string' },
    resume: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.config !== 'string') throw new UsageError('train needs --config FILE');
    if (values.resume && values.force)
      throw new UsageError('--resume continues the checkpoint and --force overwrites it: give one of them');
    const maxSteps = values['max-steps'] === undefined ? undefined : Number(values['max-steps']);
    if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) {
      throw new UsageError(`--max-steps must be a positive integer, got ${values['max-steps']}`);
    }
    surviveClosedOutput();
    const progress = new ProgressLine();
    const signal = interruptSignal((sig) =>
      progress.note(`${sig}: finishing the current steps and writing a checkpoint…`),
    );
    const config = await loadConfig(values.config);
    const setup = await setupTraining(config, {
      onNotice: (n) => progress.note(`note: ${n.message}`),
      signal,
    });
    try {
      progress.note(
        `${setup.model.summary}\ndata: ${setup.data.train.size} training examples, ${setup.data.validation?.size ?? 0} validation; provider: ${setup.provider}`,
      );
      const result = await trainLocally(setup, {
        maxSteps,
        checkpointPath: values.checkpoint as string | undefined,
        resume: values.resume === true,
        overwrite: values.force === true,
        signal,
        onProgress: (p) => {
          const total = p.maxSteps ?? p.step;
          progress.update(
            `${bar(p.step / total)} step ${p.step}/${total}  loss ${p.loss.toFixed(4)}  ${p.samplesPerSecond.toFixed(0)} samples/s  lr ${p.lr.toExponential(2)}  ETA ${duration(p.etaSeconds)}`,
          );
        },
        onEval: (e) =>
          progress.note(
            `step ${e.step}: validation loss ${e.valLoss.toFixed(4)}${e.valAccuracy === undefined ? '' : `, accuracy ${(100 * e.valAccuracy).toFixed(2)}%`}`,
          ),
        onCheckpoint: (path, step) => progress.note(`step ${step}: checkpoint ${path}`),
      });
      progress.done();
      const summary = {
        steps: result.steps,
        trainLoss: result.trainLoss,
        valLoss: result.valLoss,
        valAccuracy: result.valAccuracy ?? null,
        samplesPerSecond: result.samplesPerSecond,
        executionProvider: result.executionProvider,
        seconds: result.seconds,
        checkpoint: result.checkpoint,
        interrupted: result.interrupted,
      };
      if (values.json) printJsonLine(summary);
      else
        console.log(
          `${result.interrupted ? 'interrupted' : 'done'}: ${result.steps} steps in ${duration(result.seconds)}, train loss ${result.trainLoss.toFixed(4)}, validation loss ${result.valLoss.toFixed(4)}${result.valAccuracy === undefined ? '' : `, accuracy ${(100 * result.valAccuracy).toFixed(2)}%`}, ${result.samplesPerSecond.toFixed(0)} samples/s on ${result.executionProvider}\ncheckpoint: ${result.checkpoint}`,
        );
      return result.interrupted ? 130 : 0;
    } finally {
      await setup.data.close();
    }
  },
};
