import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Extensions, Leases } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/index.js";
import { createController, type ReconcileResult } from "../../src/runtime/controller.js";
import { FencedError } from "../../src/runtime/fence.js";
import { createHealthServer } from "../../src/runtime/health.js";
import { createInformer } from "../../src/runtime/informer.js";
import { createManager } from "../../src/runtime/manager.js";

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const quiet = () => createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

async function status(port: number, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.text();
  return res.status;
}

function build(reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileResult>, opts: { leader?: string; shutdownTimeoutMs?: number; kube?: ReturnType<typeof createFakeKubeClient> } = {}) {
  const kube = opts.kube ?? createFakeKubeClient();
  const metrics = createMetrics();
  const logger = quiet();
  const informer = createInformer(kube, Extensions, { logger });
  const controller = createController({ name: "ext", informer, reconcile, metrics, logger });
  const manager = createManager({
    kube,
    logger,
    metrics,
    healthPort: 0,
    host: "127.0.0.1",
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 2000,
    handleSignals: false,
    ...(opts.leader
      ? {
          leaderElection: {
            namespace: "kube-system",
            name: "ontap",
            identity: opts.leader,
            leaseDurationSeconds: 1,
            renewDeadlineSeconds: 0.6,
            retryPeriodSeconds: 0.1,
          },
        }
      : {}),
  });
  manager.add(controller);
  return { kube, manager, metrics, controller };
}

describe("health server", () => {
  it("answers /healthz, /readyz by its checks and /metrics from the registry; 404 elsewhere", async () => {
    const metrics = createMetrics();
    metrics.leader.set(1);
    let ready = false;
    const server = createHealthServer({
      port: 0,
      host: "127.0.0.1",
      readyz: () => ({ ok: ready, reasons: ["caches not synced"] }),
      registry: metrics.registry,
    });
    const port = await server.start();
    expect(await status(port, "/healthz")).toBe(200);
    const notReady = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain("caches not synced");
    ready = true;
    expect(await status(port, "/readyz")).toBe(200);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toContain("gardener_extension_ontap_leader 1");
    expect(await status(port, "/nope")).toBe(404);
    await server.stop();
  });
});

