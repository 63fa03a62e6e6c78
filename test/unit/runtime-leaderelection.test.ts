import { describe, expect, it, vi } from "vitest";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Leases } from "../../src/kube/resources.js";
import { createMetrics } from "../../src/metrics/index.js";
import { createLeaderElector, type Lease, microTime } from "../../src/runtime/leaderelection.js";

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FAST = { leaseDurationSeconds: 1, renewDeadlineSeconds: 0.6, retryPeriodSeconds: 0.1 };

function elector(kube: ReturnType<typeof createFakeKubeClient>, identity: string, extra = {}) {
  const log: string[] = [];
  const e = createLeaderElector({
    kube,
    namespace: "kube-system",
    name: "ontap-leader",
    identity,
    ...FAST,
    onStartedLeading: () => log.push("start"),
    onStoppedLeading: () => log.push("stop"),
    ...extra,
  });
  return { e, log };
}

describe("leader election", () => {
  it("formats Lease times as RFC 3339 with microseconds", () => {
    expect(microTime(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
  });

  it("creates the lease, leads, renews it, and releases it on stop", async () => {
    const kube = createFakeKubeClient();
    const metrics = createMetrics();
    const { e, log } = elector(kube, "a", { metrics });
    const ac = new AbortController();
    const running = e.run(ac.signal);
    await until(() => e.isLeader());
    const lease = (await kube.get<Lease>(Leases, "kube-system", "ontap-leader"))!;
    expect(lease.spec).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(lease.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const renewed = lease.spec!.renewTime;
    await until(() => kube.objects(Leases)[0].spec.renewTime !== renewed);
    expect((await metrics.leader.get()).values[0]?.value).toBe(1);
    ac.abort();
    await running;
    expect(e.isLeader()).toBe(false);
    expect(log).toEqual(["start", "stop"]);
    const released = (await kube.get<Lease>(Leases, "kube-system", "ontap-leader"))!;
    expect(released.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect((await metrics.leader.get()).values[0]?.value).toBe(0);
  });

  it("a second candidate waits while the lease is renewed and takes over at once after a release", async () => {
    const kube = createFakeKubeClient();
    const a = elector(kube, "a");
    const b = elector(kube, "b");
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.e.run(acA.signal);
    await until(() => a.e.isLeader());
    const runB = b.e.run(acB.signal);
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.e.isLeader()).toBe(false);
    expect(b.e.leader()).toBe("a");
    const stoppedAt = Date.now();
    acA.abort();
    await runA;
    await until(() => b.e.isLeader());
    // Released: no need to wait for the 1 s lease to expire.
    expect(Date.now() - stoppedAt).toBeLessThan(600);
    const lease = kube.objects(Leases)[0] as Lease;
    expect(lease.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    acB.abort();
    await runB;
  });

  it("takes over an expired lease that was not released", async () => {
    const kube = createFakeKubeClient();
    const a = elector(kube, "a", { releaseOnCancel: false });
    const b = elector(kube, "b");
    const acA = new AbortController();
    const runA = a.e.run(acA.signal);
    await until(() => a.e.isLeader());
    const acB = new AbortController();
    const runB = b.e.run(acB.signal);
    await new Promise((r) => setTimeout(r, 200));
    const stoppedAt = Date.now();
    acA.abort();
    await runA;
    await until(() => b.e.isLeader());
    const waited = Date.now() - stoppedAt;
    expect(waited).toBeGreaterThanOrEqual(700);
    expect(waited).toBeLessThan(2500);
    acB.abort();
    await runB;
  });

  it("steps down when it cannot renew within the renew deadline", async () => {
    const kube = createFakeKubeClient();
    const { e, log } = elector(kube, "a");
    const ac = new AbortController();
    const running = e.run(ac.signal);
    await until(() => e.isLeader());
    kube.inject({ verb: "update", resource: "leases", reason: "ServerError", times: 1000 });
    kube.inject({ verb: "get", resource: "leases", reason: "ServerError", times: 1000 });
    const failingSince = Date.now();
    await until(() => !e.isLeader());
    expect(Date.now() - failingSince).toBeLessThan(1000);
    expect(log).toEqual(["start", "stop"]);
    ac.abort();
    await running;
  });

  it("steps down when another holder wrote the lease", async () => {
    const kube = createFakeKubeClient();
    const { e } = elector(kube, "a");
    const ac = new AbortController();
    const running = e.run(ac.signal);
    await until(() => e.isLeader());
    const lease = (await kube.get<Lease>(Leases, "kube-system", "ontap-leader"))!;
    await kube.update(Leases, { ...lease, spec: { ...lease.spec, holderIdentity: "intruder", leaseDurationSeconds: 30, renewTime: microTime() } });
    await until(() => !e.isLeader());
    expect(e.leader()).toBe("intruder");
    ac.abort();
    await running;
  });

  it("two candidates racing for a new lease never both lead", async () => {
    const kube = createFakeKubeClient();
    const candidates = ["a", "b", "c"].map((id) => elector(kube, id));
    const ac = new AbortController();
    const runs = candidates.map((c) => c.e.run(ac.signal));
    let maxLeaders = 0;
    const start = Date.now();
    while (Date.now() - start < 800) {
      maxLeaders = Math.max(maxLeaders, candidates.filter((c) => c.e.isLeader()).length);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(maxLeaders).toBe(1);
    ac.abort();
    await Promise.all(runs);
  });

  it("a wall-clock jump neither expires the leader's lease for a standby nor keeps a leader that cannot renew", async () => {
    const kube = createFakeKubeClient();
    const a = elector(kube, "a");
    const b = elector(kube, "b");
    const ac = new AbortController();
    const runA = a.e.run(ac.signal);
    await until(() => a.e.isLeader());
    const runB = b.e.run(ac.signal);
    await until(() => b.e.leader() === "a");
    const realNow = Date.now.bind(Date);
    let offset = 3_600_000;
    const jump = vi.spyOn(Date, "now").mockImplementation(() => realNow() + offset);
    try {
      await new Promise((r) => setTimeout(r, 1200));
      expect(a.e.isLeader()).toBe(true);
      expect(b.e.isLeader()).toBe(false);
      // Backwards now (an NTP step): a leader whose renewals fail must still step down within renewDeadline.
      kube.inject({ verb: "update", resource: "leases", reason: "ServerError", times: 1000 });
      kube.inject({ verb: "get", resource: "leases", reason: "ServerError", times: 1000 });
      offset = -3_600_000;
      const failingSince = performance.now();
      await until(() => !a.e.isLeader(), 3000);
      expect(performance.now() - failingSince).toBeLessThan(1000);
    } finally {
      jump.mockRestore();
    }
    ac.abort();
    await Promise.all([runA, runB]);
  });

  it("the fence closes once renewDeadline passed on the monotonic clock, before the step-down timer fires", async () => {
    const kube = createFakeKubeClient();
    let stall = 0;
    const { e } = elector(kube, "a", { monotonicNow: () => performance.now() + stall });
    const ac = new AbortController();
    const running = e.run(ac.signal);
    await until(() => e.isLeader());
    expect(e.holdsLease()).toBe(true);
    // As after an event-loop stall: time passed, no timer has run yet.
    stall = 700;
    expect(e.isLeader()).toBe(true);
    expect(e.holdsLease()).toBe(false);
    ac.abort();
    await running;
  });

  it("waits for the stopped term to drain before campaigning again", async () => {
    const kube = createFakeKubeClient();
    let releaseDrain: () => void = () => {};
    const drain = new Promise<void>((r) => {
      releaseDrain = r;
    });
    const log: string[] = [];
    const e = createLeaderElector({
      kube,
      namespace: "kube-system",
      name: "ontap-leader",
      identity: "a",
      ...FAST,
      onStartedLeading: () => log.push("start"),
      onStoppedLeading: () => {
        log.push("stop");
        return drain;
      },
    });
    const ac = new AbortController();
    const running = e.run(ac.signal);
    await until(() => e.isLeader());
    kube.inject({ verb: "update", resource: "leases", reason: "ServerError", times: 8 });
    kube.inject({ verb: "get", resource: "leases", reason: "ServerError", times: 8 });
    await until(() => log.includes("stop"));
    await new Promise((r) => setTimeout(r, 1500));
    expect(log).toEqual(["start", "stop"]);
    releaseDrain();
    await until(() => log.length === 3);
    expect(log).toEqual(["start", "stop", "start"]);
    ac.abort();
    await running;
  });

  it("rejects timings where the renew deadline is not below the lease duration", () => {
    const kube = createFakeKubeClient();
    expect(() =>
      createLeaderElector({ kube, namespace: "n", name: "l", identity: "a", leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }),
    ).toThrow(RangeError);
    expect(() => createLeaderElector({ kube, namespace: "n", name: "l", identity: "a", leaseDurationSeconds: 1.5 })).toThrow(
      RangeError,
    );
  });
});
