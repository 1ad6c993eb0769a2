/**
 * CSV datasets: numeric and categorical feature columns, missing values, standardisation and a
 * target column, all learned from the training rows only and returned as a JSON-serialisable
 * {@link CsvEncoding} so validation and inference rows are encoded the same way.
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import {
  fieldName,
  type LoadContext,
  makeContext,
  optionalBoolean,
  optionalEnum,
  optionalNumber,
  optionalStringList,
  type ResolvedFile,
  resolveFile,
  splitRows,
} from './common.ts';
import {
  DEFAULT_CSV_TASK,
  DEFAULT_CSV_VALIDATION_FRACTION,
  DEFAULT_DELIMITER,
  DEFAULT_MISSING_VALUES,
  DEFAULT_SPLIT_SEED,
  DEFAULT_STANDARDIZE,
} from './constants.ts';
import type { CsvEncoding, CsvFeature, CsvTarget } from './csv-encoding.ts';
import {
  CsvRowError,
  DataFormatError,
  EmptyDatasetError,
  InvalidSpecError,
  UnknownColumnError,
} from './errors.ts';
import { checkSeed } from './rng.ts';
import type { CsvSpec, LoadOptions } from './spec.ts';
import { TabularDataset, type TabularLabels } from './tabular.ts';
import type { LoadedData } from './types.ts';

export type {
  CsvCategoricalFeature,
  CsvEncoding,
  CsvFeature,
  CsvNumericFeature,
  CsvTarget,
} from './csv-encoding.ts';

/** A parsed CSV: header and data rows with their 1-based line numbers. */
export interface CsvTable {
  readonly file: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly lines: readonly number[];
}

/** `info` of a loaded CSV dataset. */
export interface CsvInfo {
  readonly format: 'csv';
  readonly task: 'classification' | 'regression';
  /** Number of classes (classification only). */
  readonly numClasses?: number;
  /** The encoding learned from the training rows (save it with the model). */
  readonly encoding: CsvEncoding;
  /** Names of the encoded input columns, e.g. `bill_length_mm`, `island=Biscoe`, `island=?`. */
  readonly featureNames: readonly string[];
  /** Rows skipped because their target was missing. */
  readonly droppedRows: { readonly train: number; readonly validation: number };
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Read a CSV file with a header row. Malformed rows raise {@link CsvRowError} naming file and line. */
export async function readCsvTable(
  file: string,
  delimiter = DEFAULT_DELIMITER,
  signal?: AbortSignal,
): Promise<CsvTable> {
  const parser = createReadStream(file, { signal }).pipe(
    parse({ delimiter, trim: true, skip_empty_lines: true, bom: true, info: true }),
  );
  let header: string[] | undefined;
  const rows: string[][] = [];
  const lines: number[] = [];
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header === undefined) header = item.record;
      else {
        rows.push(item.record);
        lines.push(item.info.lines);
      }
    }
  } catch (err) {
    const e = err as { code?: unknown; lines?: unknown; name?: string; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new CsvRowError(
        file,
        typeof e.lines === 'number' ? e.lines : 0,
        `malformed row: ${e.message}`,
        err,
      );
    }
    throw err;
  }
  if (header === undefined)
    throw new EmptyDatasetError(`${file} is empty: expected a header row and data rows`);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new DataFormatError(file, `header names column '${name}' twice`);
    seen.add(name);
  }
  return { file, header, rows, lines };
}

/** Width of the encoded input vector. */
export function encodedWidth(encoding: CsvEncoding): number {
  return encoding.features.reduce((w, f) => w + (f.kind === 'numeric' ? 1 : f.categories.length + 1), 0);
}

/** Names of the encoded input columns. */
export function encodedFeatureNames(encoding: CsvEncoding): string[] {
  return encoding.features.flatMap((f) =>
    f.kind === 'numeric' ? [f.name] : [...f.categories.map((c) => `${f.name}=${c}`), `${f.name}=?`],
  );
}

