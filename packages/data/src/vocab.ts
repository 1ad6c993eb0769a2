/**
 * Token vocabularies of the text datasets. Both kinds are plain JSON so they can be saved with a model.
 */
import { InvalidSpecError, VocabularyError } from './errors.ts';

/** Character vocabulary: token `i` is the Unicode code point `chars[i]`; `chars` is sorted by code point. */
export interface CharVocab {
  readonly kind: 'char';
  readonly chars: readonly string[];
}

/** Byte vocabulary: token `b` is the byte `b` (256 tokens). */
export interface ByteVocab {
  readonly kind: 'byte';
  readonly size: 256;
}

export type Vocab = CharVocab | ByteVocab;

/** Number of tokens of a vocabulary. */
export function vocabSize(vocab: Vocab): number {
  return vocab.kind === 'byte' ? 256 : vocab.chars.length;
}

/** The byte vocabulary. */
export const BYTE_VOCAB: ByteVocab = { kind: 'byte', size: 256 };

/** Add the code points of `text` to `into`. */
export function collectCodePoints(text: string, into: Set<number>): void {
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    into.add(cp);
  }
}

/** Character vocabulary of a set of code points: sorted by code point (Python's `sorted(set(text))`). */
export function charVocabFromCodePoints(codePoints: Iterable<number>): CharVocab {
  const sorted = [...codePoints].sort((a, b) => a - b);
  return { kind: 'char', chars: sorted.map((cp) => String.fromCodePoint(cp)) };
}

/** Character vocabulary of a text. */
export function buildCharVocab(text: string): CharVocab {
  const set = new Set<number>();
  collectCodePoints(text, set);
  return charVocabFromCodePoints(set);
}

/**
 * Check that `value` is a well-formed vocabulary (e.g. one read back from a checkpoint): sorted,
 * unique, single code points.
 */
export function checkVocab(value: unknown, field: string): Vocab {
  const v = value as { kind?: unknown; size?: unknown; chars?: unknown } | null;
  if (v !== null && typeof v === 'object' && v.kind === 'byte' && v.size === 256) return BYTE_VOCAB;
  if (
    v === null ||
    typeof v !== 'object' ||
    v.kind !== 'char' ||
    !Array.isArray(v.chars) ||
    v.chars.length === 0
  ) {
    throw new InvalidSpecError(field, value, "{kind: 'char', chars: [...]} or {kind: 'byte', size: 256}");
  }
  let prev = -1;
  for (const c of v.chars) {
    const cp = typeof c === 'string' ? c.codePointAt(0) : undefined;
    if (cp === undefined || String.fromCodePoint(cp) !== c || cp <= prev) {
      throw new InvalidSpecError(field, value, 'chars: distinct single code points sorted by code point');
    }
    prev = cp;
  }
  return { kind: 'char', chars: v.chars as string[] };
}

/** Code point → token id lookup of a character vocabulary. */
export class CharEncoder {
  private readonly ids = new Map<number, number>();
  readonly size: number;

  constructor(readonly vocab: CharVocab) {
    vocab.chars.forEach((c, i) => {
      this.ids.set(c.codePointAt(0)!, i);
    });
    this.size = vocab.chars.length;
  }

  /** Token ids of `text` written into `out` from 0; returns the count. `where` names the source in errors. */
  encodeInto(text: string, out: Uint16Array | Uint32Array, where: string): number {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      const id = this.ids.get(cp);
      if (id === undefined) {
        throw new VocabularyError(
          `${where}: character ${JSON.stringify(String.fromCodePoint(cp))} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) is not in the vocabulary`,
        );
      }
      out[n++] = id;
    }
    return n;
  }
}

/** Token ids of `text` (char: one per code point; byte: its UTF-8 bytes). */
export function encodeText(vocab: Vocab, text: string): Uint8Array | Uint16Array | Uint32Array {
  if (vocab.kind === 'byte') return new TextEncoder().encode(text);
  const out = vocab.chars.length <= 65536 ? new Uint16Array(text.length) : new Uint32Array(text.length);
  const n = new CharEncoder(vocab).encodeInto(text, out, 'text');
  return out.subarray(0, n);
}

/** Text of a token sequence (byte tokens are decoded as UTF-8, invalid sequences as U+FFFD). */
export function decodeTokens(vocab: Vocab, tokens: ArrayLike<number | bigint>): string {
  const size = vocabSize(vocab);
  const ids = Array.from({ length: tokens.length }, (_, i) => Number(tokens[i]));
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= size) {
      throw new VocabularyError(`token id ${id} is outside the vocabulary of size ${size}`);
    }
  }
  if (vocab.kind === 'byte') return new TextDecoder().decode(Uint8Array.from(ids));
  return ids.map((id) => vocab.chars[id]).join('');
}
