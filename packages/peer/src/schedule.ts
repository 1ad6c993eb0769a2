import type { TrainingConfig } from '@enjambre/config';

/**
 * The inner optimizer's learning rate for the update with 0-based index `step`: linear
 * warm-up, then constant or cosine decay to `minLr` at `maxSteps` (nanoGPT's schedule).
 */
export function learningRateSchedule(training: TrainingConfig): (step: number) => number {
  const lr = training.optimizer.lr;
  const { kind, warmupSteps, minLr } = training.lrSchedule;
  const total = training.maxSteps ?? Number.POSITIVE_INFINITY;
  return (step) => {
    if (step < warmupSteps) return (lr * (step + 1)) / (warmupSteps + 1);
    if (kind === 'constant' || !Number.isFinite(total)) return lr;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, total - warmupSteps));
    return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr);
  };
}
