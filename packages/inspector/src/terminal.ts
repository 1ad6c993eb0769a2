/**
 * Terminal view of a {@link SwarmSnapshot}: a pure renderer ({@link renderTerminal}) and a dashboard that
 * redraws it on an interval into a writable stream ({@link TerminalDashboard}).
 */
import {
  DEFAULT_REDRAW_INTERVAL_MS,
  DEFAULT_TERMINAL_EVENTS,
  DEFAULT_TERMINAL_WIDTH,
  MAX_NAME_CHARS,
} from './constants.ts';
import { InvalidOptionError, toError } from './errors.ts';
import { blockChart, formatAge, formatBytes, formatClock, formatCount, formatLoss } from './format.ts';
import {
  type PeerSnapshot,
  type PeerState,
  type SwarmSnapshot,
  sanitizeText,
  shortPeerId,
} from './status.ts';

/** Options of {@link renderTerminal}. */
export interface RenderTerminalOptions {
  /** Line width in columns; columns of the peer table are dropped to fit. Default {@link DEFAULT_TERMINAL_WIDTH}. */
  width?: number;
  /** Use ANSI colours. Default `false`. */
  color?: boolean;
  /** Rows of the loss chart (1 = a sparkline). Default 4. */
  chartHeight?: number;
  /** Recent events shown. Default {@link DEFAULT_TERMINAL_EVENTS}. */
  events?: number;
}

/** Default height of the loss chart, rows. */
export const DEFAULT_CHART_HEIGHT = 4;
/** Narrowest width rendered; narrower requests are raised to it. */
const MIN_WIDTH = 40;

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
} as const;
type Style = keyof typeof ANSI;

const STATE_STYLE: Record<PeerState, Style> = { active: 'green', stale: 'yellow', left: 'dim' };

interface Column {
  title: string;
  /** Lower is more important; the highest are dropped first when the table does not fit. */
  priority: number;
  right?: boolean;
  cell: (p: PeerSnapshot, now: number) => string;
}

const COLUMNS: Column[] = [
  { title: 'PEER', priority: 0, cell: (p) => shortPeerId(p.id) },
  { title: 'NAME', priority: 1, cell: (p) => p.name },
  { title: 'STATE', priority: 0, cell: (p) => p.state },
  { title: 'ROLE', priority: 4, cell: (p) => p.role },
  { title: 'PROVIDER', priority: 2, cell: (p) => p.provider },
  { title: 'DEVICE', priority: 5, cell: (p) => `${p.deviceName}${p.cores > 0 ? ` ×${p.cores}` : ''}` },
  { title: 'ROUND', priority: 0, right: true, cell: (p) => String(p.round) },
  { title: 'STEP', priority: 3, right: true, cell: (p) => String(p.step) },
  { title: 'LOSS', priority: 0, right: true, cell: (p) => formatLoss(p.loss) },
  { title: 'SAMPLES/S', priority: 1, right: true, cell: (p) => formatCount(p.samplesPerSec) },
  { title: 'IN', priority: 3, right: true, cell: (p) => formatBytes(p.bytesIn) },
  { title: 'OUT', priority: 3, right: true, cell: (p) => formatBytes(p.bytesOut) },
  { title: 'SEEN', priority: 2, right: true, cell: (p, now) => `${formatAge(now - p.lastSeen)} ago` },
];

