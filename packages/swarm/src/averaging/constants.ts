/** Defaults of the averaging math (protocol steps 6 and 7). */

/** CenteredClip iterations. */
export const DEFAULT_CLIP_ITERATIONS = 3;
/** Use CenteredClip from this many updates on; below it, the plain weighted mean. */
export const DEFAULT_MIN_ROBUST_UPDATES = 4;
/**
 * CenteredClip caps each update's weight (its self-reported sample count) at this multiple of the median
 * weight, so that one peer cannot outvote the others by claiming a huge sample count.
 */
export const DEFAULT_MAX_WEIGHT_RATIO = 4;
/** Outer Nesterov learning rate (DiLoCo). */
export const DEFAULT_OUTER_LR = 0.7;
/** Outer Nesterov momentum (DiLoCo). */
export const DEFAULT_OUTER_MOMENTUM = 0.9;
/** Outer optimizer settings for top-k updates: lr 1.0 and no momentum (momentum with top-k diverged). */
export const TOPK_OUTER_OPTIONS = { lr: 1, momentum: 0 } as const;
/** Anchor fingerprint dimensions. */
export const DEFAULT_FINGERPRINT_DIMS = 16;
/** Anchor fingerprint projection seed (ASCII "enjf"). */
export const DEFAULT_FINGERPRINT_SEED = 0x656e6a66;
/** Largest fingerprint dimension count. */
export const MAX_FINGERPRINT_DIMS = 256;
