import type { KubeClient, WatchEvent } from "../kube/client.js";
import { isGone, isKubeError } from "../kube/errors.js";
import type { KubeObject } from "../kube/objects.js";
import type { ResourceType } from "../kube/resources.js";
import { createLogger, type Logger } from "../log.js";
import { sleep } from "./sleep.js";
import { withoutManagedFields } from "./transform.js";

export interface InformerOptions<T> {
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Cache metadata only (names, labels, annotations): for Secrets, whose content must not sit in memory. */
  metadataOnly?: boolean;
  /** Objects that fail the filter are treated as absent: never cached, and dropped (onDelete) if they stop passing. */
  filter?: (obj: T) => boolean;
  /** Every so often, replay every cached object to onUpdate(obj, obj) (same reference). 0 or unset: never. */
  resyncMs?: number;
  logger?: Logger;
  /** Reconnect backoff after a failed list or watch. Defaults 250 ms doubling to 30 s, with jitter. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Server-side lifetime of one watch request; a new one resumes from the last resourceVersion. Default 300. */
  watchTimeoutSeconds?: number;
  /**
   * What the cache keeps of each object, applied as it is listed (page by page) or watched, before the filter,
   * the cache and the handlers see it. Default `withoutManagedFields` (transform.ts): nobody reads those.
   * Must be idempotent and must keep metadata.name, namespace and resourceVersion.
   */
  transform?: (obj: T) => T;
  /** Objects per list page (`limit`; the rest follows by `continue`). Default 500; smaller for large objects. */
  pageSize?: number;
}

export type AddHandler<T> = (obj: T) => void;
export type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
export type DeleteHandler<T> = (obj: T) => void;

export interface Informer<T> {
  readonly type: ResourceType;
  /**
   * Starts the list-and-watch loop, which runs until `signal` aborts. The returned promise resolves once
   * the first list has filled the cache (or when the signal aborts first); it does not wait for the loop.
   */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves when the loop has exited after its signal aborted. */
  stopped(): Promise<void>;
  hasSynced(): boolean;
  /** Resolves true once synced, false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
  get(namespace: string | undefined, name: string): T | undefined;
  list(): T[];
  /** Each returns a function that removes the handler. */
  onAdd(handler: AddHandler<T>): () => void;
  onUpdate(handler: UpdateHandler<T>): () => void;
  onDelete(handler: DeleteHandler<T>): () => void;
  /** The resourceVersion the next watch resumes from (for tests and diagnostics). */
  lastResourceVersion(): string;
}

export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function keyOfObject(obj: KubeObject): string {
  return cacheKey(obj.metadata?.namespace, obj.metadata?.name ?? "");
}

/**
 * A list-then-watch cache over one resource type, as client-go's reflector does it: list, watch from the
 * list's resourceVersion, resume the watch from the last seen resourceVersion when it ends, relist when the
 * server answers 410 Gone (the version fell out of etcd's window), and back off on any other failure.
 */
