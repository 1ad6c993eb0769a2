/**
 * `@enjambre/inspector`: the swarm status model built from gossiped heartbeats, its terminal and web views,
 * per-peer Prometheus metrics and the observer peer that feeds them.
 */
export * from './constants.ts';
export * from './errors.ts';
export {
  blockChart,
  downsample,
  formatAge,
  formatBytes,
  formatClock,
  formatCount,
  formatLoss,
  sparkline,
} from './format.ts';
export type { HttpService } from './http.ts';
export { createObserver, type Observer, type ObserverOptions } from './observer.ts';
export {
  type MetricsServerOptions,
  type PeerMetrics,
  PROMETHEUS_CONTENT_TYPE,
  type RenderPrometheusOptions,
  renderPrometheus,
  startMetricsServer,
} from './prometheus.ts';
export {
  type HardwareInfo,
  type HeartbeatInfo,
  type LeaveInfo,
  type LossPoint,
  type PeerRole,
  type PeerSnapshot,
  type PeerState,
  type SwarmEvent,
  type SwarmEventKind,
  type SwarmSnapshot,
  SwarmStatus,
  type SwarmStatusOptions,
  type SwarmTotals,
  sanitizeText,
  shortPeerId,
} from './status.ts';
export {
  type FetchStatusOptions,
  fetchSwarmStatus,
  parseServedStatus,
  type ServedStatus,
  type StatusService,
  serveSwarmStatus,
} from './status-service.ts';
export {
  type DashboardStream,
  DEFAULT_CHART_HEIGHT,
  type RenderTerminalOptions,
  renderTerminal,
  TerminalDashboard,
  type TerminalDashboardOptions,
} from './terminal.ts';
export { startWebDashboard, type WebDashboard, type WebDashboardOptions } from './web.ts';
