import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  ListenError,
  type SwarmSnapshot,
  SwarmStatus,
  startWebDashboard,
  type WebDashboard,
} from '../src/index.ts';
import { fakePeerId, heartbeat, prng } from './helpers.ts';

const T0 = 1_760_000_000_000;
const open: WebDashboard[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

/** A status fed with fresh heartbeats each time a snapshot is taken, so that consecutive snapshots differ. */
function liveStatus(seed: number): { status: SwarmStatus; getSnapshot: () => SwarmSnapshot; ids: string[] } {
  const rand = prng(seed);
  const status = new SwarmStatus({ runId: 'web-run', lossSampleIntervalMs: 0 });
  const ids = [fakePeerId(rand), fakePeerId(rand)];
  let t = T0;
  const getSnapshot = (): SwarmSnapshot => {
    t += 100;
    for (const id of ids) status.ingest(heartbeat(rand), id, t);
    return status.snapshot(t);
  };
  return { status, getSnapshot, ids };
}

async function start(
  options: Partial<Parameters<typeof startWebDashboard>[0]> & { getSnapshot: () => SwarmSnapshot },
) {
  const d = await startWebDashboard({ port: 0, ...options });
  open.push(d);
  return d;
}

/** Reads `count` SSE `data:` events from a URL. */
async function readEvents(url: string, count: number): Promise<SwarmSnapshot[]> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const events: SwarmSnapshot[] = [];
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data !== '') events.push(JSON.parse(data));
      end = buffer.indexOf('\n\n');
    }
  }
  ac.abort();
  return events;
}

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rawGet(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startWebDashboard', () => {
  it('serves the page, the JSON snapshot and a live event stream', async () => {
    const { getSnapshot, ids } = liveStatus(1);
    const d = await start({ getSnapshot, pushIntervalMs: 50 });
    expect(d.url).toBe(`http://127.0.0.1:${d.port}`);

    const page = await fetch(`${d.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-/);
    const html = await page.text();
    for (const id of [
      'loss-chart',
      'peers-table',
      'total-round',
      'total-throughput',
      'total-loss',
      'events',
    ]) {
      expect(html).toContain(`data-testid="${id}"`);
    }
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);

    const status = await fetch(`${d.url}/api/status`);
    expect(status.headers.get('content-type')).toMatch(/^application\/json/);
    const snap = (await status.json()) as SwarmSnapshot;
    expect(snap.version).toBe(1);
    expect(snap.runId).toBe('web-run');
    expect(snap.peers.map((p) => p.id).sort()).toEqual([...ids].sort());

    const events = await readEvents(`${d.url}/api/events`, 3);
    expect(events).toHaveLength(3);
    // Each push is a fresh snapshot: time advances and the loss curve grows.
    expect(events[1].time).toBeGreaterThan(events[0].time);
    expect(events[2].lossCurve.length).toBeGreaterThan(events[0].lossCurve.length);
    await new Promise((r) => setTimeout(r, 100));
    expect(d.clients).toBe(0);
  });

  it('answers 404, 405 and 403 (foreign Host header), and limits event-stream clients', async () => {
    const { getSnapshot } = liveStatus(2);
    const d = await start({ getSnapshot, maxClients: 1 });
    expect((await fetch(`${d.url}/nope`)).status).toBe(404);
    expect((await fetch(`${d.url}/api/status`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect(await rawGet(d.port, '/api/status', 'evil.example:80')).toBe(403);
    expect(await rawGet(d.port, '/api/status', `localhost:${d.port}`)).toBe(200);

    const ac = new AbortController();
    const first = await fetch(`${d.url}/api/events`, { signal: ac.signal });
    expect(first.status).toBe(200);
    const second = await fetch(`${d.url}/api/events`);
    expect(second.status).toBe(503);
    ac.abort();
  });

  it('drops an event-stream client that does not read', async () => {
    const rand = prng(9);
    const status = new SwarmStatus({ maxPeers: 2000 });
    for (let i = 0; i < 1500; i++) status.ingest(heartbeat(rand), fakePeerId(rand), T0 + i);
    const big = status.snapshot(T0 + 1500);
    expect(JSON.stringify(big).length).toBeGreaterThan(400_000);
    const d = await start({ getSnapshot: () => big, pushIntervalMs: 50 });
    const socket = connect(d.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${d.port}\r\n\r\n`);
    socket.pause(); // never read
    await waitUntil(() => d.clients === 1, 'the client to connect');
    await waitUntil(() => d.clients === 0, 'the stalled client to be dropped');
    socket.destroy();
  });

  it('returns 500 and reports when the snapshot fails', async () => {
    const errors: Error[] = [];
    const d = await start({
      getSnapshot: () => {
        throw new Error('model exploded');
      },
      onError: (e) => errors.push(e),
    });
    expect((await fetch(`${d.url}/api/status`)).status).toBe(500);
    expect(errors[0]?.message).toBe('model exploded');
  });

  it('closes on abort, refuses a taken port and bad options', async () => {
    const { getSnapshot } = liveStatus(3);
    const ac = new AbortController();
    const d = await startWebDashboard({ port: 0, getSnapshot, signal: ac.signal });
    expect((await fetch(`${d.url}/api/status`)).status).toBe(200);
    const other = await start({ getSnapshot });
    await expect(startWebDashboard({ port: other.port, getSnapshot })).rejects.toThrow(ListenError);
    ac.abort();
    await d.close();
    await expect(fetch(`${d.url}/api/status`)).rejects.toThrow();
    await expect(startWebDashboard({ port: 70_000, getSnapshot })).rejects.toThrow(InvalidOptionError);
    await expect(startWebDashboard({ port: 0, getSnapshot, pushIntervalMs: 1 })).rejects.toThrow(
      /pushIntervalMs/,
    );
  });
});
