import { createHash } from 'node:crypto';
import type { Config } from './types.ts';

/** Version tag mixed into {@link trainingConfigHash}; bump it when the hashed fields change. */
export const TRAINING_CONFIG_HASH_VERSION = 'enjambre-training-config-v1';

/**
 * Canonical JSON: object keys sorted, `undefined` entries dropped, no whitespace. Throws a TypeError on
 * values JSON cannot represent faithfully (non-finite numbers, bigints, functions).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

/**
 * The part of a config that must agree between the peers of one run: the model (without local paths),
 * the inner optimizer and schedule, gradient clipping, the averaging protocol (without local timeouts
 * and transport limits) and the data format and task. Node names, hardware, paths, ports and batch
 * sizes are left out.
 */
export function trainingConfigFingerprint(config: Config): Record<string, unknown> {
  const { model, data, training, swarm } = config;
  const sharedModel: Record<string, unknown> = { ...model };
  if (model.kind === 'onnx') delete sharedModel.path;
  const sharedData: Record<string, unknown> = { format: data.format };
  switch (data.format) {
    case 'text':
      sharedData.byteLevel = data.byteLevel;
      break;
    case 'csv':
      sharedData.task = data.task;
      sharedData.target = data.target;
      break;
    case 'synthetic':
      sharedData.features = data.features;
      sharedData.classes = data.classes;
      break;
    case 'mnist':
      break;
  }
  // Local policies (how long to wait, what goes inline, which claims to believe) need not agree.
  const {
    roundTimeoutMs: _timeout,
    inlineMaxBytes: _inline,
    maxRoundsAhead: _ahead,
    ...averaging
  } = swarm.averaging;
  return {
    version: TRAINING_CONFIG_HASH_VERSION,
    model: sharedModel,
    data: sharedData,
    training: { optimizer: training.optimizer, lrSchedule: training.lrSchedule, gradClip: training.gradClip },
    averaging,
  };
}

/**
 * sha256 (hex) of the canonical JSON of {@link trainingConfigFingerprint}: peers whose hashes differ
 * cannot average together.
 */
export function trainingConfigHash(config: Config): string {
  return createHash('sha256')
    .update(canonicalJson(trainingConfigFingerprint(config)))
    .digest('hex');
}
