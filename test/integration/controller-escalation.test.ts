import { describe, expect, it } from "vitest";
import { Events } from "../../src/kube/resources.js";
import { sumCounter } from "../../src/metrics/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import { worldPerTest } from "../support/world.js";

// On the real gardener-resource-manager (a shoot per test, started when the first ManagedResource is written,
// i.e. once the fault is cleared): the recovery is a real create through it, and the delete waits for its
// finalizer. The deadlines after the fault is cleared fit that on a loaded machine.
const newWorld = worldPerTest();

interface EventObject {
  type: string;
  reason: string;
  message: string;
  count?: number;
}

describe("controller: escalation", () => {
  it("escalates after N consecutive failures (condition, one Warning event, gauge) and clears it on success", { timeout: 240_000 }, async () => {
    const world = await newWorld({ clusters: 1, escalation: { consecutiveFailures: 3, afterMs: 60 * 60_000 } });
    await world.admins[0]!.addFault({
      method: "GET",
      path: "^/api/svm/svms$",
      action: { type: "error", status: 403, code: "6", message: "not authorized for that command" },
    });
    const shoot = await world.createShoot({ project: "esc", dataLifs: ["10.40.0.11"], managementLif: "10.40.0.10" });

    const escalated = await world.waitFor(
      shoot,
      (e) => e.status?.conditions?.some((c) => c.type === "ReconcileEscalated" && c.status === "True") ?? false,
      30_000,
      "ReconcileEscalated=True",
    );
    // between retries the next attempt may already have announced itself as Processing
    expect(["Error", "Processing"]).toContain(escalated.status?.lastOperation?.state);
    expect(escalated.status?.lastError?.codes).toEqual(["ERR_INFRA_UNAUTHORIZED"]);
    expect(escalated.status?.conditions?.find((c) => c.type === "ReconcileEscalated")?.message).toMatch(/consecutive failures/);
    expect(await world.metrics.escalated.get().then((m) => m.values.find((v) => v.labels.namespace === shoot.namespace)?.value)).toBe(1);

    // The event is posted beside the status write, not before it: wait for it, then hold it to one.
    const escalatedEvents = async () =>
      (await world.kube.list<EventObject>(Events, shoot.namespace)).items.filter((e) => e.reason === "Escalated" && e.type === "Warning");
    await eventually(async () => expect(await escalatedEvents()).toHaveLength(1));

    await world.admins[0]!.clearFaults();
    const recovered = await world.waitSucceeded(shoot, 120_000);
    expect(recovered.status?.conditions?.find((c) => c.type === "ReconcileEscalated")?.status).toBe("False");
    expect(await world.metrics.escalated.get().then((m) => m.values.find((v) => v.labels.namespace === shoot.namespace)?.value)).toBe(0);
    expect(await world.invariants([shoot])).toEqual([]);
    expect(await escalatedEvents()).toHaveLength(1);
  });

  it("escalates a wait for the same thing (an SVM that stays initializing) after waitingMs, once, and clears it when the wait ends", { timeout: 240_000 }, async () => {
    const world = await newWorld({ clusters: 1, escalation: { consecutiveFailures: 3, afterMs: 60 * 60_000, waitingMs: 3_000 } });
    const shoot = await world.createShoot({ project: "escwait", dataLifs: ["10.40.2.11"], managementLif: "10.40.2.10" });
    const ready = await world.waitSucceeded(shoot, 120_000);
    const svmName = String(ready.status?.providerStatus?.svmName);
    // ONTAP says the SVM is initializing and never finishes: every reconcile requeues, none fails.
    await world.admins[0]!.setSvmState(svmName, "initializing");
    await world.annotate(shoot, { "gardener.cloud/operation": "reconcile" });
    const escalated = await world.waitFor(
      shoot,
      (e) => e.status?.conditions?.some((c) => c.type === "ReconcileEscalated" && c.status === "True") ?? false,
      60_000,
      "ReconcileEscalated=True while waiting",
    );
    expect(escalated.status?.lastOperation?.state).toBe("Processing");
    expect(escalated.status?.lastError).toBeUndefined();
    const condition = escalated.status?.conditions?.find((c) => c.type === "ReconcileEscalated");
    expect(condition?.reason).toBe("WaitingForSVM");
    expect(condition?.message).toContain(`SVM ${svmName}`);
    expect(condition?.message).toContain("initializing");
    expect(await world.metrics.escalated.get().then((m) => m.values.find((v) => v.labels.namespace === shoot.namespace)?.value)).toBe(1);
    // More looks at the same wait: still one Warning event for it. (With a 3 s threshold the create's own wait
    // for trident-crds on the real resource manager may have escalated, and recovered, before.)
    const reconciles = await sumCounter(world.metrics.reconcilesTotal);
    for (let i = 0; i < 100 && (await sumCounter(world.metrics.reconcilesTotal)) < reconciles + 3; i++) await new Promise((r) => setTimeout(r, 100));
    const events = (await world.kube.list<EventObject>(Events, shoot.namespace)).items;
    const escalations = events
      .filter((e) => e.reason === "Escalated" && e.type === "Warning" && e.message.includes(`SVM ${svmName}`))
      .map((e) => `${e.message} (x${e.count ?? 1})`);
    expect(escalations, JSON.stringify(escalations)).toHaveLength(1);

    await world.admins[0]!.setSvmState(svmName, "running");
    const recovered = await world.waitSucceeded(shoot, 60_000);
    expect(recovered.status?.conditions?.find((c) => c.type === "ReconcileEscalated")).toMatchObject({ status: "False", reason: "Recovered" });
    expect(recovered.status?.providerStatus?.waiting).toBeUndefined();
    expect(await world.metrics.escalated.get().then((m) => m.values.find((v) => v.labels.namespace === shoot.namespace)?.value)).toBe(0);
    expect(await world.invariants([shoot])).toEqual([]);
  });

  it("keeps counting across a restart (the count lives in status), announces once, and drops the series when the Extension goes", { timeout: 300_000 }, async () => {
    const world = await newWorld({ clusters: 1, escalation: { consecutiveFailures: 3, afterMs: 60 * 60_000 } });
    await world.admins[0]!.addFault({
      method: "GET",
      path: "^/api/svm/svms$",
      action: { type: "error", status: 403, code: "6", message: "not authorized for that command" },
    });
    const shoot = await world.createShoot({ project: "esc2", dataLifs: ["10.40.1.11"], managementLif: "10.40.1.10" });
    const failuresOf = (e: { status?: { providerStatus?: Record<string, unknown> } }) =>
      ((e.status?.providerStatus?.failures as { count?: number } | undefined)?.count ?? 0);
    await world.waitFor(shoot, (e) => failuresOf(e) >= 2, 30_000, "two failures");
    // A restart (as a new leader would be) before the threshold: the count goes on from status.
    await world.controller?.stop();
    const before = failuresOf((await world.extension(shoot))!);
    await world.startController();
    // The first failure after the restart goes on from the stored count (a count kept in memory would restart
    // at 1). `before` may already be at the threshold: the stop can land just after a third failure.
    const next = await world.waitFor(shoot, (e) => failuresOf(e) !== before, 30_000, "a failure after the restart");
    expect(failuresOf(next)).toBeGreaterThan(before);
    const escalated = await world.waitFor(
      shoot,
      (e) => e.status?.conditions?.some((c) => c.type === "ReconcileEscalated" && c.status === "True") ?? false,
      30_000,
      "ReconcileEscalated=True",
    );
    expect(failuresOf(escalated)).toBeGreaterThanOrEqual(3);
    await world.waitFor(shoot, (e) => failuresOf(e) >= 5, 30_000, "more failures");
    await world.controller?.stop();
    await world.startController();
    await world.waitFor(shoot, (e) => failuresOf(e) >= 6, 30_000, "a failure after the second restart");
    // The event is posted beside the status write, not before it: wait for it, then hold it to one.
    const escalatedEvents = async () =>
      (await world.kube.list<EventObject>(Events, shoot.namespace)).items.filter((e) => e.reason === "Escalated" && e.type === "Warning");
    await eventually(async () => expect(await escalatedEvents()).toHaveLength(1));

    await world.admins[0]!.clearFaults();
    const recovered = await world.waitSucceeded(shoot, 120_000);
    expect(recovered.status?.providerStatus?.failures).toBeUndefined();
    expect(recovered.status?.conditions?.find((c) => c.type === "ReconcileEscalated")?.status).toBe("False");

    await world.deleteShoot(shoot);
    await world.waitGone(shoot, 90_000);
    const series = async () =>
      [...(await world.metrics.escalated.get()).values, ...(await world.metrics.consecutiveFailures.get()).values].filter(
        (v) => v.labels.namespace === shoot.namespace,
      );
    for (let i = 0; i < 50 && (await series()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await series()).toEqual([]);
  });
});
