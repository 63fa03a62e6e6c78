import type { KubeClient } from "../kube/client.js";
import { ManagedResources } from "../kube/resources.js";
import { createInformer } from "../runtime/informer.js";
import { startPollingLoop } from "./polling-loop.js";

/**
 * Stands in for gardener-resource-manager where none runs (tests, the demo): it reports every
 * ManagedResource as applied and healthy for its current generation, unless told to hold one back.
 * It applies nothing: there is no shoot to apply to.
 */
export interface FakeResourceManager {
  /** ManagedResource names (any namespace) kept unhealthy, e.g. to prove "CRDs healthy before the rest". */
  holdBack: Set<string>;
  stop(): Promise<void>;
}

export interface ManagedResourceObject {
  metadata: { name: string; namespace: string; generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

export function startFakeResourceManager(kube: KubeClient, opts: { intervalMs?: number } = {}): FakeResourceManager {
  const holdBack = new Set<string>();
  const interval = opts.intervalMs ?? 200;
  const mark = async (mr: ManagedResourceObject) => {
    if (holdBack.has(mr.metadata.name) || isMarkedHealthy(mr)) return;
    const patch = healthyStatus(mr, "simulated by the fake resource manager");
    await kube.mergePatch(ManagedResources, mr.metadata.namespace, mr.metadata.name, patch, { subresource: "status" }).catch(() => undefined);
  };
  // A list, then a watch from it for about a second: a ManagedResource is marked as soon as it is written, and
  // the API server sees one list a second instead of one per interval (several worlds share one API server in
  // the chaos suite). The next list also catches what `holdBack` released.
  const loop = startPollingLoop(async (stop) => {
    const { items, resourceVersion } = await kube.list<ManagedResourceObject>(ManagedResources);
    for (const mr of items) await mark(mr);
    const marking: Promise<void>[] = [];
    await kube
      .watch(ManagedResources, undefined, { resourceVersion, signal: stop, timeoutSeconds: 1, allowWatchBookmarks: false }, (ev) => {
        if (ev.type === "ADDED" || ev.type === "MODIFIED") marking.push(mark(ev.object as ManagedResourceObject));
      })
      .catch(() => undefined);
    await Promise.all(marking);
  }, interval);

  return { holdBack, stop: loop.stop };
}

/**
 * The same stand-in for a fleet (the benchmark's thousand shoots): an informer instead of a list a second, so
 * the API server is not re-listed for every ManagedResource of the seed, and at most `parallel` status patches
 * at once. A ManagedResource is marked as soon as its watch event arrives, so the controller's wait for
 * `trident-crds` is a watch round trip, as with the real resource manager, and not a poll of this stand-in.
 */
export function startWatchingResourceManager(kube: KubeClient, opts: { parallel?: number; message?: string } = {}): FakeResourceManager {
  const holdBack = new Set<string>();
  const parallel = opts.parallel ?? 8;
  const message = opts.message ?? "simulated by the watching resource manager stand-in";
  const informer = createInformer<ManagedResourceObject>(kube, ManagedResources, {});
  const queue: ManagedResourceObject[] = [];
  let active = 0;
  const pump = () => {
    while (active < parallel && queue.length > 0) {
      const mr = queue.shift() as ManagedResourceObject;
      active++;
      kube
        .mergePatch(ManagedResources, mr.metadata.namespace, mr.metadata.name, healthyStatus(mr, message), { subresource: "status" })
        .catch(() => undefined)
        .finally(() => {
          active--;
          pump();
        });
    }
  };
  const consider = (mr: ManagedResourceObject) => {
    if (holdBack.has(mr.metadata.name) || isMarkedHealthy(mr)) return;
    queue.push(mr);
    pump();
  };
  informer.onAdd(consider);
  informer.onUpdate((_old, mr) => consider(mr));
  const abort = new AbortController();
  void informer.start(abort.signal);
  return {
    holdBack,
    async stop() {
      abort.abort();
      await informer.stopped().catch(() => undefined);
    },
  };
}

function isMarkedHealthy(mr: ManagedResourceObject): boolean {
  if (mr.status?.observedGeneration !== mr.metadata.generation) return false;
  const byType = new Map((mr.status?.conditions ?? []).map((c) => [c.type, c.status]));
  return byType.get("ResourcesApplied") === "True" && byType.get("ResourcesHealthy") === "True";
}

/**
 * The status gardener-resource-manager writes for a ManagedResource it applied and found healthy at its
 * current generation (a merge patch of the status subresource); `message` says who played it.
 */
export function healthyStatus(mr: ManagedResourceObject, message: string): { status: Record<string, unknown> } {
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const condition = (type: string, status: string) => ({
    type,
    status,
    reason: status === "True" ? "ApplySucceeded" : "Done",
    message,
    lastTransitionTime: time,
    lastUpdateTime: time,
  });
  return {
    status: {
      observedGeneration: mr.metadata.generation,
      conditions: [condition("ResourcesApplied", "True"), condition("ResourcesHealthy", "True"), condition("ResourcesProgressing", "False")],
    },
  };
}
