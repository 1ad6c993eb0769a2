import { describe, expect, it } from 'vitest';
import {
  BadMagicError,
  CompressError,
  decode,
  decodeTensors,
  encodeTensors,
  LengthMismatchError,
  readHeader,
  type Tensor,
  TensorMismatchError,
  TooLargeError,
  TrailingBytesError,
  TruncatedInputError,
  unpackTensors,
} from '../src/index.ts';
import { randomUpdate, rng } from './random.ts';

// A small MLP-like parameter list: large weights, small biases, a 1-element tensor, a non-ASCII name.
const tensors: Tensor[] = [
  { name: 'fc1.weight', values: randomUpdate(784 * 32, 1) },
  { name: 'fc1.bias', values: randomUpdate(32, 2) },
  { name: 'fc2.weight', values: randomUpdate(32 * 10 * 13 + 3, 3) },
  { name: 'fc2.bias', values: randomUpdate(10, 4) },
  { name: 'échelle', values: randomUpdate(1, 5) },
];
const specs = tensors.map((t) => ({ name: t.name, length: t.values.length }));

describe('tensor lists', () => {
  it.each(['fp32', 'fp16', 'int8', 'sign', 'topk'] as const)(
    'round-trips a parameter list with %s',
    (codec) => {
      const bytes = encodeTensors(tensors, { codec });
      const parts = unpackTensors(bytes, specs);
      const out = decodeTensors(bytes, specs);
      expect(out.map((t) => t.name)).toEqual(specs.map((s) => s.name));
      for (let i = 0; i < tensors.length; i++) {
        const header = readHeader(parts[i].bytes);
        const small = tensors[i].values.length < 4096;
        // sign / top-k send tensors under one chunk as dense fp16
        expect(header.codec).toBe((codec === 'sign' || codec === 'topk') && small ? 'fp16' : codec);
        expect(out[i].values).toEqual(decode(parts[i].bytes));
      }
      if (codec === 'fp32')
        for (let i = 0; i < tensors.length; i++) expect(out[i].values).toEqual(tensors[i].values);
    },
  );

  it('rejects lists that do not match the expected names, count or sizes', () => {
    const bytes = encodeTensors(tensors, { codec: 'sign' });
    const renamed = specs.map((s, i) => (i === 2 ? { ...s, name: 'fc3.weight' } : s));
    expect(() => decodeTensors(bytes, renamed)).toThrow(TensorMismatchError);
    expect(() => decodeTensors(bytes, specs.slice(1))).toThrow(TensorMismatchError);
    const resized = specs.map((s, i) => (i === 1 ? { ...s, length: 33 } : s));
    expect(() => decodeTensors(bytes, resized)).toThrow(LengthMismatchError);
    expect(() => decodeTensors(bytes, specs, { maxElements: 1000 })).toThrow(TooLargeError);
  });

  it('rejects truncated, extended, corrupted and random buffers with typed errors', () => {
    const bytes = encodeTensors(tensors, { codec: 'topk' });
    for (let len = 0; len < bytes.length; len += len < 100 ? 1 : 211) {
      expect(() => decodeTensors(bytes.subarray(0, len), specs)).toThrow(TruncatedInputError);
    }
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => decodeTensors(longer, specs)).toThrow(TrailingBytesError);
    const bad = bytes.slice();
    bad[0] ^= 1;
    expect(() => decodeTensors(bad, specs)).toThrow(BadMagicError);
    const r = rng(9);
    for (let t = 0; t < 300; t++) {
      const b = bytes.slice();
      b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        decodeTensors(b, specs);
      } catch (e) {
        expect(e).toBeInstanceOf(CompressError);
      }
    }
  });
});
