/**
 * Per-agent quotas (config.quotas). Held locks and open tasks are capped by SQL in the call that would exceed them:
 * `quotaCap` gives the cap to pass. Rates are counted here, in memory, per process.
 *
 * Per-agent rates, counted in memory by this process: a token bucket per key that holds a minute's allowance and
 * refills continuously, so an agent may burst up to its per-minute rate and then goes at that rate. Rates are a guard
 * against one agent flooding the coordinator, not an accounting: each process (each edge isolate) counts on its own.
 */
import { ApiError } from "../http/errors.ts";
import type { OpContext } from "../types.ts";

// Buckets beyond this many are pruned (the full ones first: their agents have been quiet for a minute).
const MAX_KEYS = 50_000;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `perMinute` 0 means no limit. */
  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one unit for `key`: 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    const perMs = this.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_KEYS) this.prune(now, perMs);
    return 0;
  }

  private prune(now: number, perMs: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * perMs >= this.perMinute) this.buckets.delete(k);
    // Still too many (a flood of distinct ids): forget the oldest half rather than grow without bound.
    if (this.buckets.size > MAX_KEYS) {
      let n = this.buckets.size / 2;
      for (const k of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }
}

/** The 429 of a quota: which limit, how far, and when to try again. */
export function quotaError(limit: string, message: string, retryAfterSeconds: number, details = {}): ApiError {
  return new ApiError(429, "quota_exceeded", message, {
    limit,
    ...details,
    retry_after_seconds: retryAfterSeconds,
  });
}

/** A per-agent cap as SQL takes it: null for admins (exempt) and when the cap is off (0). */
export function quotaCap(ctx: Pick<OpContext, "identity">, max: number): number | null {
  return ctx.identity.scope === "admin" || max <= 0 ? null : max;
}
