export {
  type AggregateOptions,
  type AggregateResult,
  aggregate,
  type CenteredClipOptions,
  type CenteredClipResult,
  centeredClip,
  coordinateMedian,
  type WeightedUpdate,
  weightedMean,
} from './aggregate.ts';
export * from './constants.ts';
export { AggregationError } from './errors.ts';
export { anchorFingerprint, fingerprintDistance } from './fingerprint.ts';
export { OuterNesterov, type OuterNesterovOptions } from './outer.ts';
