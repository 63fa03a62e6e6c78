import { describe, expect, it } from "vitest";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Events } from "../../src/kube/resources.js";
import { createMetrics, sumCounter } from "../../src/metrics/index.js";
import { createEventRecorder } from "../../src/runtime/events.js";

const involved = {
  apiVersion: "extensions.gardener.cloud/v1alpha1",
  kind: "Extension",
  namespace: "shoot--p--s",
  name: "ontap",
  uid: "1234",
};

describe("event recorder", () => {
  it("writes a core/v1 Event naming the involved object, component and instance", async () => {
    const kube = createFakeKubeClient();
    const rec = createEventRecorder(kube, { component: "gardener-extension-ontap", instance: "pod-1" });
    await rec.event(involved, "Warning", "ReconcileFailed", "SVM lookup failed on cluster b; retrying");
    const [ev] = kube.objects(Events);
    expect(ev).toMatchObject({
      metadata: { namespace: "shoot--p--s" },
      involvedObject: involved,
      type: "Warning",
      reason: "ReconcileFailed",
      message: "SVM lookup failed on cluster b; retrying",
      count: 1,
      source: { component: "gardener-extension-ontap", host: "pod-1" },
      reportingComponent: "gardener-extension-ontap",
      reportingInstance: "pod-1",
    });
    expect(ev.metadata.name).toMatch(/^ontap\.[0-9a-f]+$/);
  });

  it("aggregates repeats of the same object, reason and message into one Event with a count", async () => {
    const kube = createFakeKubeClient();
    const rec = createEventRecorder(kube, { component: "c" });
    await rec.event(involved, "Warning", "ReconcileFailed", "boom");
    await Promise.all([
      rec.event(involved, "Warning", "ReconcileFailed", "boom"),
      rec.event(involved, "Warning", "ReconcileFailed", "boom"),
    ]);
    await rec.event(involved, "Warning", "ReconcileFailed", "other message");
    await rec.event(involved, "Normal", "Reconciled", "ok");
    const events = kube.objects(Events);
    expect(events).toHaveLength(3);
    expect(events.find((e) => e.message === "boom").count).toBe(3);
    expect(kube.requests.filter((r) => r === "create events")).toHaveLength(3);
    expect(kube.requests.filter((r) => r === "patch events")).toHaveLength(2);
  });

  it("starts a new Event when the aggregated one was deleted", async () => {
    const kube = createFakeKubeClient();
    const rec = createEventRecorder(kube, { component: "c" });
    await rec.event(involved, "Normal", "R", "m");
    const [first] = kube.objects(Events);
    await kube.delete(Events, first.metadata.namespace, first.metadata.name);
    await rec.event(involved, "Normal", "R", "m");
    const events = kube.objects(Events);
    expect(events).toHaveLength(1);
    expect(events[0].count).toBe(1);
  });

  it("never rejects: a failed write is counted and the caller carries on", async () => {
    const kube = createFakeKubeClient();
    const metrics = createMetrics();
    const rec = createEventRecorder(kube, { component: "c", metrics });
    kube.inject({ verb: "create", resource: "events", reason: "Forbidden" });
    await expect(rec.event(involved, "Warning", "R", "m")).resolves.toBeUndefined();
    expect(rec.failures()).toBe(1);
    expect(await sumCounter(metrics.eventFailuresTotal)).toBe(1);
    await rec.event(involved, "Warning", "R", "m");
    expect(kube.objects(Events)).toHaveLength(1);
  });

  it("bounds the message length", async () => {
    const kube = createFakeKubeClient();
    const rec = createEventRecorder(kube, { component: "c" });
    await rec.event(involved, "Normal", "R", "x".repeat(5000));
    expect(kube.objects(Events)[0].message.length).toBe(1024);
  });
});
