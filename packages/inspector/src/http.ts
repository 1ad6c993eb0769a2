/** Shared plumbing of the inspector's two HTTP servers (web dashboard, metrics). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortError, InvalidOptionError, ListenError, toError } from './errors.ts';

/** A running HTTP service. */
export interface HttpService {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops accepting connections, ends open ones and resolves when the server is closed (idempotent). */
  close(): Promise<void>;
}

/** Validates a TCP port option (0 = any free port). */
export function checkPort(option: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError(option, `expected an integer port in 0..65535, got ${String(port)}`);
  }
  return port;
}

/** Headers every response carries. */
export const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
} as const;

/** Sends a small text response. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(text);
}

/**
 * Starts an HTTP server on `host:port` with `handler`. Rejects with {@link ListenError} when the address is
 * taken or not available, with {@link AbortError} when `signal` is already aborted; aborting later closes it.
 */
export async function startHttpService(
  name: string,
  host: string,
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  signal: AbortSignal | undefined,
  onClose?: () => void,
): Promise<HttpService> {
  if (signal?.aborted) throw new AbortError(name, { cause: signal.reason });
  const server: Server = createServer((req, res) => {
    try {
      handler(req, res);
    } catch (err) {
      if (!res.headersSent) sendText(res, 500, `internal error: ${toError(err).message}\n`);
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new ListenError(host, port, toError(err).message, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closing !== undefined) return closing;
    signal?.removeEventListener('abort', onAbort);
    onClose?.();
    closing = new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const onAbort = (): void => {
    void close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${urlHost}:${bound}`, host, port: bound, close };
}
