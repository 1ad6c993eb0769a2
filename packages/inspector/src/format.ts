/** Small formatting helpers shared by the terminal view and the metrics (pure). */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
/** Eighth blocks, lowest first: the glyphs of sparklines and block charts. */
export const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${BYTE_UNITS[i]}`;
}

/** `1234.5` → `1.23k`, `12` → `12.0`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** A loss with 4 significant digits, or `—` when none. */
export function formatLoss(loss: number | null): string {
  if (loss === null || !Number.isFinite(loss)) return '—';
  return loss.toPrecision(4);
}

/** An age in ms as `0.4s`, `12s`, `3m05s`, `2h10m`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `HH:MM:SS` of a time (ms since the epoch), UTC. */
export function formatClock(time: number): string {
  return new Date(time).toISOString().slice(11, 19);
}

/** Reduces `values` to at most `width` values by averaging consecutive buckets. */
export function downsample(values: readonly number[], width: number): number[] {
  if (width <= 0) return [];
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const a = Math.floor((i * values.length) / width);
    const b = Math.max(a + 1, Math.floor(((i + 1) * values.length) / width));
    let sum = 0;
    for (let j = a; j < b; j++) sum += values[j];
    out.push(sum / (b - a));
  }
  return out;
}

/**
 * A block chart of `values` (downsampled to `width` columns) `height` rows tall, top row first. Each row is
 * exactly as many characters as there are columns. The lowest value draws one eighth block.
 */
export function blockChart(values: readonly number[], width: number, height = 1): string[] {
  const v = downsample(values, width);
  const rows: string[] = Array.from({ length: height }, () => '');
  if (v.length === 0) return rows;
  const min = Math.min(...v);
  const max = Math.max(...v);
  const levels = height * 8;
  for (const x of v) {
    const scaled =
      max === min ? Math.ceil(levels / 2) : 1 + Math.round(((x - min) / (max - min)) * (levels - 1));
    for (let r = 0; r < height; r++) {
      const base = (height - 1 - r) * 8;
      const level = Math.min(8, Math.max(0, scaled - base));
      rows[r] += level === 0 ? ' ' : BLOCKS[level - 1];
    }
  }
  return rows;
}

/** A one-line sparkline of `values`, at most `width` characters. */
export function sparkline(values: readonly number[], width: number): string {
  return blockChart(values, width, 1)[0] ?? '';
}
