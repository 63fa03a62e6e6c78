import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Aggregate, createOntapClient, type OntapClient, OntapError, type Svm } from "../../src/ontap/index.js";
import { aggregatesToAssign, assignMissingAggregates, createClusterAggregates } from "../../src/ontap-extension/svm-aggregates.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

const aggr = (uuid: string, name = `aggr_${uuid}`): Aggregate => ({ uuid, name, volumeCount: 0 });
const svm = (aggregateUuids?: string[], extra: Partial<Svm> = {}): Svm => ({ uuid: "s1", name: "p1", state: "running", ...(aggregateUuids ? { aggregateUuids } : {}), ...extra });
const ontapError = () =>
  new OntapError({ cluster: "c1", operation: "op", method: "PATCH", endpoint: "/api/svm/svms/{uuid}", kind: "http", transient: false, status: 400, detail: "refused" });

describe("which aggregates an SVM lacks", () => {
  it("none when the SVM holds every aggregate of its cluster (whatever the order)", () => {
    expect(aggregatesToAssign(svm(["b", "a"]), [aggr("a"), aggr("b")])).toBeUndefined();
  });

  it("an aggregate added to the cluster later: the SVM's own kept first, the new one appended", () => {
    expect(aggregatesToAssign(svm(["a", "b"]), [aggr("a"), aggr("b"), aggr("c", "aggr_new")])).toEqual({ missing: [aggr("c", "aggr_new")], list: ["a", "b", "c"] });
  });

  it("an aggregate the SVM has and the cluster no longer lists is kept, never removed", () => {
    expect(aggregatesToAssign(svm(["gone", "a"]), [aggr("a")])).toBeUndefined();
    expect(aggregatesToAssign(svm(["gone"]), [aggr("a")])?.list).toEqual(["gone", "a"]);
  });

  it("nothing when the lookup did not bring the SVM's list (unknown is not empty), or for a MetroCluster sync-destination copy", () => {
    expect(aggregatesToAssign(svm(undefined), [aggr("a")])).toBeUndefined();
    expect(aggregatesToAssign(svm([], { subtype: "sync_destination" }), [aggr("a")])).toBeUndefined();
    expect(aggregatesToAssign(svm([]), [aggr("a")])?.list).toEqual(["a"]);
  });
});

describe("each cluster's aggregate list, kept a while", () => {
  it("is read once per cluster and max age, concurrent readers sharing the read; a placement's read counts as fresh", async () => {
    let at = 0;
    let reads = 0;
    const client = {
      listAggregates: async () => {
        reads++;
        return [aggr("a")];
      },
    };
    const cache = createClusterAggregates({ maxAgeMs: 1000, now: () => at });
    await Promise.all([cache.get("c1", client), cache.get("c1", client), cache.get("c1", client)]);
    expect(reads).toBe(1);
    at = 999;
    await cache.get("c1", client);
    expect(reads).toBe(1);
    at = 1000;
    await cache.get("c1", client);
    expect(reads).toBe(2);
    await cache.get("c2", client);
    expect(reads).toBe(3);
    cache.remember("c3", [aggr("z")]);
    expect(await cache.get("c3", client)).toEqual([aggr("z")]);
    expect(reads).toBe(3);
  });

  it("a failed read is not kept: the next caller reads again", async () => {
    let fail = true;
    const client = { listAggregates: async () => (fail ? Promise.reject(ontapError()) : [aggr("a")]) };
    const cache = createClusterAggregates();
    await expect(cache.get("c1", client)).rejects.toThrow(OntapError);
    fail = false;
    expect(await cache.get("c1", client)).toEqual([aggr("a")]);
  });
});

