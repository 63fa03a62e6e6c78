import type { KubeObject } from "../kube/objects.js";
import { createLogger, type Logger } from "../log.js";
import type { Metrics } from "../metrics/index.js";
import type { Informer } from "./informer.js";
import type { RateLimiter, RateLimiterOptions } from "./ratelimiter.js";
import type { Result } from "./result.js";
import { WorkQueue } from "./workqueue.js";

/** What a reconcile asks of the queue: nothing more, or another look after a delay (the shared `Result`, bare). */
export type ReconcileResult = Result;

/**
 * controller-runtime's GenerationChangedPredicate plus the start of a deletion: an update enqueues when the
 * spec changed (generation) or a deletion timestamp appeared. Status-only and resourceVersion-only updates
 * (including the controller's own status writes) are ignored. Kinds with triggers of their own (Gardener's
 * operation annotation on Extensions) pass a predicate that adds them.
 */
export function specOrDeletionChangePredicate(oldObj: unknown, newObj: unknown): boolean {
  const o = (oldObj as KubeObject)?.metadata ?? {};
  const n = (newObj as KubeObject)?.metadata ?? {};
  if (o.generation !== n.generation) return true;
  if (!o.deletionTimestamp && n.deletionTimestamp) return true;
  return false;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: unknown): string {
  const meta = (obj as KubeObject)?.metadata ?? {};
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ""}` : (meta.name ?? "");
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface ControllerOptions<T> {
  name: string;
  informer: Informer<T>;
  queue?: {
    rateLimiter?: RateLimiter | RateLimiterOptions;
    /** Keys of one group are never reconciled at the same time. */
    groupOf?: (key: string) => string | undefined;
  };
  /** Default: `namespace/name`. */
  keyOf?: (obj: T) => string;
  /** Which updates enqueue; default `specOrDeletionChangePredicate`. Adds, deletes and resyncs always enqueue. */
  predicate?: (oldObj: T, newObj: T) => boolean;
  /**
   * One reconcile of one key. `signal` aborts only when the process must stop at once (leadership lost, or
   * the shutdown deadline passed). A thrown error means "retry with backoff".
   */
  reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileResult>;
  /** Concurrent reconciles (different keys, different groups). Default 1. */
  workers?: number;
  metrics?: Metrics;
  logger?: Logger;
}

export interface RunOptions {
  /** Aborts the signal handed to in-flight reconciles; without it they always run to completion. */
  abortInFlight?: AbortSignal;
}

export interface Controller {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: a manager holds controllers of any object type.
  readonly informer: Informer<any>;
  /**
   * Runs the workers until `stop` aborts, then stops intake and waits for in-flight reconciles to finish
   * (or to give up after `abortInFlight`). Every cached object is enqueued when a run begins, so a new
   * leader looks at everything once. A controller can run again after a run ended.
   */
  run(stop: AbortSignal, opts?: RunOptions): Promise<void>;
  /** Enqueues a key now (e.g. from a watch on a related object); ignored while not running. */
  enqueue(key: string): void;
  enqueueAfter(key: string, ms: number): void;
  isRunning(): boolean;
  /** Keys waiting and keys being reconciled; 0 while not running. */
  queueLength(): number;
  inFlight(): number;
}

export function createController<T>(opts: ControllerOptions<T>): Controller {
  const logger = (opts.logger ?? createLogger({ level: "silent" })).child({ controller: opts.name });
  const keyOf = opts.keyOf ?? objectKey;
  const predicate = opts.predicate ?? specOrDeletionChangePredicate;
  const workers = Math.max(1, opts.workers ?? 1);
  const metrics = opts.metrics;
  const queueName = opts.name;
  let queue: WorkQueue<string> | undefined;

  function enqueueObject(obj: T): void {
    const key = keyOf(obj);
    if (key) queue?.add(key);
  }

  opts.informer.onAdd(enqueueObject);
  opts.informer.onUpdate((oldObj, newObj) => {
    // The same reference twice is the informer's periodic resync: always worth a look.
    if (oldObj === newObj || predicate(oldObj, newObj)) enqueueObject(newObj);
  });
  opts.informer.onDelete(enqueueObject);

  async function worker(q: WorkQueue<string>, inFlightSignal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      const started = performance.now();
      logger.debug({ key }, "reconciling");
      let result: "success" | "requeue" | "error" = "success";
      try {
        const outcome = await opts.reconcile(key, inFlightSignal);
        q.forget(key);
        if (outcome.kind === "requeue") {
          result = "requeue";
          logger.debug({ key, afterMs: outcome.afterMs, reason: outcome.reason }, "requeued");
          q.addAfter(key, outcome.afterMs);
        }
      } catch (err) {
        result = "error";
        q.addRateLimited(key);
        logger.warn({ err, key, failures: q.failures(key) }, "reconcile failed; retrying with backoff");
      } finally {
        q.done(key);
        metrics?.controllerReconcilesTotal.inc({ controller: opts.name, result });
        metrics?.controllerReconcileDurationSeconds.observe(
          { controller: opts.name },
          (performance.now() - started) / 1000,
        );
      }
    }
  }

  return {
    name: opts.name,
    informer: opts.informer,
    async run(stop, runOpts = {}) {
      if (queue) throw new Error(`controller ${opts.name} is already running`);
      if (stop.aborted) return;
      const q = new WorkQueue<string>({
        ...(opts.queue?.rateLimiter ? { rateLimiter: opts.queue.rateLimiter } : {}),
        ...(opts.queue?.groupOf ? { groupOf: opts.queue.groupOf } : {}),
        hooks: metrics
          ? {
              depth: (n) => metrics.workqueueDepth.set({ name: queueName }, n),
              add: () => metrics.workqueueAddsTotal.inc({ name: queueName }),
              retry: () => metrics.workqueueRetriesTotal.inc({ name: queueName }),
            }
          : {},
      });
      queue = q;
      const inFlight = new AbortController();
      const abortNow = () => inFlight.abort();
      runOpts.abortInFlight?.addEventListener("abort", abortNow, { once: true });
      if (runOpts.abortInFlight?.aborted) inFlight.abort();
      for (const obj of opts.informer.list()) enqueueObject(obj as T);
      logger.info({ workers }, "controller started");
      const running = Array.from({ length: workers }, () => worker(q, inFlight.signal));
      await new Promise<void>((resolve) => {
        if (stop.aborted) resolve();
        else stop.addEventListener("abort", () => resolve(), { once: true });
      });
      q.shutdown();
      logger.info({ inFlight: q.inFlight() }, "controller stopping; waiting for in-flight reconciles");
      await Promise.all(running);
      runOpts.abortInFlight?.removeEventListener("abort", abortNow);
      queue = undefined;
      logger.info("controller stopped");
    },
    enqueue(key) {
      queue?.add(key);
    },
    enqueueAfter(key, ms) {
      queue?.addAfter(key, ms);
    },
    isRunning: () => queue !== undefined,
    queueLength: () => queue?.len() ?? 0,
    inFlight: () => queue?.inFlight() ?? 0,
  };
}
