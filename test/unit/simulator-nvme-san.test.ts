import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { type OntapRecord, SimAdmin, type SimHttpResponse } from "../../src/simulator/admin-client.js";

/**
 * What Trident's ontap-san driver with `sanType: nvme` does as an SVM-scoped caller (NetApp/trident v25.06.3,
 * storage_drivers/ontap/api/ontap_rest.go), each call in the query form Trident sends it: the backend's
 * discovery, then one volume through its life. Lenient login on the cluster port, so the SVM user is tested
 * without a LIF listener (the LIF endpoints have their own test).
 */

let sim: RunningSimulator;
let admin: SimAdmin;
const PASSWORD = "Trident-Secret-1";
const auth = { username: "shoot1", password: PASSWORD };
const NQN = "nqn.2014-08.org.nvmexpress:uuid:0f6a4b5e-node-1";
const GiB = 1024 ** 3;

beforeAll(async () => {
  sim = await startSimulator({ jobMs: 0, svmLoginOnCluster: true });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(() => admin.reset());

/** An SVM on the first aggregate with an NVMe/TCP data LIF and the shoot's user; the second SVM is someone else's. */
async function world(): Promise<{ svm: string; other: string; aggregates: string[] }> {
  const aggregates = ((await admin.rest("GET", "/api/storage/aggregates")).body.records ?? []).map((a) => String(a.name));
  const svm = await admin.createSvmDirect({ name: "p1", aggregates: [{ name: aggregates[0]! }] });
  const other = await admin.createSvmDirect({ name: "p2", aggregates: [{ name: aggregates[1]! }] });
  for (const [owner, name, address, policy] of [
    [svm.uuid, "datalif1", "10.130.0.11", "default-data-nvme-tcp"],
    [svm.uuid, "managementlif", "10.130.0.10", "default-management"],
    [other.uuid, "datalif1", "10.130.1.11", "default-data-nvme-tcp"],
  ] as const) {
    const lif = await admin.rest("POST", "/api/network/ip/interfaces", {
      body: { name, svm: { uuid: owner }, ip: { address, netmask: "24" }, service_policy: { name: policy } },
    });
    expect(lif.status).toBe(201);
  }
  const user = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name: "shoot1",
      owner: { uuid: svm.uuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password: PASSWORD,
    },
  });
  expect(user.status).toBe(201);
  return { svm: svm.uuid, other: other.uuid, aggregates };
}

async function asTrident(method: string, path: string, body?: unknown): Promise<SimHttpResponse> {
  return admin.rest(method, path, { auth, ...(body === undefined ? {} : { body }) });
}

