import { describe, expect, it } from 'vitest';
import {
  blockChart,
  downsample,
  formatLoss,
  renderTerminal,
  type SwarmSnapshot,
  SwarmStatus,
  shortPeerId,
  sparkline,
  TerminalDashboard,
} from '../src/index.ts';
import { fakePeerId, heartbeat, prng } from './helpers.ts';

const T0 = 1_760_000_000_000;
const BLOCK_RE = /[▁▂▃▄▅▆▇█]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A swarm of 4 peers (one stale, one departed) with a falling loss curve. */
function fixture(seed: number): { snap: SwarmSnapshot; ids: string[] } {
  const rand = prng(seed);
  const s = new SwarmStatus({ runId: 'demo-run', heartbeatIntervalMs: 1000, lossSampleIntervalMs: 0 });
  const ids = [fakePeerId(rand), fakePeerId(rand), fakePeerId(rand), fakePeerId(rand)];
  let t = T0;
  for (let i = 0; i < 80; i++) {
    t += 250;
    const id = ids[i % 3];
    s.ingest(
      heartbeat(rand, { round: Math.floor(i / 20), loss: 3 * Math.exp(-i / 25) + rand() * 0.05 }),
      id,
      t,
    );
    if (i === 5) s.ingest({ ...heartbeat(rand), name: 'evil\x1b[2J\x07name' }, ids[3], t);
    if (i === 6) s.ingestLeave({ round: 0, reason: 'maintenance' }, ids[3], t);
  }
  // ids[2] goes silent for a while: stale.
  for (let i = 0; i < 20; i++) {
    t += 250;
    s.ingest(heartbeat(rand, { round: 4, loss: 0.2 + rand() * 0.01 }), ids[i % 2], t);
  }
  return { snap: s.snapshot(t), ids };
}

describe('renderTerminal', () => {
  it('shows every peer, the totals, a loss chart and recent events', () => {
    const { snap, ids } = fixture(1);
    const text = renderTerminal(snap, { width: 140 });
    for (const id of ids) expect(text).toContain(shortPeerId(id));
    expect(snap.peers.map((p) => p.state).sort()).toEqual(['active', 'active', 'left', 'stale']);
    for (const state of ['active', 'stale', 'left']) expect(text).toContain(state);
    expect(text).toContain('run demo-run');
    expect(text).toContain(`mean loss ${formatLoss(snap.swarm.meanLoss)}`);
    expect(text).toMatch(BLOCK_RE);
    const first = snap.lossCurve[0];
    const last = snap.lossCurve.at(-1)!;
    expect(text).toContain(`${formatLoss(first.loss)} → ${formatLoss(last.loss)}`);
    expect(text).toContain('recent events');
    expect(text).toContain('leave');
    expect(text).toContain('maintenance');
    expect(text).toContain('stale');
    // Without colour there is no escape character at all, even with a hostile peer name.
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\x07');
    expect(text).toContain('evil[2Jname');
  });

  it('fits every line in the width, dropping the less important columns', () => {
    const { snap, ids } = fixture(2);
    for (const width of [40, 60, 80, 100, 140, 220]) {
      for (const color of [false, true]) {
        const text = renderTerminal(snap, { width, color });
        for (const line of text.split('\n')) {
          expect(Array.from(line.replace(ANSI_RE, '')).length).toBeLessThanOrEqual(width);
        }
        // The peer column and the loss chart are always there.
        for (const id of ids) expect(text).toContain(shortPeerId(id));
        expect(text).toMatch(BLOCK_RE);
      }
    }
    expect(renderTerminal(snap, { width: 200 })).toContain('DEVICE');
    expect(renderTerminal(snap, { width: 60 })).not.toContain('DEVICE');
  });

  it('colours states when asked', () => {
    const { snap } = fixture(3);
    const text = renderTerminal(snap, { width: 120, color: true });
    expect(text).toContain('\x1b[32mactive');
    expect(text).toContain('\x1b[33mstale');
  });

  it('renders an empty swarm', () => {
    const text = renderTerminal(new SwarmStatus().snapshot(T0), { width: 80 });
    expect(text).toContain('waiting for heartbeats');
    expect(text).toContain('no loss reported yet');
  });
});

