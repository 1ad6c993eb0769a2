export {
  type AveragingEvents,
  type AveragingOptions,
  AveragingPeer,
  DEFAULT_INNER_STEPS,
  type InnerTrainer,
  type RoundReport,
  type SharedTensor,
} from './averaging-peer.ts';
export { AveragingError } from './errors.ts';
export { type AveragingSnapshot, decodeSnapshot, encodeSnapshot } from './snapshot.ts';