/** Cuts a plain (colourless) string to `width` characters, marking the cut with `…`. */
function cut(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

function visibleLength(text: string): number {
  return Array.from(text).length;
}

/** Renders a snapshot as text for a terminal of `width` columns. Every line fits in `width` (ANSI codes aside). */
export function renderTerminal(snapshot: SwarmSnapshot, options: RenderTerminalOptions = {}): string {
  const width = Math.max(MIN_WIDTH, Math.floor(options.width ?? DEFAULT_TERMINAL_WIDTH));
  const color = options.color ?? false;
  const chartHeight = Math.max(1, Math.floor(options.chartHeight ?? DEFAULT_CHART_HEIGHT));
  const maxEvents = Math.max(0, Math.floor(options.events ?? DEFAULT_TERMINAL_EVENTS));
  const paint = (text: string, style: Style | undefined): string =>
    color && style !== undefined && text.length > 0 ? `${ANSI[style]}${text}${ANSI.reset}` : text;
  const lines: string[] = [];
  // Each entry of a line is [plain text, style]; the line is cut to `width` before it is painted.
  const emit = (parts: Array<[string, Style | undefined]>): void => {
    let room = width;
    let out = '';
    for (const [text, style] of parts) {
      if (room <= 0) break;
      const piece = cut(text, room);
      room -= visibleLength(piece);
      out += paint(piece, style);
    }
    lines.push(out);
  };
  const s = snapshot.swarm;
  const now = snapshot.time;
  const run = snapshot.runId === null ? '' : `run ${sanitizeText(snapshot.runId, 64)}  `;
  const observer = snapshot.observer === null ? '' : `observer ${shortPeerId(snapshot.observer)}  `;
  emit([
    ['Enjambre swarm  ', 'bold'],
    [run, undefined],
    [observer, 'dim'],
    [`${formatClock(now)} UTC`, 'dim'],
  ]);
  emit([
    ['round ', 'dim'],
    [String(s.majorityRound), 'bold'],
    [s.maxRound !== s.majorityRound ? ` (max ${s.maxRound})` : '', undefined],
    ['   peers ', 'dim'],
    [`${s.activePeers} active`, 'green'],
    [` · ${s.stalePeers} stale`, s.stalePeers > 0 ? 'yellow' : undefined],
    [` · ${s.leftPeers} left`, undefined],
    ['   throughput ', 'dim'],
    [`${formatCount(s.samplesPerSec)} samples/s`, undefined],
  ]);
  emit([
    ['mean loss ', 'dim'],
    [formatLoss(s.meanLoss), 'bold'],
    ['   samples ', 'dim'],
    [formatCount(s.samplesDone), undefined],
    ['   in ', 'dim'],
    [formatBytes(s.bytesIn), undefined],
    ['   out ', 'dim'],
    [formatBytes(s.bytesOut), undefined],
  ]);
  lines.push('');

  // Peer table: drop the least important columns until it fits.
  const peers = snapshot.peers;
  if (peers.length === 0) {
    emit([['no peers seen yet: waiting for heartbeats…', 'dim']]);
  } else {
    const cells = peers.map((p) => COLUMNS.map((c) => cut(sanitizeText(c.cell(p, now), MAX_NAME_CHARS), 24)));
    const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((r) => visibleLength(r[i]))));
    let shown = COLUMNS.map((_, i) => i);
    const total = (idx: number[]): number => idx.reduce((a, i) => a + widths[i], 0) + 2 * (idx.length - 1);
    while (total(shown) > width) {
      const worst = Math.max(...shown.map((i) => COLUMNS[i].priority));
      if (worst === 0) break;
      const drop = shown.filter((i) => COLUMNS[i].priority === worst).pop()!;
      shown = shown.filter((i) => i !== drop);
    }
    const pad = (text: string, i: number): string => {
      const fill = ' '.repeat(Math.max(0, widths[i] - visibleLength(text)));
      return COLUMNS[i].right ? fill + text : text + fill;
    };
    const row = (texts: string[], styles: (Style | undefined)[]): void => {
      const parts: Array<[string, Style | undefined]> = [];
      shown.forEach((col, k) => {
        if (k > 0) parts.push(['  ', undefined]);
        parts.push([pad(texts[col], col), styles[col]]);
      });
      // trailing spaces are not needed; trim the last padded cell
      const last = parts[parts.length - 1];
      last[0] = last[0].trimEnd();
      emit(parts);
    };
    row(
      COLUMNS.map((c) => c.title),
      COLUMNS.map(() => 'bold'),
    );
    const stateCol = COLUMNS.findIndex((c) => c.title === 'STATE');
    peers.forEach((p, r) => {
      const styles = COLUMNS.map((_, i): Style | undefined =>
        i === stateCol ? STATE_STYLE[p.state] : p.state === 'left' ? 'dim' : undefined,
      );
      row(cells[r], styles);
    });
  }
  lines.push('');

  // Loss chart.
  const curve = snapshot.lossCurve;
  if (curve.length === 0) {
    emit([
      ['loss  ', 'bold'],
      ['no loss reported yet', 'dim'],
    ]);
  } else {
    const values = curve.map((p) => p.loss);
    const hi = formatLoss(Math.max(...values));
    const lo = formatLoss(Math.min(...values));
    const axis = Math.max(hi.length, lo.length);
    const chartWidth = Math.max(8, width - axis - 2);
    const rows = blockChart(values, chartWidth, chartHeight);
    rows.forEach((r, i) => {
      const label = i === 0 ? hi : i === rows.length - 1 ? lo : '';
      emit([
        [`${label.padStart(axis)} `, 'dim'],
        [i === rows.length - 1 && rows.length > 1 ? '└' : '│', 'dim'],
        [r, 'cyan'],
      ]);
    });
    const first = curve[0];
    const last = curve[curve.length - 1];
    emit([
      ['loss ', 'bold'],
      [`${formatLoss(first.loss)} → ${formatLoss(last.loss)}`, undefined],
      [
        `  rounds ${first.round}–${last.round}, ${curve.length} points over ${formatAge(last.time - first.time)}`,
        'dim',
      ],
    ]);
  }

  // Recent events.
  if (maxEvents > 0 && snapshot.events.length > 0) {
    lines.push('');
    emit([['recent events', 'bold']]);
    const eventStyle = { join: 'green', return: 'green', leave: 'red', stale: 'yellow' } as const;
    for (const e of snapshot.events.slice(-maxEvents)) {
      emit([
        [`${formatClock(e.time)}  `, 'dim'],
        [e.kind.padEnd(7), eventStyle[e.kind]],
        [`${shortPeerId(e.peer)}`, undefined],
        [e.name !== shortPeerId(e.peer) ? ` (${sanitizeText(e.name, MAX_NAME_CHARS)})` : '', undefined],
        [e.reason !== undefined ? `: ${sanitizeText(e.reason, 120)}` : '', 'dim'],
      ]);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The part of a writable stream the dashboard uses (`process.stdout` fits). */
export interface DashboardStream {
  write(chunk: string): unknown;
  /** True on a terminal: the dashboard then redraws in place. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
  /** Terminal height, when known: in-place frames are cut to it so that the screen never scrolls. */
  rows?: number;
}

/** Options of {@link TerminalDashboard}. */
export interface TerminalDashboardOptions {
  /** Where to draw. On a TTY each frame replaces the previous one; elsewhere frames are appended. */
  stream: DashboardStream;
  /** Returns the snapshot to draw. */
  getSnapshot: () => SwarmSnapshot;
  /** Redraw interval, ms. Default {@link DEFAULT_REDRAW_INTERVAL_MS}. */
  intervalMs?: number;
  /** Line width. Default: `stream.columns`, else {@link DEFAULT_TERMINAL_WIDTH}. */
  width?: number;
  /** ANSI colours. Default: `stream.isTTY`. */
  color?: boolean;
  /** Loss chart rows. Default {@link DEFAULT_CHART_HEIGHT}. */
  chartHeight?: number;
  /** Called when `getSnapshot` or the stream throws (the dashboard keeps running). Default: ignored. */
  onError?: (err: Error) => void;
  /** Lines drawn first in every frame (how to stop, where the web dashboard is). Default: none. */
  header?: () => string;
  /** Aborting stops the dashboard (as {@link TerminalDashboard.stop}). */
  signal?: AbortSignal;
}

/** Cursor home, then the frame with each line cleared to its end, then clear below: no flicker. */
const CURSOR_HOME = '\x1b[H';
const CLEAR_SCREEN = '\x1b[2J';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** Redraws {@link renderTerminal} into a stream on an interval. */
export class TerminalDashboard {
  private readonly options: TerminalDashboardOptions;
  private readonly intervalMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private frames = 0;
  private readonly onAbort = (): void => this.stop();

  constructor(options: TerminalDashboardOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? DEFAULT_REDRAW_INTERVAL_MS;
    if (!Number.isFinite(this.intervalMs) || this.intervalMs < 10) {
      throw new InvalidOptionError(
        'intervalMs',
        `expected a number of ms ≥ 10, got ${String(options.intervalMs)}`,
      );
    }
  }

  /** Whether the dashboard redraws in place (the stream is a TTY). */
  get inPlace(): boolean {
    return this.options.stream.isTTY === true;
  }

  /** Frames drawn so far. */
  get frameCount(): number {
    return this.frames;
  }

  isRunning(): boolean {
    return this.timer !== undefined;
  }

  /** Draws a frame now and then every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.timer !== undefined) return;
    const signal = this.options.signal;
    if (signal?.aborted) return;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.inPlace) this.write(HIDE_CURSOR + CLEAR_SCREEN);
    this.draw();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops redrawing and gives the cursor back (idempotent). */
  stop(): void {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.inPlace) this.write(SHOW_CURSOR);
  }

  /** Draws one frame now. */
  draw(): void {
    let text: string;
    try {
      const stream = this.options.stream;
      const header = this.options.header?.();
      text = `${header ? `${header}\n` : ''}${renderTerminal(this.options.getSnapshot(), {
        width: this.options.width ?? stream.columns ?? DEFAULT_TERMINAL_WIDTH,
        color: this.options.color ?? this.inPlace,
        chartHeight: this.options.chartHeight,
      })}`;
    } catch (err) {
      this.options.onError?.(toError(err));
      return;
    }
    if (this.inPlace) {
      let frameLines = text.replace(/\n$/, '').split('\n');
      const rows = this.options.stream.rows;
      if (rows !== undefined && rows > 1) frameLines = frameLines.slice(0, rows - 1);
      const body = frameLines.join(`${CLEAR_LINE_END}\n`);
      this.write(`${CURSOR_HOME}${body}${CLEAR_LINE_END}\n${CLEAR_BELOW}`);
    } else {
      this.write(`${text}\n`);
    }
    this.frames++;
  }

  private write(chunk: string): void {
    try {
      this.options.stream.write(chunk);
    } catch (err) {
      this.options.onError?.(toError(err));
    }
  }
}
