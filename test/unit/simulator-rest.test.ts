import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { type OntapRecord, SimAdmin } from "../../src/simulator/admin-client.js";

let sim: RunningSimulator;
let admin: SimAdmin;

beforeAll(async () => {
  // Lenient: a few tests log in as SVM users on the cluster port.
  sim = await startSimulator({ jobMs: 20, svmLoginOnCluster: true });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(() => admin.reset());

async function createSvm(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await admin.rest("POST", "/api/svm/svms", { body: { name, ...extra } });
  expect(res.status).toBe(202);
  await admin.waitForJob(res.body.job!.uuid);
  const list = await admin.rest("GET", `/api/svm/svms?name=${name}`);
  return list.body.records![0]!.uuid!;
}

function lifBody(svmUuid: string, name: string, address: string, extra: Record<string, unknown> = {}) {
  return { name, svm: { uuid: svmUuid }, ip: { address, netmask: "24" }, service_policy: { name: "default-data-nvme-tcp" }, ...extra };
}

describe("cluster objects", () => {
  it("serves the cluster identity, two nodes and one aggregate per node as hal+json", async () => {
    const cluster = await admin.rest("GET", "/api/cluster");
    expect(cluster.status).toBe(200);
    expect(cluster.headers["content-type"]).toBe("application/hal+json");
    expect(cluster.body).toMatchObject({ name: "sim-1", version: { generation: 9 } });
    // Without fields, what real ONTAP sends by default, including the performance blocks clients dereference.
    expect(cluster.body).toMatchObject({
      metric: { status: "ok", duration: "PT15S", iops: { total: 0 } },
      statistics: { status: "ok", iops_raw: { total: 0 }, latency_raw: { total: 0 }, throughput_raw: { total: 0 } },
    });
    const nodes = await admin.rest("GET", "/api/cluster/nodes?fields=uuid,name");
    expect(nodes.body.num_records).toBe(2);
    expect(nodes.body.records!.map((n) => n.name)).toEqual(["sim-1-01", "sim-1-02"]);
    const aggregates = await admin.rest("GET", "/api/storage/aggregates?fields=uuid,name,volume-count");
    expect(aggregates.body.records).toHaveLength(2);
    expect(aggregates.body.records!.every((a) => a["volume-count"] === 0)).toBe(true);
    // The Python attribute name is not a wire name: the whole request is refused, as ONTAP does.
    const pythonName = await admin.rest("GET", "/api/storage/aggregates?fields=uuid,volume_count");
    expect(pythonName.status).toBe(400);
    expect(pythonName.body).toEqual({
      error: { code: "262197", target: "fields", message: 'The value "volume_count" is invalid for field "fields" (<field,...>)' },
    });
  });

  it("counts an SVM's volumes on the aggregate it was placed on, so the next SVM goes to the emptier one", async () => {
    await createSvm("p1");
    await admin.setVolumes("p1", 3);
    const aggregates = await admin.rest("GET", "/api/storage/aggregates?fields=volume-count");
    const counts = aggregates.body.records!.map((a) => a["volume-count"]).sort();
    expect(counts).toEqual([0, 4]);
    await createSvm("p2");
    const state = await admin.state();
    const p1 = state.volumes.filter((v) => (v.svm as OntapRecord).name === "p1").map((v) => (v.aggregates as OntapRecord[])[0]!.uuid);
    const p2 = state.volumes.filter((v) => (v.svm as OntapRecord).name === "p2").map((v) => (v.aggregates as OntapRecord[])[0]!.uuid);
    expect(new Set(p1).size).toBe(1);
    expect(p2[0]).not.toBe(p1[0]);
  });

  it("reports BGP peer groups when enabled and none after the admin API disables them", async () => {
    expect((await admin.rest("GET", "/api/network/ip/bgp/peer-groups")).body.num_records).toBe(2);
    await admin.setBgp(false);
    expect((await admin.rest("GET", "/api/network/ip/bgp/peer-groups")).body.num_records).toBe(0);
  });
});

describe("SVMs and jobs", () => {
  it("shows a new SVM at once as initializing and running once its job succeeded", async () => {
    // A job of 2 s, not the suite's 20 ms: on a loaded machine the GET right after the POST can take longer
    // than 20 ms, and the SVM would already be running.
    const slow = await startSimulator({ jobMs: 2_000 });
    const slowAdmin = new SimAdmin(slow.clusters[0]!);
    try {
      const res = await slowAdmin.rest("POST", "/api/svm/svms", { body: { name: "p1", nvme: { enabled: true, allowed: true } } });
      expect(res.status).toBe(202);
      expect(res.body.job!._links.self.href).toBe(`/api/cluster/jobs/${res.body.job!.uuid}`);
      const early = await slowAdmin.rest("GET", "/api/svm/svms?name=p1&fields=state,nvme.enabled");
      expect(early.body.records![0]).toMatchObject({ name: "p1", state: "initializing", nvme: { enabled: true } });
      const job = await slowAdmin.waitForJob(res.body.job!.uuid);
      expect(job).toMatchObject({ state: "success", svm: { name: "p1" } });
      const later = await slowAdmin.rest("GET", `/api/svm/svms/${early.body.records![0]!.uuid}`);
      expect(later.body).toMatchObject({ state: "running", nvme: { enabled: true, allowed: true } });
    } finally {
      await slowAdmin.close();
      await slow.stop();
    }
  });

  it("passes through queued and running before success", async () => {
    const slow = await startSimulator({ jobMs: 400 });
    const slowAdmin = new SimAdmin(slow.clusters[0]!);
    try {
      const res = await slowAdmin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
      const seen = new Set<string>();
      for (;;) {
        const job = await slowAdmin.rest("GET", `/api/cluster/jobs/${res.body.job!.uuid}`);
        seen.add(String(job.body.state));
        if (job.body.state === "success") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect([...seen]).toEqual(["queued", "running", "success"]);
    } finally {
      await slowAdmin.close();
      await slow.stop();
    }
  });

  it("creates the root volume and a locked vsadmin account owned by the SVM", async () => {
    const uuid = await createSvm("p1");
    const volumes = await admin.rest("GET", `/api/storage/volumes?svm.uuid=${uuid}&fields=is_svm_root`);
    expect(volumes.body.records).toEqual([expect.objectContaining({ name: "p1_root", is_svm_root: true })]);
    const vsadmin = await admin.rest("GET", `/api/security/accounts/${uuid}/vsadmin`);
    expect(vsadmin.body).toMatchObject({ owner: { uuid, name: "p1" }, role: { name: "vsadmin" }, locked: true });
  });

  it("refuses a duplicate SVM name with 13434908, also while the first is initializing", async () => {
    const first = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect(first.status).toBe(202);
    const second = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect(second.status).toBe(400);
    expect(second.body.error).toMatchObject({ code: "13434908", target: "name" });
    const clusterName = await admin.rest("POST", "/api/svm/svms", { body: { name: "sim-1" } });
    expect(clusterName.body.error?.code).toBe("13434908");
  });

  it("refuses invalid SVM names and unknown aggregates with 13434884", async () => {
    for (const name of ["1abc", "a b", "x".repeat(48)]) {
      const res = await admin.rest("POST", "/api/svm/svms", { body: { name } });
      expect(res.status, name).toBe(400);
      expect(res.body.error).toMatchObject({ code: "13434884", target: "name" });
    }
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1", aggregates: [{ name: "nope" }] } });
    expect(res.body.error).toMatchObject({ code: "13434884", target: "aggregates" });
  });

  it("answers the final status with return_timeout: 201 for a create, 200 for a delete", async () => {
    const created = await admin.rest("POST", "/api/svm/svms?return_timeout=5&return_records=true", { body: { name: "p1" } });
    expect(created.status).toBe(201);
    const uuid = created.body.records![0]!.uuid!;
    expect((await admin.rest("GET", `/api/svm/svms/${uuid}?fields=state`)).body.state).toBe("running");
    const deleted = await admin.rest("DELETE", `/api/svm/svms/${uuid}?return_timeout=5`);
    expect(deleted.status).toBe(200);
    expect((await admin.rest("GET", `/api/svm/svms/${uuid}`)).status).toBe(404);
  });

  it("refuses to delete an SVM with data volumes (409, 8: resource in use) and deletes it once they are gone", async () => {
    const uuid = await createSvm("p1");
    await admin.setVolumes("p1", 2);
    const volumes = await admin.rest("GET", `/api/storage/volumes?svm.uuid=${uuid}&is_svm_root=false&return_records=false`);
    expect(volumes.body).toMatchObject({ num_records: 2 });
    expect(volumes.body.records).toBeUndefined();
    const refused = await admin.rest("DELETE", `/api/svm/svms/${uuid}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("8");
    expect((await admin.rest("GET", `/api/svm/svms/${uuid}?fields=state`)).body.state).toBe("running");
    await admin.setVolumes("p1", 0);
    const accepted = await admin.rest("DELETE", `/api/svm/svms/${uuid}`);
    expect(accepted.status).toBe(202);
    expect((await admin.rest("GET", `/api/svm/svms/${uuid}?fields=state`)).body.state).toBe("deleting");
    await admin.waitForJob(accepted.body.job!.uuid);
    expect((await admin.rest("GET", `/api/svm/svms/${uuid}`)).status).toBe(404);
  });

  it("deletes the SVM's interfaces, accounts and root volume with it", async () => {
    const uuid = await createSvm("p1");
    expect((await admin.rest("POST", "/api/network/ip/interfaces", { body: lifBody(uuid, "datalif1", "10.0.0.1") })).status).toBe(201);
    const account = { name: "shoot1", owner: { uuid }, role: { name: "vsadmin" }, applications: [{ application: "http" }], password: "Secret-123" };
    expect((await admin.rest("POST", "/api/security/accounts", { body: account })).status).toBe(201);
    const res = await admin.rest("DELETE", `/api/svm/svms/${uuid}?return_timeout=5`);
    expect(res.status).toBe(200);
    const state = await admin.state();
    expect(state.interfaces).toEqual([]);
    expect(state.volumes).toEqual([]);
    expect(state.accounts.map((a) => a.name)).toEqual(["admin"]);
  });

  it("refuses to delete an SVM that is still initializing (13434916) or already deleting", async () => {
    // A longer job, so the early DELETE cannot lose the race against a 20 ms job on a loaded machine.
    await admin.addFault({ method: "JOB", path: "^POST /api/svm/svms$", count: 1, action: { type: "delay", ms: 1000 } });
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    const uuid = (await admin.rest("GET", "/api/svm/svms?name=p1")).body.records![0]!.uuid!;
    const early = await admin.rest("DELETE", `/api/svm/svms/${uuid}`);
    expect(early.status).toBe(409);
    expect(early.body.error?.code).toBe("13434916");
    await admin.waitForJob(res.body.job!.uuid);
    await admin.setSvmState("p1", "deleting");
    expect((await admin.rest("DELETE", `/api/svm/svms/${uuid}`)).body.error?.code).toBe("13434921");
  });

  it("answers 404 with code 4 for unknown SVMs and jobs", async () => {
    for (const path of ["/api/svm/svms/00000000-0000-0000-0000-000000000000", "/api/cluster/jobs/nope"]) {
      const res = await admin.rest("GET", path);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "4", message: "entry doesn't exist" });
    }
  });
});

describe("interfaces", () => {
  it("creates an interface with home node, service policy and a netmask reported as a length", async () => {
    const uuid = await createSvm("p1");
    const nodes = await admin.rest("GET", "/api/cluster/nodes");
    const node = nodes.body.records![1]!;
    const body = lifBody(uuid, "datalif1", "10.0.0.1", {
      ip: { address: "10.0.0.1", netmask: "255.255.255.0" },
      location: { home_node: { uuid: node.uuid } },
    });
    const res = await admin.rest("POST", "/api/network/ip/interfaces?return_records=true", { body });
    expect(res.status).toBe(201);
    const lifUuid = res.body.records![0]!.uuid;
    const fields = "fields=uuid,name,ip.address,ip.netmask,location.home_node.uuid,location.home_node.name,service_policy.name";
    const list = await admin.rest("GET", `/api/network/ip/interfaces?svm.uuid=${uuid}&${fields}`);
    expect(list.body.records).toEqual([
      {
        uuid: lifUuid,
        name: "datalif1",
        ip: { address: "10.0.0.1", netmask: "24" },
        location: { home_node: { uuid: node.uuid, name: node.name } },
        service_policy: { name: "default-data-nvme-tcp" },
        _links: { self: { href: `/api/network/ip/interfaces/${lifUuid}` } },
      },
    ]);
  });

  it("refuses a duplicate interface name in the same SVM with 1966140 but allows it in another SVM", async () => {
    const a = await createSvm("p1");
    const b = await createSvm("p2");
    expect((await admin.rest("POST", "/api/network/ip/interfaces", { body: lifBody(a, "lif", "10.0.0.1") })).status).toBe(201);
    const dup = await admin.rest("POST", "/api/network/ip/interfaces", { body: lifBody(a, "lif", "10.0.0.2") });
    expect(dup.status).toBe(400);
    expect(dup.body.error).toMatchObject({ code: "1966140", target: "name" });
    expect((await admin.rest("POST", "/api/network/ip/interfaces", { body: lifBody(b, "lif", "10.0.0.3") })).status).toBe(201);
  });

  it("refuses a duplicate IP address anywhere in the cluster with 1376963, also on PATCH", async () => {
    const a = await createSvm("p1");
    const b = await createSvm("p2");
    await admin.rest("POST", "/api/network/ip/interfaces", { body: lifBody(a, "lif1", "10.0.0.1") });
    const dup = await admin.rest("POST", "/api/network/ip/interfaces", { body: lifBody(b, "lif2", "10.0.0.1") });
    expect(dup.status).toBe(400);
    expect(dup.body.error).toMatchObject({ code: "1376963", target: "ip.address" });
    const other = await admin.rest("POST", "/api/network/ip/interfaces?return_records=true", { body: lifBody(b, "lif2", "10.0.0.2") });
    const patch = await admin.rest("PATCH", `/api/network/ip/interfaces/${other.body.records![0]!.uuid}`, {
      body: { ip: { address: "10.0.0.1" } },
    });
    expect(patch.body.error?.code).toBe("1376963");
  });

  it("patches and deletes an interface", async () => {
    const svm = await createSvm("p1");
    const created = await admin.rest("POST", "/api/network/ip/interfaces?return_records=true", { body: lifBody(svm, "lif1", "10.0.0.1") });
    const uuid = created.body.records![0]!.uuid!;
    expect((await admin.rest("PATCH", `/api/network/ip/interfaces/${uuid}`, { body: { enabled: false } })).status).toBe(200);
    expect((await admin.rest("GET", `/api/network/ip/interfaces/${uuid}`)).body).toMatchObject({ enabled: false, state: "down" });
    expect((await admin.rest("DELETE", `/api/network/ip/interfaces/${uuid}`)).status).toBe(200);
    expect((await admin.rest("GET", `/api/network/ip/interfaces/${uuid}`)).status).toBe(404);
  });

  it("allows a /32 VIP interface only while BGP peer groups exist", async () => {
    const svm = await createSvm("p1");
    const vip = lifBody(svm, "lif1", "10.0.0.1", { ip: { address: "10.0.0.1", netmask: 32 }, vip: true });
    await admin.setBgp(false);
    const refused = await admin.rest("POST", "/api/network/ip/interfaces", { body: vip });
    expect(refused.body.error).toMatchObject({ code: "1967150", target: "vip" });
    await admin.setBgp(true);
    expect((await admin.rest("POST", "/api/network/ip/interfaces", { body: vip })).status).toBe(201);
    const list = await admin.rest("GET", "/api/network/ip/interfaces?fields=vip,ip.netmask");
    expect(list.body.records![0]).toMatchObject({ vip: true, ip: { netmask: "32" } });
  });

  it("refuses bad addresses, netmasks, unknown SVMs and service policies with the field as target", async () => {
    const svm = await createSvm("p1");
    const cases: Array<[Record<string, unknown>, string]> = [
      [lifBody(svm, "l", "10.0.0.300"), "ip.address"],
      [lifBody(svm, "l", "10.0.0.1", { ip: { address: "10.0.0.1", netmask: "255.0.255.0" } }), "ip.netmask"],
      [lifBody("00000000-0000-0000-0000-000000000000", "l", "10.0.0.1"), "svm.uuid"],
      [lifBody(svm, "l", "10.0.0.1", { service_policy: { name: "nope" } }), "service_policy.name"],
      [lifBody(svm, "l", "10.0.0.1", { location: { home_node: { name: "nope" } } }), "location.home_node.uuid"],
    ];
    for (const [body, target] of cases) {
      const res = await admin.rest("POST", "/api/network/ip/interfaces", { body });
      expect(res.status, target).toBe(400);
      expect(res.body.error?.target).toBe(target);
    }
  });
});

describe("accounts", () => {
  const account = (owner: string, name = "shoot1", extra: Record<string, unknown> = {}) => ({
    name,
    owner: { uuid: owner },
    role: { name: "vsadmin" },
    applications: [{ application: "http", authentication_methods: ["password"] }],
    password: "Secret-123",
    locked: false,
    ...extra,
  });

  it("creates, reads by owner and name, and deletes an SVM account", async () => {
    const svm = await createSvm("p1");
    expect((await admin.rest("POST", "/api/security/accounts", { body: account(svm) })).status).toBe(201);
    const list = await admin.rest("GET", `/api/security/accounts?owner.uuid=${svm}&name=shoot1`);
    expect(list.body.records).toEqual([
      expect.objectContaining({ owner: expect.objectContaining({ uuid: svm, name: "p1" }), name: "shoot1" }),
    ]);
    const one = await admin.rest("GET", `/api/security/accounts/${svm}/shoot1`);
    expect(one.body).toMatchObject({ role: { name: "vsadmin" }, applications: [{ application: "http" }], locked: false });
    expect(one.text).not.toContain("Secret-123");
    expect((await admin.rest("DELETE", `/api/security/accounts/${svm}/shoot1`)).status).toBe(200);
    expect((await admin.rest("GET", `/api/security/accounts/${svm}/shoot1`)).status).toBe(404);
  });

  it("refuses an unknown role with 1261215 and a reserved name with 5636121", async () => {
    const svm = await createSvm("p1");
    const role = await admin.rest("POST", "/api/security/accounts", { body: account(svm, "u1", { role: { name: "superuser" } }) });
    expect(role.status).toBe(400);
    expect(role.body.error).toMatchObject({ code: "1261215", target: "role.name" });
    for (const name of ["admin", "root", "diag"]) {
      const reserved = await admin.rest("POST", "/api/security/accounts", { body: account(svm, name) });
      expect(reserved.body.error, name).toMatchObject({ code: "5636121", target: "name" });
    }
  });

  it("refuses a second account with the same owner and name (409)", async () => {
    const svm = await createSvm("p1");
    await admin.rest("POST", "/api/security/accounts", { body: account(svm) });
    const dup = await admin.rest("POST", "/api/security/accounts", { body: account(svm) });
    expect(dup.status).toBe(409);
    expect(dup.body.error?.code).toBe("1");
    const vsadmin = await admin.rest("POST", "/api/security/accounts", { body: account(svm, "vsadmin") });
    expect(vsadmin.status).toBe(409);
  });

  it("changes a password through /api/security/authentication/password with 200", async () => {
    const svm = await createSvm("p1");
    await admin.rest("POST", "/api/security/accounts", { body: account(svm) });
    const res = await admin.rest("POST", "/api/security/authentication/password", {
      body: { owner: { name: "p1" }, name: "shoot1", password: "Changed-456" },
    });
    expect(res.status).toBe(200);
    const asUser = await admin.rest("GET", "/api/svm/svms", { auth: { username: "shoot1", password: "Changed-456" } });
    expect(asUser.status).toBe(200);
    const unknown = await admin.rest("POST", "/api/security/authentication/password", {
      body: { owner: { name: "p1" }, name: "ghost", password: "Changed-456" },
    });
    expect(unknown.status).toBe(404);
  });
});

describe("bad requests", () => {
  it("answers unknown body fields with 262179 naming the nested field", async () => {
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1", nvme: { enabled: true, fast: true } } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "262179", target: "nvme.fast", message: 'Unexpected argument "nvme.fast".' });
  });

  it("answers malformed JSON, wrong types, missing fields and unknown query parameters with ONTAP errors", async () => {
    const bad = await admin.rest("POST", "/api/svm/svms", { rawBody: "{not json" });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe("262187");
    const array = await admin.rest("POST", "/api/svm/svms", { rawBody: "[1,2]" });
    expect(array.body.error?.code).toBe("262187");
    const wrongType = await admin.rest("POST", "/api/svm/svms", { body: { name: 5 } });
    expect(wrongType.body.error).toMatchObject({ code: "2", target: "name" });
    const missing = await admin.rest("POST", "/api/network/ip/interfaces", { body: { name: "x" } });
    expect(missing.body.error?.code).toBe("2");
    const query = await admin.rest("GET", "/api/svm/svms?colour=blue");
    expect(query.body.error).toMatchObject({ code: "262179", target: "colour" });
    const maxRecords = await admin.rest("GET", "/api/svm/svms?max_records=zero");
    expect(maxRecords.body.error?.target).toBe("max_records");
    expect((await admin.rest("GET", "/api/cluster")).status).toBe(200);
  });

  it("answers unknown paths with 404 and unsupported methods with 405, both in the ONTAP envelope", async () => {
    const missing = await admin.rest("GET", "/api/storage/luns");
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe("3");
    const method = await admin.rest("PUT", "/api/svm/svms");
    expect(method.status).toBe(405);
    expect(method.body.error?.message).toContain("/api/svm/svms");
  });
});
