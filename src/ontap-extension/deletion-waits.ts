/**
 * Extensions whose delete or migrate stopped only to wait for one of their ManagedResources to be gone (the
 * resource manager removes the shoot's objects first, then its finalizer), by the ManagedResource they wait
 * for. The controller's ManagedResource watch requeues them on that ManagedResource's delete event, so each
 * of a teardown's six waits (the five of Trident, one at a time, then the webhook's) lasts as long as the
 * resource manager takes (0.2-0.5 s measured on the real one), not the poll interval (2 s in production:
 * 12 s of a delete were waiting, test/chaos/fault-matrix-grm.test.ts).
 *
 * The requeue after the poll interval stays as the fallback for a delete event that cannot come: a
 * ManagedResource that is not this controller's own (the Go extension's, outside its informer), a watch that
 * was re-listing, a delete seen before the wait was registered. In memory only; a restart costs one poll.
 */
export interface DeletionWaits {
  /** `key` (an Extension) waits for the ManagedResource `namespace/name` to be gone; replaces its earlier wait. */
  wait(key: string, namespace: string, name: string): void;
  /** The Extensions waiting for `namespace/name`; they wait no longer. */
  take(namespace: string, name: string): string[];
  forget(key: string): void;
}

export function createDeletionWaits(): DeletionWaits {
  const byManagedResource = new Map<string, Set<string>>();
  const byKey = new Map<string, string>();
  const forget = (key: string) => {
    const mr = byKey.get(key);
    if (mr === undefined) return;
    byKey.delete(key);
    const keys = byManagedResource.get(mr);
    keys?.delete(key);
    if (keys?.size === 0) byManagedResource.delete(mr);
  };
  return {
    wait(key, namespace, name) {
      forget(key);
      const mr = `${namespace}/${name}`;
      byKey.set(key, mr);
      const keys = byManagedResource.get(mr) ?? new Set<string>();
      keys.add(key);
      byManagedResource.set(mr, keys);
    },
    take(namespace, name) {
      const keys = [...(byManagedResource.get(`${namespace}/${name}`) ?? [])];
      for (const key of keys) forget(key);
      return keys;
    },
    forget,
  };
}