describe('charts', () => {
  it('downsample averages buckets (reference: plain mean per bucket)', () => {
    const rand = prng(7);
    const v = Array.from({ length: 103 }, () => rand() * 10 + 0.1);
    const d = downsample(v, 10);
    expect(d).toHaveLength(10);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    // equal-ish buckets: the mean of bucket means is close to the overall mean
    expect(d.reduce((a, b) => a + b, 0) / d.length).toBeCloseTo(mean, 0);
    expect(d[0]).toBeCloseTo(v.slice(0, 10).reduce((a, b) => a + b, 0) / 10, 12);
    expect(downsample(v.slice(0, 5), 10)).toEqual(v.slice(0, 5));
  });

  it('maps the minimum to the lowest block and the maximum to a full column', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8)).toBe('▁▂▃▄▅▆▇█');
    const rows = blockChart([5, 0.5, 2.75], 3, 2);
    expect(rows).toHaveLength(2);
    expect(rows[0][0]).toBe('█'); // max fills the top row
    expect(rows[1][0]).toBe('█');
    expect(rows[0][1]).toBe(' '); // min: one eighth in the bottom row
    expect(rows[1][1]).toBe('▁');
    expect(sparkline([2, 2, 2], 3)).toBe('▄▄▄');
  });
});

class FakeStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
    readonly rows?: number,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

describe('TerminalDashboard', () => {
  it('redraws in place on a TTY and gives the cursor back on stop', async () => {
    const { snap } = fixture(4);
    const stream = new FakeStream(true, 120, 30);
    let calls = 0;
    const dash = new TerminalDashboard({
      stream,
      intervalMs: 20,
      getSnapshot: () => {
        calls++;
        return snap;
      },
    });
    dash.start();
    await new Promise((r) => setTimeout(r, 120));
    dash.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(stream.chunks[0]).toBe('\x1b[?25l\x1b[2J');
    const frames = stream.chunks.filter((c) => c.startsWith('\x1b[H'));
    expect(frames.length).toBe(dash.frameCount);
    expect(frames[0]).toContain('\x1b[K');
    expect(frames[0].endsWith('\x1b[J')).toBe(true);
    expect(frames[0].split('\n').length).toBeLessThanOrEqual(30);
    expect(frames[0]).toContain('\x1b[32m'); // colour on by default on a TTY
    expect(stream.chunks.at(-1)).toBe('\x1b[?25h');
    const n = stream.chunks.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(stream.chunks.length).toBe(n);
  });

  it('appends plain frames elsewhere, stops on abort and reports getSnapshot failures', async () => {
    const { snap } = fixture(5);
    const stream = new FakeStream(false);
    const ac = new AbortController();
    const errors: Error[] = [];
    let fail = false;
    const dash = new TerminalDashboard({
      stream,
      intervalMs: 20,
      signal: ac.signal,
      onError: (e) => errors.push(e),
      getSnapshot: () => {
        if (fail) throw new Error('no snapshot');
        return snap;
      },
    });
    dash.start();
    await new Promise((r) => setTimeout(r, 50));
    fail = true;
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    expect(dash.isRunning()).toBe(false);
    expect(stream.chunks.length).toBeGreaterThanOrEqual(1);
    for (const c of stream.chunks) expect(c).not.toContain('\x1b');
    expect(stream.chunks[0]).toContain('Enjambre swarm');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0].message).toBe('no snapshot');
  });

  it('validates its interval', () => {
    expect(
      () =>
        new TerminalDashboard({
          stream: new FakeStream(false),
          getSnapshot: () => fixture(6).snap,
          intervalMs: 0,
        }),
    ).toThrow(/intervalMs/);
  });
});
