/**
 * Takes docs/images/dashboard.png from a real local swarm: starts `enjambre demo`, waits while
 * the peers train, opens the web dashboard in headless Chromium and saves a screenshot.
 *
 *   npx tsx scripts/screenshot-demo.ts [--seconds 40] [--out docs/images/dashboard.png]
 *
 * Needs Debian's chromium (apt-get install chromium).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '40' },
    out: { type: 'string', default: 'docs/images/dashboard.png' },
  },
});
const port = 8000 + Math.floor(Math.random() * 1000);
const demo = spawn(
  process.execPath,
  ['packages/cli/bin/enjambre.js', 'demo', '--rounds', '200', '--web', String(port)],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
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
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForTimeout(3000);
  await page.screenshot({ path: resolve(values.out!), fullPage: true });
  console.log(`wrote ${values.out}`);
} finally {
  await browser.close();
  demo.kill('SIGINT');
}
