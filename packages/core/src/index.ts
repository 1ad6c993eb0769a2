export { fmix32, hashString, hashWords, Rng } from './random.ts';
