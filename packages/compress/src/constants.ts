/** Defaults and wire-format constants. Every default named in the docs lives here or in `@enjambre/config`. */
import type { CODECS } from '@enjambre/config';

/** Magic bytes at the start of every encoded update: ASCII `ENJC`. */
export const UPDATE_MAGIC = 0x434a4e45; // 'E','N','J','C' read as a little-endian u32
/** Magic bytes at the start of an encoded tensor list: ASCII `ENJL`. */
export const LIST_MAGIC = 0x4c4a4e45; // 'E','N','J','L'
/** Wire-format version written by this build (and the only one it reads). */
export const FORMAT_VERSION = 1;
/** Size in bytes of the header of an encoded update. */
export const HEADER_BYTES = 20;
/** Size in bytes of the fixed part of a tensor-list header. */
export const LIST_HEADER_BYTES = 12;

/**
 * Names of the update codecs: the config's list (`CODECS` in `@enjambre/config`); each is defined
 * (id, layout, limits) in the table in codec.ts.
 */
export type CodecName = (typeof CODECS)[number];

/** Default codec (scaled sign, protocol step 3) and top-k fraction: the config's defaults. */
export { DEFAULT_CODEC, DEFAULT_TOPK_FRACTION } from '@enjambre/config';
/** Default int8 block size: one fp32 absmax scale per 256 values (≈1.6% overhead, 3.94× vs fp32). */
export const DEFAULT_INT8_BLOCK = 256;
/** Default chunk for sign and top-k: 4096 values. With top-k, arrays shorter than this go as dense fp16. */
export const DEFAULT_CHUNK = 4096;
/**
 * Sign: arrays shorter than this go as dense fp16 (biases, norms: a few hundred values, where 1 bit
 * per value saves little); longer ones are sign-coded even when shorter than one chunk (one scale).
 */
export const DEFAULT_SIGN_DENSE_BELOW = 1024;
/** Largest allowed int8 block / sign chunk. */
export const MAX_BLOCK = 1 << 20;
/** Largest allowed top-k chunk (indices are uint16). */
export const MAX_TOPK_CHUNK = 65536;

/** Default `maxBytes` for decode: 1 GiB. */
export const DEFAULT_MAX_BYTES = 1 << 30;
/** Default `maxElements` for decode: 2^28 values (1 GiB as float32). */
export const DEFAULT_MAX_ELEMENTS = 1 << 28;
/** Largest tensor count in a tensor list. */
export const MAX_TENSORS = 65535;
