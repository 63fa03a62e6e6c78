import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtensionError } from "../../src/extension/errors.js";
import { Secrets } from "../../src/kube/resources.js";
import type { OntapClient, Svm } from "../../src/ontap/index.js";
import { decodeCredentials, ensureCredentials, MAX_WRONG_LOGINS, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { planShoot, type ShootPlan } from "../../src/ontap-extension/plan.js";
import { SUPERSEDED_KEY } from "../../src/ontap-extension/superseded-passwords.js";
import type { VerifyCredentials } from "../../src/ontap-extension/verify-credentials.js";
import type { RunningSimulator, } from "../../src/simulator/index.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { startOneClusterSim, stopOneClusterSim } from "../support/one-cluster-sim.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * A locked account (ONTAP's lockout after failed logins, an operator's lock) answers 401 to every password, the
 * right one too: it must never be rotated (each rotation would fail its proof and the next would rotate again),
 * and the controller's own wrong logins, which count towards the lockout, are bounded per reconcile. ONTAP is the
 * simulator (it refuses logins of locked accounts; a PATCH locks one as an operator would); the proof is the
 * cluster interface (`svmLoginOnCluster`), counted.
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
    gardenerProject: "lock",
    shootName: shoot,
    shootNamespace: `shoot--lock--${shoot}`,
    managementLif: "10.180.0.10",
    dataLifs: ["10.180.0.11"],
  });
}

/** The proof, counting the wrong answers (each one a failed login ONTAP counts towards its lockout). */
function countingVerifier() {
  const tally = { wrong: 0, all: 0 };
  const verify: VerifyCredentials = async (name, password) => {
    tally.all++;
    const answer = await client.authenticateAs({ name, password });
    if (answer.result === "ok") return { result: "ok", at: "cluster management interface" };
    if (answer.result === "wrong-password") {
      tally.wrong++;
      return { result: "wrong", at: "cluster management interface" };
    }
    return { result: "unknown", reason: answer.error.message };
  };
  return { verify, tally };
}

async function seedSecret(kube: ReturnType<typeof createFakeKubeClient>, plan: ShootPlan, data: Record<string, string>) {
  await kube.create<SecretObject>(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { ...plan.secret },
    data: Object.fromEntries(Object.entries({ username: plan.username, ...data }).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  });
}

async function passwordWrites(): Promise<number> {
  const calls = await admin.calls();
  return Object.entries(calls)
    .filter(([k]) => /^POST \/api\/security\/(accounts|authentication\/password)$/.test(k))
    .reduce((n, [, v]) => n + v, 0);
}

async function newSvm(name: string): Promise<Svm> {
  return { ...(await admin.createSvmDirect({ name })), state: "running" };
}

describe("locked accounts and the controller's own wrong logins", () => {
  it("never rotates a locked account: an error that says how to unlock it, no password set, one login", async () => {
    const svm = await newSvm("plock1");
    const kube = createFakeKubeClient();
    const plan = planFor("locked");
    const live = "Live-Passw0rd-Locked";
    await client.createAccount({ ownerUuid: svm.uuid, name: plan.username, password: live });
    await seedSecret(kube, plan, { password: live });
    const lock = await admin.rest("PATCH", `/api/security/accounts/${svm.uuid}/${plan.username}`, { body: { locked: true } });
    expect(lock.status).toBe(200);
    const before = await passwordWrites();
    const { verify, tally } = countingVerifier();
    for (let round = 0; round < 3; round++) {
      const err = await ensureCredentials({ kube, ontap: client, verify }, plan, svm).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExtensionError);
      expect((err as Error).message).toMatch(/is locked.*security login unlock -vserver plock1 -username lock--locked/);
    }
    expect((await passwordWrites()) - before).toBe(0);
    expect(tally.wrong).toBe(3);
    // Unlocked, the stored password works again: nothing was rotated meanwhile.
    await admin.rest("PATCH", `/api/security/accounts/${svm.uuid}/${plan.username}`, { body: { locked: false } });
    expect((await ensureCredentials({ kube, ontap: client, verify }, plan, svm)).password).toBe(live);
    expect((await passwordWrites()) - before).toBe(0);
  });

  it(`risks at most ${MAX_WRONG_LOGINS} wrong logins per reconcile before it rotates`, async () => {
    const svm = await newSvm("plock2");
    const kube = createFakeKubeClient();
    const plan = planFor("bounded");
    await client.createAccount({ ownerUuid: svm.uuid, name: plan.username, password: "Drifted-Passw0rd-0" });
    const now = Date.now();
    const superseded = Array.from({ length: 8 }, (_, i) => ({ password: `Superseded-Passw0rd-${i}`, since: new Date(now - i * 1000).toISOString() }));
    await seedSecret(kube, plan, { password: "Stale-Passw0rd-1", pendingPassword: "Stale-Pending-2", [SUPERSEDED_KEY]: JSON.stringify(superseded) });
    const { verify, tally } = countingVerifier();
    const result = await ensureCredentials({ kube, ontap: client, verify }, plan, svm);
    expect(result.outcome).toBe("rotated");
    expect(tally.wrong).toBe(MAX_WRONG_LOGINS);
    // The proof of the new password is the only other login.
    expect(tally.all).toBe(MAX_WRONG_LOGINS + 1);
  });

  it("tries no other stored password once the account is found absent", async () => {
    const svm = await newSvm("plock3");
    const kube = createFakeKubeClient();
    const plan = planFor("absent");
    const since = new Date().toISOString();
    await seedSecret(kube, plan, { password: "Gone-Passw0rd-1", pendingPassword: "Gone-Pending-2", [SUPERSEDED_KEY]: JSON.stringify([{ password: "Gone-Sup-3x", since }]) });
    const { verify, tally } = countingVerifier();
    expect((await ensureCredentials({ kube, ontap: client, verify }, plan, svm)).outcome).toBe("rotated");
    expect(tally.wrong).toBe(1);
    const stored = decodeCredentials(await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name));
    expect((await client.authenticateAs({ name: plan.username, password: stored.password! })).result).toBe("ok");
  });

  it("a name ONTAP keeps for itself is a configuration problem, not retried", async () => {
    const svm = await newSvm("plock4");
    const kube = createFakeKubeClient();
    // plan.ts never makes such a name (`<project>--<shoot>`); a plan forced to one shows the refusal is final.
    const plan = { ...planFor("admin"), username: "admin" };
    const err = await ensureCredentials({ kube, ontap: client }, plan, svm).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExtensionError);
    expect((err as ExtensionError).retriable).toBe(false);
    expect((err as ExtensionError).codes).toEqual(["ERR_CONFIGURATION_PROBLEM"]);
    expect(planFor("admin").username).toBe("lock--admin");
    expect(planFor("admin").legacyUsername).toBeUndefined();
  });
});