describe("manager", () => {
  it("becomes ready after the caches sync, runs controllers, and stops gracefully", async () => {
    const seen: string[] = [];
    const { kube, manager } = build(async (key) => {
      seen.push(key);
      return { kind: "done" };
    });
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: {} });
    const started = manager.start();
    await until(() => manager.isReady());
    const port = manager.healthPort()!;
    expect(await status(port, "/readyz")).toBe(200);
    await until(() => seen.includes("n/a"));
    expect(manager.isLeader()).toBe(true);
    await manager.stop();
    await started;
    expect(manager.isReady()).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("on stop, lets an in-flight reconcile finish within the deadline before resolving", async () => {
    let finished = false;
    const { kube, manager, controller } = build(async () => {
      await new Promise((r) => setTimeout(r, 150));
      finished = true;
      return { kind: "done" };
    });
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: {} });
    const started = manager.start();
    await until(() => controller.inFlight() === 1);
    await manager.stop();
    expect(finished).toBe(true);
    await started;
  });

  it("aborts in-flight reconciles that outlive the shutdown deadline", async () => {
    let aborted = false;
    const { kube, manager, controller } = build(
      (_key, signal) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve({ kind: "done" });
          });
        }),
      { shutdownTimeoutMs: 100 },
    );
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: {} });
    const started = manager.start();
    await until(() => controller.inFlight() === 1);
    const stopAt = Date.now();
    await manager.stop();
    expect(aborted).toBe(true);
    expect(Date.now() - stopAt).toBeLessThan(1000);
    await started;
  });

  it("with leader election, only the leader reconciles; stopping it releases the lease and the other takes over", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: {} });
    const byA: string[] = [];
    const byB: string[] = [];
    const a = build(async (k) => {
      byA.push(k);
      return { kind: "done" };
    }, { leader: "a", kube });
    const startedA = a.manager.start();
    await until(() => a.manager.isLeader());
    const b = build(async (k) => {
      byB.push(k);
      return { kind: "done" };
    }, { leader: "b", kube });
    const startedB = b.manager.start();
    await until(() => b.manager.isReady());
    await until(() => byA.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.manager.isLeader()).toBe(false);
    expect(byB).toHaveLength(0);
    const stopAt = Date.now();
    await a.manager.stop();
    await startedA;
    expect(kube.objects(Leases)[0].spec.holderIdentity).not.toBe("a");
    await until(() => byB.length === 1);
    expect(Date.now() - stopAt).toBeLessThan(1000);
    await b.manager.stop();
    await startedB;
  });

  it("after the lease is lost and re-acquired while a reconcile ignores its abort, the controllers run again; the drain fences writes and fails liveness", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: {} });
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    let fencedAfterLoss: unknown;
    let drained = false;
    const holder: { manager?: ReturnType<typeof build>["manager"] } = {};
    const a = build(
      async (key) => {
        seen.push(key);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          if (key === "n/a" && seen.filter((k) => k === "n/a").length === 1) {
            // Ignores its signal (as a call that never saw it would), outliving the abort grace.
            await new Promise((r) => setTimeout(r, 6_000));
            try {
              holder.manager?.checkWrite();
            } catch (err) {
              fencedAfterLoss = err;
            }
            drained = true;
          }
          return { kind: "done" };
        } finally {
          inFlight--;
        }
      },
      { leader: "a", kube },
    );
    holder.manager = a.manager;
    const started = a.manager.start();
    await until(() => a.controller.inFlight() === 1);
    expect(() => a.manager.checkWrite()).not.toThrow();
    // The API server is gone for a moment: renewals fail, the term ends, the lease is re-acquired later.
    kube.inject({ verb: "update", resource: "leases", reason: "ServerError", times: 12 });
    kube.inject({ verb: "get", resource: "leases", reason: "ServerError", times: 12 });
    await until(() => !a.manager.isLeader(), 3000);
    expect(() => a.manager.checkWrite()).toThrow(FencedError);
    await until(async () => (await status(a.manager.healthPort()!, "/healthz")) === 503, 8000);
    expect(a.manager.isLive()).toBe(false);
    await until(() => drained, 8000);
    expect(fencedAfterLoss).toBeInstanceOf(FencedError);
    await kube.create(Extensions, { metadata: { name: "b", namespace: "n" }, spec: {} });
    await until(() => seen.includes("n/b"), 8000);
    expect(a.manager.isLeader()).toBe(true);
    expect(a.manager.isLive()).toBe(true);
    expect(await status(a.manager.healthPort()!, "/readyz")).toBe(200);
    // The new term never ran beside the draining one.
    expect(maxInFlight).toBe(1);
    await a.manager.stop();
    await started;
  }, 30_000);

  it("is not ready and not live when a controller cannot run", async () => {
    const { kube, manager, controller } = build(async () => ({ kind: "done" }));
    await kube.create(Extensions, { metadata: { name: "a", namespace: "n" }, spec: {} });
    // A controller already running elsewhere (the bug this guards against) makes the manager's run fail.
    const elsewhere = new AbortController();
    const other = controller.run(elsewhere.signal);
    const started = manager.start();
    await until(async () => manager.healthPort() !== undefined && (await status(manager.healthPort()!, "/healthz")) === 503);
    expect(manager.isReady()).toBe(false);
    elsewhere.abort();
    await other;
    await manager.stop();
    await started;
  });

  it("stop before start finishes still resolves start", async () => {
    const kube = createFakeKubeClient();
    kube.inject({ verb: "list", reason: "Forbidden", times: 1000 });
    const { manager } = build(async () => ({ kind: "done" }), { kube });
    const started = manager.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(manager.isReady()).toBe(false);
    await manager.stop();
    await started;
  });
});
