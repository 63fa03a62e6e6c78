import { Writable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { createKubeClient } from "../../src/kube/client.js";
import { Extensions, Leases } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { createMetrics, kubeRequestObserver, sumCounter } from "../../src/metrics/index.js";
import { createController } from "../../src/runtime/controller.js";
import { createInformer } from "../../src/runtime/informer.js";
import type { Lease } from "../../src/runtime/leaderelection.js";
import { createManager } from "../../src/runtime/manager.js";
import { eventually, freshNamespace, loadKubeConfig } from "../support/kube-test-helpers.js";

const quiet = () => createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function startExtensionProcess(kc: KubeConfig, ns: string, identity: string) {
  const metrics = createMetrics();
  const kube = createKubeClient(kc, { onRequest: kubeRequestObserver(metrics) });
  const logger = quiet();
  const informer = createInformer(kube, Extensions, { namespace: ns, logger });
  const reconciled: string[] = [];
  const controller = createController({
    name: "extension",
    informer,
    reconcile: async (key) => {
      reconciled.push(key);
      return { kind: "done" };
    },
    metrics,
    logger,
  });
  const manager = createManager({
    kube,
    logger,
    metrics,
    host: "127.0.0.1",
    healthPort: 0,
    shutdownTimeoutMs: 2_000,
    handleSignals: false,
    leaderElection: {
      namespace: ns,
      name: "ontap-leader",
      identity,
      leaseDurationSeconds: 2,
      renewDeadlineSeconds: 1.5,
      retryPeriodSeconds: 0.25,
    },
  });
  manager.add(controller);
  const started = manager.start();
  return { manager, metrics, reconciled, started };
}

async function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe("manager against kube-apiserver", () => {
  it("two processes: both ready, only the leader reconciles, a graceful stop hands over at once", async () => {
    const kc = loadKubeConfig();
    const ns = await freshNamespace(kc, { prefix: "mgr" });
    const kube = createKubeClient(kc);
    await kube.create(Extensions, { metadata: { name: "e1", namespace: ns }, spec: { type: "ontap" } } as never);

    const a = startExtensionProcess(kc, ns, "a");
    await eventually(() => expect(a.manager.isLeader()).toBe(true), { timeoutMs: 10_000 });
    const b = startExtensionProcess(kc, ns, "b");
    try {
      await eventually(() => expect(b.manager.isReady()).toBe(true), { timeoutMs: 10_000 });
      expect((await probe(b.manager.healthPort()!, "/readyz")).status).toBe(200);
      await eventually(() => expect(a.reconciled).toEqual([`${ns}/e1`]));
      await kube.create(Extensions, { metadata: { name: "e2", namespace: ns }, spec: { type: "ontap" } } as never);
      await eventually(() => expect(a.reconciled).toContain(`${ns}/e2`));
      await new Promise((r) => setTimeout(r, 500));
      expect(b.reconciled).toEqual([]);
      expect(b.manager.isLeader()).toBe(false);

      const metricsText = (await probe(a.manager.healthPort()!, "/metrics")).body;
      expect(metricsText).toContain("gardener_extension_ontap_leader 1");
      expect(await sumCounter(a.metrics.kubeRequestsTotal, { resource: "leases" })).toBeGreaterThan(0);

      const stoppedAt = Date.now();
      await a.manager.stop();
      await a.started;
      const lease = await kube.get<Lease>(Leases, ns, "ontap-leader");
      expect(lease?.spec?.holderIdentity).not.toBe("a");
      // The new leader looks at every Extension once.
      await eventually(() => expect(b.reconciled.sort()).toEqual([`${ns}/e1`, `${ns}/e2`]), { timeoutMs: 5_000 });
      expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    } finally {
      await b.manager.stop();
      await b.started;
    }
  });
});