/** Options of {@link fitCsvEncoding}. */
export interface FitCsvOptions {
  target: string;
  task?: 'classification' | 'regression';
  features?: readonly string[];
  /** Columns left out of the default feature list. */
  ignore?: readonly string[];
  categorical?: readonly string[];
  missingValues?: readonly string[];
  standardize?: boolean;
  /** Prefix of field names in errors (e.g. `data`). */
  fieldPrefix?: string;
}

/** Learn an encoding from training rows. */
export function fitCsvEncoding(table: CsvTable, options: FitCsvOptions): CsvEncoding {
  const field = (f: string): string => (options.fieldPrefix ? `${options.fieldPrefix}.${f}` : f);
  const missing = new Set(options.missingValues ?? DEFAULT_MISSING_VALUES);
  const task = options.task ?? DEFAULT_CSV_TASK;
  const col = (name: string, from: string): number => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new UnknownColumnError(table.file, name, field(from), table.header);
    return i;
  };
  const targetCol = col(options.target, 'target');
  for (const name of options.ignore ?? []) col(name, 'ignore');
  const ignored = new Set(options.ignore ?? []);
  const featureNames =
    options.features ?? table.header.filter((h) => h !== options.target && !ignored.has(h));
  for (const name of featureNames) {
    col(name, 'features');
    if (name === options.target) {
      throw new InvalidSpecError(
        field('features'),
        featureNames,
        `feature columns without the target '${name}'`,
      );
    }
  }
  const categorical = options.categorical;
  for (const name of categorical ?? []) {
    col(name, 'categorical');
    if (!featureNames.includes(name)) {
      throw new InvalidSpecError(
        field('categorical'),
        categorical,
        `feature columns only ('${name}' is not a feature)`,
      );
    }
  }
  const kept: number[] = [];
  for (let r = 0; r < table.rows.length; r++) if (!missing.has(table.rows[r][targetCol])) kept.push(r);
  if (kept.length === 0)
    throw new EmptyDatasetError(`${table.file} has no training rows with a value in '${options.target}'`);

  const features: CsvFeature[] = featureNames.map((name) => {
    const c = table.header.indexOf(name);
    const isCategorical =
      categorical !== undefined
        ? categorical.includes(name)
        : kept.some((r) => !missing.has(table.rows[r][c]) && !NUMBER_RE.test(table.rows[r][c]));
    if (isCategorical) {
      const cats = new Set<string>();
      for (const r of kept) if (!missing.has(table.rows[r][c])) cats.add(table.rows[r][c]);
      return { name, kind: 'categorical', categories: [...cats].sort(compareStrings) };
    }
    let sum = 0;
    let count = 0;
    const values: number[] = [];
    for (const r of kept) {
      const v = table.rows[r][c];
      if (missing.has(v)) continue;
      const x = parseNumber(table, r, c, v);
      values.push(x);
      sum += x;
      count++;
    }
    const mean = count > 0 ? sum / count : 0;
    if (!(options.standardize ?? DEFAULT_STANDARDIZE))
      return { name, kind: 'numeric', fill: mean, center: 0, scale: 1 };
    let ss = 0;
    for (const x of values) ss += (x - mean) * (x - mean);
    const std = Math.sqrt(ss / kept.length);
    return { name, kind: 'numeric', fill: mean, center: mean, scale: std > 0 ? std : 1 };
  });

  let target: CsvTarget;
  if (task === 'classification') {
    const classes = new Set<string>();
    for (const r of kept) classes.add(table.rows[r][targetCol]);
    target = { name: options.target, task, classes: [...classes].sort(compareStrings) };
  } else {
    for (const r of kept) parseNumber(table, r, targetCol, table.rows[r][targetCol]);
    target = { name: options.target, task };
  }
  return { version: 1, target, features, missingValues: [...missing] };
}

