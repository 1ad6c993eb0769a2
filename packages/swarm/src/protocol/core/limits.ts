/** Bounds of the protocol core: what a value received from a peer may be before it is believed. */

/**
 * Highest round a peer accepts from anyone (update, heartbeat vote or snapshot): 2³¹, leaving 2³¹ rounds of
 * headroom below the wire format's u32 so that no adopted round can overflow an encoder later.
 */
export const MAX_ROUND = 2 ** 31;
/** Default: claims of more than this many rounds ahead of this peer are ignored (not votes, not catch-up). */
export const DEFAULT_MAX_ROUNDS_AHEAD = 10;
/** Default: updates up to this many rounds late are folded into the next aggregation. */
export const DEFAULT_LATE_ROUNDS = 2;
/** Default: updates whose norm exceeds this multiple of the round's median norm are dropped. */
export const DEFAULT_OUTLIER_FACTOR = 10;
/**
 * Default: a claimed sample count weighs at most this multiple of the (lower) median claim. At 1, no claim
 * outweighs the median one: two colluding peers claiming 2⁵³ samples each weigh as two honest ones (at 2 they
 * reversed the aggregate of 6 honest sign updates in simulation). A straggler's smaller claim still weighs less.
 */
export const DEFAULT_MAX_CLAIM_RATIO = 1;
