import { describe, expect, it } from 'vitest';
import {
  BadMagicError,
  type CodecName,
  CompressError,
  decode,
  encode,
  IndexOutOfRangeError,
  InvalidHeaderError,
  LengthMismatchError,
  MalformedPayloadError,
  NonFiniteValueError,
  TooLargeError,
  TrailingBytesError,
  TruncatedInputError,
  UnknownCodecError,
  UnsupportedVersionError,
} from '../src/index.ts';
import { randomUpdate, rng } from './random.ts';

const CODECS: CodecName[] = ['fp32', 'fp16', 'int8', 'sign', 'topk'];
const N = 5003; // over one chunk, not a multiple of it or of 8

function sample(codec: CodecName): Uint8Array {
  return encode(randomUpdate(N, 42), { codec, k: 64 });
}

/** Runs decode and returns the error it threw (asserting it is typed), or undefined when it decoded. */
function outcome(bytes: Uint8Array, expectedLength?: number): CompressError | undefined {
  try {
    const d = decode(bytes, { expectedLength });
    for (const v of d) if (!Number.isFinite(v)) throw new Error('decoded a non-finite value');
    return undefined;
  } catch (e) {
    if (!(e instanceof CompressError)) throw e;
    expect(e.code).toMatch(/^ERR_[A-Z_]+$/);
    return e;
  }
}

