/**
 * Prometheus metrics of ONE peer's own numbers through prom-client (text exposition format 0.0.4),
 * with prom-client's default process metrics (CPU, memory, event-loop lag, GC, handles) on the
 * `/metrics` server. Each peer exposes this on the port of its config (`metrics.prometheusPort`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
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
export const PROMETHEUS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

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

/** Checks one peer's numbers; throws {@link InvalidMetricsError} naming the field. */
function checkMetrics(metrics: PeerMetrics): void {
  if (metrics === null || typeof metrics !== 'object')
    throw new InvalidMetricsError('metrics', 'expected an object');
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
  }
  for (const [k, v] of Object.entries(metrics.info ?? {})) {
    if (!LABEL_NAME_RE.test(k) || k.startsWith('__')) {
      throw new InvalidMetricsError(`info.${k}`, 'invalid label name (expected [a-zA-Z_][a-zA-Z0-9_]*)');
    }
    if (typeof v !== 'string')
      throw new InvalidMetricsError(`info.${k}`, `expected a string, got ${typeof v}`);
  }
}

/**
 * A prom-client registry of one peer's numbers (and, with `processMetrics`, prom-client's default
 * process metrics). {@link render} sets the values and returns the exposition text.
 */
export class PeerMetricsRegistry {
  readonly registry = new Registry();
  private readonly prefix: string;
  private readonly series = new Map<keyof PeerMetrics, Gauge | Counter>();
  private info: { keys: string; gauge: Gauge } | undefined;

  constructor(options: RenderPrometheusOptions & { processMetrics?: boolean } = {}) {
    this.prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
    if (this.prefix !== '' && !METRIC_NAME_RE.test(this.prefix)) {
      throw new InvalidOptionError('prefix', `'${this.prefix}' is not a valid metric name prefix`);
    }
    for (const m of METRICS) {
      const config = { name: this.prefix + m.name, help: m.help, registers: [] };
      this.series.set(m.key, m.type === 'counter' ? new Counter(config) : new Gauge(config));
    }
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Checks `metrics` (throws {@link InvalidMetricsError}), sets every series and renders them. */
  async render(metrics: PeerMetrics): Promise<string> {
    checkMetrics(metrics);
    for (const m of METRICS) {
      const series = this.series.get(m.key) as Gauge | Counter;
      const v = metrics[m.key] as number | null | undefined;
      const name = this.prefix + m.name;
      // A missing value (no loss yet) is left out rather than exported as 0.
      if (v === null || v === undefined) {
        this.registry.removeSingleMetric(name);
        continue;
      }
      if (!this.registry.getSingleMetric(name)) this.registry.registerMetric(series);
      if (series instanceof Counter) {
        series.reset();
        series.inc(v);
      } else series.set(v);
    }
    this.setInfo(metrics.info);
    return this.registry.metrics();
  }

  private setInfo(info: Record<string, string> | undefined): void {
    const name = `${this.prefix}peer_info`;
    const keys = Object.keys(info ?? {}).join(',');
    if (this.info && (info === undefined || this.info.keys !== keys)) {
      this.registry.removeSingleMetric(name);
      this.info = undefined;
    }
    if (info === undefined) return;
    this.info ??= {
      keys,
      gauge: new Gauge({
        name,
        help: 'Identity of this peer (value is always 1).',
        labelNames: Object.keys(info),
        registers: [this.registry],
      }),
    };
    this.info.gauge.reset();
    this.info.gauge.set(info, 1);
  }
}

/**
 * Renders one peer's metrics in the Prometheus text exposition format (without process metrics).
 * Rejects with {@link InvalidMetricsError} when a value is not a finite number ≥ 0 (loss: finite
 * or null) or a label name is invalid.
 */
export async function renderPrometheus(
  metrics: PeerMetrics,
  options: RenderPrometheusOptions = {},
): Promise<string> {
  return new PeerMetricsRegistry(options).render(metrics);
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
  const registry = new PeerMetricsRegistry({ prefix: options.prefix, processMetrics: true });
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
        text = await registry.render(await options.getMetrics());
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
