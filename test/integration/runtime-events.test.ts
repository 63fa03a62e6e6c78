import { describe, expect, it } from "vitest";
import { createKubeClient } from "../../src/kube/client.js";
import { Events, Extensions } from "../../src/kube/resources.js";
import { createEventRecorder } from "../../src/runtime/events.js";
import { freshNamespace, loadKubeConfig } from "../support/kube-test-helpers.js";

interface CoreEvent {
  metadata: { name: string };
  involvedObject: { kind: string; name: string; namespace: string; uid: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
}

describe("event recorder against kube-apiserver", () => {
  it("writes Events on an Extension and aggregates repeats into one with a count", async () => {
    const kc = loadKubeConfig();
    const kube = createKubeClient(kc);
    const ns = await freshNamespace(kc, { prefix: "ev" });
    const ext = await kube.create<{ metadata: { name: string; namespace: string; uid: string } }>(Extensions, {
      metadata: { name: "ontap", namespace: ns },
      spec: { type: "ontap" },
    } as never);
    const recorder = createEventRecorder(kube, { component: "gardener-extension-ontap", instance: "test-pod" });
    const involved = {
      apiVersion: "extensions.gardener.cloud/v1alpha1",
      kind: "Extension",
      namespace: ns,
      name: ext.metadata.name,
      uid: ext.metadata.uid,
    };
    await recorder.event(involved, "Warning", "ReconcileError", "SVM lookup failed on cluster b; will retry");
    await new Promise((r) => setTimeout(r, 1100));
    await recorder.event(involved, "Warning", "ReconcileError", "SVM lookup failed on cluster b; will retry");
    await recorder.event(involved, "Warning", "ReconcileError", "SVM lookup failed on cluster b; will retry");
    await recorder.event(involved, "Normal", "Reconciled", "storage ready");
    expect(recorder.failures()).toBe(0);

    const { items } = await kube.list<CoreEvent>(Events, ns);
    expect(items).toHaveLength(2);
    const warning = items.find((e) => e.reason === "ReconcileError")!;
    expect(warning).toMatchObject({
      type: "Warning",
      count: 3,
      involvedObject: { kind: "Extension", name: "ontap", namespace: ns, uid: ext.metadata.uid },
      source: { component: "gardener-extension-ontap" },
    });
    expect(Date.parse(warning.lastTimestamp)).toBeGreaterThan(Date.parse(warning.firstTimestamp));
    expect(items.find((e) => e.reason === "Reconciled")?.count).toBe(1);
  });

  it("does not throw when the write is refused, and counts the failure", async () => {
    const kc = loadKubeConfig();
    const kube = createKubeClient(kc);
    const recorder = createEventRecorder(kube, { component: "c" });
    // The namespace does not exist: kube-apiserver refuses the Event with NotFound.
    await expect(
      recorder.event({ apiVersion: "v1", kind: "ConfigMap", namespace: "no-such-namespace-xyz", name: "x" }, "Normal", "R", "m"),
    ).resolves.toBeUndefined();
    expect(recorder.failures()).toBe(1);
  });
});
