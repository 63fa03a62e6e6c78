import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Extension } from "../../src/extension/types.js";
import { startHealthChecker } from "../../src/health/checker.js";
import { Extensions } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";

/**
 * The storage health check exports 14 series per shoot (8 SVM states, LIFs up and expected, credentials,
 * 2 conditions, the last check). They must go with the shoot: a seed's /metrics must not keep every shoot it
 * ever had (and an alert on a shoot that no longer exists).
 */

const extension = (namespace: string): Extension =>
  ({
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace },
    spec: { type: "ontap", providerConfig: { svmIpaddresses: { managementLif: "10.9.0.10", dataLifs: ["10.9.0.11"] } } },
    status: { observedGeneration: 1, lastOperation: { type: "Reconcile", state: "Succeeded" } },
  }) as unknown as Extension;

async function seriesOf(registry: Registry, namespace: string): Promise<number> {
  let n = 0;
  for (const metric of await registry.getMetricsAsJSON()) {
    if (!metric.name.includes("_shoot_")) continue;
    n += (metric.values as { labels: Record<string, unknown> }[]).filter((v) => v.labels.namespace === namespace).length;
  }
  return n;
}

describe("health gauges go with the shoot", () => {
  it("14 series per checked shoot; removed by forget() and by the next round once the Extension is gone or deleting", async () => {
    const kube = createFakeKubeClient();
    const registry = new Registry();
    let extensions = [extension("shoot--p--a"), extension("shoot--p--b"), extension("shoot--p--c")];
    for (const e of extensions) await kube.create(Extensions, e);
    const checker = startHealthChecker({
      kube,
      clients: [],
      config: { extensionClass: "shoot", clusterwideNetworkPolicy: false },
      extensions: () => extensions,
      intervalMs: 3_600_000,
      registry,
      logger: createLogger({ level: "silent" }),
    });
    try {
      await checker.checkAll();
      for (const e of extensions) expect(await seriesOf(registry, e.metadata.namespace!), e.metadata.namespace).toBe(14);

      // The reconciler's onGone (process-assembly.ts) after a delete succeeded.
      checker.forget("shoot--p--a");
      expect(await seriesOf(registry, "shoot--p--a")).toBe(0);
      expect(await seriesOf(registry, "shoot--p--b")).toBe(14);

      // Gone from the cache without an onGone here (deleted while another replica led), or being deleted.
      extensions = [{ ...extension("shoot--p--c"), metadata: { ...extension("shoot--p--c").metadata, deletionTimestamp: "2026-12-06T00:00:00Z" } }];
      await checker.checkAll();
      expect(await seriesOf(registry, "shoot--p--b")).toBe(0);
      expect(await seriesOf(registry, "shoot--p--c")).toBe(0);
    } finally {
      await checker.stop();
    }
  });
});
