import { describe, expect, it } from "vitest";
import { rowsFor } from "../../src/diagnosis/diagnose.js";
import type { ShootObservation } from "../../src/diagnosis/observation.js";
import type { Condition } from "../../src/extension/types.js";
import { mergeConditions } from "../../src/health/checker.js";
import { evaluateHealth, STORAGE_HEALTHY, SYSTEM_COMPONENTS_HEALTHY, type WebhookProbe } from "../../src/health/evaluate.js";

const NS = "shoot--alpha--web";
const MRS = ["trident-crds", "trident-backends", "trident-svm-secret", "trident-init", "extension-ontap-shoot"];

function healthy(): ShootObservation {
  return {
    namespace: NS,
    observedAt: "2026-01-01T00:00:00.000Z",
    extension: {
      ok: true,
      value: { name: "ontap", class: "shoot", generation: 1, observedGeneration: 1, deleting: false, lastOperation: { type: "Reconcile", state: "Succeeded", description: "ok" }, recordedCluster: "sim-1" },
    },
    expected: {
      ok: true,
      value: {
        svmName: "palpha",
        username: "web",
        secret: { namespace: NS, name: "ontap-svm-credentials" },
        legacySecret: { namespace: "kube-system", name: "palpha-alpha--web-credentials" },
        lifs: [
          { name: "datalif0", role: "data", ipAddress: "10.1.0.11", servicePolicy: "default-data-nvme-tcp" },
          { name: "managementlif", role: "management", ipAddress: "10.1.0.10", servicePolicy: "default-management" },
        ],
        managedResources: MRS,
      },
    },
    clusters: [{ cluster: "sim-1", kind: "found", svm: { uuid: "u1", name: "palpha", state: "running", nvmeEnabled: true, mirror: false } }],
    inspectedCluster: "sim-1",
    lifs: { ok: true, value: [{ name: "datalif0", ipAddress: "10.1.0.11", state: "up" }, { name: "managementlif", ipAddress: "10.1.0.10", state: "up" }] },
    account: { ok: true, value: { found: true, role: "vsadmin", locked: false } },
    secret: { ok: true, value: { found: true, username: "web", hasPassword: true, hasPendingPassword: false } },
    legacySecret: { ok: true, value: { found: false, hasPassword: false, hasPendingPassword: false } },
    password: { result: "ok" },
    managedResources: { ok: true, value: MRS.map((name) => ({ name, found: true, healthy: true, progressing: false, reason: "healthy" })) },
  };
}

const up: WebhookProbe = { result: "ok" };
const evaluate = (obs: ShootObservation, webhook: WebhookProbe = up) => {
  const report = evaluateHealth({ observation: obs, rows: rowsFor(obs), webhook });
  const byType = new Map(report.conditions.map((c) => [c.type, c]));
  return { report, system: byType.get(SYSTEM_COMPONENTS_HEALTHY)!, storage: byType.get(STORAGE_HEALTHY)! };
};

