import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from "./ratelimiter.js";

/** Observers for queue metrics; the controller wires them to prom-client. */
export interface WorkQueueHooks {
  /** Keys waiting (not counting those being processed), after every change. */
  depth?(depth: number): void;
  /** Every `add`, including ones deduplicated away. */
  add?(): void;
  /** Every `addRateLimited` (a retry after a failure). */
  retry?(): void;
}

export interface WorkQueueOptions<K extends string> {
  /** A limiter, or options for a fresh one (defaults 2 s base, 5 min cap). */
  rateLimiter?: RateLimiter | RateLimiterOptions;
  /**
   * Keys of one group are never processed at the same time (Extensions of one project share an SVM).
   * `undefined` means the key is in no group.
   */
  groupOf?: (key: K) => string | undefined;
  hooks?: WorkQueueHooks;
}

interface Delayed {
  timer: NodeJS.Timeout;
  readyAt: number;
}

/**
 * The controller-runtime work queue contract, in one small unit:
 * - a key is queued at most once (dirty set);
 * - a key is never handed to two workers at once: an add while it is processed marks it dirty, and `done`
 *   puts it back in the queue;
 * - keys of one group are handed out one at a time, the others wait in the queue without blocking other keys;
 * - `addAfter` keeps only the earliest pending deadline per key; `addRateLimited` backs off per key;
 * - after `shutdown`, adds are ignored and `get` returns `undefined`; keys already being processed may finish.
 */
export class WorkQueue<K extends string> {
  private queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly busyGroups = new Map<string, K>();
  /** The group each handed-out key took, so `done` frees that one even if `groupOf` answers differently now. */
  private readonly groupTaken = new Map<K, string>();
  private readonly waiters: Array<(key: K | undefined) => void> = [];
  private readonly delayed = new Map<K, Delayed>();
  private readonly idleWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private readonly limiter: RateLimiter;
  private readonly groupOf: ((key: K) => string | undefined) | undefined;
  private readonly hooks: WorkQueueHooks;

  constructor(opts: WorkQueueOptions<K> = {}) {
    const rl = opts.rateLimiter;
    this.limiter = rl && "when" in rl ? rl : createRateLimiter(rl);
    this.groupOf = opts.groupOf;
    this.hooks = opts.hooks ?? {};
  }

  add(key: K): void {
    if (this.shuttingDown) return;
    this.hooks.add?.();
    // "Now" supersedes "later": the run decides afresh whether and when to come back, so a pending delayed
    // add (a requeue, a backoff) would only cause a second, redundant run.
    const pending = this.delayed.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.delayed.delete(key);
    }
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.changed();
  }

  /** Adds `key` after `ms`; an earlier pending deadline for the same key wins over a later one. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    // Already due to run again (added while being processed, or waiting): that run decides about later.
    if (this.dirty.has(key)) return;
    const readyAt = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.readyAt <= readyAt) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    // Pending retries must not keep a stopping process alive.
    timer.unref();
    this.delayed.set(key, { timer, readyAt });
  }

  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.hooks.retry?.();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Ends `key`'s backoff (call after a successful reconcile). */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  /** Consecutive rate-limited retries of `key` since the last `forget`. */
  failures(key: K): number {
    return this.limiter.failures(key);
  }

  /**
   * Waits for a key that is neither being processed nor blocked by its group. Resolves `undefined` once the
   * queue is shut down. Every key returned must be passed to `done`.
   */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.changed();
    });
  }

  done(key: K): void {
    if (!this.processing.delete(key)) return;
    const group = this.groupTaken.get(key);
    this.groupTaken.delete(key);
    if (group !== undefined && this.busyGroups.get(group) === key) this.busyGroups.delete(group);
    if (this.dirty.has(key) && !this.shuttingDown) this.queue.push(key);
    this.changed();
    if (this.processing.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Keys waiting to be handed out. */
  len(): number {
    return this.queue.length;
  }

  /** Keys handed out and not yet `done`. */
  inFlight(): number {
    return this.processing.size;
  }

  /** True while `key` is pending in the queue or waiting on a delay. */
  has(key: K): boolean {
    return this.dirty.has(key) || this.delayed.has(key);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops intake: adds are ignored, waiting keys and pending delays are dropped, `get` returns undefined. */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue = [];
    for (const key of this.dirty) if (!this.processing.has(key)) this.dirty.delete(key);
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
    this.hooks.depth?.(0);
  }

  /**
   * `shutdown`, then waits until every handed-out key is `done`, at most `timeoutMs`.
   * Resolves true when the queue drained, false on timeout.
   */
  async shutdownWithDrain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.shutdown();
    if (this.processing.size === 0) return true;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(wake);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          const i = this.idleWaiters.indexOf(wake);
          if (i >= 0) this.idleWaiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  private changed(): void {
    this.dispatch();
    this.hooks.depth?.(this.queue.length);
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const index = this.queue.findIndex((key) => {
        const group = this.groupOf?.(key);
        return group === undefined || !this.busyGroups.has(group);
      });
      if (index < 0) return;
      const [key] = this.queue.splice(index, 1) as [K];
      const resolve = this.waiters.shift()!;
      this.dirty.delete(key);
      this.processing.add(key);
      const group = this.groupOf?.(key);
      if (group !== undefined) {
        this.busyGroups.set(group, key);
        this.groupTaken.set(key, group);
      }
      resolve(key);
    }
  }
}

export function createWorkQueue<K extends string>(opts: WorkQueueOptions<K> = {}): WorkQueue<K> {
  return new WorkQueue<K>(opts);
}
