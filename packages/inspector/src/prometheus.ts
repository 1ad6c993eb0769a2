/**
 * Prometheus metrics of ONE peer's own numbers, in the text exposition format (version 0.0.4), and a tiny
 * `/metrics` server. Each peer exposes this on the port of its config (`metrics.prometheusPort`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_HTTP_HOST, DEFAULT_METRIC_PREFIX } from './constants.ts';
import { InvalidMetricsError, InvalidOptionError, toError } from './errors.ts';
import { BASE_HEADERS, checkPort, type HttpService, sendText, startHttpService } from './http.ts';

/** One peer's own numbers. */
export interface PeerMetrics {
  /** Current round. */
  round: number;
  /** Optimizer steps done. */
  step: number;
  /** Training samples done. Default: not exported. */
  samplesDone?: number;
  /** Latest training loss; null (none yet) is not exported. */
  loss: number | null;
  /** Training throughput. */
  samplesPerSec: number;
  /** Bytes received from the swarm. */
  bytesIn: number;
  /** Bytes sent to the swarm. */
  bytesOut: number;
  /** Peers seen (active in the swarm view, this peer excluded). */
  peersSeen: number;
  /**
   * Labels of the `enjambre_peer_info` series (value 1), e.g. `{peer_id, name, provider, run_id}`. Label names
   * must match `[a-zA-Z_][a-zA-Z0-9_]*`. Default: no info series.
   */
  info?: Record<string, string>;
}

/** Options of {@link renderPrometheus}. */
export interface RenderPrometheusOptions {
  /** Prefix of every metric name. Default {@link DEFAULT_METRIC_PREFIX}. */
  prefix?: string;
}

/** Content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type MetricType = 'gauge' | 'counter';
interface Metric {
  key: keyof PeerMetrics;
  name: string;
  type: MetricType;
  help: string;
  integer: boolean;
}

const METRICS: Metric[] = [
  {
    key: 'round',
    name: 'round',
    type: 'gauge',
    help: 'Current averaging round of this peer.',
    integer: true,
  },
  { key: 'step', name: 'step', type: 'gauge', help: 'Optimizer steps done by this peer.', integer: true },
  {
    key: 'samplesDone',
    name: 'samples_total',
    type: 'counter',
    help: 'Training samples processed by this peer.',
    integer: true,
  },
  { key: 'loss', name: 'loss', type: 'gauge', help: 'Latest training loss of this peer.', integer: false },
  {
    key: 'samplesPerSec',
    name: 'samples_per_second',
    type: 'gauge',
    help: 'Training throughput of this peer, samples per second.',
    integer: false,
  },
  {
    key: 'bytesIn',
    name: 'received_bytes_total',
    type: 'counter',
    help: 'Bytes received from the swarm.',
    integer: true,
  },
  {
    key: 'bytesOut',
    name: 'sent_bytes_total',
    type: 'counter',
    help: 'Bytes sent to the swarm.',
    integer: true,
  },
  {
    key: 'peersSeen',
    name: 'peers',
    type: 'gauge',
    help: 'Other peers seen active in the swarm.',
    integer: true,
  },
];

/** Escapes a label value: backslash, double quote and line feed. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/**
 * Renders one peer's metrics in the Prometheus text exposition format. Throws {@link InvalidMetricsError} when
 * a value is not a finite number ≥ 0 (loss: finite or null) or a label name is invalid.
 */
export function renderPrometheus(metrics: PeerMetrics, options: RenderPrometheusOptions = {}): string {
  const prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
  if (prefix !== '' && !METRIC_NAME_RE.test(prefix)) {
    throw new InvalidOptionError('prefix', `'${prefix}' is not a valid metric name prefix`);
  }
  if (metrics === null || typeof metrics !== 'object')
    throw new InvalidMetricsError('metrics', 'expected an object');
  const out: string[] = [];
  for (const m of METRICS) {
    const v = metrics[m.key] as unknown;
    if (v === undefined && m.key === 'samplesDone') continue;
    if (v === null && m.key === 'loss') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || (m.key !== 'loss' && v < 0)) {
      throw new InvalidMetricsError(
        m.key,
        `expected a finite number${m.key === 'loss' ? '' : ' ≥ 0'}, got ${String(v)}`,
      );
    }
    if (m.integer && !Number.isSafeInteger(v)) {
      throw new InvalidMetricsError(m.key, `expected an integer, got ${v}`);
    }
    const name = prefix + m.name;
    out.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`, `${name} ${formatValue(v)}`);
  }
  if (metrics.info !== undefined) {
    const labels: string[] = [];
    for (const [k, v] of Object.entries(metrics.info)) {
      if (!LABEL_NAME_RE.test(k) || k.startsWith('__')) {
        throw new InvalidMetricsError(`info.${k}`, 'invalid label name (expected [a-zA-Z_][a-zA-Z0-9_]*)');
      }
      if (typeof v !== 'string')
        throw new InvalidMetricsError(`info.${k}`, `expected a string, got ${typeof v}`);
      labels.push(`${k}="${escapeLabel(v)}"`);
    }
    const name = `${prefix}peer_info`;
    out.push(
      `# HELP ${name} Identity of this peer (value is always 1).`,
      `# TYPE ${name} gauge`,
      `${name}{${labels.join(',')}} 1`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. Required (the peer's `metrics.prometheusPort`). */
  port: number;
  /** Bind address. Default {@link DEFAULT_HTTP_HOST} (loopback only); use `0.0.0.0` for a remote Prometheus. */
  host?: string;
  /** Returns this peer's current numbers (may be async). */
  getMetrics: () => PeerMetrics | Promise<PeerMetrics>;
  /** Metric name prefix. Default {@link DEFAULT_METRIC_PREFIX}. */
  prefix?: string;
  /** Called when `getMetrics` fails (the scrape gets HTTP 500). Default: ignored. */
  onError?: (err: Error) => void;
  /** Aborting closes the server. */
  signal?: AbortSignal;
}

/** Serves `GET /metrics` (and `/` with a pointer to it). Resolves once listening. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<HttpService> {
  const port = checkPort('port', options.port);
  const host = options.host ?? DEFAULT_HTTP_HOST;
  if (typeof options.getMetrics !== 'function') {
    throw new InvalidOptionError('getMetrics', 'expected a function returning PeerMetrics');
  }
  // Validate the prefix now rather than at the first scrape.
  renderPrometheus(
    { round: 0, step: 0, loss: null, samplesPerSec: 0, bytesIn: 0, bytesOut: 0, peersSeen: 0 },
    options,
  );
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') {
      sendText(res, 200, 'enjambre peer metrics: see /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      sendText(res, 404, 'not found\n');
      return;
    }
    void (async () => {
      let text: string;
      try {
        text = renderPrometheus(await options.getMetrics(), options);
      } catch (err) {
        const e = toError(err);
        options.onError?.(e);
        sendText(res, 500, `metrics unavailable: ${e.message}\n`);
        return;
      }
      res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': PROMETHEUS_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : text);
    })();
  };
  return startHttpService('startMetricsServer', host, port, handler, options.signal);
}
