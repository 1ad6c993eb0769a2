export {
  CODEC_IDS,
  CODEC_NAMES,
  type DecodeOptions,
  decode,
  type EncodeOptions,
  encode,
  encodedSize,
  isCompressError,
  readHeader,
  resolveParams,
  type UpdateHeader,
} from './codec.ts';
export {
  type CodecName,
  DEFAULT_CHUNK,
  DEFAULT_CODEC,
  DEFAULT_INT8_BLOCK,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_SIGN_DENSE_BELOW,
  DEFAULT_TOPK_FRACTION,
  FORMAT_VERSION,
  HEADER_BYTES,
} from './constants.ts';
export { type CompressedUpdate, ErrorFeedback } from './error-feedback.ts';
export * from './errors.ts';
export { fromHalf, HALF_MAX, toHalf } from './half.ts';
export {
  type DecodeTensorsOptions,
  decodeTensors,
  encodeTensors,
  MAX_NAME_BYTES,
  packTensors,
  type Tensor,
  type TensorSpec,
  unpackTensors,
} from './tensors.ts';
