import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { MAX_CONFIG_FILE_BYTES } from './defaults.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { issuesFromZod, showValue } from './issues.ts';
import { type MachineDefaults, resolveConfig } from './resolve.ts';
import { configSchema } from './schema.ts';
import type { Config } from './types.ts';

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions extends MachineDefaults {
  /** Folder that relative paths in the config are resolved against. Default: `process.cwd()`. */
  baseDir?: string;
  /** Name of the file in error messages. Default: `'<config>'`. */
  fileName?: string;
  /** Check that the files the config names exist. Default: true. */
  checkPaths?: boolean;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions extends MachineDefaults {
  /** Check that the files the config names exist. Default: true. */
  checkPaths?: boolean;
  /** Aborts the file read. */
  signal?: AbortSignal;
}

const DEFAULT_FILE_NAME = '<config>';
const MAX_ALIASES = 100;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Map)
  );
}

/** Drops `key:` entries with no value, so that an empty value means "use the default". */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null) continue;
      Object.defineProperty(out, k, {
        value: dropNulls(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function yamlIssue(file: string, err: YAML.YAMLError): ConfigIssue {
  const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?\s*$/, '');
  const pos = err.linePos?.[0];
  return {
    file,
    path: [],
    message: `YAML syntax error: ${first}`,
    ...(pos !== undefined ? { line: pos.line, column: pos.col } : {}),
  };
}

/** Parses YAML text into plain data, or returns the syntax problems. */
function parseYaml(text: string, file: string): { value: unknown } | { issues: ConfigIssue[] } {
  if (text.length > MAX_CONFIG_FILE_BYTES) {
    return {
      issues: [
        {
          file,
          path: [],
          message: 'config file too large',
          got: `${text.length} characters`,
          expected: `at most ${MAX_CONFIG_FILE_BYTES} bytes`,
        },
      ],
    };
  }
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  } catch (err) {
    return { issues: [{ file, path: [], message: `YAML cannot be parsed: ${(err as Error).message}` }] };
  }
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      issues: problems.map((e) =>
        /call stack/i.test(e.message)
          ? { file, path: [], message: 'YAML cannot be read: nested too deeply' }
          : yamlIssue(file, e),
      ),
    };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch (err) {
    const reason = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    return { issues: [{ file, path: [], message: `YAML cannot be read: ${reason}` }] };
  }
}

/**
 * Validates a config given as data (already parsed YAML or an object built in code), fills defaults and
 * resolves paths against `opts.baseDir`. Throws {@link ConfigError}.
 */
export function configFromObject(input: unknown, opts: ParseConfigOptions = {}): Config {
  const file = opts.fileName ?? DEFAULT_FILE_NAME;
  if (input === undefined || input === null) {
    throw new ConfigError([
      {
        file,
        path: [],
        message: 'the config is empty',
        got: 'nothing',
        expected: 'a mapping with at least the model and data sections',
      },
    ]);
  }
  if (!isPlainObject(input)) {
    throw new ConfigError([
      {
        file,
        path: [],
        message: 'the top level must be a mapping of sections',
        got: showValue(input),
        expected: 'key: value lines such as "model:" and "data:"',
      },
    ]);
  }
  const raw = dropNulls(input);
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(issuesFromZod(result.error.issues, file, raw));
  const { config, issues } = resolveConfig(result.data, {
    baseDir: path.resolve(opts.baseDir ?? process.cwd()),
    fileName: file,
    checkPaths: opts.checkPaths,
    hostname: opts.hostname,
    cores: opts.cores,
    datasetsDir: opts.datasetsDir,
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

/**
 * Parses and validates config text (YAML). Reads no files, except to check that the paths the config
 * names exist (relative ones resolved against `opts.baseDir`). Throws {@link ConfigError}.
 */
export function parseConfig(text: string, opts: ParseConfigOptions = {}): Config {
  const file = opts.fileName ?? DEFAULT_FILE_NAME;
  const parsed = parseYaml(text, file);
  if ('issues' in parsed) throw new ConfigError(parsed.issues);
  return configFromObject(parsed.value, opts);
}

/**
 * Reads, validates and resolves a config file: defaults filled, paths absolute (relative to the file's
 * folder). Throws {@link ConfigError} whose issues each render as one line naming the file and field.
 */
export async function loadConfig(file: string, opts: LoadConfigOptions = {}): Promise<Config> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    const st = await stat(absolute);
    if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    if (st.size > MAX_CONFIG_FILE_BYTES) {
      throw new ConfigError([
        {
          file,
          path: [],
          message: 'config file too large',
          got: `${st.size} bytes`,
          expected: `at most ${MAX_CONFIG_FILE_BYTES} bytes`,
        },
      ]);
    }
    text = await readFile(absolute, { encoding: 'utf8', signal: opts.signal });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as Error).name === 'AbortError') throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a folder, not a file'
            : (code ?? (err as Error).message);
    throw new ConfigError([
      {
        file,
        path: [],
        message: `cannot read the config file: ${reason}`,
        got: absolute,
        expected: 'a readable YAML file',
      },
    ]);
  }
  return parseConfig(text, {
    baseDir: path.dirname(absolute),
    fileName: file,
    checkPaths: opts.checkPaths,
    hostname: opts.hostname,
    cores: opts.cores,
    datasetsDir: opts.datasetsDir,
  });
}

/**
 * `swarm.runId`, which joining a swarm needs; throws a {@link ConfigError} naming the field when the
 * config has none. `fileName` is used in the message. Default: `'<config>'`.
 */
export function requireRunId(config: Pick<Config, 'swarm'>, fileName = DEFAULT_FILE_NAME): string {
  const runId = config.swarm.runId;
  if (runId === undefined) {
    throw new ConfigError([
      {
        file: fileName,
        path: ['swarm', 'runId'],
        message: 'a run id is required to join a swarm',
        got: 'nothing',
        expected: 'a run name shared by the peers, such as "mnist-demo"',
      },
    ]);
  }
  return runId;
}
