export {
  AbortError,
  EnjambreError,
  type EnjambreErrorOptions,
  InvalidOptionError,
  isEnjambreError,
  toError,
} from './errors.ts';
export { fmix32, hashString, hashWords, Rng, uniformSource } from './random.ts';
