import type { KubeClient } from "./client.js";

/** What one unit of work (a reconcile) imposes on every request it makes. */
export interface RequestScope {
  /** Aborted when the work must stop (leadership lost, shutdown deadline). */
  signal?: AbortSignal;
  /** Called immediately before every write is sent; throws to keep the write from being sent. */
  beforeWrite?: () => void;
  /**
   * Every write waits for it first and fails with its error if it rejects (reads do not wait): a reconcile
   * may look before the Extension carries its finalizer, but write nothing until it does.
   */
  writesAfter?: Promise<unknown>;
}

/**
 * A KubeClient whose calls all obey one scope: none starts after the signal aborted, a pending one
 * rejects as soon as it aborts (the caller stops waiting at once; a request already on the wire may still
 * land, which optimistic concurrency, resourceVersion on every update, turns into a Conflict for a stale
 * writer), and every write passes `beforeWrite` first.
 */
export function scopeKubeClient(kube: KubeClient, scope: RequestScope): KubeClient {
  const { signal, beforeWrite, writesAfter } = scope;
  async function run<T>(write: boolean, call: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    if (write && writesAfter) {
      await writesAfter;
      signal?.throwIfAborted();
    }
    if (write) beforeWrite?.();
    if (!signal) return call();
    return await new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      call().then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      );
    });
  }
  return {
    get: (type, namespace, name) => run(false, () => kube.get(type, namespace, name)),
    list: (type, namespace, opts) => run(false, () => kube.list(type, namespace, opts)),
    create: (type, obj) => run(true, () => kube.create(type, obj)),
    update: (type, obj) => run(true, () => kube.update(type, obj)),
    updateStatus: (type, obj) => run(true, () => kube.updateStatus(type, obj)),
    mergePatch: (type, namespace, name, patch, opts) => run(true, () => kube.mergePatch(type, namespace, name, patch, opts)),
    delete: (type, namespace, name, opts) => run(true, () => kube.delete(type, namespace, name, opts)),
    watch: (type, namespace, opts, onEvent) => kube.watch(type, namespace, opts, onEvent),
  } as KubeClient;
}
