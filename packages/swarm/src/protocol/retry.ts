import { sleep } from '../sleep.ts';

/** Bounds of {@link retryWithBackoff}. */
export interface BackoffOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait after the first failure, ms; it doubles after each further failure. */
  baseMs: number;
  /** Longest single wait, ms. */
  maxMs: number;
  signal?: AbortSignal;
  /** Called before each wait with the failure, the try that failed (1-based) and the wait. */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

/**
 * Runs `fn` until it succeeds, at most `attempts` times, waiting base·2^(k-1) ms (capped, with
 * ±25% jitter so that peers started together do not retry in step) between tries. A swarm's
 * state moves on at every outer step, so a snapshot fetch that straddles one fails and succeeds
 * on a later try. Rethrows the last failure, or at once when the signal is aborted.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  o: BackoffOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= o.attempts || o.signal?.aborted) throw e;
      const wait = Math.min(o.maxMs, o.baseMs * 2 ** (attempt - 1)) * (0.75 + 0.5 * Math.random());
      o.onRetry?.(e, attempt, wait);
      await sleep(wait, o.signal);
      // An abort ends the wait early: give up with the failure rather than try once more.
      if (o.signal?.aborted) throw e;
    }
  }
}
