import { usernameFor } from "../support/invariants.js";
import { describe, expect, it } from "vitest";
import { Clusters, ManagedResources } from "../../src/kube/resources.js";
import { isManagedResourceHealthy } from "../../src/trident/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import type { MrObject } from "../support/shoot-objects.js";
import { sumCounter } from "../../src/metrics/index.js";
import { checkExtensionObject } from "../../src/testenv/index.js";
import { worldPerTest } from "../support/world.js";

const WRITE_VERBS = new Set(["create", "update", "patch", "delete"]);

async function sumCounterWhere(counter: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, keep: (labels: Record<string, unknown>) => boolean) {
  return (await counter.get()).values.filter((v) => keep(v.labels)).reduce((n, v) => n + v.value, 0);
}

// On the real gardener-resource-manager, one shoot per shoot namespace. The request counts are the
// controller's own (its kube and ONTAP request metrics), so the resource manager's own traffic to the seed is
// not in them; a quiet window is measured only once every ManagedResource is healthy and settled.
const newWorld = worldPerTest();

const lifs = (n: number) => ({ dataLifs: [`10.${n}.0.11`, `10.${n}.0.12`], managementLif: `10.${n}.0.10` });

describe("controller: a shoot's storage", () => {
  it("reconciles a new shoot to Succeeded, with every invariant holding and the annotation consumed", async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "alpha", ...lifs(1) });
    const ext = await world.waitSucceeded(shoot);
    expect(ext.metadata.finalizers).toContain("extensions.gardener.cloud/ontap");
    expect(ext.status?.providerStatus).toMatchObject({ svmName: `p${shoot.projectId.replaceAll("-", "")}`, user: usernameFor(shoot.namespace) });
    expect(await world.invariants([shoot])).toEqual([]);
    expect(await sumCounter(world.metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "failed" })).toBe(0);
  });

  it("creates one SVM for two shoots of one project created at once", async () => {
    const world = await newWorld();
    const [a, b] = await Promise.all([
      world.createShoot({ project: "beta", ...lifs(2) }),
      world.createShoot({ project: "beta", ...lifs(2) }),
    ]);
    await Promise.all([world.waitSucceeded(a), world.waitSucceeded(b)]);
    expect(await world.invariants([a, b])).toEqual([]);
    const svms = (await Promise.all(world.admins.map((x) => x.state()))).flatMap((s) => s.svms);
    expect(svms.filter((s) => s.name === `p${a.projectId.replaceAll("-", "")}`)).toHaveLength(1);
    const creates = (await Promise.all(world.admins.map((x) => x.calls()))).reduce((n, c) => n + (c["POST /api/svm/svms"] ?? 0), 0);
    expect(creates).toBe(1);
  });

  it.each([
    ["a bad providerConfig", { providerConfig: { svmIpaddresses: { managementLif: "10.0.0.1", dataLifs: ["10.0.0.300"] } } }, /dataLifs\[0\]: "10\.0\.0\.300" is not a valid IP address/],
    ["a missing project annotation", { omitProjectAnnotation: true }, /cluster\.metal-stack\.io\/project.*missing/],
  ])("marks %s Failed with ERR_CONFIGURATION_PROBLEM and makes zero ONTAP calls", async (_what, extra, message) => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "gamma", ...lifs(3), ...extra });
    const ext = await world.waitFor(shoot, (e) => e.status?.lastOperation?.state === "Failed", 20_000, "Failed");
    expect(ext.status?.lastError?.codes).toEqual(["ERR_CONFIGURATION_PROBLEM"]);
    expect(ext.status?.lastError?.description).toMatch(message);
    expect(ext.status?.lastOperation?.description).toMatch(/not retried until the spec changes/);
    // not retried: the status stays as it is and no ONTAP request is ever made
    await new Promise((r) => setTimeout(r, 1000));
    expect(await world.ontapRequests()).toBe(0);
    const calls = await Promise.all(world.admins.map((a) => a.calls()));
    expect(calls.every((c) => Object.keys(c).length === 0)).toBe(true);
    expect(await sumCounter(world.metrics.reconcilesTotal, { result: "failed" })).toBe(1);
  });

  it("skips the Extension of a shoot marked failed", async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "delta", ...lifs(4) });
    await world.waitSucceeded(shoot);
    await world.kube.mergePatch(Clusters, undefined, shoot.namespace, { spec: { shoot: { status: { lastOperation: { state: "Failed" } } } } });
    const before = await world.ontapRequests();
    await world.annotate(shoot, { "gardener.cloud/operation": "reconcile" });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await world.ontapRequests()).toBe(before);
    const ext = await world.extension(shoot);
    // Gardener's annotation is left for the shoot's own recovery: nothing was done.
    expect(ext?.metadata.annotations?.["gardener.cloud/operation"]).toBe("reconcile");
  });

  it("counts the requests of one create and of one no-op reconcile", async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "epsilon", ...lifs(5) });
    await world.waitSucceeded(shoot);
    // Every ManagedResource applied and healthy as the resource manager reports it (it writes their status
    // while it applies them, after Succeeded), then a quiet reconcile is measured.
    await eventually(
      async () => {
        const mrs = (await world.kube.list<MrObject>(ManagedResources, shoot.namespace)).items;
        expect(mrs.length).toBeGreaterThan(0);
        for (const mr of mrs) expect(isManagedResourceHealthy(mr).healthy, `${mr.metadata.name}: ${isManagedResourceHealthy(mr).reason}`).toBe(true);
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    await new Promise((r) => setTimeout(r, 500));
    const writes = () => sumCounterWhere(world.metrics.kubeRequestsTotal, (labels) => WRITE_VERBS.has(String(labels.verb)));
    const create = { ontap: await world.ontapRequests(), kube: await world.kubeRequests() };
    // The first reconcile after the create writes status once: lastOperation.type goes from Create to Reconcile.
    await world.reconcileNow(shoot);
    const before = { ontap: await world.ontapRequests(), kube: await world.kubeRequests(), kubeWrites: await writes() };
    await world.reconcileNow(shoot);
    const noop = {
      ontap: (await world.ontapRequests()) - before.ontap,
      kube: (await world.kubeRequests()) - before.kube,
      kubeWrites: (await writes()) - before.kubeWrites,
    };
    process.stderr.write(`requests: create ${JSON.stringify(create)} no-op reconcile ${JSON.stringify(noop)}\n`);
    // one SVM lookup per cluster (bringing the SVM's ip_interfaces for the LIF check), one authentication as the user
    expect(noop.ontap).toBe(3);
    // two writes: consuming the annotation, and lastOperation's time for gardenlet's check (a status patch cannot
    // remove an annotation); the seed Secret is read; ManagedResources come from the informer caches
    expect(noop.kubeWrites).toBe(2);
    expect(noop.kube).toBe(3);
    expect(await world.invariants([shoot])).toEqual([]);
  });

  it("answers two and three consecutive requested no-op reconciles so that gardenlet's own check passes each time", async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "zeta", ...lifs(6) });
    await world.waitSucceeded(shoot);
    for (let round = 1; round <= 3; round++) {
      // reconcileNow requests as gardenlet does (operation + timestamp, in a second after the last status
      // write) and waits with Gardener's checkExtensionObject: before the fix, round 2 waited until the timeout.
      const ext = await world.reconcileNow(shoot, 30_000);
      const requested = ext.metadata.annotations?.["gardener.cloud/timestamp"] ?? "";
      expect(checkExtensionObject(ext), `round ${round}`).toBeUndefined();
      expect(Date.parse(ext.status?.lastOperation?.lastUpdateTime ?? "")).toBeGreaterThanOrEqual(Math.floor(Date.parse(requested) / 1000) * 1000);
      expect(ext.status?.lastOperation).toMatchObject({ type: "Reconcile", state: "Succeeded" });
    }
    expect(await world.invariants([shoot])).toEqual([]);
  });
});
