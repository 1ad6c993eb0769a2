import { EnjambreError } from '@enjambre/core';

/** One problem found in a config file. */
export interface ConfigIssue {
  /** The config file's name as given to the loader (or `<config>`). */
  readonly file: string;
  /** Path of the offending field, e.g. `['model', 'heads']` or `['swarm', 'bootstrap', 1]`; empty for the whole file. */
  readonly path: readonly (string | number)[];
  /** What is wrong, in a few words. */
  readonly message: string;
  /** The offending value, already rendered for display (`"abc"`, `70000`, `nothing`); absent when not applicable. */
  readonly got?: string;
  /** What would have been accepted. */
  readonly expected?: string;
  /** 1-based line in the file, when known (YAML syntax errors). */
  readonly line?: number;
  /** 1-based column in the file, when known (YAML syntax errors). */
  readonly column?: number;
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** Renders a field path as `a.b[0].c`; odd keys are quoted. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (SIMPLE_KEY.test(part) && part.length <= 64) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part.length > 64 ? `${part.slice(0, 61)}...` : part)}]`;
  }
  return out;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Renders an issue as exactly one line:
 * `<file>: <field.path>: <what is wrong> (got <value>; expected <what>)`.
 */
export function formatIssue(issue: ConfigIssue): string {
  const where =
    issue.line !== undefined
      ? `line ${issue.line}${issue.column !== undefined ? `, column ${issue.column}` : ''}`
      : formatPath(issue.path);
  const parts: string[] = [];
  if (issue.got !== undefined) parts.push(`got ${oneLine(issue.got)}`);
  if (issue.expected !== undefined) parts.push(`expected ${oneLine(issue.expected)}`);
  const tail = parts.length > 0 ? ` (${parts.join('; ')})` : '';
  return `${oneLine(issue.file)}: ${where === '' ? '' : `${where}: `}${oneLine(issue.message)}${tail}`;
}

/**
 * A config file that cannot be used: unreadable, not YAML, or not valid against the schema.
 * `message` holds one line per issue (no stack trace is ever part of it).
 */
export class ConfigError extends EnjambreError {
  override readonly name = 'ConfigError';
  /** Stable code: `ERR_CONFIG_INVALID`. */
  override readonly code = 'ERR_CONFIG_INVALID';
  /** Every problem found, in file order where known. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }

  /** The issues rendered one per line, as in `message`. */
  get lines(): string[] {
    return this.issues.map(formatIssue);
  }
}

/** A dataset name that the registry does not know. */
export class UnknownDatasetError extends EnjambreError {
  override name = 'UnknownDatasetError';
  override readonly code = 'ERR_CONFIG_UNKNOWN_DATASET';
  constructor(
    readonly dataset: string,
    readonly known: readonly string[],
  ) {
    super(
      `unknown dataset ${JSON.stringify(dataset)}: expected one of ${known.map((k) => `'${k}'`).join(', ')}`,
    );
  }
}

/** A registry dataset that is not in the local cache (or only partly). */
export class DatasetNotCachedError extends EnjambreError {
  override name = 'DatasetNotCachedError';
  override readonly code = 'ERR_CONFIG_DATASET_NOT_CACHED';
  constructor(
    readonly dataset: string,
    /** The first file of the dataset that is missing or incomplete. */
    readonly path: string,
    /** The command that downloads it. */
    readonly command: string,
  ) {
    super(`dataset '${dataset}' is not downloaded (${path} is missing): run \`${command}\``, {
      hint: 'with a local copy, give its folder or URL to --from or ENJAMBRE_DATA_MIRROR and nothing is downloaded',
    });
  }
}
