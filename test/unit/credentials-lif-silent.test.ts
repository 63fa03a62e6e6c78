import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secrets } from "../../src/kube/resources.js";
import type { OntapClient, Svm } from "../../src/ontap/index.js";
import { decodeCredentials, ensureCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { planShoot, type ShootPlan } from "../../src/ontap-extension/plan.js";
import type { VerifyCredentials } from "../../src/ontap-extension/verify-credentials.js";
import type { RunningSimulator, } from "../../src/simulator/index.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { startOneClusterSim, stopOneClusterSim } from "../support/one-cluster-sim.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * A rotation whose promotion was lost (5xx, timeout, Conflict, lost Lease, crash) while the seed cannot reach
 * the SVM management LIF: the Secret holds the pending password, ONTAP holds it or the one before, and the LIF
 * never answers. The controller is administrator on the cluster interface, so it never needs the LIF to get out.
 * ONTAP is the simulator; the LIF's silence is the verifier (the LIF check itself: credentials-verification.test.ts).
 * The simulator lets SVM users log in on the cluster port here only so the test can see which password ONTAP holds.
 */

const silentLif: VerifyCredentials = async () => ({ result: "unknown", reason: "no answer from the management LIF 10.170.0.10: connect ETIMEDOUT" });
let sim: RunningSimulator;
let admin: SimAdmin;
let client: OntapClient;

beforeAll(async () => {
  ({ sim, admin, client } = await startOneClusterSim());
});
afterAll(() => stopOneClusterSim({ sim, admin, client }));

function planFor(shoot: string): ShootPlan {
  return planShoot({
    projectId: "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ac",
    gardenerProject: "silent",
    shootName: shoot,
    shootNamespace: `shoot--silent--${shoot}`,
    managementLif: "10.170.0.10",
    dataLifs: ["10.170.0.11"],
  });
}

async function seedSecret(kube: ReturnType<typeof createFakeKubeClient>, plan: ShootPlan, data: Record<string, string>) {
  await kube.create<SecretObject>(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { ...plan.secret },
    data: Object.fromEntries(Object.entries({ username: plan.username, ...data }).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  });
}

const holds = async (name: string, password: string) => (await client.authenticateAs({ name, password })).result === "ok";

describe("a rotation's lost promotion while the management LIF is silent", () => {
  it("a new shoot's Secret with only pendingPassword (account created, promotion lost) is promoted without the LIF", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "psilent1" })), state: "running" };
    const kube = createFakeKubeClient();
    const plan = planFor("new");
    const pending = "Pending-Passw0rd-1";
    await seedSecret(kube, plan, { pendingPassword: pending });
    await client.createAccount({ ownerUuid: svm.uuid, name: plan.username, password: pending });
    const first = await ensureCredentials({ kube, ontap: client, verify: silentLif }, plan, svm);
    expect(first).toMatchObject({ username: plan.username, password: pending, outcome: "reapplied-pending", verification: { verified: false } });
    const stored = decodeCredentials(await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name));
    expect(stored).toMatchObject({ password: pending });
    expect(stored.pendingPassword).toBeUndefined();
    expect(await holds(plan.username, pending)).toBe(true);
    // Settled: the next reconcile keeps the stored password (unverified), writes nothing.
    expect((await ensureCredentials({ kube, ontap: client, verify: silentLif }, plan, svm)).outcome).toBe("unverified");
  });

  it("the create itself was lost too: the account is created with the stored pending password", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "psilent2" })), state: "running" };
    const kube = createFakeKubeClient();
    const plan = planFor("lost");
    await seedSecret(kube, plan, { pendingPassword: "Pending-Passw0rd-2" });
    expect((await ensureCredentials({ kube, ontap: client, verify: silentLif }, plan, svm)).outcome).toBe("reapplied-pending");
    expect(await holds(plan.username, "Pending-Passw0rd-2")).toBe(true);
  });

  it("a rotation of a live shoot (password and pendingPassword stored, ONTAP holding either) ends on the pending one", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "psilent3" })), state: "running" };
    const kube = createFakeKubeClient();
    const plan = planFor("live");
    await seedSecret(kube, plan, { password: "Old-Passw0rd-3", pendingPassword: "Pending-Passw0rd-3" });
    await client.createAccount({ ownerUuid: svm.uuid, name: plan.username, password: "Old-Passw0rd-3" });
    const result = await ensureCredentials({ kube, ontap: client, verify: silentLif }, plan, svm);
    expect(result).toMatchObject({ password: "Pending-Passw0rd-3", outcome: "reapplied-pending" });
    expect(await holds(plan.username, "Pending-Passw0rd-3")).toBe(true);
    const stored = decodeCredentials(await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name));
    expect(stored.pendingPassword).toBeUndefined();
  });
});
