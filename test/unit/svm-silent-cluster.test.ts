import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ExtensionError } from "../../src/extension/errors.js";
import { createMetroCluster, createOntapClient, type OntapClient } from "../../src/ontap/index.js";
import { knownHome } from "../../src/ontap/metrocluster.js";
import { planShoot } from "../../src/ontap-extension/plan.js";
import { ensureSvm } from "../../src/ontap-extension/svm.js";
import { teardownOntap } from "../../src/ontap-extension/teardown.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * One silent MetroCluster cluster must not fail every reconcile and delete of SVMs whose recorded home answers:
 * unknown stays "not absent" for creation, but an SVM found on the cluster status recorded as its home is repaired
 * and deleted there. Two simulated clusters; the second one resets every connection (no answer at all).
 */

const plan = planShoot({
  projectId: "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ae",
  gardenerProject: "metro",
  shootName: "db",
  shootNamespace: "shoot--metro--db",
  managementLif: "10.190.0.10",
  dataLifs: ["10.190.0.11"],
});
let sim: RunningSimulator;
let admins: SimAdmin[];
let clients: OntapClient[];

beforeAll(async () => {
  sim = await startSimulator({ clusters: 2, jobMs: 0 });
  admins = sim.clusters.map((c) => new SimAdmin(c));
  // One quick attempt: the silent cluster's answer is "unknown" at once instead of after the retry budget.
  clients = sim.clusters.map((c) => createOntapClient(c, { retry: { maxAttempts: 1, maxElapsedMs: 1000 } }));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(admins.map((a) => a.close()));
  await sim.stop();
});
beforeEach(async () => {
  await Promise.all(admins.map((a) => a.reset()));
});

function deps(recordedCluster: string | undefined) {
  const recorded: string[] = [];
  return {
    recorded,
    svm: {
      metro: createMetroCluster(clients),
      clients: new Map(clients.map((c) => [c.cluster, c])),
      ...(recordedCluster ? { recordedCluster } : {}),
      recordPlacement: async (cluster: string) => {
        recorded.push(cluster);
      },
      pollMs: 10,
    },
  };
}

const [home, silent] = ["sim-1", "sim-2"];

async function silence(): Promise<void> {
  await admins[1]!.addFault({ path: "^/api/", action: { type: "reset" } });
}

describe("an SVM whose recorded home answers while another cluster is silent", () => {
  it("is repaired on its home, and still never created while a cluster cannot answer", async () => {
    expect(sim.clusters.map((c) => c.name)).toEqual([home, silent]);
    const svm = await admins[0]!.createSvmDirect({ name: plan.svmName });
    await silence();
    const result = await ensureSvm(deps(home).svm, plan);
    expect(result).toMatchObject({ kind: "done", value: { cluster: home, svm: { uuid: svm.uuid } } });
    // Not recorded as its home: unknown, as before (the silent cluster may hold the one that counts).
    await expect(ensureSvm(deps(undefined).svm, plan)).rejects.toThrow(/cannot tell whether SVM .* exists/);
    // Absent on the one that answers: never created.
    await admins[0]!.reset();
    await silence();
    await expect(ensureSvm(deps(home).svm, plan)).rejects.toBeInstanceOf(ExtensionError);
    expect((await admins[0]!.state()).svms.filter((s) => s.name === plan.svmName)).toHaveLength(0);
  });

  it("is deleted with its user while the other cluster is silent", async () => {
    const svm = await admins[0]!.createSvmDirect({ name: plan.svmName });
    await clients[0]!.createAccount({ ownerUuid: svm.uuid, name: plan.username, password: "Metro-Passw0rd-1" });
    await silence();
    const teardown = { metro: createMetroCluster(clients), clients: new Map(clients.map((c) => [c.cluster, c])), policy: "DeleteWhenUnused" as const, pollMs: 10 };
    await expect(teardownOntap(teardown, plan)).rejects.toThrow(/cannot tell where SVM/);
    const withHome = { ...plan, recordedCluster: home };
    // Its delete job is looked at by requeue, as in the controller; the simulator's job ends at once.
    let result = await teardownOntap(teardown, withHome);
    for (let pass = 0; result.kind === "requeue" && pass < 20; pass++) {
      await new Promise((r) => setTimeout(r, 20));
      result = await teardownOntap(teardown, withHome);
    }
    expect(result).toMatchObject({ kind: "done", value: expect.stringMatching(/absent|removed/) });
    const left = await admins[0]!.state();
    expect(left.svms.filter((s) => s.name === plan.svmName)).toHaveLength(0);
    expect(left.accounts.filter((a) => a.name === plan.username)).toHaveLength(0);
  });

  it("knownHome: only the one copy found on the recorded cluster, only when the lookup is unknown", () => {
    const svm = { uuid: "u", name: "p", state: "running" };
    const error = {} as never;
    expect(knownHome({ kind: "unknown", errors: [{ cluster: "b", error }], found: [{ cluster: "a", svm }] }, "a")).toEqual({ cluster: "a", svm });
    expect(knownHome({ kind: "unknown", errors: [{ cluster: "b", error }], found: [{ cluster: "a", svm }] }, "b")).toBeUndefined();
    expect(knownHome({ kind: "unknown", errors: [{ cluster: "b", error }], found: [] }, "a")).toBeUndefined();
    expect(knownHome({ kind: "unknown", errors: [{ cluster: "c", error }], found: [{ cluster: "a", svm }, { cluster: "b", svm }] }, "a")).toBeUndefined();
    expect(knownHome({ kind: "found", cluster: "a", svm }, "a")).toBeUndefined();
  });
});