/** A write that answers 202 with a job: the job is followed as Trident does (`fields=**`) until it succeeds. */
async function job(res: SimHttpResponse, asAdmin = false): Promise<OntapRecord> {
  expect(res.status, res.text).toBe(202);
  const uuid = (res.body as { job: { uuid: string } }).job.uuid;
  for (;;) {
    const path = `/api/cluster/jobs/${uuid}?fields=**`;
    const polled = asAdmin ? await admin.rest("GET", path) : await asTrident("GET", path);
    expect(polled.status).toBe(200);
    if (polled.body.state === "success" || polled.body.state === "failure") return polled.body as OntapRecord;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function volumeUuid(name: string): Promise<string> {
  const res = await asTrident("GET", `/api/storage/volumes?fields=&name=${name}&style=flexvol&state=online`);
  expect(res.body.num_records, res.text).toBe(1);
  return String(res.body.records![0]!.uuid);
}

describe("the backend's discovery as Trident makes it", () => {
  it("finds the version, its one SVM, serial numbers, its aggregates and NVMe data LIFs", async () => {
    const { svm } = await world();
    const cluster = await asTrident("GET", "/api/cluster?fields=**");
    expect(cluster.status).toBe(200);
    // 9.15.1 or later: Trident's REST client is the default only from there on.
    expect(cluster.body.version).toMatchObject({ generation: 9, major: 15, minor: 1 });
    expect(cluster.body).not.toHaveProperty("management_interfaces");

    // EnsureSVMWithRest without `svm:` in the backend: exactly one record, uuid and name only.
    const svms = await asTrident("GET", "/api/svm/svms?fields=&name=*");
    expect(svms.status).toBe(200);
    expect(svms.body).toMatchObject({ num_records: 1, records: [{ uuid: svm, name: "p1" }] });
    expect(Object.keys(svms.body.records![0]!).sort()).toEqual(["_links", "name", "uuid"]);

    const nodes = await asTrident("GET", "/api/cluster/nodes?fields=serial_number&name=*");
    expect(nodes.status).toBe(200);
    expect(nodes.body.records!.map((n) => typeof n.serial_number)).toEqual(["string", "string"]);

    // Only the aggregates of the SVM's aggr-list exist for its user.
    const aggregates = await asTrident("GET", "/api/storage/aggregates?fields=block_storage.primary.disk_type&name=*");
    expect(aggregates.body.num_records).toBe(1);
    expect(aggregates.body.records![0]).toMatchObject({ block_storage: { primary: { disk_type: "ssd" } } });
    const own = await asTrident("GET", `/api/svm/svms/${svm}`);
    expect((own.body.aggregates as OntapRecord[]).map((a) => a.name)).toEqual([aggregates.body.records![0]!.name]);

    const lifs = await asTrident("GET", `/api/network/ip/interfaces?fields=ip.address,state&services=data_nvme_tcp&svm.uuid=${svm}`);
    expect(lifs.body.records!.map((r) => [(r.ip as OntapRecord).address, r.state])).toEqual([["10.130.0.11", "up"]]);

    const ems = await asTrident("POST", "/api/support/ems/application-logs?return_records=true", {
      app_version: "25.06.3",
      autosupport_required: false,
      category: "provisioning",
      computer_name: "trident-controller",
      event_description: "Trident initialized.",
      event_id: 1,
      event_source: "trident",
      severity: "notice",
    });
    expect(ems.status).toBe(201);
    expect((await admin.state()).cluster).toBeDefined();
  });

  it("refuses an SVM user the cluster's writes and BGP, and a body naming another SVM", async () => {
    const { other } = await world();
    expect((await asTrident("GET", "/api/network/ip/bgp/peer-groups")).status).toBe(403);
    expect((await asTrident("POST", "/api/svm/svms", { name: "x" })).status).toBe(403);
    const foreign = await asTrident("POST", "/api/storage/volumes", { name: "v", size: GiB, svm: { uuid: other } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({ code: "4", target: "svm.uuid" });
    const bad = await asTrident("POST", "/api/storage/volumes", { name: "v", size: GiB, space_guarantee: "none" });
    expect(bad.body.error).toMatchObject({ code: "262179", target: "space_guarantee" });
  });
});

describe("one volume through its life", () => {
  it("creates, publishes, snapshots, clones, resizes, unpublishes and deletes, each visible in the simulator's state", async () => {
    const { svm, other } = await world();
    const aggregate = (await asTrident("GET", "/api/storage/aggregates")).body.records![0]!.name;
    const created = await job(
      await asTrident("POST", "/api/storage/volumes", {
        name: "trident_pvc_1",
        size: 2 * GiB,
        aggregates: [{ name: aggregate }],
        guarantee: { type: "none" },
        snapshot_policy: { name: "none" },
        comment: "",
        state: "online",
        style: "flexvol",
        space: { snapshot: { reserve_percent: 0 } },
        svm: { uuid: svm },
        encryption: { enabled: false },
        tiering: { policy: "none" },
      }),
    );
    expect(created.state).toBe("success");
    const vol = await volumeUuid("trident_pvc_1");

    const ns = await asTrident("POST", "/api/storage/namespaces?return_records=true", {
      name: "/vol/trident_pvc_1/namespace0",
      os_type: "linux",
      space: { size: GiB, block_size: 4096 },
      comment: '{"nsAttribute":{"LUKS":"false"}}',
      svm: { uuid: svm },
    });
    expect(ns.status, ns.text).toBe(201);
    expect(ns.body).toMatchObject({ num_records: 1, records: [{ name: "/vol/trident_pvc_1/namespace0" }] });
    const byPath = await asTrident("GET", `/api/storage/namespaces?svm.uuid=${svm}&name=/vol/trident_pvc_1/*&fields=**`);
    expect(byPath.body.num_records).toBe(1);
    const namespace = byPath.body.records![0]!;
    expect(namespace).toMatchObject({ os_type: "linux", space: { size: GiB, block_size: 4096 }, status: { mapped: false } });

    // Publish: a subsystem, the node's host NQN, the map.
    const subsystem = await asTrident("POST", "/api/protocols/nvme/subsystems?return_records=true", {
      name: "s_node1",
      os_type: "linux",
      svm: { uuid: svm },
      comment: "node1",
    });
    expect(subsystem.status, subsystem.text).toBe(201);
    const ss = String(subsystem.body.records![0]!.uuid);
    expect(subsystem.body.records![0]).toMatchObject({ target_nqn: expect.stringMatching(/^nqn\.1992-08\.com\.netapp:sn\./) });
    expect((await asTrident("POST", `/api/protocols/nvme/subsystems/${ss}/hosts`, { nqn: NQN })).status).toBe(201);
    expect((await asTrident("POST", `/api/protocols/nvme/subsystems/${ss}/hosts`, { nqn: NQN })).body.error).toMatchObject({ code: "1" });
    const mapped = await asTrident("POST", "/api/protocols/nvme/subsystem-maps", {
      namespace: { uuid: namespace.uuid },
      subsystem: { uuid: ss },
      svm: { uuid: svm },
    });
    expect(mapped.status, mapped.text).toBe(201);
    const maps = await asTrident("GET", `/api/protocols/nvme/subsystem-maps?subsystem.uuid=${ss}`);
    expect(maps.body.records).toEqual([
      expect.objectContaining({ subsystem: expect.objectContaining({ uuid: ss }), namespace: expect.objectContaining({ uuid: namespace.uuid }) }),
    ]);
    const hosts = await asTrident("GET", `/api/protocols/nvme/subsystems/${ss}/hosts`);
    expect(hosts.body.records!.map((h) => h.nqn)).toEqual([NQN]);
    let state = await admin.state();
    expect(state.subsystem_maps).toHaveLength(1);

    // Snapshot, then a FlexClone from it carrying a copy of the namespace.
    await job(await asTrident("POST", `/api/storage/volumes/${vol}/snapshots`, { name: "snap1", svm: { uuid: svm } }));
    const snaps = await asTrident("GET", `/api/storage/volumes/${vol}/snapshots?fields=name,create_time&name=snap1`);
    expect(snaps.body.records).toEqual([expect.objectContaining({ name: "snap1", create_time: expect.any(String) })]);
    await job(
      await asTrident("POST", "/api/storage/volumes?return_records=true", {
        name: "trident_pvc_2",
        clone: { parent_volume: { name: "trident_pvc_1" }, parent_snapshot: { name: "snap1" }, is_flexclone: true },
        svm: { uuid: svm },
      }),
    );
    const clone = await volumeUuid("trident_pvc_2");
    const cloned = await asTrident("GET", `/api/storage/volumes/${clone}?fields=clone`);
    expect(cloned.body.clone).toMatchObject({ is_flexclone: true, parent_volume: { name: "trident_pvc_1" }, parent_snapshot: { name: "snap1" } });
    const cloneNs = await asTrident("GET", `/api/storage/namespaces?name=/vol/trident_pvc_2/*&fields=space.size`);
    expect(cloneNs.body.records).toEqual([expect.objectContaining({ name: "/vol/trident_pvc_2/namespace0", space: { size: GiB } })]);
    const backed = await asTrident("GET", `/api/storage/volumes?fields=name&clone.parent_volume.name=trident_pvc_1&clone.parent_snapshot.name=snap1&svm.uuid=${svm}`);
    expect(backed.body.records!.map((v) => v.name)).toEqual(["trident_pvc_2"]);
    // The snapshot a clone depends on is busy.
    const snapUuid = String(snaps.body.records![0]!.uuid);
    const busy = await asTrident("DELETE", `/api/storage/volumes/${vol}/snapshots/${snapUuid}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error!.code).toBe("8");

    // Resize: the volume first, then the namespace; a namespace never shrinks and never outgrows its volume.
    expect((await asTrident("PATCH", `/api/storage/namespaces/${namespace.uuid}`, { space: { size: 3 * GiB } })).status).toBe(400);
    await job(await asTrident("PATCH", `/api/storage/volumes/${vol}`, { size: 4 * GiB }));
    expect((await asTrident("PATCH", `/api/storage/namespaces/${namespace.uuid}`, { space: { size: 3 * GiB } })).status).toBe(200);
    expect((await asTrident("PATCH", `/api/storage/namespaces/${namespace.uuid}`, { space: { size: GiB } })).status).toBe(400);
    const resized = await asTrident("GET", `/api/storage/namespaces?name=/vol/trident_pvc_1/namespace0&fields=space.size`);
    expect(resized.body.records![0]!.space).toEqual({ size: 3 * GiB });
    expect((await asTrident("GET", `/api/storage/volumes/${vol}?fields=size`)).body.size).toBe(4 * GiB);

    // Unpublish: map, host, subsystem.
    expect((await asTrident("DELETE", `/api/protocols/nvme/subsystem-maps/${ss}/${namespace.uuid}`)).status).toBe(200);
    expect((await asTrident("DELETE", `/api/protocols/nvme/subsystems/${ss}/hosts/${encodeURIComponent(NQN)}`)).status).toBe(200);
    expect((await asTrident("DELETE", `/api/protocols/nvme/subsystems/${ss}?allow_delete_with_hosts=true`)).status).toBe(200);
    state = await admin.state();
    expect(state.subsystems).toEqual([]);
    expect(state.subsystem_maps).toEqual([]);

    // Delete: the parent is refused while its clone lives; the clone, the snapshot, then the volume go.
    expect((await asTrident("DELETE", `/api/storage/volumes/${vol}?force=true`)).status).toBe(409);
    await job(await asTrident("DELETE", `/api/storage/volumes/${clone}?force=true`));
    await job(await asTrident("DELETE", `/api/storage/volumes/${vol}/snapshots/${snapUuid}`));
    await job(await asTrident("DELETE", `/api/storage/volumes/${vol}?force=true`));
    state = await admin.state();
    expect((state.volumes as OntapRecord[]).filter((v) => v.is_svm_root === false)).toEqual([]);
    expect(state.namespaces).toEqual([]);
    expect(state.snapshots).toEqual([]);
    // Nothing of this touched the other SVM.
    expect((state.volumes as Array<OntapRecord & { svm: { uuid: string } }>).filter((v) => v.svm.uuid === other)).toHaveLength(1);
  });

  it("hides another SVM's volumes, namespaces and subsystems from the SVM user (404), and pages namespaces", async () => {
    const { other } = await world();
    const otherVolume = await admin.rest("POST", "/api/storage/volumes", { body: { name: "theirs", size: GiB, svm: { uuid: other } } });
    await job(otherVolume, true);
    const theirs = (await admin.rest("GET", "/api/storage/volumes?name=theirs")).body.records![0]!.uuid;
    const ns = await admin.rest("POST", "/api/storage/namespaces", {
      body: { name: "/vol/theirs/other", os_type: "linux", space: { size: 100 * 1024 ** 2 }, svm: { uuid: other } },
    });
    expect(ns.status).toBe(201);
    const ss = await admin.rest("POST", "/api/protocols/nvme/subsystems?return_records=true", { body: { name: "theirs", os_type: "linux", svm: { uuid: other } } });
    expect((await asTrident("GET", `/api/storage/volumes/${theirs}`)).status).toBe(404);
    expect((await asTrident("DELETE", `/api/storage/volumes/${theirs}`)).status).toBe(404);
    expect((await asTrident("GET", "/api/storage/namespaces")).body.num_records).toBe(0);
    expect((await asTrident("GET", "/api/protocols/nvme/subsystems?name=*")).body.num_records).toBe(0);
    expect((await asTrident("GET", `/api/protocols/nvme/subsystems/${ss.body.records![0]!.uuid}/hosts`)).status).toBe(404);

    // Paging and counting with ONTAP's controls, as the cluster admin.
    for (const i of [1, 2, 3]) {
      const created = await admin.rest("POST", "/api/storage/namespaces", {
        body: { name: `/vol/theirs/n${i}`, os_type: "linux", space: { size: 10 * 1024 ** 2 }, svm: { uuid: other } },
      });
      expect(created.status).toBe(201);
    }
    const count = await admin.rest("GET", "/api/storage/namespaces?name=/vol/theirs/n*&return_records=false");
    expect(count.body).toMatchObject({ num_records: 3 });
    expect(count.body).not.toHaveProperty("records");
    const page = await admin.rest("GET", "/api/storage/namespaces?name=/vol/theirs/n*&max_records=2");
    expect(page.body.num_records).toBe(2);
    const next = (page.body._links as { next: { href: string } }).next.href;
    const rest = await admin.rest("GET", next);
    expect(rest.body.records!.map((r) => r.name)).toEqual(["/vol/theirs/n3"]);
    // An unknown `fields` entry fails the whole request, as elsewhere.
    expect((await admin.rest("GET", "/api/storage/namespaces?fields=size")).body.error).toMatchObject({ code: "262197" });
  });
});

describe("SnapMirror lookups before a delete", () => {
  it("answers Trident's relationship queries with an empty collection and checks their query as ONTAP does", async () => {
    await world();
    // SnapmirrorDeleteViaDestination, then SnapmirrorGet and SnapmirrorRelease (ontap_rest.go): a 404 here fails
    // Trident's DeleteVolume ("error deleting snapmirror info"); an empty list is "not found", which it skips.
    for (const query of ["fields=source.path,destination.path&list_destinations_only=true", "fields=destination.path,source.path"]) {
      const res = await asTrident("GET", `/api/snapmirror/relationships?${query}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ num_records: 0, records: [] });
    }
    expect((await asTrident("GET", "/api/snapmirror/relationships?list_destinations_only=maybe")).status).toBe(400);
    expect((await asTrident("GET", "/api/snapmirror/relationships?fields=no_such_field")).status).toBe(400);
    expect((await asTrident("GET", "/api/snapmirror/relationships/8c2b1d7e-0000-4000-8000-000000000001")).status).toBe(404);
  });

  it("answers Trident's SVM peer lookup (backend start, GetPeeredVservers) with an empty collection", async () => {
    const { svm } = await world();
    const res = await asTrident("GET", `/api/svm/peers?fields=peer.svm.name&svm.uuid=${svm}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ num_records: 0, records: [] });
    expect((await asTrident("GET", "/api/svm/peers?fields=peer.no_such_field")).status).toBe(400);
  });
});

describe("the conversation recorder", () => {
  it("records every exchange in full while on, with passwords redacted, and stops on request", async () => {
    await world();
    expect((await admin.rest("PUT", "/__sim/conversation")).status).toBe(200);
    await asTrident("GET", "/api/svm/svms?fields=&name=*");
    await admin.rest("POST", "/api/security/authentication/password", {
      body: { owner: { name: "p1" }, name: "shoot1", password: "Changed-Secret-9" },
    });
    const taken = await admin.rest("GET", "/__sim/conversation?stop=true");
    const exchanges = (taken.body as unknown as { exchanges: Array<Record<string, unknown>> }).exchanges;
    expect(exchanges.map((e) => [e.method, e.template, e.status, e.endpoint])).toEqual([
      ["GET", "/api/svm/svms", 200, "cluster"],
      ["POST", "/api/security/authentication/password", 200, "cluster"],
    ]);
    expect(exchanges[0]).toMatchObject({ query: "fields=&name=*", response: { num_records: 1 } });
    expect(exchanges[1]!.body).toEqual({ owner: { name: "p1" }, name: "shoot1", password: "<redacted>" });
    expect(taken.text).not.toContain("Changed-Secret-9");
    await asTrident("GET", "/api/cluster");
    expect((await admin.rest("GET", "/__sim/conversation")).body).toEqual({ exchanges: [] });
  });
});
