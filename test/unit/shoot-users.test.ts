import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secrets } from "../../src/kube/resources.js";
import { createMetroCluster, type OntapClient, type Svm } from "../../src/ontap/index.js";
import { decodeCredentials, ensureCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { legacyUsernameFor, ownerComment, planShoot, type ShootPlan, usernameFor } from "../../src/ontap-extension/plan.js";
import { teardownOntap } from "../../src/ontap-extension/teardown.js";
import type { RunningSimulator, } from "../../src/simulator/index.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { startOneClusterSim, stopOneClusterSim } from "../support/one-cluster-sim.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * Shoot names are unique only within a Gardener project, and several Gardener projects may carry one metal-stack
 * project (one SVM). Each shoot gets a user of its own; a user named by the shoot name alone (the Go extension's,
 * and this controller's before) is used only while it provably belongs to the shoot (its comment records the
 * owner). The simulator is ONTAP here; the seed is the in-memory Kubernetes, the proof is the cluster interface
 * (`svmLoginOnCluster`; the LIF check itself is tested in credentials-verification.test.ts).
 */

const PROJECT_ID = "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ab";
let sim: RunningSimulator;
let admin: SimAdmin;
let client: OntapClient;

beforeAll(async () => {
  ({ sim, admin, client } = await startOneClusterSim());
});
afterAll(() => stopOneClusterSim({ sim, admin, client }));

function planFor(gardenerProject: string, shootName: string): ShootPlan {
  return planShoot({
    projectId: PROJECT_ID,
    gardenerProject,
    shootName,
    shootNamespace: `shoot--${gardenerProject}--${shootName}`,
    managementLif: "10.160.0.10",
    dataLifs: ["10.160.0.11"],
  });
}

async function accounts(svmName: string): Promise<{ name: string; comment: string }[]> {
  return (await admin.state()).accounts
    .filter((a) => (a.owner as { name?: string }).name === svmName)
    .map((a) => ({ name: String(a.name), comment: String(a.comment ?? "") }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function passwordWrites(): Promise<number> {
  const calls = await admin.calls();
  return Object.entries(calls)
    .filter(([k]) => /^POST \/api\/security\/(accounts|authentication\/password)$/.test(k))
    .reduce((n, [, v]) => n + v, 0);
}

async function goAccount(svm: Svm, name: string, password: string): Promise<void> {
  const res = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name,
      owner: { uuid: svm.uuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password,
    },
  });
  expect(res.status).toBe(201);
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("one SVM user per shoot", () => {
  it("names the user after the Gardener project and the shoot, within ONTAP's 40 characters, with a hash when longer", () => {
    expect(usernameFor("shoot--a--db")).toBe("a--db");
    const long = `shoot--proj123456--${"x".repeat(50)}`;
    const other = `shoot--proj123456--${"x".repeat(49)}y`;
    expect(usernameFor(long)).toHaveLength(40);
    expect(usernameFor(long)).toMatch(/^proj123456--x+-[0-9a-f]{8}$/);
    expect(usernameFor(long)).not.toBe(usernameFor(other));
    expect(usernameFor(long)).toBe(usernameFor(long));
    // Built-in and reserved names are never a shoot's legacy user.
    expect(legacyUsernameFor("vsadmin")).toBeUndefined();
    expect(legacyUsernameFor("admin")).toBeUndefined();
    expect(legacyUsernameFor("db")).toBe("db");
  });

  it("two shoots named db in two Gardener projects of one metal-stack project keep two users and stop rotating", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "pusers1" })), state: "running" };
    const kube = createFakeKubeClient();
    const a = planFor("a", "db");
    const b = planFor("b", "db");
    const before = await passwordWrites();
    for (let round = 0; round < 3; round++) {
      for (const plan of [a, b]) await ensureCredentials({ kube, ontap: client }, plan, svm);
    }
    // One create per shoot, then nothing: neither rotates the other's password away.
    expect((await passwordWrites()) - before).toBe(2);
    expect(await accounts(svm.name)).toEqual([
      { name: "a--db", comment: ownerComment("shoot--a--db") },
      { name: "b--db", comment: ownerComment("shoot--b--db") },
      { name: "vsadmin", comment: "" },
    ]);
    for (const plan of [a, b]) {
      const stored = decodeCredentials(await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name));
      expect((await client.authenticateAs({ name: stored.username!, password: stored.password! })).result).toBe("ok");
    }
    // Deleting one shoot leaves the other's user.
    const metro = createMetroCluster([client]);
    const clients = new Map([[client.cluster, client]]);
    await teardownOntap({ metro, clients, policy: "DeleteWhenUnused", pollMs: 10 }, { ...a, svmName: svm.name });
    expect((await accounts(svm.name)).map((x) => x.name)).toEqual(["b--db", "vsadmin"]);
  });

  it("adopts a Go-made user of the shoot name only with its proof, records the owner, and never touches it for a sibling", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "pusers2" })), state: "running" };
    const kube = createFakeKubeClient();
    const a = planFor("goa", "db");
    const b = planFor("gob", "db");
    // The Go extension made user db for both shoots; b's reconcile rotated a's away last, so b's Go Secret holds
    // the live password and a's a dead one.
    await goAccount(svm, "db", "GoLive42x");
    for (const [plan, password] of [
      [a, "GoDead42x"],
      [b, "GoLive42x"],
    ] as const) {
      await kube.create<SecretObject>(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { ...plan.legacySecret },
        data: { username: b64("db"), password: b64(password) },
      });
    }
    const before = await passwordWrites();
    const adopted = await ensureCredentials({ kube, ontap: client }, b, svm);
    expect(adopted).toMatchObject({ username: "db", password: "GoLive42x", outcome: "adopted-legacy" });
    const moved = await ensureCredentials({ kube, ontap: client }, a, svm);
    expect(moved).toMatchObject({ username: "goa--db", outcome: "rotated" });
    // The Go user kept b's password: a created a user of its own instead of rotating b's.
    expect((await client.authenticateAs({ name: "db", password: "GoLive42x" })).result).toBe("ok");
    expect((await passwordWrites()) - before).toBe(1);
    expect(await accounts(svm.name)).toEqual([
      { name: "db", comment: ownerComment("shoot--gob--db") },
      { name: "goa--db", comment: ownerComment("shoot--goa--db") },
      { name: "vsadmin", comment: "" },
    ]);
    // Both Go Secrets are gone (one adopted, one stale).
    for (const plan of [a, b]) expect(await kube.get(Secrets, plan.legacySecret.namespace, plan.legacySecret.name)).toBeUndefined();
    // The next rounds change nothing.
    for (const plan of [a, b, a, b]) expect((await ensureCredentials({ kube, ontap: client }, plan, svm)).outcome).toBe("verified");
    expect((await passwordWrites()) - before).toBe(1);

    // Deleting a takes only its own user; deleting b takes the adopted Go user its comment names.
    const metro = createMetroCluster([client]);
    const clients = new Map([[client.cluster, client]]);
    await teardownOntap({ metro, clients, policy: "Retain", pollMs: 10 }, { ...a, svmName: svm.name });
    expect((await accounts(svm.name)).map((x) => x.name)).toEqual(["db", "vsadmin"]);
    await teardownOntap({ metro, clients, policy: "Retain", pollMs: 10 }, { ...b, svmName: svm.name });
    expect((await accounts(svm.name)).map((x) => x.name)).toEqual(["vsadmin"]);
  });

  it("a user of the shoot name made by this controller's earlier version is claimed by the shoot whose password works", async () => {
    const svm: Svm = { ...(await admin.createSvmDirect({ name: "pusers3" })), state: "running" };
    const kube = createFakeKubeClient();
    const a = planFor("ea", "web");
    const b = planFor("eb", "web");
    await goAccount(svm, "web", "Earlier-Live-1");
    for (const [plan, password] of [
      [a, "Earlier-Live-1"],
      [b, "Earlier-Dead-1"],
    ] as const) {
      await kube.create<SecretObject>(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { ...plan.secret },
        data: { username: b64("web"), password: b64(password) },
      });
    }
    expect(await ensureCredentials({ kube, ontap: client }, a, svm)).toMatchObject({ username: "web", outcome: "verified" });
    expect(await ensureCredentials({ kube, ontap: client }, b, svm)).toMatchObject({ username: "eb--web", outcome: "rotated" });
    expect((await client.authenticateAs({ name: "web", password: "Earlier-Live-1" })).result).toBe("ok");
    expect((await accounts(svm.name)).find((x) => x.name === "web")?.comment).toBe(ownerComment("shoot--ea--web"));
  });
});
