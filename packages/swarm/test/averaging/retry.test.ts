import { describe, expect, it } from 'vitest';
import { retryWithBackoff } from '../../src/protocol/retry.ts';

const changed = (n: number) => new Error(`snapshot changed meanwhile (now hash-${n})`);

describe('retryWithBackoff (snapshot fetches while the swarm moves on)', () => {
  it('tries again after a changed snapshot and returns the first success', async () => {
    const base = 5 + Math.floor(Math.random() * 10);
    const waits: [number, number][] = [];
    let calls = 0;
    const start = performance.now();
    const value = await retryWithBackoff(
      async (attempt) => {
        calls++;
        expect(attempt).toBe(calls);
        if (calls < 3) throw changed(calls);
        return `state-${calls}`;
      },
      { attempts: 8, baseMs: base, maxMs: 1000, onRetry: (_e, attempt, ms) => waits.push([attempt, ms]) },
    );
    expect(value).toBe('state-3');
    expect(waits.map(([a]) => a)).toEqual([1, 2]);
    // Doubling waits, each within ±25% of base·2^(k-1).
    waits.forEach(([a, ms]) => {
      expect(ms).toBeGreaterThanOrEqual(0.75 * base * 2 ** (a - 1));
      expect(ms).toBeLessThanOrEqual(1.25 * base * 2 ** (a - 1));
    });
    expect(performance.now() - start).toBeGreaterThanOrEqual(0.75 * base * 3 - 1);
  });

  it('gives up after the bounded number of tries with the last failure, waits capped', async () => {
    let calls = 0;
    const waits: number[] = [];
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw changed(calls);
        },
        { attempts: 5, baseMs: 4, maxMs: 10, onRetry: (_e, _a, ms) => waits.push(ms) },
      ),
    ).rejects.toThrow('snapshot changed meanwhile (now hash-5)');
    expect(calls).toBe(5);
    expect(waits).toHaveLength(4);
    expect(Math.max(...waits)).toBeLessThanOrEqual(12.5);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = retryWithBackoff(
      async () => {
        calls++;
        throw changed(calls);
      },
      { attempts: 10, baseMs: 10_000, maxMs: 10_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('stop')), 20);
    const start = performance.now();
    await expect(run).rejects.toThrow();
    expect(performance.now() - start).toBeLessThan(2_000);
    expect(calls).toBe(1);
  });
});
