import type { KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { Leases } from "../../src/kube/resources.js";
import { createLeaderElector, type Lease, type LeaderElector } from "../../src/runtime/leaderelection.js";
import { freshNamespace, loadKubeConfig } from "../support/kube-test-helpers.js";

const TIMING = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.25 };

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

describe("leader election against kube-apiserver", () => {
  let kc: KubeConfig;
  let kube: KubeClient;

  beforeAll(() => {
    kc = loadKubeConfig();
    kube = createKubeClient(kc);
  });

  function candidate(ns: string, identity: string, releaseOnCancel = true) {
    const transitions: string[] = [];
    const elector: LeaderElector = createLeaderElector({
      kube: createKubeClient(kc),
      namespace: ns,
      name: "gardener-extension-ontap-leader-election",
      identity,
      releaseOnCancel,
      ...TIMING,
      onStartedLeading: () => transitions.push("start"),
      onStoppedLeading: () => transitions.push("stop"),
    });
    const stop = new AbortController();
    const done = elector.run(stop.signal);
    const halt = () => {
      stop.abort();
      return done;
    };
    return { elector, transitions, stop: halt };
  }

  it("only one of two electors leads, and the Lease names it", async () => {
    const ns = await freshNamespace(kc, { prefix: "le" });
    const a = candidate(ns, "a");
    const b = candidate(ns, "b");
    try {
      await waitFor(() => a.elector.isLeader() || b.elector.isLeader(), 5_000);
      // Watch for a few renew periods: never two leaders.
      const start = Date.now();
      while (Date.now() - start < 2_500) {
        expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
        await new Promise((r) => setTimeout(r, 25));
      }
      const leader = a.elector.isLeader() ? "a" : "b";
      const lease = await kube.get<Lease>(Leases, ns, "gardener-extension-ontap-leader-election");
      expect(lease?.spec).toMatchObject({ holderIdentity: leader, leaseDurationSeconds: 2 });
      expect(lease?.spec?.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("a leader that stops without releasing is replaced within the lease duration", async () => {
    const ns = await freshNamespace(kc, { prefix: "le" });
    const a = candidate(ns, "a", false);
    await waitFor(() => a.elector.isLeader(), 5_000);
    const b = candidate(ns, "b");
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(b.elector.isLeader()).toBe(false);
      const stoppedAt = Date.now();
      await a.stop();
      expect(a.transitions).toEqual(["start", "stop"]);
      await waitFor(() => b.elector.isLeader(), 6_000);
      const handover = Date.now() - stoppedAt;
      // Not before the lease could have expired, and within lease duration plus a retry period or two.
      expect(handover).toBeGreaterThanOrEqual(1_000);
      expect(handover).toBeLessThan(2_000 + 2 * 250 + 500);
      const lease = await kube.get<Lease>(Leases, ns, "gardener-extension-ontap-leader-election");
      expect(lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    } finally {
      await b.stop();
    }
  });

  it("a leader that releases on stop hands over at once", async () => {
    const ns = await freshNamespace(kc, { prefix: "le" });
    const a = candidate(ns, "a");
    await waitFor(() => a.elector.isLeader(), 5_000);
    const b = candidate(ns, "b");
    try {
      await new Promise((r) => setTimeout(r, 300));
      const stoppedAt = Date.now();
      await a.stop();
      const released = await kube.get<Lease>(Leases, ns, "gardener-extension-ontap-leader-election");
      // Either still released, or b already took it.
      expect(["", "b"]).toContain(released?.spec?.holderIdentity);
      await waitFor(() => b.elector.isLeader(), 2_000);
      expect(Date.now() - stoppedAt).toBeLessThan(2 * 250 + 500);
    } finally {
      await b.stop();
    }
  });
});
