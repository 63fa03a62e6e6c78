import { setTimeout } from "node:timers/promises";
import { isOntapError, type OntapError } from "./errors.js";

/** Capped exponential backoff with full jitter, bounded by attempts and by total time. */
export interface RetryPolicy {
  /** Upper bound of the first backoff (ms). */
  baseMs: number;
  /** No single backoff exceeds this (ms). */
  capMs: number;
  /** Attempts in total, the first included. 1 means "no retry". */
  maxAttempts: number;
  /** No retry starts (or sleeps) past this much time since the first attempt (ms). */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  baseMs: 200,
  capMs: 5_000,
  maxAttempts: 5,
  maxElapsedMs: 30_000,
});

export interface RetryDeps {
  /** Uniform in [0, 1). */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface RetryOptions extends RetryDeps {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Called before each backoff sleep, e.g. to log; never with a credential in sight. */
  onRetry?: (err: OntapError, attempt: number, delayMs: number) => void;
}

/**
 * "Full jitter" (AWS architecture blog): sleep uniformly in [0, min(cap, base * 2^(n-1))] after the nth
 * failure, so many clients failing together do not retry together.
 */
export function backoffDelayMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity long before it matters; min() keeps the ceiling finite.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(exponent, 52));
  return Math.floor(random() * ceiling);
}

export function resolvePolicy(policy?: Partial<RetryPolicy>): RetryPolicy {
  const merged = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(policy ?? {}) };
  if (!(merged.maxAttempts >= 1)) throw new RangeError("retry.maxAttempts must be at least 1");
  if (merged.baseMs < 0 || merged.capMs < 0 || merged.maxElapsedMs < 0) {
    throw new RangeError("retry durations must not be negative");
  }
  return merged;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** setTimeout that rejects with the signal's reason (not Node's AbortError around it) as soon as the signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw abortReason(signal);
  await setTimeout(ms, undefined, signal ? { signal } : {}).catch((err: unknown) => {
    throw signal?.aborted ? abortReason(signal) : err;
  });
}

/**
 * Runs `fn` until it succeeds, fails permanently, or the policy's attempts or time run out; then throws the
 * last error. Only transient OntapErrors are retried; anything else (including an abort) is thrown at once.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = resolvePolicy(options.policy);
  const random = options.random ?? Math.random;
  const doSleep = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isOntapError(err) || !err.transient) throw err;
      // Refused by an open circuit breaker: retrying here would only spin; the breaker requeues the caller.
      if (err.kind === "unavailable") throw err;
      if (options.signal?.aborted) throw abortReason(options.signal);
      if (attempt >= policy.maxAttempts) throw err;
      const delay = backoffDelayMs(attempt, policy, random);
      if (now() - started + delay > policy.maxElapsedMs) throw err;
      options.onRetry?.(err, attempt, delay);
      await doSleep(delay, options.signal);
    }
  }
}

export interface CreateWithLookupOptions<T> extends RetryOptions {
  /** Sends the create once. */
  create: (attempt: number) => Promise<T>;
  /** Finds the object the create would have made; undefined when it does not exist (yet). */
  lookup: (attempt: number) => Promise<T | undefined>;
}

/**
 * A create is not idempotent, so it is never simply sent again. After a failure that leaves us not knowing
 * whether it happened (a transient one: reset, timeout, 5xx), the next attempt first looks the object up and
 * returns it if it exists. A permanent error after such an ambiguous attempt (typically "duplicate name",
 * which is our own earlier create) is resolved by the same lookup; without an earlier ambiguous attempt a
 * permanent error is the answer, since the object then belongs to someone else.
 */
export async function createWithLookup<T>(options: CreateWithLookupOptions<T>): Promise<T> {
  let ambiguous = false;
  return withRetry(async (attempt) => {
    if (ambiguous) {
      const existing = await options.lookup(attempt);
      if (existing !== undefined) return existing;
    }
    try {
      return await options.create(attempt);
    } catch (err) {
      if (!isOntapError(err)) throw err;
      if (err.transient) {
        // A request the breaker refused was never sent, so it leaves nothing to look up.
        if (err.kind !== "unavailable") ambiguous = true;
        throw err;
      }
      if (ambiguous && err.kind === "http" && err.status !== 401 && err.status !== 403) {
        const existing = await options.lookup(attempt);
        if (existing !== undefined) return existing;
      }
      throw err;
    }
  }, options);
}
