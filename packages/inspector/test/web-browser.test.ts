/**
 * The web dashboard in a real headless browser (Debian's chromium through playwright-core), fed by an observer
 * of a real libp2p swarm. Skipped, with the reason, when chromium is not installed (CI installs it first).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startWebDashboard, type WebDashboard } from '../src/index.ts';
import { type SwarmFixture, startSwarmFixture, waitFor } from './swarm-fixture.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP_REASON = `chromium not found at ${CHROMIUM} (install it with 'apt-get install -y chromium' or set CHROMIUM_PATH)`;
// The test's own screenshot goes to a temp folder; docs/images/dashboard.png is taken from a real
// demo swarm by scripts/screenshot-demo.ts.
const SCREENSHOT = path.join(os.tmpdir(), 'enjambre-dashboard-test.png');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let fx: SwarmFixture | undefined;
let dash: WebDashboard | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await dash?.close();
  await fx?.stop();
});

describe(`web dashboard in headless chromium${HAVE_CHROMIUM ? '' : ` — SKIPPED: ${SKIP_REASON}`}`, () => {
  it.skipIf(!HAVE_CHROMIUM)('lists the live peers and updates the loss chart', async () => {
    fx = await startSwarmFixture({
      trainers: 3,
      heartbeatMs: 200,
      seed: 7,
      observer: { status: { staleAfterMissed: 50 } },
    });
    const f = fx;
    const ids = f.trainers.map((t) => t.peerId);
    await waitFor(
      () => f.observer.snapshot().peers.filter((p) => p.state === 'active').length === 3,
      15_000,
      'the observer to see 3 trainers',
    );
    dash = await startWebDashboard({
      port: 0,
      getSnapshot: () => f.observer.snapshot(),
      pushIntervalMs: 300,
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(dash.url);

    // Every live trainer is listed, with its numbers.
    const rows = page.locator('[data-testid="peer-row"]');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    const listed = await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.peerId));
    expect(listed.sort()).toEqual([...ids].sort());
    await expect.poll(() => page.locator('#total-peers').textContent()).toBe('3');
    const providers = await rows.evaluateAll((els) => els.map((e) => e.children[3].textContent));
    expect(providers.sort()).toEqual(['cpu', 'cuda', 'webgpu']);
    const hardware = await rows.evaluateAll((els) => els.map((e) => e.children[4].textContent));
    expect(hardware.sort()).toEqual([
      'test-device-0 · 4 cores',
      'test-device-1 · 5 cores',
      'test-device-2 · 6 cores',
    ]);
    expect(await page.locator('#conn-status').textContent()).toBe('live');

    // The chart grows as pushes arrive, and draws one vertex per point.
    const points = async (): Promise<number> =>
      Number(await page.locator('[data-testid="loss-chart"]').getAttribute('data-points'));
    const before = await points();
    expect(before).toBeGreaterThan(0);
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThan(before + 5);
    // The y axis: log-spaced labels (equal ratios), none clipped by the chart's left edge.
    const chart = await page.locator('[data-testid="loss-chart"]').boundingBox();
    const yLabels = page.locator('[data-testid="y-label"]');
    const ticks = (await yLabels.allTextContents()).map(Number);
    expect(ticks.length).toBe(5);
    const ratios = ticks.slice(1).map((v, i) => v / ticks[i]);
    for (const r of ratios) expect(r).toBeCloseTo(ratios[0], 1);
    for (const box of await yLabels.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left)))
      expect(box).toBeGreaterThanOrEqual((chart?.x ?? 0) - 0.5);
    const drawn = await page.locator('[data-testid="loss-line"]').getAttribute('points');
    const shown = await points();
    expect(drawn?.trim().split(/\s+/).length).toBe(shown);

    // A departure shows up live.
    await f.leave(2, 'maintenance window');
    const left = page.locator(`[data-testid="peer-row"][data-peer-id="${ids[2]}"]`);
    await expect.poll(() => left.getAttribute('data-state'), { timeout: 10_000 }).toBe('left');
    await expect.poll(() => page.locator('#events').textContent()).toContain('maintenance window');

    // Let the curve fill in a little for the picture.
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThan(60);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
