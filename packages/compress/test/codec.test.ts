import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../src/half.ts';
import {
  decode,
  encode,
  encodedSize,
  InvalidOptionError,
  NonFiniteValueError,
  readHeader,
  UnknownCodecError,
  ValueOutOfRangeError,
} from '../src/index.ts';
import { randomUpdate } from './random.ts';

const SIZES = [1, 7, 255, 257, 4095, 4096, 4097, 10_001, 70_000];
const fp16 = (x: number) => fromHalf(toHalf(x));

describe('fp32', () => {
  it.each(SIZES)('round-trips %i values exactly', (n) => {
    const u = randomUpdate(n, n);
    const bytes = encode(u, { codec: 'fp32' });
    expect(bytes.length).toBe(20 + 4 * n);
    expect(decode(bytes, { expectedLength: n })).toEqual(u);
  });
});

describe('fp16', () => {
  it.each(SIZES)('round-trips %i values within 2^-11 relative error', (n) => {
    const u = randomUpdate(n, 100 + n);
    const bytes = encode(u, { codec: 'fp16' });
    expect(bytes.length).toBe(20 + 2 * n);
    const d = decode(bytes, { expectedLength: n });
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(u[i]);
      // normal range: relative bound; subnormal range (< 2^-14): absolute bound of half an ulp, 2^-25
      if (Math.abs(d[i] - u[i]) > (a >= 2 ** -14 ? a * 2 ** -11 : 2 ** -25)) bad++;
      if (d[i] !== fp16(u[i])) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('int8 blockwise absmax', () => {
  it.each([
    [1, 256],
    [257, 256],
    [10_001, 256],
    [70_000, 256],
    [4097, 64],
    [70_000, 1000],
  ])('round-trips %i values (block %i) within absmax/127 per block', (n, block) => {
    const u = randomUpdate(n, 200 + n, 0.05);
    const bytes = encode(u, { codec: 'int8', blockSize: block });
    expect(bytes.length).toBe(20 + 4 * Math.ceil(n / block) + n);
    const d = decode(bytes, { expectedLength: n });
    let bad = 0;
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      let absmax = 0;
      for (let i = start; i < end; i++) absmax = Math.max(absmax, Math.abs(u[i]));
      for (let i = start; i < end; i++) if (Math.abs(d[i] - u[i]) > absmax / 127) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('sign (scaled sign per chunk)', () => {
  it.each(SIZES.filter((n) => n >= 4096))('decodes %i values to fp16(mean |u| of chunk) × sign(u)', (n) => {
    const u = randomUpdate(n, 300 + n);
    const bytes = encode(u, { codec: 'sign' });
    const chunks = Math.ceil(n / 4096);
    expect(bytes.length).toBe(20 + 2 * chunks + Math.ceil(n / 8));
    expect(readHeader(bytes).codec).toBe('sign');
    const d = decode(bytes, { expectedLength: n });
    let bad = 0;
    for (let c = 0; c < chunks; c++) {
      const start = c * 4096;
      const end = Math.min(n, start + 4096);
      let sum = 0;
      for (let i = start; i < end; i++) sum += Math.abs(u[i]);
      const mean = sum / (end - start);
      const scale = Math.abs(d[start]);
      expect(Math.abs(scale - mean)).toBeLessThanOrEqual(mean * 2 ** -11);
      for (let i = start; i < end; i++) if (d[i] !== (u[i] < 0 ? -scale : scale)) bad++;
    }
    expect(bad).toBe(0);
  });

  it.each([1, 7, 1023])('sends %i values (under denseBelow, 1024) as dense fp16', (n) => {
    const u = randomUpdate(n, 400 + n);
    const bytes = encode(u, { codec: 'sign' });
    expect(readHeader(bytes).codec).toBe('fp16');
    expect(Array.from(decode(bytes))).toEqual(Array.from(u, fp16));
  });

  it.each([1024, 2560, 4095])('sign-codes %i values (under one chunk) with a single scale', (n) => {
    const u = randomUpdate(n, 450 + n);
    const bytes = encode(u, { codec: 'sign' });
    const h = readHeader(bytes);
    expect(h.codec).toBe('sign');
    expect(h.chunkSize).toBe(n);
    expect(bytes.length).toBe(20 + 2 + Math.ceil(n / 8));
    const mean = u.reduce((a, x) => a + Math.abs(x), 0) / n;
    const d = decode(bytes, { expectedLength: n });
    const scale = Math.abs(d[0]);
    expect(Math.abs(scale - mean)).toBeLessThanOrEqual(mean * 2 ** -11);
    expect(Array.from(d)).toEqual(Array.from(u, (x) => (x < 0 ? -scale : scale)));
  });

  it('takes denseBelow as an option (4096: every array under one chunk goes as fp16)', () => {
    const u = randomUpdate(2560, 470);
    expect(readHeader(encode(u, { codec: 'sign', denseBelow: 4096 })).codec).toBe('fp16');
    expect(readHeader(encode(u, { codec: 'sign', denseBelow: 100 })).codec).toBe('sign');
    expect(() => encode(u, { codec: 'sign', denseBelow: -1 })).toThrow(InvalidOptionError);
  });

  it('compresses about 32x against fp32 on a large update', () => {
    const n = 1 << 20;
    expect((4 * n) / encodedSize(n, { codec: 'sign' })).toBeGreaterThan(31.8);
  });
});

describe('top-k per chunk', () => {
  function checkTopk(u: Float32Array, d: Float32Array, chunk: number, k: number) {
    let bad = 0;
    for (let start = 0; start < u.length; start += chunk) {
      const end = Math.min(u.length, start + chunk);
      const order = Array.from({ length: end - start }, (_, j) => start + j).sort(
        (a, b) => Math.abs(u[b]) - Math.abs(u[a]),
      );
      const kept = new Set(order.slice(0, Math.min(k, end - start)));
      for (let i = start; i < end; i++) if (d[i] !== (kept.has(i) ? fp16(u[i]) : 0)) bad++;
    }
    expect(bad).toBe(0);
  }

  it.each([4096, 4097, 10_001, 70_000])(
    'keeps exactly the k largest |u| of each chunk (%i values, k=41)',
    (n) => {
      const u = randomUpdate(n, 500 + n);
      const bytes = encode(u, { codec: 'topk', k: 41 });
      const d = decode(bytes, { expectedLength: n });
      checkTopk(u, d, 4096, 41);
      expect(bytes.length).toBe(encodedSize(n, { codec: 'topk', k: 41 }));
    },
  );

  it('accepts k as a fraction and other chunk sizes, including a last chunk shorter than k', () => {
    const n = 70_000;
    const u = randomUpdate(n, 77);
    const bytes = encode(u, { codec: 'topk', chunkSize: 65536, fraction: 0.1 });
    const h = readHeader(bytes);
    expect(h.k).toBe(Math.round(0.1 * 65536));
    checkTopk(u, decode(bytes), 65536, h.k); // last chunk has 4464 < k values: all kept
    const small = encode(u.subarray(0, 1000), { codec: 'topk', chunkSize: 300, k: 200 });
    checkTopk(u.subarray(0, 1000), decode(small), 300, 200); // last chunk 100 < k
  });

  it('sends arrays under one chunk as dense fp16', () => {
    expect(readHeader(encode(randomUpdate(100, 1), { codec: 'topk' })).codec).toBe('fp16');
  });
});

describe('encode input validation', () => {
  it('rejects non-finite input with a typed error', () => {
    for (const codec of ['fp32', 'fp16', 'int8', 'sign', 'topk'] as const) {
      const u = randomUpdate(5000, 9);
      u[4321] = Number.NaN;
      expect(() => encode(u, { codec })).toThrow(NonFiniteValueError);
      u[4321] = -Infinity;
      expect(() => encode(u, { codec })).toThrow(NonFiniteValueError);
    }
  });

  it('rejects values outside the fp16 range where fp16 is used, and bad options', () => {
    const u = randomUpdate(10, 3);
    u[3] = 70000;
    expect(() => encode(u, { codec: 'fp16' })).toThrow(ValueOutOfRangeError);
    expect(() => encode(u, { codec: 'int8', blockSize: 0 })).toThrow(InvalidOptionError);
    expect(() => encode(u, { codec: 'topk', chunkSize: 65537 })).toThrow(InvalidOptionError);
    expect(() => encode(u, { codec: 'topk', k: 0 })).toThrow(InvalidOptionError);
    expect(() => encode(u, { codec: 'topk', fraction: 1.5 })).toThrow(InvalidOptionError);
    expect(() => encode(u, { codec: 'zstd' as 'fp32' })).toThrow(UnknownCodecError);
  });

  it('encodes an empty array', () => {
    for (const codec of ['fp32', 'fp16', 'int8', 'sign', 'topk'] as const) {
      expect(decode(encode(new Float32Array(0), { codec }), { expectedLength: 0 }).length).toBe(0);
    }
  });
});
