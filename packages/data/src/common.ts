/** Helpers shared by the loaders: spec field checks, path resolution, index checks, row splits. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DataFileNotFoundError, DataIndexError, EmptyDatasetError, InvalidSpecError } from './errors.ts';
import { FeistelPermutation } from './rng.ts';
import type { LoadOptions } from './spec.ts';

/** Context every loader gets: where paths are relative to and how to name fields in errors. */
export interface LoadContext {
  readonly baseDir: string;
  readonly fieldPrefix: string;
  readonly signal: AbortSignal | undefined;
}

export function makeContext(options: LoadOptions = {}): LoadContext {
  return {
    baseDir: options.baseDir ?? process.cwd(),
    fieldPrefix: options.fieldPrefix ?? '',
    signal: options.signal,
  };
}

/** Full dot-path of a spec field in error messages. */
export function fieldName(ctx: LoadContext, field: string): string {
  return ctx.fieldPrefix === '' ? field : `${ctx.fieldPrefix}.${field}`;
}

/** A resolved, existing regular file. */
export interface ResolvedFile {
  readonly path: string;
  readonly field: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Resolve `value` (spec field `field`) against the base folder and check that it is a readable file. */
export async function resolveFile(ctx: LoadContext, value: unknown, field: string): Promise<ResolvedFile> {
  const name = fieldName(ctx, field);
  if (typeof value !== 'string' || value === '') throw new InvalidSpecError(name, value, 'a file path');
  const abs = path.resolve(ctx.baseDir, value);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(abs);
  } catch (err) {
    throw new DataFileNotFoundError(abs, name, err);
  }
  if (!info.isFile()) throw new InvalidSpecError(name, value, `a regular file (${abs} is not one)`);
  return { path: abs, field: name, size: info.size, mtimeMs: info.mtimeMs };
}

export function optionalNumber(
  ctx: LoadContext,
  value: unknown,
  field: string,
  fallback: number,
  check: { integer?: boolean; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean },
): number {
  if (value === undefined) return fallback;
  const { integer = false, min = -Infinity, max = Infinity } = check;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isSafeInteger(value)) &&
    (check.minExclusive ? value > min : value >= min) &&
    (check.maxExclusive ? value < max : value <= max);
  if (!ok) {
    const lo = min === -Infinity ? '' : `${check.minExclusive ? '>' : '≥'} ${min}`;
    const hi = max === Infinity ? '' : `${check.maxExclusive ? '<' : '≤'} ${max}`;
    const range = [lo, hi].filter((s) => s !== '').join(' and ');
    throw new InvalidSpecError(
      fieldName(ctx, field),
      value,
      `${integer ? 'an integer' : 'a number'}${range === '' ? '' : ` ${range}`}`,
    );
  }
  return value as number;
}

export function optionalEnum<T extends string>(
  ctx: LoadContext,
  value: unknown,
  field: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidSpecError(
      fieldName(ctx, field),
      value,
      `one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  return value as T;
}

export function optionalBoolean(ctx: LoadContext, value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidSpecError(fieldName(ctx, field), value, 'true or false');
  return value;
}

export function optionalStringList(
  ctx: LoadContext,
  value: unknown,
  field: string,
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InvalidSpecError(fieldName(ctx, field), value, 'an array of strings');
  }
  return value as string[];
}

/** Throw {@link DataIndexError} unless every index is an integer in `[0, size)`. */
export function checkIndices(indices: ArrayLike<number>, size: number): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= size) throw new DataIndexError(k, size);
  }
}

/**
 * Deterministic random split of `n` rows: `round(n * fraction)` rows (a seeded pseudo-random choice)
 * go to validation, the rest to training; both lists are in ascending row order.
 */
export function splitRows(
  n: number,
  fraction: number,
  seed: number,
  what: string,
): { train: number[]; validation: number[] } {
  if (fraction === 0) return { train: Array.from({ length: n }, (_, i) => i), validation: [] };
  const nVal = Math.round(n * fraction);
  if (nVal < 1 || nVal >= n) {
    throw new EmptyDatasetError(
      `${what}: a validation fraction of ${fraction} of ${n} examples leaves ` +
        `${n - nVal} for training and ${nVal} for validation; both need at least one`,
    );
  }
  const perm = new FeistelPermutation(n, seed, 0x5b1175);
  const isVal = new Uint8Array(n);
  for (let i = 0; i < nVal; i++) isVal[perm.at(i)] = 1;
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < n; i++) (isVal[i] ? validation : train).push(i);
  return { train, validation };
}
