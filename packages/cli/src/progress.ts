import { enabled, log, terminal } from './log.ts';

/**
 * A one-line progress display on stderr: redrawn in place on a terminal, one line every couple of
 * seconds otherwise; shown at the info level in text format (not with --quiet nor in JSON logs).
 */
export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPlain = 0;

  update(text: string): void {
    if (!enabled('info')) return;
    if (this.tty) {
      const width = process.stderr.columns ?? 100;
      process.stderr.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
      terminal.progressDrawn = true;
    } else if (Date.now() - this.lastPlain > 2000) {
      // Logs and CI get a line every couple of seconds rather than a flood.
      log().info({ kind: 'progress' }, text);
      this.lastPlain = Date.now();
    }
  }

  /** Prints a line above the progress line (a message that stays). */
  note(text: string): void {
    log().info(text);
  }

  done(): void {
    if (this.tty && terminal.progressDrawn) process.stderr.write('\n');
    terminal.progressDrawn = false;
  }
}

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/** An AbortSignal that fires on SIGINT/SIGTERM; a second signal exits at once. */
export function interruptSignal(onFirst?: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    onFirst?.(sig);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller.signal;
}
