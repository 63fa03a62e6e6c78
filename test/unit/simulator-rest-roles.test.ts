import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SimAdmin } from "../../src/simulator/admin-client.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { accessOn, apiPathOf } from "../../src/simulator/rest-roles.js";

/**
 * Custom SVM-scoped REST roles on the simulator: their lifecycle through `/api/security/roles`, and what an account
 * on one may do. Lenient login on the cluster port (the LIF listeners have their own test; enforcement follows
 * the caller's identity, not the port it came in on).
 */

let sim: RunningSimulator;
let admin: SimAdmin;
const auth = { username: "shoot1", password: "Role-Secret-1" };
const vsadmin = { username: "shoot2", password: "Role-Secret-2" };

beforeAll(async () => {
  sim = await startSimulator({ jobMs: 0, svmLoginOnCluster: true });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(() => admin.reset());

const PRIVILEGES = [
  { path: "/api/svm/svms", access: "readonly" },
  { path: "/api/storage/volumes", access: "all" },
  { path: "/api/storage/volumes/snapshots", access: "readonly" },
];

async function world(): Promise<string> {
  const aggregates = (await admin.rest("GET", "/api/storage/aggregates")).body.records!;
  const svm = await admin.createSvmDirect({ name: "p1", aggregates: [{ name: String(aggregates[0]!.name) }] });
  const role = await admin.rest("POST", "/api/security/roles", { body: { owner: { uuid: svm.uuid }, name: "lite", privileges: PRIVILEGES } });
  expect(role.status, role.text).toBe(201);
  for (const [user, roleName] of [
    [auth, "lite"],
    [vsadmin, "vsadmin"],
  ] as const) {
    const res = await admin.rest("POST", "/api/security/accounts", {
      body: {
        name: user.username,
        owner: { uuid: svm.uuid },
        role: { name: roleName },
        applications: [{ application: "http", authentication_methods: ["password"] }],
        password: user.password,
      },
    });
    expect(res.status, res.text).toBe(201);
  }
  return svm.uuid;
}

describe("the role's API path and access", () => {
  it("drops key segments and takes the longest covering tuple", () => {
    expect(apiPathOf("/api/storage/volumes/{volume.uuid}/snapshots/{uuid}")).toBe("/api/storage/volumes/snapshots");
    expect(accessOn({ privileges: PRIVILEGES }, "/api/storage/volumes/snapshots")).toBe("readonly");
    expect(accessOn({ privileges: PRIVILEGES }, "/api/storage/volumes")).toBe("all");
    // A prefix by segment, not by characters.
    expect(accessOn({ privileges: PRIVILEGES }, "/api/svm/svmsx")).toBe("none");
    expect(accessOn({ privileges: PRIVILEGES }, "/api/cluster")).toBe("none");
  });
});

describe("an SVM user on a custom REST role", () => {
  it("may do what a tuple grants and is refused the rest with 403 and ONTAP's code 6; vsadmin is unchanged", async () => {
    const svm = await world();
    expect((await admin.rest("GET", "/api/svm/svms?fields=name", { auth })).status).toBe(200);
    // readonly: a write is refused.
    const patch = await admin.rest("PATCH", `/api/svm/svms/${svm}`, { auth, body: { comment: "x" } });
    expect([patch.status, patch.body.error?.code]).toEqual([403, "6"]);
    // No tuple at all.
    const accounts = await admin.rest("GET", "/api/security/accounts", { auth });
    expect([accounts.status, accounts.body.error?.code]).toEqual([403, "6"]);
    expect((await admin.rest("GET", "/api/cluster", { auth })).status).toBe(403);
    // all on volumes, readonly on their snapshots (the longer tuple wins).
    const created = await admin.rest("POST", "/api/storage/volumes?return_timeout=120", {
      auth,
      body: { name: "vol1", svm: { uuid: svm }, aggregates: [{ name: String((await admin.rest("GET", "/api/storage/aggregates")).body.records![0]!.name) }], size: 1024 ** 3 },
    });
    expect(created.status, created.text).toBeLessThan(300);
    const volume = (await admin.rest("GET", "/api/storage/volumes?name=vol1", { auth })).body.records![0]!;
    expect((await admin.rest("GET", `/api/storage/volumes/${volume.uuid}/snapshots`, { auth })).status).toBe(200);
    const snap = await admin.rest("POST", `/api/storage/volumes/${volume.uuid}/snapshots`, { auth, body: { name: "s1" } });
    expect([snap.status, snap.body.error?.code]).toEqual([403, "6"]);
    // vsadmin: the built-in role, as before.
    expect((await admin.rest("GET", "/api/security/accounts", { auth: vsadmin })).status).toBe(200);
    expect((await admin.rest("POST", `/api/storage/volumes/${volume.uuid}/snapshots`, { auth: vsadmin, body: { name: "s1" } })).status).toBeLessThan(300);
  });

  it("gains and loses access as the role's tuples change, and as the account's role changes", async () => {
    const svm = await world();
    expect((await admin.rest("GET", "/api/cluster", { auth })).status).toBe(403);
    const added = await admin.rest("POST", `/api/security/roles/${svm}/lite/privileges`, { body: { path: "/api/cluster", access: "readonly" } });
    expect(added.status, added.text).toBe(201);
    expect((await admin.rest("GET", "/api/cluster", { auth })).status).toBe(200);
    const tuple = `/api/security/roles/${svm}/lite/privileges/${encodeURIComponent("/api/cluster")}`;
    expect((await admin.rest("PATCH", tuple, { body: { access: "none" } })).status).toBe(200);
    expect((await admin.rest("GET", "/api/cluster", { auth })).status).toBe(403);
    expect((await admin.rest("DELETE", tuple)).status).toBe(200);
    expect((await admin.rest("DELETE", tuple)).status).toBe(404);
    const role = await admin.rest("GET", `/api/security/roles/${svm}/lite?fields=privileges`);
    expect(role.body.privileges).toEqual(PRIVILEGES.map((p) => expect.objectContaining(p)));
    // The account to vsadmin and back.
    const account = `/api/security/accounts/${svm}/${auth.username}`;
    expect((await admin.rest("PATCH", account, { body: { role: { name: "vsadmin" } } })).status).toBe(200);
    expect((await admin.rest("GET", "/api/security/accounts", { auth })).status).toBe(200);
    expect((await admin.rest("PATCH", account, { body: { role: { name: "lite" } } })).status).toBe(200);
    expect((await admin.rest("GET", "/api/security/accounts", { auth })).status).toBe(403);
  });

  it("refuses what ONTAP refuses: a duplicate, an unknown access level, an unknown role, a role in use, writes by an SVM user", async () => {
    const svm = await world();
    const dup = await admin.rest("POST", "/api/security/roles", { body: { owner: { uuid: svm }, name: "lite", privileges: PRIVILEGES } });
    expect([dup.status, dup.body.error?.code]).toEqual([409, "1"]);
    const builtin = await admin.rest("POST", "/api/security/roles", { body: { owner: { uuid: svm }, name: "vsadmin", privileges: PRIVILEGES } });
    expect(builtin.status).toBe(409);
    const access = await admin.rest("POST", "/api/security/roles", { body: { owner: { uuid: svm }, name: "x", privileges: [{ path: "/api/cluster", access: "write" }] } });
    expect([access.status, access.body.error?.target]).toEqual([400, "privileges.0.access"]);
    const unknown = await admin.rest("PATCH", `/api/security/accounts/${svm}/${auth.username}`, { body: { role: { name: "nope" } } });
    expect([unknown.status, unknown.body.error?.code]).toEqual([400, "1261215"]);
    const inUse = await admin.rest("DELETE", `/api/security/roles/${svm}/lite`);
    expect([inUse.status, inUse.body.error?.code]).toEqual([409, "8"]);
    const byUser = await admin.rest("POST", `/api/security/roles/${svm}/lite/privileges`, { auth: vsadmin, body: { path: "/api/cluster", access: "all" } });
    expect(byUser.status).toBe(403);
    // Its SVM's roles are visible to an SVM user; gone with the SVM.
    expect((await admin.rest("GET", "/api/security/roles", { auth: vsadmin })).body.num_records).toBe(1);
    expect((await admin.rest("DELETE", `/api/security/accounts/${svm}/${auth.username}`)).status).toBe(200);
    expect((await admin.rest("DELETE", `/api/security/roles/${svm}/lite`)).status).toBe(200);
    expect((await admin.state()).roles).toEqual([]);
  });
});
