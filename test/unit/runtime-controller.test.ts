import { describe, expect, it } from "vitest";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Extensions } from "../../src/kube/resources.js";
import { sumCounter, createMetrics } from "../../src/metrics/index.js";
import { extensionChangePredicate } from "../../src/extension/predicate.js";
import { createController, objectKey, type ReconcileResult, specOrDeletionChangePredicate, splitKey } from "../../src/runtime/controller.js";
import { createInformer } from "../../src/runtime/informer.js";

interface Ext {
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: { type: string; n?: number };
  status?: Record<string, unknown>;
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const base: Ext = { metadata: { name: "e", namespace: "n", generation: 1, resourceVersion: "1" }, spec: { type: "ontap" } };

describe("extensionChangePredicate", () => {
  it("enqueues on a generation change", () => {
    expect(extensionChangePredicate(base, { ...base, metadata: { ...base.metadata, generation: 2 } })).toBe(true);
  });
  it("enqueues when the operation annotation appears or changes, not when it is removed", () => {
    const annotated = (v: string) => ({ ...base, metadata: { ...base.metadata, annotations: { "gardener.cloud/operation": v } } });
    expect(extensionChangePredicate(base, annotated("reconcile"))).toBe(true);
    expect(extensionChangePredicate(annotated("reconcile"), annotated("migrate"))).toBe(true);
    expect(extensionChangePredicate(annotated("reconcile"), base)).toBe(false);
  });
  it("enqueues when a deletion timestamp appears", () => {
    const deleting = { ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    expect(extensionChangePredicate(base, deleting)).toBe(true);
    expect(extensionChangePredicate(deleting, { ...deleting, metadata: { ...deleting.metadata, resourceVersion: "9" } })).toBe(false);
  });
  it("ignores status-only and resourceVersion-only updates", () => {
    expect(extensionChangePredicate(base, { ...base, status: { lastOperation: {} }, metadata: { ...base.metadata, resourceVersion: "2" } })).toBe(false);
    expect(extensionChangePredicate(base, { ...base, metadata: { ...base.metadata, resourceVersion: "3" } })).toBe(false);
  });
});

describe("specOrDeletionChangePredicate (the runtime's default, which knows no Gardener annotation)", () => {
  it("enqueues on a generation change and when a deletion timestamp appears", () => {
    expect(specOrDeletionChangePredicate(base, { ...base, metadata: { ...base.metadata, generation: 2 } })).toBe(true);
    expect(specOrDeletionChangePredicate(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } })).toBe(true);
  });
  it("ignores annotation-only, status-only and resourceVersion-only updates", () => {
    const annotated = { ...base, metadata: { ...base.metadata, resourceVersion: "2", annotations: { "gardener.cloud/operation": "reconcile" } } };
    expect(specOrDeletionChangePredicate(base, annotated)).toBe(false);
    expect(specOrDeletionChangePredicate(base, { ...base, status: { lastOperation: {} }, metadata: { ...base.metadata, resourceVersion: "3" } })).toBe(false);
  });
});

describe("keys", () => {
  it("objectKey and splitKey round-trip namespaced and cluster-scoped names", () => {
    expect(objectKey(base)).toBe("n/e");
    expect(objectKey({ metadata: { name: "c" } })).toBe("c");
    expect(splitKey("n/e")).toEqual({ namespace: "n", name: "e" });
    expect(splitKey("c")).toEqual({ namespace: undefined, name: "c" });
  });
});

function setup(reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileResult>, workers = 2) {
  const kube = createFakeKubeClient();
  const informer = createInformer<Ext>(kube, Extensions);
  const metrics = createMetrics();
  const controller = createController<Ext>({
    name: "ext",
    informer,
    queue: { rateLimiter: { baseMs: 10, capMs: 40 }, groupOf: (key) => splitKey(key).namespace },
    reconcile,
    workers,
    metrics,
  });
  return { kube, informer, controller, metrics };
}

