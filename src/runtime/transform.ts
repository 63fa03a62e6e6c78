import type { KubeObject } from "../kube/objects.js";

/**
 * What an informer keeps of an object by default: everything but `metadata.managedFields`, the server-side
 * apply bookkeeping that no reconcile reads and that is often the largest part of a small object (as
 * controller-runtime's `TransformStripManagedFields`). An update sent from a cached object without the field
 * leaves the server's record as it is (the API server keeps the live managedFields when a request has none).
 */
export function withoutManagedFields<T>(obj: T): T {
  const meta = (obj as KubeObject | undefined)?.metadata as (KubeObject["metadata"] & { managedFields?: unknown }) | undefined;
  if (!meta || meta.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...obj, metadata: rest } as T;
}