/** Encoded rows of a table: features `[n, encodedWidth]` and labels, rows with a missing target skipped. */
export function encodeCsvTable(
  encoding: CsvEncoding,
  table: CsvTable,
  rowSubset?: readonly number[],
): { dataset: TabularDataset; dropped: number } {
  const missing = new Set(encoding.missingValues);
  const col = (name: string, from: string): number => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new UnknownColumnError(table.file, name, from, table.header);
    return i;
  };
  const targetCol = col(encoding.target.name, 'encoding.target');
  const cols = encoding.features.map((f) => col(f.name, 'encoding.features'));
  const lookups = encoding.features.map((f) =>
    f.kind === 'categorical' ? new Map(f.categories.map((c, i) => [c, i])) : undefined,
  );
  const classIndex =
    encoding.target.task === 'classification'
      ? new Map(encoding.target.classes.map((c, i) => [c, i]))
      : undefined;
  const rowIds = rowSubset ?? table.rows.map((_, i) => i);
  const kept = rowIds.filter((r) => !missing.has(table.rows[r][targetCol]));
  const width = encodedWidth(encoding);
  const x = new Float32Array(kept.length * width);
  const classLabels = new Int32Array(classIndex ? kept.length : 0);
  const regLabels = new Float32Array(classIndex ? 0 : kept.length);
  kept.forEach((r, i) => {
    const row = table.rows[r];
    let o = i * width;
    encoding.features.forEach((f, j) => {
      const v = row[cols[j]];
      if (f.kind === 'numeric') {
        const value = missing.has(v) ? f.fill : parseNumber(table, r, cols[j], v);
        x[o++] = (value - f.center) / f.scale;
      } else {
        const k = missing.has(v) ? undefined : lookups[j]!.get(v);
        x[o + (k ?? f.categories.length)] = 1;
        o += f.categories.length + 1;
      }
    });
    const t = row[targetCol];
    if (classIndex !== undefined) {
      const k = classIndex.get(t);
      if (k === undefined) {
        throw new CsvRowError(
          table.file,
          table.lines[r],
          `target '${encoding.target.name}' has class ${JSON.stringify(t)}, which the training data does not have ` +
            `(classes: ${[...classIndex.keys()].join(', ')})`,
        );
      }
      classLabels[i] = k;
    } else {
      regLabels[i] = parseNumber(table, r, targetCol, t);
    }
  });
  if (kept.length === 0) {
    throw new EmptyDatasetError(
      `${table.file} has no rows with a value in '${encoding.target.name}' to encode`,
    );
  }
  const labels: TabularLabels = classIndex
    ? { kind: 'class', values: classLabels }
    : { kind: 'regression', values: regLabels };
  return { dataset: new TabularDataset(x, width, labels), dropped: rowIds.length - kept.length };
}