describe("controller", () => {
  it("reconciles every cached object when it starts, and new ones as they appear", async () => {
    const seen: string[] = [];
    const { kube, informer, controller } = setup(async (key) => {
      seen.push(key);
      return { kind: "done" };
    });
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n1" }, spec: { type: "ontap" } });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await until(() => seen.includes("n1/a"));
    await kube.create(Extensions, { metadata: { name: "b", namespace: "n2" }, spec: { type: "ontap" } });
    await until(() => seen.includes("n2/b"));
    stop.abort();
    await running;
    informerStop.abort();
    expect(controller.isRunning()).toBe(false);
  });

  it("ignores status-only updates and reacts to spec changes", async () => {
    const seen: string[] = [];
    const { kube, informer, controller } = setup(async (key) => {
      seen.push(key);
      return { kind: "done" };
    });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    const created = await kube.create<Ext>(Extensions, { metadata: { name: "a", namespace: "n" }, spec: { type: "ontap" } });
    await until(() => seen.length === 1);
    const withStatus = await kube.updateStatus<Ext>(Extensions, { ...created, status: { phase: "x" } });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(1);
    await kube.update<Ext>(Extensions, { ...withStatus, spec: { type: "ontap", n: 2 } });
    await until(() => seen.length === 2);
    stop.abort();
    await running;
    informerStop.abort();
  });

  it("retries a throwing reconcile with backoff and forgets the failures after a success", async () => {
    let calls = 0;
    const { kube, informer, controller, metrics } = setup(async () => {
      calls++;
      if (calls < 3) throw new Error("ontap unreachable");
      return { kind: "done" };
    });
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: { type: "ontap" } });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await until(() => calls === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(3);
    expect(await sumCounter(metrics.controllerReconcilesTotal, { result: "error" })).toBe(2);
    expect(await sumCounter(metrics.controllerReconcilesTotal, { result: "success" })).toBe(1);
    expect(await sumCounter(metrics.workqueueRetriesTotal)).toBe(2);
    stop.abort();
    await running;
    informerStop.abort();
  });

  it("requeues after the requested delay", async () => {
    const times: number[] = [];
    const { kube, informer, controller } = setup(async () => {
      times.push(Date.now());
      return times.length < 2 ? { kind: "requeue", afterMs: 80, reason: "SVM initializing" } : { kind: "done" };
    });
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: { type: "ontap" } });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await until(() => times.length === 2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(75);
    stop.abort();
    await running;
    informerStop.abort();
  });

  it("never reconciles two keys of one group at once, but runs other groups in parallel", async () => {
    let active = new Map<string, number>();
    let maxSameGroup = 0;
    let maxParallel = 0;
    let parallel = 0;
    const { kube, informer, controller } = setup(async (key) => {
      const group = splitKey(key).namespace!;
      active.set(group, (active.get(group) ?? 0) + 1);
      parallel++;
      maxSameGroup = Math.max(maxSameGroup, active.get(group)!);
      maxParallel = Math.max(maxParallel, parallel);
      await new Promise((r) => setTimeout(r, 30));
      active.set(group, active.get(group)! - 1);
      parallel--;
      return { kind: "done" };
    }, 4);
    for (const [ns, name] of [["p1", "a"], ["p1", "b"], ["p1", "c"], ["p2", "d"]]) {
      await kube.create(Extensions, { metadata: { name, namespace: ns }, spec: { type: "ontap" } });
    }
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    await running;
    informerStop.abort();
    active = new Map();
    expect(maxSameGroup).toBe(1);
    expect(maxParallel).toBe(2);
  });

  it("on stop, lets an in-flight reconcile finish and starts no new one", async () => {
    let finished = 0;
    let started = 0;
    const { kube, informer, controller } = setup(async () => {
      started++;
      await new Promise((r) => setTimeout(r, 80));
      finished++;
      return { kind: "done" };
    }, 1);
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n1" }, spec: { type: "ontap" } });
    await kube.create(Extensions, { metadata: { name: "b", namespace: "n2" }, spec: { type: "ontap" } });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await until(() => started === 1);
    stop.abort();
    await running;
    expect(started).toBe(1);
    expect(finished).toBe(1);
    informerStop.abort();
  });

  it("aborts the in-flight reconcile's signal when asked to stop at once", async () => {
    let sawAbort = false;
    const { kube, informer, controller } = setup(
      (_key, signal) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve({ kind: "done" });
          });
        }),
      1,
    );
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: { type: "ontap" } });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    const stop = new AbortController();
    const abortInFlight = new AbortController();
    const running = controller.run(stop.signal, { abortInFlight: abortInFlight.signal });
    await until(() => controller.inFlight() === 1);
    stop.abort();
    abortInFlight.abort();
    await running;
    expect(sawAbort).toBe(true);
    informerStop.abort();
  });

  it("can run again after a run ended (a new leadership term)", async () => {
    const seen: string[] = [];
    const { kube, informer, controller } = setup(async (key) => {
      seen.push(key);
      return { kind: "done" };
    });
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: { type: "ontap" } });
    const informerStop = new AbortController();
    await informer.start(informerStop.signal);
    for (let term = 1; term <= 2; term++) {
      const stop = new AbortController();
      const running = controller.run(stop.signal);
      await until(() => seen.length === term);
      stop.abort();
      await running;
    }
    informerStop.abort();
  });
});
