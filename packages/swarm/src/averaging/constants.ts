/** Defaults of the averaging math (protocol steps 6 and 7). */
import { DEFAULT_TOPK_OUTER_LR, DEFAULT_TOPK_OUTER_MOMENTUM } from '@enjambre/config';

/** CenteredClip iterations. */
export const DEFAULT_CLIP_ITERATIONS = 3;
/** Use CenteredClip from this many updates on; below it, the plain weighted mean. */
export const DEFAULT_MIN_ROBUST_UPDATES = 4;
/**
 * CenteredClip caps each update's weight (its self-reported sample count) at this multiple of the median
 * weight, so that one peer cannot outvote the others by claiming a huge sample count.
 */
export const DEFAULT_MAX_WEIGHT_RATIO = 4;
/** Outer Nesterov learning rate and momentum (DiLoCo): defined with every other default in the config package. */
export { DEFAULT_OUTER_LR, DEFAULT_OUTER_MOMENTUM } from '@enjambre/config';
/** Outer optimizer settings for top-k updates: lr 1.0 and no momentum (momentum with top-k diverged). */
export const TOPK_OUTER_OPTIONS = {
  lr: DEFAULT_TOPK_OUTER_LR,
  momentum: DEFAULT_TOPK_OUTER_MOMENTUM,
} as const;
/** Anchor fingerprint dimensions. */
export const DEFAULT_FINGERPRINT_DIMS = 16;
/** Anchor fingerprint projection seed (ASCII "enjf"). */
export const DEFAULT_FINGERPRINT_SEED = 0x656e6a66;
/** Largest fingerprint dimension count. */
export const MAX_FINGERPRINT_DIMS = 256;
