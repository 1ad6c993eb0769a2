/** Per-peer token buckets: what bounds how often one peer may ask this node for expensive work. */
export interface RateLimit {
  /** Requests allowed at once. */
  burst: number;
  /** Tokens regained per second. */
  perSecond: number;
}

export class PeerRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: RateLimit) {}

  /** Takes one token for `peer`; false when it has none left (the request is refused). */
  take(peer: string, now = Date.now()): boolean {
    const b = this.buckets.get(peer) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
    b.at = now;
    this.buckets.set(peer, b);
    if (this.buckets.size > 4096) this.forgetFull(now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled (bounded memory however many peers ask). */
  private forgetFull(now: number): void {
    for (const [peer, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.perSecond >= this.limit.burst)
        this.buckets.delete(peer);
    }
  }
}
