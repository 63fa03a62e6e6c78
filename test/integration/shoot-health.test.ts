import { beforeAll, describe, expect, it } from "vitest";
import type { Condition, Extension } from "../../src/extension/types.js";
import { STORAGE_HEALTHY, SYSTEM_COMPONENTS_HEALTHY } from "../../src/health/evaluate.js";
import { CustomResourceDefinitions } from "../../src/kube/resources.js";
import { renderReleasedTridentCrds, TRIDENT_CRD_NAMES } from "../../src/trident/crds.js";
import { TridentBackendConfigs } from "../../src/health/shoot-trident.js";
import { Secrets } from "../../src/kube/resources.js";
import { DaemonSets, tridentNodeDaemonSet } from "../../src/testenv/trident-operator.js";
import { backendConfigName, SHOOT_HEALTH_ACCESS_SECRET, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET, TRIDENT_OPERATOR_NAME } from "../../src/trident/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";
import { usernameFor } from "../support/invariants.js";
import { type Shoot, type World, worldPerFile } from "../support/world.js";

/**
 * The storage health check against the real gardener-resource-manager and the ONTAP simulator: each failure
 * it looks for is caused for real, shows up in the right Extension condition with what to do, and clears
 * once repaired. One world, the failures one after another (a shoot API server costs seconds of both cores).
 */

const LIFS = { dataLifs: ["10.41.0.11", "10.41.0.12"], managementLif: "10.41.0.10" };
const CHECK_MS = 1_000;

