import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secrets } from "../../src/kube/resources.js";
import type { OntapClient, Svm } from "../../src/ontap/index.js";
import { decodeCredentials, type SecretObject, startCredentials } from "../../src/ontap-extension/credentials.js";
import { planShoot, type ShootPlan } from "../../src/ontap-extension/plan.js";
import type { Verdict, VerifyCredentials } from "../../src/ontap-extension/verify-credentials.js";
import type { RunningSimulator } from "../../src/simulator/index.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { startOneClusterSim, stopOneClusterSim } from "../support/one-cluster-sim.js";
import type { SimAdmin } from "../support/sim-admin.js";

/**
 * A new password may be handed on (to Trident) before its proof ends, so the writes after it run beside the proof
 * instead of after it; but only once it is stored in the seed Secret and set on ONTAP (secret first). The proof is
 * held here until the test releases it, so what the caller has in hand meanwhile is observable.
 */

let sim: RunningSimulator;
let admin: SimAdmin;
let client: OntapClient;

beforeAll(async () => {
  ({ sim, admin, client } = await startOneClusterSim());
});
afterAll(() => stopOneClusterSim({ sim, admin, client }));

function planFor(shoot: string): ShootPlan {
  return planShoot({
    projectId: "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ad",
    gardenerProject: "flight",
    shootName: shoot,
    shootNamespace: `shoot--flight--${shoot}`,
    managementLif: "10.171.0.10",
    dataLifs: ["10.171.0.11"],
  });
}

/** A proof that answers only when released, with what the cluster interface says. */
function heldProof(): { verify: VerifyCredentials; asked: Promise<void>; release(): void } {
  let release!: () => void;
  let asked!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const wasAsked = new Promise<void>((r) => {
    asked = r;
  });
  const verify: VerifyCredentials = async (name, password): Promise<Verdict> => {
    asked();
    await released;
    const answer = await client.authenticateAs({ name, password });
    return answer.result === "ok" ? { result: "ok", at: "management LIF" } : { result: "wrong", at: "management LIF" };
  };
  return { verify, asked: wasAsked, release };
}

const seedSecretOf = async (kube: ReturnType<typeof createFakeKubeClient>, plan: ShootPlan) =>
  decodeCredentials(await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name));

describe("credentials in flight", () => {
  it("hand a new user's password on while its proof runs: stored (pending) and on ONTAP already; settled once proven and promoted", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "pflight1" })), state: "running" };
    const kube = createFakeKubeClient();
    const plan = planFor("new");
    const proof = heldProof();
    const inFlight = await startCredentials({ kube, ontap: client, verify: proof.verify }, plan, svm);
    await proof.asked;
    // In hand while the proof is held: the Secret held it before ONTAP did, and ONTAP holds it.
    expect(inFlight.username).toBe(plan.username);
    expect((await seedSecretOf(kube, plan)).pendingPassword ?? (await seedSecretOf(kube, plan)).password).toBe(inFlight.password);
    expect((await client.authenticateAs({ name: plan.username, password: inFlight.password })).result).toBe("ok");
    let settledYet = false;
    void inFlight.settled.then(() => {
      settledYet = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(settledYet).toBe(false);
    proof.release();
    const settled = await inFlight.settled;
    expect(settled).toMatchObject({ username: plan.username, password: inFlight.password, outcome: "rotated", verification: { verified: true } });
    const stored = await seedSecretOf(kube, plan);
    expect(stored.password).toBe(inFlight.password);
    expect(stored.pendingPassword).toBeUndefined();
  });

  it("a proof that says wrong rejects `settled` (the caller reports an error, never Succeeded)", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "pflight2" })), state: "running" };
    const kube = createFakeKubeClient();
    const plan = planFor("wrong");
    const wrong: VerifyCredentials = async () => ({ result: "wrong", at: "management LIF" });
    const inFlight = await startCredentials({ kube, ontap: client, verify: wrong }, plan, svm);
    await expect(inFlight.settled).rejects.toThrow(/was set but does not authenticate/);
  });

  it("a stored password proven at once is settled when handed on", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "pflight3" })), state: "running" };
    const kube = createFakeKubeClient();
    const plan = planFor("known");
    const first = await startCredentials({ kube, ontap: client, verify: async () => ({ result: "ok", at: "management LIF" }) }, plan, svm);
    await first.settled;
    const again = await startCredentials({ kube, ontap: client, verify: async () => ({ result: "ok", at: "management LIF" }) }, plan, svm);
    expect(await again.settled).toMatchObject({ password: first.password, outcome: "verified" });
  });
});
