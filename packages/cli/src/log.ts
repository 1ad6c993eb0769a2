import { type Logger, pino } from 'pino';

/**
 * The CLI's logger: the one place that prints what the libraries report (they emit events). Text
 * lines on stderr by default (a level word before warnings and errors), or one JSON object per
 * line with `--log-format json`. Results go to stdout, never through here.
 */
export interface LogSettings {
  level: string;
  format: 'text' | 'json';
}

const LEVEL_WORDS: Record<number, string> = {
  10: 'trace: ',
  20: 'debug: ',
  40: 'warning: ',
  50: 'error: ',
  60: 'fatal: ',
};

/** Terminal state shared with the progress line, so that a log line never lands inside it. */
export const terminal = {
  progressDrawn: false,
  write(text: string): void {
    if (terminal.progressDrawn && process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
    process.stderr.write(text);
    // The progress line is redrawn by its next update.
    terminal.progressDrawn = false;
  },
};

function textDestination() {
  return {
    write(line: string): void {
      const { level, msg } = JSON.parse(line) as { level: number; msg?: string };
      terminal.write(`${LEVEL_WORDS[level] ?? ''}${msg ?? ''}\n`);
    },
  };
}

let settings: LogSettings = { level: 'info', format: 'text' };
let root: Logger | undefined;

export function configureLogging(s: LogSettings): void {
  settings = s;
  root = undefined;
  // onnxruntime's native lines (also in worker threads, which inherit the environment) only at debug.
  process.env.ENJAMBRE_ONNXRUNTIME_LOG ??=
    s.level === 'trace' ? 'verbose' : s.level === 'debug' ? 'warning' : 'fatal';
}

export function logSettings(): LogSettings {
  return settings;
}

/** The root logger (info and text until {@link configureLogging}). */
export function log(): Logger {
  root ??=
    settings.format === 'json'
      ? pino({ level: settings.level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }))
      : pino({ level: settings.level, base: undefined, timestamp: false }, textDestination());
  return root;
}

/** True when lines at `level` are printed. */
export function enabled(level: 'trace' | 'debug' | 'info' | 'warn' | 'error'): boolean {
  return log().isLevelEnabled(level);
}

/**
 * Repeated notices collapse: the first of a kind (its words, numbers aside) is printed; the
 * repeats are counted and told in one line at most every `everyMs` and when the command ends.
 */
export class Notices {
  private readonly seen = new Map<string, { count: number; last: string }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly level: 'info' | 'warn' = 'warn',
    everyMs = 60_000,
  ) {
    this.timer = setInterval(() => this.flush(), everyMs);
    this.timer.unref();
  }

  notice(message: string): void {
    const kind = message.replace(/\d+(\.\d+)?/g, '#');
    const entry = this.seen.get(kind);
    if (!entry) {
      this.seen.set(kind, { count: 0, last: message });
      log()[this.level]({ kind: 'notice' }, message);
      return;
    }
    entry.count++;
    entry.last = message;
  }

  /** Prints one line per kind repeated since the last flush, with the count. */
  flush(): void {
    for (const entry of this.seen.values()) {
      if (entry.count === 0) continue;
      log()[this.level](
        { kind: 'notice', repeated: entry.count },
        `${entry.last} (${entry.count} more like this)`,
      );
      entry.count = 0;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
