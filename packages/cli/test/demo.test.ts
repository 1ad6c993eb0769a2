/**
 * The README's first command, end to end: `enjambre demo` runs under tmux (a real terminal), its
 * web dashboard is opened in headless Chromium, and both views are checked against the running
 * swarm of real peers. Skipped, saying why, where tmux or Chromium is missing (CI installs both).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@enjambre/peer';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CLI } from './cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const hasChromium = existsSync(CHROMIUM);
const why = [!hasTmux && 'tmux is not installed', !hasChromium && `no Chromium at ${CHROMIUM}`]
  .filter(Boolean)
  .join('; ');

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!hasTmux || !hasChromium)(`enjambre demo${why ? ` (skipped: ${why})` : ''}`, () => {
  it('starts a local swarm whose terminal view and web dashboard show its live peers and falling loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enjambre-demo-'));
    const port = await freePort();
    const session = `enjambre-demo-${process.pid}`;
    const command = `${process.execPath} ${CLI.join(' ')} demo --peers 2 --rounds 12 --web ${port} --dir ${dir}; echo DEMO-EXIT=$?; sleep 60`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '60', command]);
    const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const url = `http://127.0.0.1:${port}/`;
      // The dashboard answers once the peers are up and the observer has heard from both.
      const status = await until(async () => {
        const r = await fetch(`${url}api/status`).catch(() => undefined);
        const s = (await r?.json().catch(() => undefined)) as
          | { peers: { id: string; state: string }[] }
          | undefined;
        return s && s.peers.filter((p) => p.state === 'active').length === 2 ? s : undefined;
      }, 90_000);

      const page = await browser.newPage();
      await page.goto(url);
      const rows = page.locator('[data-testid="peers-table"] tbody tr');
      await until(async () => ((await rows.count()) === 2 ? true : undefined), 20_000);
      const points = async () =>
        Number(await page.locator('[data-testid="loss-chart"]').getAttribute('data-points'));
      const before = await until(async () => ((await points()) > 0 ? points() : undefined), 30_000);
      await until(async () => ((await points()) > before ? true : undefined), 30_000);
      // …and what it draws falls: the swarm is learning.
      await until(async () => {
        const r = await fetch(`${url}api/status`).catch(() => undefined);
        const s = (await r?.json().catch(() => undefined)) as { lossCurve: { loss: number }[] } | undefined;
        const curve = s?.lossCurve ?? [];
        return curve.length >= 3 && curve[curve.length - 1].loss < 0.9 * curve[0].loss ? true : undefined;
      }, 60_000);

      // The terminal view lists the same peers.
      const shortIds = status.peers.map((p) => p.id.slice(-8));
      const terminal = await until(() => {
        const text = screen();
        return shortIds.every((id) => text.includes(id)) ? text : undefined;
      }, 20_000);
      expect(terminal).toMatch(/PEER/);

      // The screen says how to stop it.
      expect(terminal).toMatch(/Ctrl-C/);

      // The peers finish their rounds; the web dashboard stays up until Ctrl-C.
      await until(() => (/the peers finished/.test(screen()) ? true : undefined), 180_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(screen()).not.toMatch(/DEMO-EXIT/);
      expect((await fetch(`${url}api/status`)).status).toBe(200);
      execFileSync('tmux', ['send-keys', '-t', session, 'C-c']);
      const end = await until(() => {
        const text = screen();
        return /DEMO-EXIT=\d/.test(text) ? text : undefined;
      }, 30_000);
      expect(end).toMatch(/DEMO-EXIT=0/);
      const summary = end.split('\n').filter((l) => /^peer-\d/.test(l));
      expect(summary).toHaveLength(2);
      const anchors = summary.map((l) => l.trim().split(/\s+/).at(-1));
      expect(anchors[0]).toMatch(/^[0-9a-f]{12}$/);
      expect(anchors[1]).toBe(anchors[0]);
      for (const l of summary) expect(l.split(/\s+/)[1]).toBe('0');
    } finally {
      await browser.close();
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  });
});
