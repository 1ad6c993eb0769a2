import { afterEach, describe, expect, it } from 'vitest';
import {
  type HttpService,
  InvalidMetricsError,
  type PeerMetrics,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  startMetricsServer,
} from '../src/index.ts';
import { prng } from './helpers.ts';

/**
 * A plain parser of the text exposition format (the oracle): `{name → {type, help, samples[{labels, value}]}}`.
 */
function parseExposition(text: string) {
  const families = new Map<
    string,
    { type?: string; help?: string; samples: { labels: Record<string, string>; value: number }[] }
  >();
  const family = (name: string) => {
    let f = families.get(name);
    if (f === undefined) {
      f = { samples: [] };
      families.set(name, f);
    }
    return f;
  };
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    // The format ignores empty lines (prom-client separates families with one).
    if (line === '') continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'HELP') family(m[2]).help = m[3];
      else family(m[2]).type = m[3];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `line '${line}'`).not.toBeNull();
    const labels: Record<string, string> = {};
    if (m![2] !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      for (const l of m![2].matchAll(re)) {
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    family(m![1]).samples.push({ labels, value: Number(m![3]) });
  }
  return families;
}

function randomMetrics(seed: number): PeerMetrics {
  const rand = prng(seed);
  return {
    round: 1 + Math.floor(rand() * 100),
    step: 1 + Math.floor(rand() * 1e6),
    samplesDone: 1 + Math.floor(rand() * 1e9),
    loss: 0.01 + rand() * 4,
    samplesPerSec: 1 + rand() * 1e4,
    bytesIn: 1 + Math.floor(rand() * 1e12),
    bytesOut: 1 + Math.floor(rand() * 1e12),
    peersSeen: 1 + Math.floor(rand() * 50),
    info: { peer_id: '12D3KooWabc', name: 'box "one"\\\nx', provider: 'cuda' },
  };
}

describe('renderPrometheus', () => {
  it('renders every number of one peer, typed, and round-trips through a parser', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const m = randomMetrics(seed);
      const fam = parseExposition(await renderPrometheus(m));
      const value = (name: string) => fam.get(name)?.samples[0].value;
      expect(value('enjambre_round')).toBe(m.round);
      expect(value('enjambre_step')).toBe(m.step);
      expect(value('enjambre_samples_total')).toBe(m.samplesDone);
      expect(value('enjambre_loss')).toBe(m.loss);
      expect(value('enjambre_samples_per_second')).toBe(m.samplesPerSec);
      expect(value('enjambre_received_bytes_total')).toBe(m.bytesIn);
      expect(value('enjambre_sent_bytes_total')).toBe(m.bytesOut);
      expect(value('enjambre_peers')).toBe(m.peersSeen);
      expect(fam.get('enjambre_received_bytes_total')?.type).toBe('counter');
      expect(fam.get('enjambre_loss')?.type).toBe('gauge');
      for (const f of fam.values()) expect(f.help?.length).toBeGreaterThan(0);
      expect(fam.get('enjambre_peer_info')?.samples[0]).toEqual({ labels: m.info, value: 1 });
    }
  });

  it('omits a missing loss and optional samples, honours the prefix', async () => {
    const text = await renderPrometheus(
      { round: 3, step: 7, loss: null, samplesPerSec: 0, bytesIn: 1, bytesOut: 2, peersSeen: 0 },
      { prefix: 'x_' },
    );
    const fam = parseExposition(text);
    expect(fam.has('x_loss')).toBe(false);
    expect(fam.has('x_samples_total')).toBe(false);
    expect(fam.get('x_round')?.samples[0].value).toBe(3);
  });

  it('rejects malformed numbers and label names, naming the field', async () => {
    const good = randomMetrics(20);
    const bad: Array<[Partial<PeerMetrics>, string]> = [
      [{ bytesIn: -1 }, 'bytesIn'],
      [{ loss: Number.NaN }, 'loss'],
      [{ round: 1.5 }, 'round'],
      [{ samplesPerSec: Number.POSITIVE_INFINITY }, 'samplesPerSec'],
      [{ info: { 'bad-label': 'x' } }, 'info.bad-label'],
    ];
    for (const [patch, field] of bad) {
      let err: unknown;
      try {
        await renderPrometheus({ ...good, ...patch });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidMetricsError);
      expect((err as InvalidMetricsError).field).toBe(field);
    }
  });
});

describe('startMetricsServer', () => {
  let server: HttpService | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /metrics with the current numbers', async () => {
    let m = randomMetrics(30);
    server = await startMetricsServer({ port: 0, getMetrics: async () => m });
    let res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const first = parseExposition(await res.text());
    expect(first.get('enjambre_step')?.samples[0].value).toBe(m.step);
    // prom-client's default process metrics come along.
    expect(first.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(first.get('process_cpu_user_seconds_total')?.samples[0].value).toBeGreaterThan(0);
    expect(first.get('nodejs_heap_size_used_bytes')?.samples[0].value).toBeGreaterThan(1e6);
    expect(first.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    m = { ...m, step: m.step + 17, loss: null };
    res = await fetch(`${server.url}/metrics`);
    const second = parseExposition(await res.text());
    expect(second.get('enjambre_step')?.samples[0].value).toBe(m.step);
    expect(second.has('enjambre_loss')).toBe(false);
    expect((await fetch(`${server.url}/other`)).status).toBe(404);
  });

  it('answers 500 when the metrics are invalid or unavailable', async () => {
    const errors: Error[] = [];
    server = await startMetricsServer({
      port: 0,
      getMetrics: () => ({ ...randomMetrics(31), bytesOut: -5 }),
      onError: (e) => errors.push(e),
    });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('bytesOut');
    expect(errors[0]).toBeInstanceOf(InvalidMetricsError);
  });
});
