import type { KubeObject } from "./objects.js";
import type { KubeRequests, RequestSpec } from "./request.js";
import { apiVersionOf, type ResourceType } from "./resources.js";

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the client follows `continue` tokens until the list is complete. Default 500. */
  limit?: number;
  /** Metadata only (PartialObjectMetadataList): for caches that must not hold content, e.g. Secrets. */
  metadataOnly?: boolean;
  /**
   * Applied to each item as its page arrives, before the next page is asked for: a cache that keeps a few
   * fields of large objects (Gardener's Clusters) then never holds more than one page of them whole.
   */
  transform?: (item: KubeObject) => KubeObject;
}

/** Objects in a list carry no apiVersion/kind; filled so cached objects look like fetched ones. */
export function withTypeMeta<T>(type: ResourceType, obj: T): T {
  const o = obj as KubeObject;
  if (o.apiVersion && o.kind) return obj;
  return { ...obj, apiVersion: o.apiVersion ?? apiVersionOf(type), kind: o.kind ?? type.kind };
}

/** A namespaced type addressed without a namespace would silently hit the cluster-wide path. */
export function requireNamespace(requests: KubeRequests, spec: RequestSpec): void {
  if (spec.type.namespaced && !spec.namespace) {
    throw requests.errorFor(spec, "Invalid", { serverMessage: "metadata.namespace is required for a namespaced type" });
  }
}

/** One object, or undefined when it does not exist. */
export async function getObject<T>(
  requests: KubeRequests,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
): Promise<T | undefined> {
  const spec: RequestSpec = { verb: "get", type, method: "GET", namespace, name };
  requireNamespace(requests, spec);
  return (await requests.send<T>(spec, true)).body;
}

/** Every object of a collection, page by page (`limit` + `continue`), and the list's resourceVersion. */
export async function listObjects<T>(
  requests: KubeRequests,
  type: ResourceType,
  namespace: string | undefined,
  opts: ListOptions = {},
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let resourceVersion = "";
  let continueToken: string | undefined;
  do {
    const spec: RequestSpec = {
      verb: "list",
      type,
      method: "GET",
      namespace,
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: String(opts.limit ?? 500),
        continue: continueToken,
      },
      metadataOnly: opts.metadataOnly,
    };
    const { body } = await requests.send<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(spec);
    // One at a time, not a spread: a spread of a large page can exceed the call-stack's argument limit.
    for (const item of body?.items ?? []) {
      const typed = withTypeMeta(type, item);
      items.push(opts.transform ? (opts.transform(typed as KubeObject) as T) : typed);
    }
    resourceVersion = body?.metadata?.resourceVersion ?? resourceVersion;
    continueToken = body?.metadata?.continue || undefined;
  } while (continueToken);
  return { items, resourceVersion };
}
