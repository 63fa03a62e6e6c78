export interface RateLimiterOptions {
  /** Delay ceiling of the first retry; doubles per consecutive failure. Default 2000 ms. */
  baseMs?: number;
  /** Upper bound of any delay. Default 300000 ms (5 min). */
  capMs?: number;
  /** Source of randomness in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export interface RateLimiter {
  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  when(key: string): number;
  /** Clears `key`'s failure history (after a success). */
  forget(key: string): void;
  /** Consecutive failures recorded for `key` since the last `forget`. */
  failures(key: string): number;
}

export const DEFAULT_BASE_MS = 2_000;
export const DEFAULT_CAP_MS = 300_000;

/**
 * Per-item exponential backoff with full jitter: the nth consecutive failure waits a uniformly random time
 * in [0, min(cap, base * 2^(n-1))). Full jitter (rather than a fixed exponential) spreads the retries of
 * many Extensions that failed together, e.g. when an ONTAP cluster came back, so they do not stampede it.
 */
export function createRateLimiter(opts: RateLimiterOptions = {}): RateLimiter {
  const baseMs = opts.baseMs ?? DEFAULT_BASE_MS;
  const capMs = opts.capMs ?? DEFAULT_CAP_MS;
  const random = opts.random ?? Math.random;
  if (!(baseMs > 0) || !(capMs >= baseMs)) {
    throw new RangeError(`rate limiter needs 0 < baseMs <= capMs (got baseMs=${baseMs}, capMs=${capMs})`);
  }
  const counts = new Map<string, number>();
  return {
    when(key) {
      const previous = counts.get(key) ?? 0;
      counts.set(key, previous + 1);
      // 2^previous overflows to Infinity long after min() has picked the cap; clamp the exponent anyway.
      const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(previous, 52));
      return Math.floor(random() * ceiling);
    },
    forget(key) {
      counts.delete(key);
    },
    failures(key) {
      return counts.get(key) ?? 0;
    },
  };
}
