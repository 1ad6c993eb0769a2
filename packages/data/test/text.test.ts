import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataFileNotFoundError,
  DataFormatError,
  DataIndexError,
  EmptyDatasetError,
  InvalidSpecError,
  VocabularyError,
} from '../src/errors.ts';
import { BatchSampler } from '../src/sampler.ts';
import { loadText } from '../src/text.ts';
import { buildCharVocab, decodeTokens, encodeText } from '../src/vocab.ts';

const SHAKESPEARE = path.resolve(import.meta.dirname, '../../../fixtures/datasets/tinyshakespeare/input.txt');

/** Independent PRNG for test inputs (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'enjambre-data-text-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('tinyshakespeare, char level (in memory)', () => {
  it('builds the 65-char sorted vocabulary and splits 90/10 like nanoGPT', async () => {
    const text = await readFile(SHAKESPEARE, 'utf8');
    const data = await loadText({ format: 'text', path: SHAKESPEARE, context: 64 });
    const { info } = data;
    expect(info.vocabSize).toBe(65);
    const expected = [...new Set(text)].sort();
    expect(info.vocab.kind === 'char' && info.vocab.chars).toEqual(expected);
    const cut = Math.floor(text.length * 0.9);
    expect(info.tokens).toEqual({ train: cut, validation: text.length - cut });
    expect(data.train.size).toBe(cut - 64);
    expect(data.validation!.size).toBe(text.length - cut - 64);
    expect(data.train.inputs).toEqual({ dtype: 'int64', shape: [64] });
    expect(data.train.labels).toEqual({ dtype: 'int64', shape: [64] });
    expect(info.streamed).toBe(false);
    // the vocabulary is plain JSON
    expect(JSON.parse(JSON.stringify(info.vocab))).toEqual(info.vocab);

    const sampler = new BatchSampler({ size: data.train.size, batchSize: 12, seed: 1 });
    for (let step = 0; step < 5; step++) {
      const idx = sampler.next();
      const batch = data.train.batch(idx);
      expect(batch.inputs.dims).toEqual([12, 64]);
      expect(batch.labels.dims).toEqual([12, 64]);
      expect(batch.inputs.data).toBeInstanceOf(BigInt64Array);
      for (let b = 0; b < 12; b++) {
        const x = batch.inputs.data.subarray(b * 64, b * 64 + 64);
        const y = batch.labels.data.subarray(b * 64, b * 64 + 64);
        expect(decodeTokens(info.vocab, x)).toBe(text.slice(idx[b], idx[b] + 64));
        expect(decodeTokens(info.vocab, y)).toBe(text.slice(idx[b] + 1, idx[b] + 65));
      }
    }
    const val = data.validation!.batch([0, data.validation!.size - 1]);
    expect(decodeTokens(info.vocab, val.inputs.data.subarray(0, 64))).toBe(text.slice(cut, cut + 64));
    expect(decodeTokens(info.vocab, val.labels.data.subarray(64))).toBe(text.slice(text.length - 64));
    expect(() => data.train.batch([data.train.size])).toThrow(DataIndexError);
    expect(() => data.train.batch([1.5])).toThrow(DataIndexError);
    await data.close();
  });

  it('byte level: tokens are the file bytes', async () => {
    const bytes = await readFile(SHAKESPEARE);
    const data = await loadText({
      format: 'text',
      path: SHAKESPEARE,
      tokenizer: 'byte',
      context: 8,
      validationFraction: 0,
    });
    expect(data.info.vocabSize).toBe(256);
    expect(data.validation).toBeUndefined();
    const batch = data.train.batch([0, 1000, bytes.length - 9]);
    for (const [b, i] of [0, 1000, bytes.length - 9].entries()) {
      expect(Array.from(batch.inputs.data.subarray(b * 8, b * 8 + 8), Number)).toEqual([
        ...bytes.subarray(i, i + 8),
      ]);
      expect(Array.from(batch.labels.data.subarray(b * 8, b * 8 + 8), Number)).toEqual([
        ...bytes.subarray(i + 1, i + 9),
      ]);
    }
  });
});

/** A ~1 MB text of mixed 1-, 2-, 3- and 4-byte UTF-8 characters. */
function mixedText(seed: number, chars: number): string {
  const rand = mulberry32(seed);
  const alphabet = [
    ...'abcdefghij klmnopqrstuvwxyz\n.,;ABCXYZ',
    'é',
    'ñ',
    'ü',
    'ß',
    'Ω',
    '中',
    '文',
    '€',
    '😀',
    '🚀',
    '𝔸',
  ];
  let s = '';
  for (let i = 0; i < chars; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

describe('streaming equals in-memory', () => {
  it('char level with multi-byte UTF-8 split across chunk boundaries', async () => {
    const text = mixedText(11, 300_000);
    const file = path.join(tmp, 'mixed.txt');
    await writeFile(file, text);
    const cacheDir = path.join(tmp, 'cache');
    const spec = { format: 'text', path: file, context: 32, cacheDir } as const;
    const mem = await loadText(spec);
    const streamed = await loadText({ ...spec, streamThresholdBytes: 0 }, {}, { chunkBytes: 4099 });
    expect(streamed.info.streamed).toBe(true);
    expect(mem.info.streamed).toBe(false);
    expect(streamed.info.vocab).toEqual(mem.info.vocab);
    expect(streamed.info.tokens).toEqual(mem.info.tokens);
    expect(mem.info.vocab).toEqual(buildCharVocab(text));
    const codePoints = Array.from(text);
    expect(mem.info.tokens.train + mem.info.tokens.validation).toBe(codePoints.length);

    const rand = mulberry32(5);
    for (const split of ['train', 'validation'] as const) {
      const a = mem[split]!;
      const b = streamed[split]!;
      expect(b.size).toBe(a.size);
      const idx = Array.from({ length: 64 }, () => Math.floor(rand() * a.size));
      idx.push(0, a.size - 1);
      const ba = a.batch(idx);
      const bb = b.batch(idx);
      expect(bb.inputs.data).toEqual(ba.inputs.data);
      expect(bb.labels.data).toEqual(ba.labels.data);
      const offset = split === 'train' ? 0 : mem.info.tokens.train;
      expect(decodeTokens(mem.info.vocab, ba.inputs.data.subarray(0, 32))).toBe(
        codePoints.slice(offset + idx[0], offset + idx[0] + 32).join(''),
      );
    }
    await streamed.close();

    // a second streamed load reuses the one cache file and gives the same batches
    expect((await readdir(cacheDir)).length).toBe(1);
    const again = await loadText({ ...spec, streamThresholdBytes: 0 });
    expect(again.train.batch([5, 77]).inputs.data).toEqual(mem.train.batch([5, 77]).inputs.data);
    expect((await readdir(cacheDir)).length).toBe(1);
    await again.close();
  });

  it('byte level reads windows from the file by offset', async () => {
    const file = path.join(tmp, 'bytes.bin');
    const rand = mulberry32(3);
    await writeFile(
      file,
      Uint8Array.from({ length: 200_000 }, () => Math.floor(rand() * 256)),
    );
    const spec = { format: 'text', path: file, tokenizer: 'byte', context: 16 } as const;
    const mem = await loadText(spec);
    const streamed = await loadText({ ...spec, streamThresholdBytes: 1000 });
    expect(streamed.info.streamed).toBe(true);
    const idx = Array.from({ length: 50 }, () => Math.floor(rand() * mem.validation!.size));
    expect(streamed.validation!.batch(idx)).toEqual(mem.validation!.batch(idx));
    expect(streamed.train.batch(idx)).toEqual(mem.train.batch(idx));
    await streamed.close();
  });
});

describe('vocabularies and explicit files', () => {
  it('encodes with a given vocabulary and rejects characters outside it', async () => {
    const trainFile = path.join(tmp, 'train.txt');
    const valFile = path.join(tmp, 'val.txt');
    await writeFile(trainFile, 'hello world, hello text '.repeat(20));
    await writeFile(valFile, 'held out: hello world '.repeat(5));
    const data = await loadText({ format: 'text', path: trainFile, validationPath: valFile, context: 4 });
    // the vocabulary covers both files
    expect(data.info.vocab).toEqual(buildCharVocab('hello world, hello text held out: '));
    expect(data.info.tokens.validation).toBe(22 * 5);
    const reuse = await loadText({
      format: 'text',
      path: valFile,
      context: 4,
      vocab: data.info.vocab,
      validationFraction: 0,
    });
    expect(reuse.train.batch([3]).inputs.data).toEqual(data.validation!.batch([3]).inputs.data);
    const small = { kind: 'char', chars: [' ', 'e', 'h', 'l', 'o'] } as const;
    await expect(loadText({ format: 'text', path: valFile, context: 4, vocab: small })).rejects.toThrow(
      VocabularyError,
    );
    await expect(
      loadText({
        format: 'text',
        path: valFile,
        context: 4,
        vocab: small,
        streamThresholdBytes: 0,
        cacheDir: tmp,
      }),
    ).rejects.toThrow(/'d'|"d"/);
    expect(Array.from(encodeText(data.info.vocab, 'hello'))).toEqual(
      Array.from('hello', (c) => (data.info.vocab.kind === 'char' ? data.info.vocab.chars.indexOf(c) : -1)),
    );
  });

  it('rejects a malformed vocabulary', async () => {
    const file = path.join(tmp, 'v.txt');
    await writeFile(file, 'abcabcabcabc');
    const bad = { kind: 'char', chars: ['b', 'a'] } as const;
    await expect(loadText({ format: 'text', path: file, context: 2, vocab: bad })).rejects.toThrow(
      InvalidSpecError,
    );
    await expect(
      loadText({
        format: 'text',
        path: file,
        context: 2,
        tokenizer: 'char',
        vocab: { kind: 'byte', size: 256 },
      }),
    ).rejects.toThrow(/tokenizer/);
  });
});

describe('errors', () => {
  it('missing file names the path and the field', async () => {
    const missing = path.join(tmp, 'nope.txt');
    const err = await loadText(
      { format: 'text', path: 'nope.txt' },
      { baseDir: tmp, fieldPrefix: 'data' },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileNotFoundError);
    expect(err.code).toBe('ERR_DATA_FILE_NOT_FOUND');
    expect(err.message).toContain(missing);
    expect(err.message).toContain("'data.path'");
    await expect(loadText({ format: 'text', path: SHAKESPEARE, validationPath: missing })).rejects.toThrow(
      /validationPath/,
    );
  });

  it('invalid UTF-8 is a format error in both paths', async () => {
    const file = path.join(tmp, 'bad-utf8.txt');
    await writeFile(
      file,
      Buffer.concat([Buffer.from('fine text '.repeat(10)), Buffer.from([0xc3, 0x28, 0xff])]),
    );
    await expect(loadText({ format: 'text', path: file, context: 4 })).rejects.toThrow(DataFormatError);
    await expect(
      loadText({ format: 'text', path: file, context: 4, streamThresholdBytes: 0, cacheDir: tmp }),
    ).rejects.toThrow(/not valid UTF-8/);
    // a saved byte vocabulary implies the byte tokenizer, which accepts any bytes
    const viaVocab = await loadText({
      format: 'text',
      path: file,
      context: 4,
      vocab: { kind: 'byte', size: 256 },
    });
    expect(viaVocab.info.vocabSize).toBe(256);
    const bytes = await loadText({ format: 'text', path: file, context: 4, tokenizer: 'byte' });
    expect(bytes.train.size).toBeGreaterThan(0);
  });

  it('too little text for one window, or an empty file, is an empty dataset', async () => {
    const file = path.join(tmp, 'short.txt');
    await writeFile(file, 'abcdefghijklmnopqrstuvwxyz');
    await expect(loadText({ format: 'text', path: file, context: 64 })).rejects.toThrow(EmptyDatasetError);
    await expect(loadText({ format: 'text', path: file, context: 4 })).rejects.toThrow(
      /validation split.*3 tokens/,
    );
    const empty = path.join(tmp, 'empty.txt');
    await writeFile(empty, '');
    await expect(loadText({ format: 'text', path: empty })).rejects.toThrow(/empty/);
  });

  it('bad options name the field', async () => {
    await expect(loadText({ format: 'text', path: SHAKESPEARE, context: 0 })).rejects.toThrow(/'context'/);
    await expect(loadText({ format: 'text', path: SHAKESPEARE, validationFraction: 1 })).rejects.toThrow(
      /'validationFraction'/,
    );
    await expect(
      loadText({ format: 'text', path: SHAKESPEARE, tokenizer: 'word' as 'char' }, { fieldPrefix: 'data' }),
    ).rejects.toThrow(/'data.tokenizer'/);
  });
});
