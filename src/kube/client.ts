import { kubeCredentials } from "./credentials.js";
import type { KubeConnectionConfig } from "./kubeconfig.js";
import type { KubeObject } from "./objects.js";
import { getObject, type ListOptions, listObjects } from "./read.js";
import { createKubeRequests, type KubeRequestOptions } from "./request.js";
import type { ResourceType } from "./resources.js";
import { type WatchEvent, type WatchOptions, watchObjects } from "./watch.js";
import { type DeleteOptions, deleteObject, mergePatchObject, writeObject } from "./write.js";

export type { ListOptions } from "./read.js";
export type { KubeRequestEvent, KubeVerb } from "./request.js";
export type { WatchEvent, WatchEventType, WatchOptions } from "./watch.js";
export type { DeleteOptions } from "./write.js";

export type KubeClientOptions = KubeRequestOptions;

/** What every caller of the Kubernetes API sees: typed operations on any resource type. */
export interface KubeClient {
  get<T = KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T = KubeObject>(
    type: ResourceType,
    namespace?: string,
    opts?: ListOptions,
  ): Promise<{ items: T[]; resourceVersion: string }>;
  create<T = KubeObject>(type: ResourceType, obj: T): Promise<T>;
  update<T = KubeObject>(type: ResourceType, obj: T): Promise<T>;
  updateStatus<T = KubeObject>(type: ResourceType, obj: T): Promise<T>;
  mergePatch<T = KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts?: { subresource?: "status" },
  ): Promise<T>;
  delete(type: ResourceType, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<boolean>;
  watch(
    type: ResourceType,
    namespace: string | undefined,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
  ): Promise<void>;
}

/**
 * Typed access to the Kubernetes API: the request layer (request.ts: node:https, authenticated by our own
 * kubeconfig reading in credentials.ts) under thin operations (read.ts, write.ts with one path for create,
 * update and status, watch.ts). No generated API classes: they hide status codes behind exception types and
 * cannot stream a watch with an AbortSignal, and this client needs exact codes (a fault proxy answers Status
 * errors and resets connections) and must never put a request body into an error message.
 */
export function createKubeClient(kc: KubeConnectionConfig, opts: KubeClientOptions = {}): KubeClient {
  const requests = createKubeRequests(kubeCredentials(kc), opts);
  return {
    get: (type, namespace, name) => getObject(requests, type, namespace, name),
    list: (type, namespace, listOpts) => listObjects(requests, type, namespace, listOpts),
    create: (type, obj) => writeObject(requests, type, obj, "create"),
    update: (type, obj) => writeObject(requests, type, obj, "update"),
    updateStatus: (type, obj) => writeObject(requests, type, obj, "status"),
    mergePatch: (type, namespace, name, patch, patchOpts) => mergePatchObject(requests, type, namespace, name, patch, patchOpts),
    delete: (type, namespace, name, deleteOpts) => deleteObject(requests, type, namespace, name, deleteOpts),
    watch: (type, namespace, watchOpts, onEvent) => watchObjects(requests, type, namespace, watchOpts, onEvent),
  };
}
