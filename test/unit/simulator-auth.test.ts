import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

let sim: RunningSimulator;
let admin: SimAdmin;
const PASSWORD = "Shoot-Secret-1";

beforeAll(async () => {
  // Lenient, so SVM scoping is tested on the cluster port; the default (refused there) and the SVM management
  // LIF endpoints are tested in simulator-lif-endpoints.test.ts.
  sim = await startSimulator({ jobMs: 0, clusters: 2, svmLoginOnCluster: true });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(() => admin.reset());

async function svmWithUser(name: string, user: string, extra: Record<string, unknown> = {}): Promise<string> {
  const svm = await admin.createSvmDirect({ name });
  const res = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name: user,
      owner: { uuid: svm.uuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password: PASSWORD,
      ...extra,
    },
  });
  expect(res.status).toBe(201);
  return svm.uuid;
}

describe("SVM-scoped users", () => {
  it("authenticate and see only their own SVM", async () => {
    const own = await svmWithUser("p1", "shoot1");
    await admin.createSvmDirect({ name: "p2" });
    const res = await admin.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body.records).toEqual([expect.objectContaining({ uuid: own, name: "p1" })]);
    const other = (await admin.rest("GET", "/api/svm/svms?name=p2")).body.records![0]!.uuid;
    const hidden = await admin.rest("GET", `/api/svm/svms/${other}`, { auth: { username: "shoot1", password: PASSWORD } });
    expect(hidden.status).toBe(404);
  });

  it("get 401 with an ONTAP error body for a wrong password or an unknown user", async () => {
    await svmWithUser("p1", "shoot1");
    for (const auth of [
      { username: "shoot1", password: "wrong-password" },
      { username: "nobody", password: PASSWORD },
    ]) {
      const res = await admin.rest("GET", "/api/svm/svms", { auth });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: "6691623" });
      expect(res.text).not.toContain(PASSWORD);
    }
    expect((await admin.rest("GET", "/api/svm/svms", { auth: null })).status).toBe(401);
  });

  it("cannot log in while locked, without http, or as the locked vsadmin", async () => {
    await svmWithUser("p1", "locked1", { locked: true });
    await svmWithUser("p2", "sshonly", { applications: [{ application: "ssh", authentication_methods: ["password"] }] });
    await admin.setAccountPassword("p1", "vsadmin", PASSWORD);
    for (const username of ["locked1", "sshonly", "vsadmin"]) {
      const res = await admin.rest("GET", "/api/svm/svms", { auth: { username, password: PASSWORD } });
      expect(res.status, username).toBe(401);
    }
  });

  it("cannot write cluster objects or read BGP (403), reads the reduced cluster record, may change passwords in its own SVM", async () => {
    const own = await svmWithUser("p1", "shoot1");
    const auth = { username: "shoot1", password: PASSWORD };
    const create = await admin.rest("POST", "/api/svm/svms", { auth, body: { name: "evil" } });
    expect(create.status).toBe(403);
    expect(create.body.error).toMatchObject({ code: "6", message: "not authorized for that command" });
    expect((await admin.rest("DELETE", `/api/svm/svms/${own}`, { auth })).status).toBe(403);
    // Readonly for an SVM role (NetApp's REST role for Trident lists /api/cluster): name, uuid and version only.
    const cluster = await admin.rest("GET", "/api/cluster?fields=**", { auth });
    expect(cluster.status).toBe(200);
    expect(Object.keys(cluster.body).sort()).toEqual(["_links", "name", "uuid", "version"]);
    expect((await admin.rest("GET", "/api/network/ip/bgp/peer-groups", { auth })).status).toBe(403);
    expect((await admin.rest("GET", "/__sim/state", { auth })).status).toBe(403);
    const change = await admin.rest("POST", "/api/security/authentication/password", {
      auth,
      body: { owner: { name: "p1" }, name: "shoot1", password: "Shoot-Secret-2" },
    });
    expect(change.status).toBe(200);
    expect((await admin.rest("GET", "/api/svm/svms", { auth })).status).toBe(401);
  });

  it("notices a password changed behind its back through the admin API", async () => {
    await svmWithUser("p1", "shoot1");
    await admin.setAccountPassword("p1", "shoot1", "Rotated-elsewhere-9");
    expect((await admin.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: PASSWORD } })).status).toBe(401);
    const ok = await admin.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: "Rotated-elsewhere-9" } });
    expect(ok.status).toBe(200);
  });

  it("never reveals a password in the state dump", async () => {
    await svmWithUser("p1", "shoot1");
    const res = await admin.rest("GET", "/__sim/state");
    expect(res.text).not.toContain(PASSWORD);
    expect(res.text).not.toContain(sim.clusters[0]!.password);
    expect(res.body.accounts).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "shoot1", has_password: true })]),
    );
  });
});

describe("clusters and TLS", () => {
  it("runs independent clusters on their own ports with their own admin passwords", async () => {
    const [one, two] = sim.clusters;
    expect(one!.name).toBe("sim-1");
    expect(two!.name).toBe("sim-2");
    expect(one!.url).not.toBe(two!.url);
    expect(one!.password).not.toBe(two!.password);
    const second = new SimAdmin(two!);
    try {
      await admin.createSvmDirect({ name: "p1" });
      expect((await second.rest("GET", "/api/cluster")).body.name).toBe("sim-2");
      expect((await second.rest("GET", "/api/svm/svms?name=p1")).body.num_records).toBe(0);
      const crossed = await second.rest("GET", "/api/cluster", { auth: { username: "admin", password: one!.password } });
      expect(crossed.status).toBe(401);
    } finally {
      await second.close();
    }
  });

  function get(url: string, ca: Buffer | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca, auth: `admin:${sim.clusters[0]!.password}` }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("serves TLS that verifies against the generated CA, for 127.0.0.1 and localhost", async () => {
    const ca = readFileSync(sim.clusters[0]!.caFile);
    expect(ca.toString()).toContain("BEGIN CERTIFICATE");
    expect(await get(`${sim.clusters[0]!.url}/api/cluster`, ca)).toBe(200);
    expect(await get(`${sim.clusters[0]!.url.replace("127.0.0.1", "localhost")}/api/cluster`, ca)).toBe(200);
  });

  it("fails verification for a client that does not trust the CA", async () => {
    await expect(get(`${sim.clusters[0]!.url}/api/cluster`, undefined)).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/),
    });
  });
});
