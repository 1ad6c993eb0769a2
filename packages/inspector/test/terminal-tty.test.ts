/**
 * The TerminalDashboard in a real pseudo-terminal: tmux runs a fixture process (a real libp2p swarm and an
 * observer drawing on its stdout) and the test reads the screen back. Skipped when tmux is not installed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shortPeerId } from '../src/index.ts';
import { waitFor } from './swarm-fixture.ts';

const HAVE_TMUX = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const ROOT = path.resolve(import.meta.dirname, '../../..');
const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/tty-dashboard.ts');
const SOCKET = `enjambre-inspector-${process.pid}-${randomBytes(3).toString('hex')}`;
const IDS_FILE = path.join(tmpdir(), `${SOCKET}.ids`);

const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8', cwd: ROOT });

afterAll(() => {
  if (!HAVE_TMUX) return;
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  rmSync(IDS_FILE, { force: true });
});

describe(`TerminalDashboard in a pseudo-terminal${HAVE_TMUX ? '' : ' — SKIPPED: tmux is not installed'}`, () => {
  it.skipIf(!HAVE_TMUX)('redraws the live swarm in place', async () => {
    const command = `${process.execPath} --conditions=@enjambre/source --import tsx ${FIXTURE} ${IDS_FILE}`;
    tmux('new-session', '-d', '-s', 'dash', '-x', '110', '-y', '40', '-e', 'TERM=xterm-256color', command);
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'dash');
    await waitFor(() => existsSync(IDS_FILE) && readFileSync(IDS_FILE, 'utf8').includes('\n'), 20_000, 'ids');
    const ids = readFileSync(IDS_FILE, 'utf8').split('\n');
    let text = '';
    await waitFor(
      () => {
        text = screen();
        return (
          ids.every((id) => text.includes(shortPeerId(id))) &&
          /2 active/.test(text) &&
          /loss \S+ → /.test(text)
        );
      },
      20_000,
      'both trainers on the screen',
    );
    // Let a few more frames draw: in-place redraws leave exactly one frame on the screen.
    await new Promise((r) => setTimeout(r, 800));
    text = screen();
    expect(text.match(/Enjambre swarm/g)).toHaveLength(1);
    expect(text.split('\n')[0]).toMatch(/^Enjambre swarm {2}run inspect-/);
    for (const id of ids) expect(text).toContain(shortPeerId(id));
    expect(text).toMatch(/[▁▂▃▄▅▆▇█]/);
    expect(text).toMatch(/PEER\s+NAME\s+STATE/);
    expect(text).toContain('recent events');
    expect(text).not.toContain('\x1b');
  });
});
