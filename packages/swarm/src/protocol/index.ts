export {
  type AveragingEvents,
  type AveragingOptions,
  AveragingPeer,
  DEFAULT_INNER_STEPS,
  type InnerTrainer,
  type RoundReport,
  type SharedTensor,
} from './averaging-peer.ts';
export {
  type AnchorChoice,
  type ChooseAnchorInput,
  chooseAnchor,
  majorityClosed,
  type Vote,
} from './core/anchor-vote.ts';
export { type Combined, type CombineOptions, cappedWeights, combine } from './core/combine.ts';
export { DEFAULT_MAX_ROUNDS_AHEAD, MAX_ROUND } from './core/limits.ts';
export { Membership, type MembershipOptions } from './core/membership.ts';
export { type Contribution, type OfferResult, RoundBook } from './core/round-book.ts';
export type { AveragingTransport, Misbehaviour } from './core/transport.ts';
export { updateSizeBound } from './core/update-bound.ts';
export { AveragingError } from './errors.ts';
export {
  type AveragingSnapshot,
  anchorHashOf,
  decodeSnapshot,
  decodeVouchedSnapshot,
  encodeSnapshot,
} from './snapshot.ts';
