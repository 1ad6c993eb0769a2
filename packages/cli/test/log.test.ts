import { afterEach, describe, expect, it, vi } from 'vitest';
import { configureLogging, Notices } from '../src/log.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function captureStderr(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  return lines;
}

describe('repeated notices', () => {
  it('print the first of a kind, then one line with the count of the repeats', () => {
    configureLogging({ level: 'info', format: 'text' });
    const lines = captureStderr();
    const notices = new Notices('warn', 3_600_000);
    const n = 1800 + Math.floor(Math.random() * 100);
    for (let r = 1; r <= n; r++)
      notices.notice(
        `round ${r} closed with this peer's update only, though ${1 + (r % 3)} peer(s) are known`,
      );
    notices.notice('another kind of notice');
    notices.close();
    expect(lines).toEqual([
      "warning: round 1 closed with this peer's update only, though 2 peer(s) are known",
      'warning: another kind of notice',
      `warning: round ${n} closed with this peer's update only, though ${1 + (n % 3)} peer(s) are known (${n - 1} more like this)`,
    ]);
  });

  it('are silent below the level (JSON lines: see usage.test.ts)', () => {
    configureLogging({ level: 'error', format: 'text' });
    const lines = captureStderr();
    const quiet = new Notices('warn', 3_600_000);
    quiet.notice('not shown');
    quiet.notice('not shown');
    quiet.close();
    expect(lines).toEqual([]);
  });
});