describe("storage health evaluation", () => {
  it("a healthy shoot: both conditions True with Gardener's reason, facts for the metrics", () => {
    const { report, system, storage } = evaluate(healthy());
    expect(system).toMatchObject({ status: "True", reason: "HealthCheckSuccessful", codes: [] });
    expect(storage).toMatchObject({ status: "True", reason: "HealthCheckSuccessful" });
    expect(report.facts).toEqual({
      svmState: "running",
      lifsExpected: 2,
      lifsUp: 2,
      credentialsValid: true,
      managedResourcesHealthy: MRS.length,
      managedResourcesExpected: MRS.length,
      webhookReachable: true,
    });
  });

  it("a stopped SVM is a storage failure that also reaches SystemComponentsHealthy (the one the Shoot shows)", () => {
    const obs = healthy();
    obs.clusters = [{ cluster: "sim-1", kind: "found", svm: { uuid: "u1", name: "palpha", state: "stopped", nvmeEnabled: true, mirror: false } }];
    const { system, storage, report } = evaluate(obs);
    expect(storage).toMatchObject({ status: "False", reason: "HealthCheckUnsuccessful", codes: ["ERR_INFRA_DEPENDENCIES"] });
    expect(storage.message).toContain("SVM palpha");
    expect(system.status).toBe("False");
    expect(system.message).toContain("storage: SVM palpha");
    expect(report.facts.svmState).toBe("stopped");
  });

  it("a LIF that is down names the LIF and what to do", () => {
    const obs = healthy();
    obs.lifs = { ok: true, value: [{ name: "datalif0", ipAddress: "10.1.0.11", state: "down" }, { name: "managementlif", ipAddress: "10.1.0.10", state: "up" }] };
    const { storage, report } = evaluate(obs);
    expect(storage.status).toBe("False");
    expect(storage.message).toMatch(/LIF datalif0: .*down.*check its home port/);
    expect(report.facts.lifsUp).toBe(1);
  });

  it("a rejected password: ERR_INFRA_UNAUTHENTICATED and credentialsValid false", () => {
    const obs = healthy();
    obs.password = { result: "rejected" };
    const { storage, report } = evaluate(obs);
    expect(storage.status).toBe("False");
    expect(storage.codes).toContain("ERR_INFRA_UNAUTHENTICATED");
    expect(report.facts.credentialsValid).toBe(false);
  });

  it("ONTAP not answering is Unknown (a check that could not run), never False", () => {
    const obs = healthy();
    obs.clusters = [{ cluster: "sim-1", kind: "no-answer", error: "connect ECONNREFUSED" }];
    delete obs.inspectedCluster;
    delete obs.lifs;
    delete obs.account;
    obs.password = { result: "not-checked", why: "the SVM's cluster is not known" };
    const { storage, system } = evaluate(obs);
    expect(storage).toMatchObject({ status: "Unknown", reason: "ConditionCheckError" });
    expect(system.status).toBe("Unknown");
  });

  it("an unhealthy ManagedResource fails SystemComponentsHealthy only; one the resource manager has not caught up with is Progressing", () => {
    const obs = healthy();
    obs.managedResources = {
      ok: true,
      value: MRS.map((name) =>
        name === "trident-init"
          ? { name, found: true, healthy: false, progressing: false, reason: "ResourcesHealthy is False (DeploymentUnhealthy: ...)" }
          : { name, found: true, healthy: true, progressing: false, reason: "healthy" },
      ),
    };
    let { system, storage } = evaluate(obs);
    expect(storage.status).toBe("True");
    expect(system.status).toBe("False");
    expect(system.message).toContain("ManagedResource trident-init");

    obs.managedResources = { ok: true, value: MRS.map((name) => ({ name, found: true, healthy: name !== "trident-init", progressing: name === "trident-init", reason: "x" })) };
    ({ system } = evaluate(obs));
    expect(system).toMatchObject({ status: "Progressing", reason: "HealthCheckProgressing" });
  });

  it("a reachable webhook is said so in a healthy SystemComponentsHealthy; none configured says nothing of it", () => {
    expect(evaluate(healthy(), { result: "ok" }).system).toMatchObject({ status: "True", message: "All health checks successful; the shoot webhook is reachable" });
    expect(evaluate(healthy(), { result: "ok" }).report.facts.webhookReachable).toBe(true);
    expect(evaluate(healthy(), { result: "not-configured" }).system.message).toBe("All health checks successful");
  });

  it("an unreachable webhook fails SystemComponentsHealthy and says what it means", () => {
    const { system, storage, report } = evaluate(healthy(), { result: "unreachable", error: "ECONNREFUSED" });
    expect(storage.status).toBe("True");
    expect(system.status).toBe("False");
    expect(system.message).toContain("shoot webhook: unreachable (ECONNREFUSED)");
    expect(report.facts.webhookReachable).toBe(false);
  });
});

describe("health conditions merge", () => {
  const now = new Date("2026-01-01T00:01:00Z");
  const escalation: Condition = { type: "ReconcileEscalated", status: "False", reason: "Recovered", message: "", lastTransitionTime: "t0", lastUpdateTime: "t0" };
  const healthyCondition = { type: SYSTEM_COMPONENTS_HEALTHY, status: "True" as const, reason: "HealthCheckSuccessful", message: "All health checks successful", codes: [] };

  it("keeps conditions it does not own and sets both times on a new one", () => {
    const merged = mergeConditions([escalation], [healthyCondition], now, 30_000)!;
    expect(merged.find((c) => c.type === "ReconcileEscalated")).toEqual(escalation);
    expect(merged.find((c) => c.type === SYSTEM_COMPONENTS_HEALTHY)).toMatchObject({ lastTransitionTime: "2026-01-01T00:01:00Z", lastUpdateTime: "2026-01-01T00:01:00Z" });
  });

  it("writes nothing when nothing changed within the interval, refreshes lastUpdateTime once it is due, moves lastTransitionTime only on a status change", () => {
    const first = mergeConditions([], [healthyCondition], new Date("2026-01-01T00:00:00Z"), 30_000)!;
    expect(mergeConditions(first, [healthyCondition], new Date("2026-01-01T00:00:10Z"), 30_000)).toBeUndefined();
    const refreshed = mergeConditions(first, [healthyCondition], new Date("2026-01-01T00:00:31Z"), 30_000)!;
    expect(refreshed[0]).toMatchObject({ lastTransitionTime: "2026-01-01T00:00:00Z", lastUpdateTime: "2026-01-01T00:00:31Z" });
    const broken = mergeConditions(refreshed, [{ ...healthyCondition, status: "False", reason: "HealthCheckUnsuccessful", message: "x", codes: ["ERR_INFRA_DEPENDENCIES"] }], new Date("2026-01-01T00:00:32Z"), 30_000)!;
    expect(broken[0]).toMatchObject({ status: "False", lastTransitionTime: "2026-01-01T00:00:32Z", codes: ["ERR_INFRA_DEPENDENCIES"] });
  });
});