describe("storage health check: conditions Gardener reads, through the real resource manager", () => {
  // The world opens before this block's beforeAll and closes (checking for leaked passwords) after its last test.
  const opened = worldPerFile({ shoot: { project: "health", shoot: "h1", tridentOperator: false }, healthCheckMs: CHECK_MS });
  let world: World;
  let shoot: Shoot;
  let host: SimAdmin;
  let svmName: string;

  const conditions = async (): Promise<Map<string, Condition>> => {
    const ext = await world.extension(shoot);
    return new Map((ext?.status?.conditions ?? []).map((c) => [c.type, c]));
  };
  /** Waits until both conditions say what `expect` checks (the check runs every second). */
  const waitFor = (check: (c: Map<string, Condition>) => void) =>
    eventually(async () => check(await conditions()), { timeoutMs: 60_000, intervalMs: 300 });
  const expectHealthy = () =>
    waitFor((c) => {
      expect(c.get(SYSTEM_COMPONENTS_HEALTHY)).toMatchObject({ status: "True", reason: "HealthCheckSuccessful" });
      expect(c.get(STORAGE_HEALTHY)).toMatchObject({ status: "True", reason: "HealthCheckSuccessful" });
    });
  const gauge = async (name: string, labels: Record<string, string>) => {
    const metric = (await world.metrics.registry.getMetricsAsJSON()).find((m) => m.name === `gardener_extension_ontap_shoot_${name}`);
    const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return value?.value;
  };

  beforeAll(async () => {
    world = opened();
    shoot = await world.createShoot({ project: "health", shoot: "h1", ...LIFS });
    // Trident's operator installs its own CRDs (TridentBackendConfig among them); none runs here, so the test does.
    for (const crd of renderReleasedTridentCrds(TRIDENT_CRD_NAMES) as { metadata: { name: string } }[]) {
      await world.shoot!.kube.create(CustomResourceDefinitions, { ...crd, metadata: { name: crd.metadata.name } });
    }
    const ext: Extension = await world.waitSucceeded(shoot, 120_000);
    const hostName = ext.status?.providerStatus?.cluster as string;
    host = world.admins[world.sim.clusters.findIndex((c) => c.name === hostName)]!;
    svmName = `p${shoot.projectId.replaceAll("-", "")}`;
  }, 300_000);


  it("reports a healthy shoot healthy, with per-shoot metrics", async () => {
    await expectHealthy();
    const ns = shoot.namespace;
    expect(await gauge("svm_state", { namespace: ns, state: "running" })).toBe(1);
    expect(await gauge("lifs_up", { namespace: ns })).toBe(3);
    expect(await gauge("lifs_expected", { namespace: ns })).toBe(3);
    expect(await gauge("credentials_valid", { namespace: ns })).toBe(1);
    expect(await gauge("health_last_check_timestamp_seconds", { namespace: ns })).toBeGreaterThan(Date.now() / 1000 - 30);
  });

  it("a stopped SVM: StorageHealthy and SystemComponentsHealthy False with ERR_INFRA_DEPENDENCIES; clears when it runs again", async () => {
    const requestsBefore = await host.calls();
    await host.setSvmState(svmName, "stopped");
    await waitFor((c) => {
      expect(c.get(STORAGE_HEALTHY)?.status).toBe("False");
      expect(c.get(STORAGE_HEALTHY)?.message).toContain(`SVM ${svmName}`);
      expect(c.get(STORAGE_HEALTHY)?.codes).toContain("ERR_INFRA_DEPENDENCIES");
      expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.status).toBe("False");
      expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.message).toContain("storage:");
    });
    expect(await gauge("svm_state", { namespace: shoot.namespace, state: "stopped" })).toBe(1);
    // The check wrote nothing to ONTAP: every call it made was a GET (or the login as the shoot's user).
    const after = await host.calls();
    const writes = Object.entries(after).filter(([key, n]) => !/^GET /.test(key) && n !== (requestsBefore[key] ?? 0));
    expect(writes.filter(([key]) => !key.includes("/__sim/"))).toEqual([]);
    await host.setSvmState(svmName, "running");
    await expectHealthy();
  });

  it("a LIF that is down: named in StorageHealthy with what to do; clears when it is up", async () => {
    const lifs = await host.rest("GET", `/api/network/ip/interfaces?svm.name=${svmName}&fields=name,uuid`);
    const lif = (lifs.body.records as { name: string; uuid: string }[]).find((l) => l.name !== "managementlif")!;
    await host.rest("PATCH", `/api/network/ip/interfaces/${lif.uuid}`, { body: { enabled: false } });
    await waitFor((c) => {
      expect(c.get(STORAGE_HEALTHY)?.status).toBe("False");
      expect(c.get(STORAGE_HEALTHY)?.message).toContain(`LIF ${lif.name}`);
      expect(c.get(STORAGE_HEALTHY)?.message).toContain("is down");
    });
    expect(await gauge("lifs_up", { namespace: shoot.namespace })).toBe(2);
    await host.rest("PATCH", `/api/network/ip/interfaces/${lif.uuid}`, { body: { enabled: true } });
    await expectHealthy();
  });

  it("a stored password ONTAP rejects: ERR_INFRA_UNAUTHENTICATED; clears after the reconcile repairs it", async () => {
    world.knownSecrets.add("changed-by-hand-2");
    await host.setAccountPassword(svmName, usernameFor(shoot.namespace), "changed-by-hand-2");
    await waitFor((c) => {
      expect(c.get(STORAGE_HEALTHY)?.status).toBe("False");
      expect(c.get(STORAGE_HEALTHY)?.message).toContain("stored password");
      expect(c.get(STORAGE_HEALTHY)?.codes).toContain("ERR_INFRA_UNAUTHENTICATED");
    });
    expect(await gauge("credentials_valid", { namespace: shoot.namespace })).toBe(0);
    await world.reconcileNow(shoot, 60_000);
    await expectHealthy();
  });

  it("a ManagedResource the resource manager reports unhealthy: SystemComponentsHealthy names it; clears when it is healthy", async () => {
    const shootSide = world.shoot!;
    const key = `${SHOOT_SYSTEM_NAMESPACE}/${TRIDENT_OPERATOR_NAME}`;
    shootSide.workloads.holdBack.add(key);
    // The operator's pod crashed: what the deployment controller would report.
    await shootSide.kube.mergePatch(
      { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
      SHOOT_SYSTEM_NAMESPACE,
      TRIDENT_OPERATOR_NAME,
      { status: { availableReplicas: 0, readyReplicas: 0, unavailableReplicas: 1, conditions: [{ type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "crashing" }] } },
      { subresource: "status" },
    );
    await waitFor((c) => {
      expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.status).toBe("False");
      expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.message).toContain("ManagedResource trident-init");
      // The storage itself is fine.
      expect(c.get(STORAGE_HEALTHY)?.status).toBe("True");
    });
    shootSide.workloads.holdBack.delete(key);
    await expectHealthy();
  });

  it("the shoot webhook unreachable: SystemComponentsHealthy says so; clears when it is back", async () => {
    await world.shoot!.setWebhookRunning(false);
    try {
      await waitFor((c) => {
        expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.status).toBe("False");
        expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.message).toContain("shoot webhook: unreachable");
        expect(c.get(STORAGE_HEALTHY)?.status).toBe("True");
      });
    } finally {
      await world.shoot!.setWebhookRunning(true);
    }
    await expectHealthy();
  });

  it("Trident's backend Failed in the shoot: StorageHealthy False with Trident's message and what to do; clears when Bound", async () => {
    const shootKube = world.shoot!.kube;
    const name = backendConfigName(svmName);
    // The resource manager applied the TridentBackendConfig; the test plays Trident, which writes its status.
    const tridentSays = (status: object) =>
      shootKube.mergePatch(TridentBackendConfigs, SHOOT_SYSTEM_NAMESPACE, name, { status }, { subresource: "status" });
    await eventually(async () => expect(await shootKube.get(TridentBackendConfigs, SHOOT_SYSTEM_NAMESPACE, name)).toBeDefined(), { timeoutMs: 30_000 });
    const failure = "problem initializing storage driver 'ontap-san': error initializing ontap-san-nvme driver: could not create Data ONTAP API client";
    await tridentSays({ phase: "Unbound", lastOperationStatus: "Failed", message: failure });
    await waitFor((c) => {
      expect(c.get(STORAGE_HEALTHY)?.status).toBe("False");
      expect(c.get(STORAGE_HEALTHY)?.message).toContain(`Trident backend kube-system/${name}`);
      expect(c.get(STORAGE_HEALTHY)?.message).toContain(failure);
      expect(c.get(STORAGE_HEALTHY)?.message).toContain("trident-controller");
      expect(c.get(SYSTEM_COMPONENTS_HEALTHY)?.status).toBe("False");
    });
    // The controller read the shoot as the token requestor's ServiceAccount (its access Secret holds the token).
    const access = await world.kube.get<{ data?: Record<string, string> }>(Secrets, shoot.namespace, SHOOT_HEALTH_ACCESS_SECRET);
    expect(access?.data?.["token"]).toBeTruthy();
    await tridentSays({ phase: "Bound", lastOperationStatus: "Success", message: "Backend 'ontap-x' updated" });
    await expectHealthy();
  });

  it("Trident's node DaemonSet admitted unmutated while the webhook was down: StorageHealthy says so; clears once admitted again", async () => {
    const shootKube = world.shoot!.kube;
    await world.shoot!.setWebhookRunning(false);
    try {
      // Trident's operator writes its node DaemonSet while the webhook does not answer: failurePolicy Ignore lets it in.
      await shootKube.create(DaemonSets, tridentNodeDaemonSet());
    } finally {
      await world.shoot!.setWebhookRunning(true);
    }
    await waitFor((c) => {
      expect(c.get(STORAGE_HEALTHY)?.status).toBe("False");
      expect(c.get(STORAGE_HEALTHY)?.message).toContain(`Trident node DaemonSet kube-system/${TRIDENT_NODE_DAEMONSET}: admitted without the shoot webhook's mutation`);
      expect(c.get(STORAGE_HEALTHY)?.message).toContain("rollout restart daemonset trident-node-linux");
    });
    // What the condition says to do: an UPDATE goes through the (answering) webhook again.
    await shootKube.mergePatch(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET, {
      spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } } },
    });
    await expectHealthy();
  });
});
