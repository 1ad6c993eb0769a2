import type { z } from 'zod';
import type { ConfigIssue } from './errors.ts';
import { type JsonSchemaNode, schemaAt } from './json-schema.ts';

const MAX_SHOWN = 60;

/** Renders a value from the config file for an error message, on one line and briefly. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const s = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 3)}...` : value;
    return JSON.stringify(s);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (ArrayBuffer.isView(value)) return `${value.byteLength} bytes of binary data`;
  if (value instanceof Map || value instanceof Set)
    return `a ${value instanceof Map ? 'map' : 'set'} of ${value.size}`;
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    if (text !== undefined && text.length <= MAX_SHOWN) return text.replaceAll(',', ', ');
    return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty mapping';
    const shown = keys.slice(0, 4).map((k) => (k.length > 20 ? `${k.slice(0, 17)}...` : k));
    return `a mapping with keys ${shown.join(', ')}${keys.length > 4 ? ', ...' : ''}`;
  }
  return typeof value;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The candidate closest to `word` when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 200) return undefined;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(best.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** "a number in (0, 1)", "an integer >= 1", ... from a JSON Schema node's bounds. */
function describeRange(node: JsonSchemaNode | undefined, fallbackNoun: string): string | undefined {
  if (node === undefined) return undefined;
  const noun = node.type === 'integer' ? 'an integer' : fallbackNoun;
  const lo =
    node.exclusiveMinimum !== undefined
      ? { v: node.exclusiveMinimum, open: true }
      : node.minimum !== undefined && node.minimum > -UNBOUNDED
        ? { v: node.minimum, open: false }
        : undefined;
  const hi =
    node.exclusiveMaximum !== undefined
      ? { v: node.exclusiveMaximum, open: true }
      : node.maximum !== undefined && node.maximum < UNBOUNDED
        ? { v: node.maximum, open: false }
        : undefined;
  if (lo && hi) return `${noun} in ${lo.open ? '(' : '['}${lo.v}, ${hi.v}${hi.open ? ')' : ']'}`;
  if (lo) return `${noun} ${lo.open ? '>' : '>='} ${lo.v}`;
  if (hi) return `${noun} ${hi.open ? '<' : '<='} ${hi.v}`;
  return undefined;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping of key: value lines',
  array: 'a list',
  undefined: 'nothing',
  never: 'nothing',
};

function describeType(expected: string, node: JsonSchemaNode | undefined): string {
  if (node?.enum !== undefined) return `one of ${quoteList(node.enum)}`;
  const range = describeRange(node, TYPE_NAMES[expected] ?? expected);
  if (range !== undefined) return range;
  if (
    (expected === 'string' || expected === 'array') &&
    node?.description?.includes('relative to the config file')
  ) {
    return 'a file path';
  }
  return TYPE_NAMES[expected] ?? expected;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns zod issues into one-line config issues: unknown keys with the closest valid key, ranges read
 * from the schema, the offending value from the file.
 */
export function issuesFromZod(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  input: unknown,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const got = showValue('input' in issue ? issue.input : valueAt(input, path));
    const node = schemaAt(path, input);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const valid = Object.keys(schemaAt(path, input)?.properties ?? {});
        const parent = valueAt(input, path);
        for (const key of issue.keys) {
          const hint = closest(key, valid);
          out.push({
            file,
            path: [...path, key],
            message: hint !== undefined ? `unknown key; did you mean "${hint}"?` : 'unknown key',
            got: showValue(isRecord(parent) ? parent[key] : undefined),
            expected: valid.length > 0 ? `one of the keys ${valid.join(', ')}` : 'no such key',
          });
        }
        break;
      }
      case 'invalid_type': {
        const missing = valueAt(input, path) === undefined;
        out.push({
          file,
          path,
          message: missing
            ? 'required field is missing'
            : issue.expected === 'int' && typeof valueAt(input, path) === 'number'
              ? 'not a whole number'
              : 'wrong type',
          got,
          expected: describeType(issue.expected, node),
        });
        break;
      }
      case 'too_small':
      case 'too_big': {
        const small = issue.code === 'too_small';
        if (issue.origin === 'array' || issue.origin === 'string' || issue.origin === 'set') {
          const bound = small ? issue.minimum : issue.maximum;
          const unit = issue.origin === 'string' ? 'character' : 'item';
          out.push({
            file,
            path,
            message: small ? (bound === 1 ? 'must not be empty' : 'too short') : 'too long',
            got,
            expected: `${small ? 'at least' : 'at most'} ${bound} ${unit}${Number(bound) === 1 ? '' : 's'}`,
          });
        } else {
          const bound = small ? issue.minimum : issue.maximum;
          out.push({
            file,
            path,
            message: small ? 'value too small' : 'value too large',
            got,
            expected:
              describeRange(node, 'a number') ??
              `a number ${small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<'} ${bound}`,
          });
        }
        break;
      }
      case 'invalid_value': {
        const raw = valueAt(input, path);
        const hint =
          typeof raw === 'string'
            ? closest(
                raw,
                issue.values.filter((v): v is string => typeof v === 'string'),
              )
            : undefined;
        out.push({
          file,
          path,
          message: hint !== undefined ? `unknown value; did you mean "${hint}"?` : 'value not allowed',
          got,
          expected: issue.values.length === 1 ? quoteList(issue.values) : `one of ${quoteList(issue.values)}`,
        });
        break;
      }
      case 'invalid_union': {
        const { discriminator: disc, options: rawOptions } = issue as {
          discriminator?: string;
          options?: unknown[];
        };
        const parentPath = disc !== undefined && path[path.length - 1] === disc ? path.slice(0, -1) : path;
        const options = (rawOptions ?? []).filter((v): v is string => typeof v === 'string');
        if (disc !== undefined) {
          const raw = valueAt(input, [...parentPath, disc]);
          const hint = typeof raw === 'string' ? closest(raw, options) : undefined;
          out.push({
            file,
            path: [...parentPath, disc],
            message:
              raw === undefined
                ? `required field is missing: it selects the kind of ${String(parentPath[parentPath.length - 1] ?? 'section')}`
                : hint !== undefined
                  ? `unknown ${disc}; did you mean "${hint}"?`
                  : `unknown ${disc}`,
            got: showValue(raw),
            expected: `one of ${quoteList(options)}`,
          });
        } else {
          out.push({ file, path, message: 'does not match any allowed form', got });
        }
        break;
      }
      case 'invalid_format': {
        const pattern = (issue as { pattern?: string }).pattern;
        out.push({
          file,
          path,
          message: issue.message,
          got,
          expected: pattern !== undefined ? `a string matching ${pattern}` : `a ${issue.format} string`,
        });
        break;
      }
      case 'not_multiple_of':
        out.push({ file, path, message: 'not a multiple', got, expected: `a multiple of ${issue.divisor}` });
        break;
      case 'custom': {
        const expected = (issue.params as { expected?: unknown } | undefined)?.expected;
        out.push({
          file,
          path,
          message: issue.message,
          got,
          expected: typeof expected === 'string' ? expected : undefined,
        });
        break;
      }
      default:
        out.push({ file, path, message: issue.message, got });
    }
  }
  return out;
}
