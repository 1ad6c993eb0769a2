/**
 * Using an exported model: predictions for the raw rows of a CSV file, and text generated from a
 * prompt. Both read the model's {@link Preprocessing} from its metadata, so they need nothing but
 * the `.onnx` file (any other onnxruntime program can do the same from the documented metadata).
 */
import { readFile } from 'node:fs/promises';
import {
  CsvRowError,
  decodeTokens,
  encodeText,
  Rng,
  readCsvTable,
  UnknownColumnError,
  VocabularyError,
  vocabSize,
} from '@enjambre/data';
import { parseModel } from '@enjambre/onnx';
import { createRunner, ExportError, type Runner } from '@enjambre/runtime';
import { PREPROCESSING_KEY, type Preprocessing } from './export.ts';

/** An exported model loaded into onnxruntime (CPU), with its preprocessing. */
export interface LoadedExport {
  runner: Runner;
  preprocessing: Preprocessing;
}

/**
 * Loads an `.onnx` file written by `enjambre export`.
 * @throws ExportError when the file cannot be read or carries no Enjambre preprocessing metadata.
 */
export async function loadExportedModel(file: string): Promise<LoadedExport> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new ExportError(`cannot read the model file ${file}: ${(e as Error).message}`);
  }
  const model = parseModel(bytes);
  const json = model.metadata[PREPROCESSING_KEY];
  if (json === undefined) {
    throw new ExportError(
      `${file} has no '${PREPROCESSING_KEY}' metadata: export it with \`enjambre export\` from a checkpoint trained on CSV or text data`,
    );
  }
  let preprocessing: Preprocessing;
  try {
    preprocessing = JSON.parse(json) as Preprocessing;
  } catch (e) {
    throw new ExportError(`${file}: metadata ${PREPROCESSING_KEY} is not JSON: ${(e as Error).message}`);
  }
  const runner = await createRunner(bytes, { providers: ['cpu'] });
  return { runner, preprocessing };
}

/** A decimal number as a CSV cell writes it (what the data package accepts in training). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The prediction for one CSV row. */
export interface RowPrediction {
  /** 1-based line of the row in the file. */
  line: number;
  /** The predicted class name (classification) or value (regression). */
  prediction: string | number;
  /** Class probabilities by class name (classification). */
  probabilities?: Record<string, number>;
}

/**
 * Predictions for every data row of a CSV file with a header: the model's feature columns are
 * found by name (other columns, the target included, are ignored), missing cells become NaN and
 * categories their index, as the model's metadata documents.
 * @throws UnknownColumnError for a feature column the file lacks; CsvRowError for a cell that is
 *   neither a number nor a missing value in a numeric column.
 */
export async function predictCsv(
  model: LoadedExport,
  csvFile: string,
  signal?: AbortSignal,
): Promise<RowPrediction[]> {
  const p = model.preprocessing;
  if (p.format !== 'csv')
    throw new ExportError(`this model takes ${p.format} input, not CSV rows: use generate`);
  const table = await readCsvTable(csvFile, undefined, signal);
  const missing = new Set(p.missingValues);
  const cols = p.columns.map((c) => {
    const i = table.header.indexOf(c.name);
    if (i < 0) throw new UnknownColumnError(csvFile, c.name, 'model input columns', table.header);
    return i;
  });
  const lookups = p.columns.map((c) =>
    c.kind === 'categorical' ? new Map(c.categories.map((v, i) => [v, i])) : undefined,
  );
  const n = table.rows.length;
  const width = p.columns.length;
  const x = new Float32Array(n * width);
  table.rows.forEach((row, r) => {
    p.columns.forEach((c, j) => {
      const cell = row[cols[j]];
      let v = Number.NaN;
      if (!missing.has(cell)) {
        if (c.kind === 'categorical') v = lookups[j]!.get(cell) ?? Number.NaN;
        else {
          v = DECIMAL.test(cell) ? Number(cell) : Number.NaN;
          if (!Number.isFinite(v)) {
            throw new CsvRowError(
              csvFile,
              table.lines[r],
              `column '${c.name}' holds ${JSON.stringify(cell)}, expected a number or a missing value`,
            );
          }
        }
      }
      x[r * width + j] = v;
    });
  });
  if (n === 0) return [];
  const out = await model.runner.run(
    { [p.input]: { dtype: 'float32', dims: [n, width], data: x } },
    { signal },
  );
  const y = out[p.output].data as Float32Array;
  if (p.target.task === 'regression') {
    return table.rows.map((_, r) => ({ line: table.lines[r], prediction: y[r] }));
  }
  const classes = p.target.classes;
  const probs = out[p.probabilities ?? '']?.data as Float32Array | undefined;
  return table.rows.map((_, r) => {
    const logits = y.subarray(r * classes.length, (r + 1) * classes.length);
    const best = argmax(logits);
    return {
      line: table.lines[r],
      prediction: classes[best],
      ...(probs
        ? {
            probabilities: Object.fromEntries(classes.map((c, k) => [c, probs[r * classes.length + k]])),
          }
        : {}),
    };
  });
}

