/**
 * Web dashboard over node:http: one self-contained page (`/`), the snapshot as JSON (`/api/status`) and a
 * Server-Sent-Events stream of snapshots (`/api/events`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_HTTP_HOST, DEFAULT_MAX_SSE_CLIENTS, DEFAULT_PUSH_INTERVAL_MS } from './constants.ts';
import { InvalidOptionError, toError } from './errors.ts';
import { BASE_HEADERS, checkPort, type HttpService, sendText, startHttpService } from './http.ts';
import { PAGE_CSP, PAGE_HTML } from './page.ts';
import type { SwarmSnapshot } from './status.ts';

/** Options of {@link startWebDashboard}. */
export interface WebDashboardOptions {
  /** TCP port; 0 picks a free one (see the returned `port`). Required. */
  port: number;
  /** Bind address. Default {@link DEFAULT_HTTP_HOST} (loopback only). */
  host?: string;
  /** Returns the current snapshot (called per request and per push). */
  getSnapshot: () => SwarmSnapshot;
  /** Interval of the `/api/events` pushes, ms. Default {@link DEFAULT_PUSH_INTERVAL_MS}. */
  pushIntervalMs?: number;
  /** Most concurrent `/api/events` clients; more get HTTP 503. Default {@link DEFAULT_MAX_SSE_CLIENTS}. */
  maxClients?: number;
  /** Called when `getSnapshot` throws (the request gets HTTP 500). Default: ignored. */
  onError?: (err: Error) => void;
  /** Aborting closes the server. */
  signal?: AbortSignal;
}

/** A running web dashboard. */
export interface WebDashboard extends HttpService {
  /** Number of connected `/api/events` clients. */
  readonly clients: number;
}

/** An event-stream client with more than this many bytes unsent is disconnected. */
const MAX_SSE_BUFFER_BYTES = 4 * 1024 * 1024;
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** Hostname part of a Host header (`[::1]:8080` → `[::1]`, `localhost:80` → `localhost`). */
function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** Starts the web dashboard; resolves once it listens. Throws {@link ListenError} when the port is taken. */
export async function startWebDashboard(options: WebDashboardOptions): Promise<WebDashboard> {
  const port = checkPort('port', options.port);
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const pushIntervalMs = options.pushIntervalMs ?? DEFAULT_PUSH_INTERVAL_MS;
  if (!Number.isFinite(pushIntervalMs) || pushIntervalMs < 50) {
    throw new InvalidOptionError(
      'pushIntervalMs',
      `expected a number of ms ≥ 50, got ${String(pushIntervalMs)}`,
    );
  }
  const maxClients = options.maxClients ?? DEFAULT_MAX_SSE_CLIENTS;
  if (!Number.isSafeInteger(maxClients) || maxClients < 1) {
    throw new InvalidOptionError('maxClients', `expected an integer ≥ 1, got ${String(maxClients)}`);
  }
  if (typeof options.getSnapshot !== 'function') {
    throw new InvalidOptionError('getSnapshot', 'expected a function returning a SwarmSnapshot');
  }
  // Bound to loopback: refuse other Host names, so that a web page elsewhere cannot read the status through
  // DNS rebinding.
  const checkHost = isLoopback(host);
  const clients = new Set<ServerResponse>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const snapshotJson = (): string | undefined => {
    try {
      return JSON.stringify(options.getSnapshot());
    } catch (err) {
      options.onError?.(toError(err));
      return undefined;
    }
  };
  const push = (): void => {
    if (clients.size === 0) return;
    const json = snapshotJson();
    if (json === undefined) return;
    for (const res of clients) {
      // A client that does not read would make the server buffer without bound: drop it instead.
      if (res.writableLength > MAX_SSE_BUFFER_BYTES) {
        res.destroy();
        dropClient(res);
      } else {
        res.write(`data: ${json}\n\n`);
      }
    }
  };
  const dropClient = (res: ServerResponse): void => {
    clients.delete(res);
    if (clients.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (checkHost && !LOOPBACK_NAMES.has(hostName(req.headers.host))) {
      sendText(res, 403, 'forbidden host\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/':
      case '/index.html':
        res.writeHead(200, {
          ...BASE_HEADERS,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': PAGE_CSP,
          'X-Frame-Options': 'DENY',
        });
        res.end(req.method === 'HEAD' ? undefined : PAGE_HTML);
        return;
      case '/api/status': {
        const json = snapshotJson();
        if (json === undefined) {
          sendText(res, 500, 'snapshot unavailable\n');
          return;
        }
        res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'application/json; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : json);
        return;
      }
      case '/api/events': {
        if (clients.size >= maxClients) {
          sendText(res, 503, `too many event-stream clients (at most ${maxClients})\n`, {
            'Retry-After': '5',
          });
          return;
        }
        res.writeHead(200, {
          ...BASE_HEADERS,
          'Content-Type': 'text/event-stream; charset=utf-8',
          Connection: 'keep-alive',
        });
        res.write('retry: 2000\n\n');
        const json = snapshotJson();
        if (json !== undefined) res.write(`data: ${json}\n\n`);
        clients.add(res);
        req.socket.setTimeout(0);
        res.on('close', () => dropClient(res));
        if (timer === undefined) {
          timer = setInterval(push, pushIntervalMs);
          timer.unref?.();
        }
        return;
      }
      case '/favicon.ico':
        res.writeHead(204, BASE_HEADERS);
        res.end();
        return;
      default:
        sendText(res, 404, 'not found\n');
    }
  };

  const service = await startHttpService('startWebDashboard', host, port, handler, options.signal, () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    for (const res of clients) res.end();
    clients.clear();
  });
  return {
    get url() {
      return service.url;
    },
    host: service.host,
    port: service.port,
    close: service.close,
    get clients() {
      return clients.size;
    },
  };
}