/** Load a {@link CsvSpec}. */
export async function loadCsv(spec: CsvSpec, options: LoadOptions = {}): Promise<LoadedData<CsvInfo>> {
  const ctx = makeContext(options);
  if (typeof spec.target !== 'string' || spec.target === '') {
    throw new InvalidSpecError(fieldName(ctx, 'target'), spec.target, 'the name of the target column');
  }
  const task = optionalEnum(
    ctx,
    spec.task,
    'task',
    ['classification', 'regression'] as const,
    DEFAULT_CSV_TASK,
  );
  const fraction = optionalNumber(
    ctx,
    spec.validationFraction,
    'validationFraction',
    DEFAULT_CSV_VALIDATION_FRACTION,
    {
      min: 0,
      max: 1,
      maxExclusive: true,
    },
  );
  const seed = spec.seed === undefined ? DEFAULT_SPLIT_SEED : checkSeed(spec.seed, fieldName(ctx, 'seed'));
  const delimiter = spec.delimiter ?? DEFAULT_DELIMITER;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new InvalidSpecError(
      fieldName(ctx, 'delimiter'),
      spec.delimiter,
      'one character other than a quote or newline',
    );
  }
  const features = optionalStringList(ctx, spec.features, 'features');
  const ignore = optionalStringList(ctx, spec.ignore, 'ignore');
  const categorical = optionalStringList(ctx, spec.categorical, 'categorical');
  const missingValues = optionalStringList(ctx, spec.missingValues, 'missingValues');
  const standardize = optionalBoolean(ctx, spec.standardize, 'standardize', DEFAULT_STANDARDIZE);
  if (spec.encoding !== undefined) {
    checkEncoding(ctx, spec.encoding);
    if (spec.encoding.target.name !== spec.target) {
      throw new InvalidSpecError(
        fieldName(ctx, 'target'),
        spec.target,
        `the target of the given encoding ('${spec.encoding.target.name}')`,
      );
    }
  }

  const trainFile = await resolveFile(ctx, spec.path, 'path');
  const valFile =
    spec.validationPath !== undefined
      ? await resolveFile(ctx, spec.validationPath, 'validationPath')
      : undefined;
  const trainTable = await readTable(ctx, trainFile, delimiter);
  const valTable = valFile !== undefined ? await readTable(ctx, valFile, delimiter) : undefined;

  let trainRows: number[] | undefined;
  let valRows: number[] | undefined;
  if (valTable === undefined && fraction > 0) {
    const split = splitRows(trainTable.rows.length, fraction, seed, trainFile.path);
    trainRows = split.train;
    valRows = split.validation;
  }
  const encoding =
    spec.encoding ??
    fitCsvEncoding(trainRows === undefined ? trainTable : selectRows(trainTable, trainRows), {
      target: spec.target,
      task,
      features,
      ignore,
      categorical,
      missingValues,
      standardize,
      fieldPrefix: ctx.fieldPrefix,
    });
  const train = encodeCsvTable(encoding, trainTable, trainRows);
  const validation =
    valTable !== undefined
      ? encodeCsvTable(encoding, valTable)
      : valRows !== undefined
        ? encodeCsvTable(encoding, trainTable, valRows)
        : undefined;
  const info: CsvInfo = {
    format: 'csv',
    task: encoding.target.task,
    ...(encoding.target.task === 'classification' ? { numClasses: encoding.target.classes.length } : {}),
    encoding,
    featureNames: encodedFeatureNames(encoding),
    droppedRows: { train: train.dropped, validation: validation?.dropped ?? 0 },
  };
  return { train: train.dataset, validation: validation?.dataset, info, close: async () => undefined };
}

async function readTable(ctx: LoadContext, file: ResolvedFile, delimiter: string): Promise<CsvTable> {
  const table = await readCsvTable(file.path, delimiter, ctx.signal);
  if (table.rows.length === 0)
    throw new EmptyDatasetError(`${file.path} (config field '${file.field}') has no data rows`);
  return table;
}

function selectRows(table: CsvTable, rows: readonly number[]): CsvTable {
  return {
    file: table.file,
    header: table.header,
    rows: rows.map((r) => table.rows[r]),
    lines: rows.map((r) => table.lines[r]),
  };
}

function parseNumber(table: CsvTable, row: number, col: number, value: string): number {
  if (!NUMBER_RE.test(value)) {
    throw new CsvRowError(
      table.file,
      table.lines[row],
      `column '${table.header[col]}' holds ${JSON.stringify(value)}, expected a number or a missing value`,
    );
  }
  return Number(value);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkEncoding(ctx: LoadContext, value: unknown): void {
  const e = value as Partial<CsvEncoding> | null;
  const ok =
    e !== null &&
    typeof e === 'object' &&
    e.version === 1 &&
    Array.isArray(e.features) &&
    Array.isArray(e.missingValues) &&
    e.target !== undefined &&
    typeof e.target.name === 'string' &&
    (e.target.task === 'regression' ||
      (e.target.task === 'classification' && Array.isArray(e.target.classes))) &&
    e.features.every(
      (f) =>
        typeof f?.name === 'string' &&
        ((f.kind === 'numeric' &&
          Number.isFinite(f.fill) &&
          Number.isFinite(f.center) &&
          Number.isFinite(f.scale) &&
          f.scale !== 0) ||
          (f.kind === 'categorical' && Array.isArray(f.categories))),
    );
  if (!ok)
    throw new InvalidSpecError(
      fieldName(ctx, 'encoding'),
      value,
      'a CSV encoding saved from a previous load (version 1)',
    );
}
