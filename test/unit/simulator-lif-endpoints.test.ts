import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * SVM management LIFs as their own HTTPS endpoints: where Trident (and this extension's credential check) talk
 * to ONTAP as an SVM user. The default simulator refuses SVM accounts on the cluster interface.
 */

let sim: RunningSimulator;
let admin: SimAdmin;
const PASSWORD = "Lif-Secret-1!";

beforeAll(async () => {
  sim = await startSimulator({ jobMs: 0, clusters: 2 });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(() => admin.reset());

async function svmWithUserAndLif(name: string, user: string, address: string): Promise<{ uuid: string; lifUuid: string }> {
  const svm = await admin.createSvmDirect({ name });
  const account = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name: user,
      owner: { uuid: svm.uuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password: PASSWORD,
    },
  });
  expect(account.status).toBe(201);
  const node = (await admin.rest("GET", "/api/cluster/nodes")).body.records![0]!.uuid;
  const lif = await admin.rest("POST", "/api/network/ip/interfaces?return_records=true", {
    body: {
      name: "managementlif",
      ip: { address, netmask: "24" },
      svm: { uuid: svm.uuid },
      location: { home_node: { uuid: node } },
      service_policy: { name: "default-management" },
    },
  });
  expect(lif.status).toBe(201);
  return { uuid: svm.uuid, lifUuid: (lif.body.records![0] as { uuid: string }).uuid };
}

/** The same REST call sent to a LIF's own listener. */
function atLif(url: string): SimAdmin {
  return new SimAdmin({ ...sim.clusters[0]!, url });
}

function endpointsFile(): Record<string, string> {
  return JSON.parse(readFileSync(sim.lifEndpointsFile, "utf8"));
}

describe("SVM management LIF endpoints", () => {
  it("open a listener per management LIF, listed in the file and the admin API, where only that SVM's accounts log in", async () => {
    const { uuid } = await svmWithUserAndLif("p1", "shoot1", "10.130.0.10");
    await svmWithUserAndLif("p2", "shoot2", "10.131.0.10");
    const url = endpointsFile()["10.130.0.10"]!;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(endpointsFile()["10.131.0.10"]).not.toBe(url);
    const listed = (await admin.rest("GET", "/__sim/lif-endpoints")).body.endpoints as Record<string, unknown>;
    expect(listed["10.130.0.10"]).toEqual({ url, cluster: "sim-1", svm: "p1", reachable: true });

    const lif = atLif(url);
    try {
      const own = await lif.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: PASSWORD } });
      expect(own.status).toBe(200);
      expect(own.body.records).toEqual([expect.objectContaining({ uuid, name: "p1" })]);
      // Another SVM's account, the cluster admin and a wrong password are all strangers here.
      for (const auth of [
        { username: "shoot2", password: PASSWORD },
        { username: sim.clusters[0]!.username, password: sim.clusters[0]!.password },
        { username: "shoot1", password: "wrong" },
      ]) {
        const refused = await lif.rest("GET", "/api/svm/svms?return_records=false", { auth });
        expect(refused.status, auth.username).toBe(401);
      }
      // The admin API is not served on a LIF.
      expect((await lif.rest("GET", "/__sim/state")).status).toBe(401);
    } finally {
      await lif.close();
    }
  });

  it("refuses SVM accounts on the cluster interface by default", async () => {
    await svmWithUserAndLif("p1", "shoot1", "10.130.0.10");
    const res = await admin.rest("GET", "/api/svm/svms?return_records=false", { auth: { username: "shoot1", password: PASSWORD } });
    expect(res.status).toBe(401);
  });

  it("follows the LIF: moves with a PATCH of its address, goes with its delete, and can be made unreachable", async () => {
    const { lifUuid } = await svmWithUserAndLif("p1", "shoot1", "10.130.0.10");
    const patched = await admin.rest("PATCH", `/api/network/ip/interfaces/${lifUuid}`, { body: { ip: { address: "10.130.0.20", netmask: "24" } } });
    expect(patched.status).toBe(200);
    expect(Object.keys(endpointsFile())).toEqual(["10.130.0.20"]);

    const url = endpointsFile()["10.130.0.20"]!;
    const unreachable = await admin.rest("PUT", "/__sim/lif-endpoints/10.130.0.20", { body: { reachable: false } });
    expect(unreachable.body).toMatchObject({ listening: true, reachable: false });
    const lif = atLif(url);
    try {
      await expect(lif.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: PASSWORD } })).rejects.toThrow();
      await admin.rest("PUT", "/__sim/lif-endpoints/10.130.0.20", { body: { reachable: true } });
      expect((await lif.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: PASSWORD } })).status).toBe(200);
    } finally {
      await lif.close();
    }

    expect((await admin.rest("DELETE", `/api/network/ip/interfaces/${lifUuid}`)).status).toBe(200);
    expect(endpointsFile()).toEqual({});
  });
});