export function createInformer<T>(kube: KubeClient, type: ResourceType, opts: InformerOptions<T> = {}): Informer<T> {
  const logger = (opts.logger ?? createLogger({ level: "silent" })).child({ informer: type.plural });
  const filter = opts.filter ?? (() => true);
  const transform = opts.transform ?? (withoutManagedFields as (obj: T) => T);
  const baseMs = opts.backoff?.baseMs ?? 250;
  const capMs = opts.backoff?.capMs ?? 30_000;
  let cache = new Map<string, T>();
  const addHandlers = new Set<AddHandler<T>>();
  const updateHandlers = new Set<UpdateHandler<T>>();
  const deleteHandlers = new Set<DeleteHandler<T>>();
  let synced = false;
  let resourceVersion = "";
  let started = false;
  const syncWaiters = new Set<() => void>();
  let loopDone: Promise<void> = Promise.resolve();

  function notify<A extends unknown[]>(handlers: Set<(...args: A) => void>, ...args: A): void {
    for (const handler of handlers) {
      try {
        handler(...args);
      } catch (err) {
        logger.error({ err }, "informer event handler threw");
      }
    }
  }

  function markSynced(): void {
    if (synced) return;
    synced = true;
    for (const wake of syncWaiters) wake();
    syncWaiters.clear();
  }

  /** Replaces the cache with a fresh list, emitting the differences as events. */
  function replace(items: T[]): void {
    const next = new Map<string, T>();
    for (const item of items) if (filter(item)) next.set(keyOfObject(item as KubeObject), item);
    const previous = cache;
    cache = next;
    for (const [key, old] of previous) if (!next.has(key)) notify(deleteHandlers, old);
    for (const [key, obj] of next) {
      const old = previous.get(key);
      if (!old) notify(addHandlers, obj);
      else if (rvOf(old) !== rvOf(obj)) notify(updateHandlers, old, obj);
    }
  }

  function apply(ev: WatchEvent): void {
    const rv = rvOf(ev.object);
    if (rv) resourceVersion = rv;
    if (ev.type === "BOOKMARK") return;
    const obj = transform(ev.object as T);
    const key = keyOfObject(obj as KubeObject);
    const old = cache.get(key);
    if (ev.type === "DELETED") {
      if (old) {
        cache.delete(key);
        notify(deleteHandlers, obj);
      }
      return;
    }
    if (!filter(obj)) {
      if (old) {
        cache.delete(key);
        notify(deleteHandlers, obj);
      }
      return;
    }
    cache.set(key, obj);
    if (old) notify(updateHandlers, old, obj);
    else notify(addHandlers, obj);
  }

  async function run(signal: AbortSignal): Promise<void> {
    let needList = true;
    let failures = 0;
    let sawEvent = false;
    let watchStarted = Date.now();
    let resyncTimer: NodeJS.Timeout | undefined;
    if (opts.resyncMs && opts.resyncMs > 0) {
      resyncTimer = setInterval(() => {
        if (!synced) return;
        for (const obj of [...cache.values()]) notify(updateHandlers, obj, obj);
      }, opts.resyncMs);
      resyncTimer.unref();
    }
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            const listed = await kube.list<T>(type, opts.namespace, {
              ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
              ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
              ...(opts.metadataOnly ? { metadataOnly: true } : {}),
              ...(opts.pageSize ? { limit: opts.pageSize } : {}),
              transform: transform as unknown as (item: KubeObject) => KubeObject,
            });
            if (signal.aborted) return;
            resourceVersion = listed.resourceVersion;
            replace(listed.items);
            needList = false;
            failures = 0;
            markSynced();
          }
          sawEvent = false;
          watchStarted = Date.now();
          await kube.watch(
            type,
            opts.namespace,
            {
              resourceVersion,
              signal,
              ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
              ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
              ...(opts.metadataOnly ? { metadataOnly: true } : {}),
              timeoutSeconds: jitterSeconds(opts.watchTimeoutSeconds ?? 300),
            },
            (ev) => {
              sawEvent = true;
              apply(ev);
            },
          );
          // A watch that ended cleanly resumes from the last resourceVersion; an empty one that ended at
          // once (a proxy closing streams) still counts toward backoff so it cannot spin.
          if (wasHealthy()) failures = 0;
          else if (!signal.aborted) await backoff(++failures);
        } catch (err) {
          if (signal.aborted) return;
          if (isGone(err) && !needList) {
            logger.info({ resourceVersion }, "watch resourceVersion expired; relisting");
            needList = true;
            continue;
          }
          // A watch that worked and then broke (an API server restart, a load balancer cutting the stream) is
          // a first failure, as client-go's reflector resets its backoff after a healthy stretch. Counted on
          // from the failures before it, breaks spread over days would leave every later reconnect 15-30 s
          // behind, with no event seen meanwhile.
          if (!needList && wasHealthy()) failures = 0;
          failures++;
          const retryInMs = backoffMs(failures);
          const level = isKubeError(err) && err.transient ? "warn" : "error";
          logger[level]({ err, failures, retryInMs: Math.round(retryInMs) }, needList ? "list failed; retrying" : "watch failed; reconnecting");
          await sleep(retryInMs, signal);
        }
      }
    } finally {
      if (resyncTimer) clearInterval(resyncTimer);
    }

    async function backoff(n: number): Promise<void> {
      await sleep(backoffMs(n), signal);
    }

    /** The wait before attempt n+1: doubling from `baseMs` up to `capMs`, jittered over its upper half. */
    function backoffMs(n: number): number {
      const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 30));
      return ceiling / 2 + (Math.random() * ceiling) / 2;
    }

    /** The current watch delivered an event (bookmarks count) or lasted over 5 s (attempts that long cannot spin). */
    function wasHealthy(): boolean {
      return sawEvent || Date.now() - watchStarted > 5_000;
    }
  }

  return {
    type,
    start(signal) {
      if (started) throw new Error(`informer for ${type.plural} already started`);
      started = true;
      loopDone = run(signal).catch((err) => {
        logger.error({ err }, "informer loop ended unexpectedly");
      });
      return waitForSync(signal).then(() => undefined);
    },
    stopped: () => loopDone,
    hasSynced: () => synced,
    waitForSync,
    get: (namespace, name) => cache.get(cacheKey(namespace, name)),
    list: () => [...cache.values()],
    onAdd(handler) {
      addHandlers.add(handler);
      return () => addHandlers.delete(handler);
    },
    onUpdate(handler) {
      updateHandlers.add(handler);
      return () => updateHandlers.delete(handler);
    },
    onDelete(handler) {
      deleteHandlers.add(handler);
      return () => deleteHandlers.delete(handler);
    },
    lastResourceVersion: () => resourceVersion,
  };

  function waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      };
      const onAbort = () => {
        syncWaiters.delete(wake);
        resolve(false);
      };
      syncWaiters.add(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function rvOf(obj: unknown): string | undefined {
  return (obj as KubeObject)?.metadata?.resourceVersion;
}

/** Spread watch lifetimes over [t, 2t) so many informers do not reconnect in lockstep. */
function jitterSeconds(seconds: number): number {
  return Math.max(1, Math.floor(seconds * (1 + Math.random())));
}
