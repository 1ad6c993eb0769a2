import { EnjambreError } from '@enjambre/core';

/** Wrong command-line usage: printed with the usage text, exit code 2. */
export class UsageError extends EnjambreError {
  override name = 'UsageError';
  override readonly code = 'ERR_USAGE';
}

/**
 * One clear message for the user. Enjambre's errors ({@link EnjambreError}) carry a stable `code`
 * and a message written for users, so no stack trace is shown for them, only their `hint` (what to
 * do next) when they have one. Anything else is a bug and keeps its stack (set ENJAMBRE_DEBUG=1 to
 * see stacks of all errors). Node's own errors with a code (ENOENT, EACCES...) count as known.
 */
export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return `enjambre: ${String(err)}`;
  const known = err instanceof EnjambreError || typeof (err as { code?: unknown }).code === 'string';
  if (process.env.ENJAMBRE_DEBUG || !known) return `enjambre: ${err.stack ?? err.message}`;
  const hint = err instanceof EnjambreError ? err.hint : undefined;
  return hint ? `enjambre: ${err.message}\nhint: ${hint}` : `enjambre: ${err.message}`;
}

/** Prints one JSON document on stdout (what `--json` promises scripts). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints one JSON document as a single line on stdout: the final line of long-running commands. */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A table for the terminal: columns padded to the widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
