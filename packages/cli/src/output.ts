import { EnjambreError } from '@enjambre/core';

/** Wrong command-line usage: printed with the usage text, exit code 2. */
export class UsageError extends EnjambreError {
  override name = 'UsageError';
  override readonly code = 'ERR_USAGE';
}

/**
 * One clear line for the user: what went wrong and, where known, how to fix it (an error's `hint`).
 * Errors of Enjambre's packages carry a stable `code` and a message written for users, and the
 * system errors users cause (a port in use, a missing file, no permission) are told in words, so
 * no stack trace is shown for them; anything else is a bug and keeps its stack (set
 * ENJAMBRE_DEBUG=1 to see the stacks of all errors).
 */
export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return `enjambre: ${String(err)}`;
  if (process.env.ENJAMBRE_DEBUG) return `enjambre: ${err.stack ?? err.message}`;
  const system = systemError(err);
  if (system) return `enjambre: ${system}`;
  const known = err instanceof EnjambreError || typeof (err as { code?: unknown }).code === 'string';
  if (!known) return `enjambre: ${err.stack ?? err.message}`;
  const hint = err instanceof EnjambreError ? err.hint : undefined;
  return `enjambre: ${err.message}${hint ? ` (${hint})` : ''}`;
}

/** The user-caused system errors, found also when wrapped (libp2p wraps a listen error). */
function systemError(err: Error): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { code, path, syscall } = e as NodeJS.ErrnoException;
    const inUse = code === 'EADDRINUSE' || /EADDRINUSE/.test(e.message);
    if (inUse) {
      const where =
        /(\/ip[46]\/[^\s:]+)[:\s]+Error: listen EADDRINUSE/.exec(e.message)?.[1] ??
        /address already in use\s+(\S+)/.exec(e.message)?.[1] ??
        '';
      return `the address ${where || 'to listen on'} is already in use (another enjambre or another program listens there): stop it, or pick another port (--listen /ip4/0.0.0.0/tcp/0 takes any free port)`;
    }
    if (code === 'ENOENT' && path)
      return `no such file or directory: ${path} (check the path, relative to the directory you run enjambre from)`;
    if ((code === 'EACCES' || code === 'EPERM') && (path || syscall === 'listen'))
      return `permission denied${path ? `: ${path}` : ' to listen on that port (ports below 1024 need root: pick a higher one)'}`;
  }
  return undefined;
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

/** The exit codes of every command (docs/user-guide.md lists them). */
export const EXIT = {
  ok: 0,
  /** The command failed: the line on stderr says why. */
  failure: 1,
  /** Wrong usage: an unknown command or option, a missing or malformed value. */
  usage: 2,
  /** `join --require-peers N`: fewer than N peers of the run were found in time. */
  peersNotFound: 3,
  /** A second Ctrl-C (or SIGTERM) ended the command at once, without its checkpoint. */
  interrupted: 130,
} as const;