/** Options of {@link generateText}. */
export interface GenerateOptions {
  prompt: string;
  /** New tokens to generate. Default 200. */
  tokens?: number;
  /** Softmax temperature; 0 picks the most likely token. Default 1. */
  temperature?: number;
  /** Sample among the k most likely tokens only (0: all). Default 0. */
  topK?: number;
  /** Seed of the sampler: the same seed, model and prompt give the same text. Default 0. */
  seed?: number;
  signal?: AbortSignal;
  /** Called with each new piece of text as it is generated. */
  onText?: (text: string) => void;
}

export const DEFAULT_GENERATE_TOKENS = 200;

/**
 * Continues a prompt with a character (or byte) language model: at each step the last `context`
 * tokens go in (right-padded: the model is causal, so padding after the last token changes
 * nothing before it) and the next token is drawn from the logits at the last real position.
 * @returns the generated text (without the prompt).
 * @throws VocabularyError for a prompt character outside the model's vocabulary.
 */
export async function generateText(model: LoadedExport, opts: GenerateOptions): Promise<string> {
  const p = model.preprocessing;
  if (p.format !== 'text') throw new ExportError(`this model takes ${p.format} input, not text: use predict`);
  const tokens = opts.tokens ?? DEFAULT_GENERATE_TOKENS;
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  const rng = new Rng(opts.seed ?? 0);
  const ids = Array.from(encodeText(p.vocab, opts.prompt));
  if (ids.length === 0)
    throw new VocabularyError('the prompt is empty: give at least one character to continue');
  const size = vocabSize(p.vocab);
  const T = p.context;
  const generated: number[] = [];
  for (let i = 0; i < tokens; i++) {
    opts.signal?.throwIfAborted();
    const window = ids.slice(-T);
    const data = new BigInt64Array(T);
    window.forEach((t, k) => {
      data[k] = BigInt(t);
    });
    const out = await model.runner.run({ [p.input]: { dtype: 'int64', dims: [1, T], data } });
    const logits = (out[p.output].data as Float32Array).subarray(
      (window.length - 1) * size,
      window.length * size,
    );
    const next = sampleToken(logits, temperature, topK, rng);
    ids.push(next);
    generated.push(next);
    if (p.vocab.kind === 'char') opts.onText?.(decodeTokens(p.vocab, [next]));
  }
  const text = decodeTokens(p.vocab, generated);
  if (p.vocab.kind === 'byte') opts.onText?.(text);
  return text;
}

/** Draws a token from logits with temperature and top-k (temperature 0: argmax). */
export function sampleToken(logits: Float32Array, temperature: number, topK: number, rng: Rng): number {
  if (temperature <= 0) return argmax(logits);
  let order = Array.from(logits.keys());
  if (topK > 0 && topK < logits.length) {
    order.sort((a, b) => logits[b] - logits[a]);
    order = order.slice(0, topK);
  }
  const max = Math.max(...order.map((k) => logits[k]));
  const weights = order.map((k) => Math.exp((logits[k] - max) / temperature));
  let u = rng.uniform() * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < order.length; k++) {
    u -= weights[k];
    if (u < 0) return order[k];
  }
  return order[order.length - 1];
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < xs.length; k++) if (xs[k] > xs[best]) best = k;
  return best;
}
