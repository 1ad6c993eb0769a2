import { type Observer, renderTerminal, startWebDashboard, TerminalDashboard } from '@enjambre/inspector';
import { printJson } from './output.ts';

export interface ObserveOptions {
  /** Serve the web dashboard on this port (0: any free port). */
  webPort?: number;
  /** Print one JSON snapshot after this many ms and stop. */
  jsonAfterMs?: number;
  /** Draw the refreshing terminal view. */
  terminal: boolean;
  signal: AbortSignal;
  /** Called with the dashboard URL once it listens. */
  onWeb?: (url: string) => void;
  /** Lines drawn above every terminal frame. */
  header?: () => string;
  /** Aborting stops the terminal view only (the web dashboard stays until `signal`). */
  terminalSignal?: AbortSignal;
}

/** Shows what an observer peer sees: terminal view, web dashboard, or one JSON snapshot. */
export async function observe(observer: Observer, opts: ObserveOptions): Promise<void> {
  if (opts.jsonAfterMs !== undefined) {
    await sleep(opts.jsonAfterMs, opts.signal);
    printJson(observer.snapshot());
    return;
  }
  const web =
    opts.webPort === undefined
      ? undefined
      : await startWebDashboard({
          port: opts.webPort,
          getSnapshot: () => observer.snapshot(),
          signal: opts.signal,
        });
  if (web) opts.onWeb?.(web.url);
  const tty = process.stdout.isTTY === true;
  const dashboard = opts.terminal
    ? new TerminalDashboard({
        stream: process.stdout,
        getSnapshot: () => observer.snapshot(),
        // Logs and pipes get a frame every 10 s rather than a flood.
        intervalMs: tty ? 1000 : 10_000,
        signal: opts.terminalSignal ? AbortSignal.any([opts.signal, opts.terminalSignal]) : opts.signal,
        header: opts.header,
      })
    : undefined;
  dashboard?.start();
  await new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  dashboard?.stop();
  await web?.close();
  if (opts.terminal && !tty) process.stdout.write(`${renderTerminal(observer.snapshot(), { width: 100 })}\n`);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