describe("assigning the missing aggregates", () => {
  const fake = (opts: { list?: () => Promise<Aggregate[]>; patch?: () => Promise<{ job?: { uuid: string } }> } = {}) => {
    const patches: Array<{ uuid: string; list: readonly string[] }> = [];
    const client = {
      listAggregates: opts.list ?? (async () => [aggr("a"), aggr("b", "aggr_new")]),
      setSvmAggregates: async (uuid: string, list: readonly string[]) => {
        patches.push({ uuid, list });
        return opts.patch ? opts.patch() : {};
      },
    };
    return { client, patches };
  };

  it("sends one PATCH with the whole list only when one is missing", async () => {
    const { client, patches } = fake({ patch: async () => ({ job: { uuid: "j1" } }) });
    const cache = createClusterAggregates();
    expect(await assignMissingAggregates(cache, "c1", client, svm(["a", "b"]))).toBeUndefined();
    expect(patches).toEqual([]);
    expect(await assignMissingAggregates(cache, "c1", client, svm(["a"]))).toEqual({ kind: "assigned", names: ["aggr_new"], jobUuid: "j1" });
    expect(patches).toEqual([{ uuid: "s1", list: ["a", "b"] }]);
  });

  it("ONTAP refusing the PATCH or not listing the aggregates is reported, not thrown: the shoot is not held in Error", async () => {
    const refused = fake({ patch: () => Promise.reject(ontapError()) });
    expect(await assignMissingAggregates(createClusterAggregates(), "c1", refused.client, svm(["a"]))).toMatchObject({ kind: "failed", names: ["aggr_new"] });
    const silent = fake({ list: () => Promise.reject(ontapError()) });
    expect(await assignMissingAggregates(createClusterAggregates(), "c1", silent.client, svm(["a"]))).toMatchObject({ kind: "unknown" });
    expect(silent.patches).toEqual([]);
  });

  it("a kept list older than the SVM's aggregates is read again before anything is decided; a refused PATCH drops the list", async () => {
    let listed = [aggr("a")];
    let reads = 0;
    const patches: string[][] = [];
    const client = {
      listAggregates: async () => {
        reads++;
        return listed;
      },
      setSvmAggregates: async (_uuid: string, list: readonly string[]) => {
        patches.push([...list]);
        if (list.includes("gone")) throw ontapError();
        return {};
      },
    };
    const cache = createClusterAggregates();
    await cache.get("c1", client);
    // The cluster changed (b added and already assigned elsewhere): the SVM knows b, the kept list does not.
    listed = [aggr("a"), aggr("b")];
    expect(await assignMissingAggregates(cache, "c1", client, svm(["a", "b"]))).toBeUndefined();
    expect(reads).toBe(2);
    expect(patches).toEqual([]);
    // An aggregate of the kept list is gone: the PATCH naming it is refused, and the list is read again next time.
    cache.remember("c1", [aggr("a"), aggr("gone")]);
    expect(await assignMissingAggregates(cache, "c1", client, svm(["a"]))).toMatchObject({ kind: "failed" });
    expect(await assignMissingAggregates(cache, "c1", client, svm(["a"]))).toEqual({ kind: "assigned", names: ["aggr_b"] });
    expect(patches).toEqual([["a", "gone"], ["a", "b"]]);
  });

  it("anything but an ONTAP error (a fenced write, an aborted reconcile) is thrown", async () => {
    const fenced = fake({ patch: () => Promise.reject(new Error("not the leader")) });
    await expect(assignMissingAggregates(createClusterAggregates(), "c1", fenced.client, svm(["a"]))).rejects.toThrow("not the leader");
  });
});

describe("the client and the simulator: an SVM's aggregates", () => {
  let sim: RunningSimulator;
  let client: OntapClient;
  let admin: SimAdmin;
  beforeAll(async () => {
    sim = await startSimulator({ clusters: 1, jobMs: 20, seed: 11 });
    const c = sim.clusters[0]!;
    client = createOntapClient({ name: c.name, url: c.url, username: c.username, password: c.password, caFile: c.caFile, insecureSkipTlsVerify: false, timeoutMs: 5000 });
    admin = new SimAdmin(c);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it("the lookup brings the aggr-list; an aggregate added later is set by PATCH (a job) and the next lookup shows it", async () => {
    const before = await client.listAggregates();
    const created = await admin.createSvmDirect({ name: "paggr", aggregates: before.map((a) => ({ uuid: a.uuid })) });
    const [found] = await client.findSvmsByName("paggr");
    expect(found?.aggregateUuids).toEqual(before.map((a) => a.uuid));

    const added = await admin.addAggregate("aggr_added_later");
    expect((await client.listAggregates()).map((a) => a.name)).toContain("aggr_added_later");
    const change = aggregatesToAssign(found!, await client.listAggregates());
    expect(change?.missing.map((a) => a.name)).toEqual(["aggr_added_later"]);
    const { job } = await client.setSvmAggregates(created.uuid, change!.list);
    expect(job).toBeDefined();
    expect((await client.waitForJob(job!)).state).toBe("success");
    const [after] = await client.findSvmsByName("paggr");
    expect(after?.aggregateUuids).toEqual([...before.map((a) => a.uuid), added.uuid]);
  });

  it("the simulator refuses an unknown aggregate and a field it does not simulate, naming them", async () => {
    const [found] = await client.findSvmsByName("paggr");
    await expect(client.setSvmAggregates(found!.uuid, ["no-such-aggregate"])).rejects.toMatchObject({ status: 400, code: "13434884" });
    const res = await admin.rest("PATCH", `/api/svm/svms/${found!.uuid}`, { body: { comment: "x" } });
    expect(res.status).toBe(400);
  });
});
