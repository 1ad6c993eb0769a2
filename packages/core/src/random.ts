/**
 * The one seeded random generator of the project (sfc32): integer arithmetic only (`Math.imul`,
 * shifts, xor), so a seed gives the same stream on every machine. Data splits, synthetic tasks and
 * weight initialisation all draw from it.
 */

const TWO_32 = 4294967296;

/** MurmurHash3's 32-bit finaliser: a bijective avalanche mix of a uint32. */
export function fmix32(h: number): number {
  h >>>= 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash a list of numbers (each reduced modulo 2^32, safe integers split into two words) to a uint32. */
export function hashWords(...words: number[]): number {
  let h = 0x243f6a88;
  for (const w of words) {
    const lo = w >>> 0;
    const hi = Math.floor(w / TWO_32) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

/** 32-bit FNV-1a hash of a string (UTF-16 code units), starting from `seed`. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Small fast PRNG (sfc32) seeded from any list of numbers. Deterministic across machines. */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 1;

  constructor(...seedWords: number[]) {
    this.start(hashWords(1, ...seedWords), hashWords(2, ...seedWords), hashWords(3, ...seedWords));
  }

  /**
   * A generator whose sfc32 state starts from the words (a, b, c), for seeding schemes that must
   * keep reproducing streams made before (e.g. weight initialisation, see `@enjambre/models`).
   */
  static fromState(a: number, b: number, c: number): Rng {
    const rng = new Rng();
    rng.start(a, b, c);
    return rng;
  }

  private start(a: number, b: number, c: number): void {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Next uniform uint32. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.u32() >>> 5;
    const lo = this.u32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased, for 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    if (n <= 1) return 0;
    const limit = TWO_32 - (TWO_32 % n);
    let x = this.u32();
    while (x >= limit) x = this.u32();
    return x % n;
  }

  /**
   * Standard normal draw (Box–Muller, one value per call). `Math.log`, `Math.sqrt` and `Math.cos`
   * are software (fdlibm) in V8, so the value is the same on every platform for a Node major version;
   * see {@link Rng.exactNormal} where even that is not enough.
   */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Approximately standard normal with exact arithmetic: Irwin–Hall sum of 12 uint32 uniforms minus 6
   * (mean 0, variance 1, support ±6). The sum is exact in float64, so every machine and Node version
   * agrees bit for bit (peers of a swarm must initialise the same weights).
   */
  exactNormal(): number {
    let s = 0;
    for (let i = 0; i < 12; i++) s += this.u32();
    return s / TWO_32 - 6;
  }
}

/**
 * A seeded stream of uniform doubles in [0, 1), for code that wants a plain `() => number`
 * (gradient checks, test data): the {@link Rng} stream of `seed`.
 */
export function uniformSource(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.uniform();
}