function patch(bytes: Uint8Array, f: (dv: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  f(new DataView(copy.buffer));
  return copy;
}

describe('hostile input', () => {
  it('rejects random bytes of many lengths with a typed error', () => {
    const r = rng(1);
    for (let t = 0; t < 500; t++) {
      const b = new Uint8Array(Math.floor(r() * 200));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
      expect(outcome(b)).toBeInstanceOf(CompressError);
    }
  });

  it('never crashes on a valid header followed by a random payload', () => {
    const r = rng(2);
    for (const codec of CODECS) {
      const valid = sample(codec);
      for (let t = 0; t < 20; t++) {
        const b = valid.slice();
        for (let i = 20; i < b.length; i++) b[i] = Math.floor(r() * 256);
        outcome(b, N); // either decodes to finite values or throws a CompressError
      }
    }
    const topk = sample('topk');
    const b = topk.slice();
    for (let i = 20; i < b.length; i++) b[i] = 0xff; // indices 65535 > chunk length
    expect(outcome(b)).toBeInstanceOf(IndexOutOfRangeError);
  });

  it.each(CODECS)('rejects every truncation of a %s update, and trailing bytes', (codec) => {
    const valid = sample(codec);
    for (let len = 0; len < valid.length; len += len < 64 ? 1 : 97) {
      expect(outcome(valid.subarray(0, len))).toBeInstanceOf(TruncatedInputError);
    }
    const longer = new Uint8Array(valid.length + 1);
    longer.set(valid);
    expect(outcome(longer)).toBeInstanceOf(TrailingBytesError);
  });

  it.each(CODECS)('rejects flipped header fields of a %s update', (codec) => {
    const valid = sample(codec);
    expect(outcome(patch(valid, (d) => d.setUint8(0, 0x46)))).toBeInstanceOf(BadMagicError);
    expect(outcome(patch(valid, (d) => d.setUint8(4, 2)))).toBeInstanceOf(UnsupportedVersionError);
    expect(outcome(patch(valid, (d) => d.setUint8(4, 0)))).toBeInstanceOf(UnsupportedVersionError);
    expect(outcome(patch(valid, (d) => d.setUint8(5, 5)))).toBeInstanceOf(UnknownCodecError);
    expect(outcome(patch(valid, (d) => d.setUint8(5, 255)))).toBeInstanceOf(UnknownCodecError);
    expect(outcome(patch(valid, (d) => d.setUint16(6, 1, true)))).toBeInstanceOf(InvalidHeaderError);
    expect(
      outcome(
        patch(valid, (d) => d.setUint32(8, N + 1, true)),
        N,
      ),
    ).toBeInstanceOf(LengthMismatchError);
    expect(outcome(patch(valid, (d) => d.setUint32(8, N + 5000, true)))).toBeInstanceOf(TruncatedInputError);
    expect(outcome(patch(valid, (d) => d.setUint32(8, N - 1000, true)))).toBeInstanceOf(TrailingBytesError);
    const badParams = codec === 'fp32' || codec === 'fp16' ? 7 : 0;
    expect(outcome(patch(valid, (d) => d.setUint32(12, badParams, true)))).toBeInstanceOf(InvalidHeaderError);
    expect(outcome(patch(valid, (d) => d.setUint32(16, 0xffffffff, true)))).toBeInstanceOf(
      InvalidHeaderError,
    );
  });

  it('flipping any single bit of any header byte gives a typed error or a clean decode', () => {
    for (const codec of CODECS) {
      const valid = sample(codec);
      for (let byte = 0; byte < 20; byte++) {
        for (let bit = 0; bit < 8; bit++)
          outcome(patch(valid, (d) => d.setUint8(byte, d.getUint8(byte) ^ (1 << bit))));
      }
    }
  });

  it('rejects huge claimed lengths without allocating them', () => {
    const valid = sample('topk');
    const huge = patch(valid, (d) => d.setUint32(8, 0xffffffff, true));
    expect(outcome(huge)).toBeInstanceOf(TooLargeError); // default maxElements 2^28
    expect(() => decode(huge, { maxElements: 0xffffffff })).toThrow(TruncatedInputError);
    expect(() => decode(valid, { maxBytes: valid.length - 1 })).toThrow(TooLargeError);
    expect(() => decode(valid, { maxElements: N - 1 })).toThrow(TooLargeError);
  });

  it('rejects non-finite scales and values', () => {
    const int8 = sample('int8');
    expect(outcome(patch(int8, (d) => d.setFloat32(20 + 4 * 3, Number.NaN, true)))).toBeInstanceOf(
      NonFiniteValueError,
    );
    expect(outcome(patch(int8, (d) => d.setFloat32(20, Infinity, true)))).toBeInstanceOf(NonFiniteValueError);
    expect(outcome(patch(int8, (d) => d.setFloat32(20, -1, true)))).toBeInstanceOf(MalformedPayloadError);
    const sign = sample('sign');
    expect(outcome(patch(sign, (d) => d.setUint16(22, 0x7c00, true)))).toBeInstanceOf(NonFiniteValueError);
    expect(outcome(patch(sign, (d) => d.setUint16(20, 0xfe00, true)))).toBeInstanceOf(NonFiniteValueError);
    const fp16 = sample('fp16');
    expect(outcome(patch(fp16, (d) => d.setUint16(20 + 2 * 999, 0x7c00, true)))).toBeInstanceOf(
      NonFiniteValueError,
    );
    const fp32 = sample('fp32');
    expect(outcome(patch(fp32, (d) => d.setFloat32(20 + 4 * 5000, Number.NaN, true)))).toBeInstanceOf(
      NonFiniteValueError,
    );
    const topk = sample('topk');
    const values = 20 + 2 * 128; // k=64 per chunk, two chunks: indices then values
    expect(outcome(patch(topk, (d) => d.setUint16(values + 10, 0x7e00, true)))).toBeInstanceOf(
      NonFiniteValueError,
    );
  });

  it('rejects structurally wrong payloads', () => {
    const topk = sample('topk');
    // second chunk has N - 4096 = 907 values: index 907 is out of range, 906 is the last valid
    expect(outcome(patch(topk, (d) => d.setUint16(20 + 2 * 127, 907, true)))).toBeInstanceOf(
      IndexOutOfRangeError,
    );
    expect(outcome(patch(topk, (d) => d.setUint16(20, 4096, true)))).toBeInstanceOf(IndexOutOfRangeError);
    const dup = patch(topk, (d) => d.setUint16(22, d.getUint16(20, true), true));
    expect(outcome(dup)).toBeInstanceOf(MalformedPayloadError);
    const sign = sample('sign');
    expect(outcome(patch(sign, (d) => d.setUint8(sign.length - 1, 0xff)))).toBeInstanceOf(
      MalformedPayloadError,
    );
    const int8 = sample('int8');
    expect(outcome(patch(int8, (d) => d.setInt8(int8.length - 1, -128)))).toBeInstanceOf(
      MalformedPayloadError,
    );
  });

  it('decodes an update that sits at an unaligned offset of a larger buffer', () => {
    for (const codec of CODECS) {
      const valid = sample(codec);
      const host = new Uint8Array(valid.length + 3);
      host.set(valid, 1);
      expect(decode(host.subarray(1, 1 + valid.length))).toEqual(decode(valid));
    }
  });
});
