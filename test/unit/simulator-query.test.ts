import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchesFilter, project } from "../../src/simulator/query.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { type OntapRecord, SimAdmin } from "../../src/simulator/admin-client.js";

describe("query engine", () => {
  const record = {
    uuid: "u1",
    name: "p1234",
    size: 10,
    svm: { uuid: "s1", name: "svm1" },
    aggregates: [{ name: "aggr1" }, { name: "aggr2" }],
    enabled: true,
  };

  it("matches equality, wildcards, OR and NOT on top-level and nested fields", () => {
    expect(matchesFilter(record, "name", "p1234")).toBe(true);
    expect(matchesFilter(record, "name", "p12")).toBe(false);
    expect(matchesFilter(record, "name", "p1*")).toBe(true);
    expect(matchesFilter(record, "name", "*23*")).toBe(true);
    expect(matchesFilter(record, "name", "x|p1234")).toBe(true);
    expect(matchesFilter(record, "name", "!p1234")).toBe(false);
    expect(matchesFilter(record, "name", "!q*")).toBe(true);
    expect(matchesFilter(record, "svm.uuid", "s1")).toBe(true);
    expect(matchesFilter(record, "svm.name", "svm2")).toBe(false);
    expect(matchesFilter(record, "enabled", "true")).toBe(true);
  });

  it("matches through arrays and compares numbers with < > and ranges", () => {
    expect(matchesFilter(record, "aggregates.name", "aggr2")).toBe(true);
    expect(matchesFilter(record, "aggregates.name", "aggr3")).toBe(false);
    expect(matchesFilter(record, "size", ">5")).toBe(true);
    expect(matchesFilter(record, "size", "<=9")).toBe(false);
    expect(matchesFilter(record, "size", "1..10")).toBe(true);
  });

  it("treats regular-expression characters in a filter literally", () => {
    expect(matchesFilter({ name: "a.b" }, "name", "a.b")).toBe(true);
    expect(matchesFilter({ name: "axb" }, "name", "a.*")).toBe(false);
    expect(matchesFilter({ name: "a.b" }, "name", "a.*")).toBe(true);
  });

  it("projects key fields, requested nested fields and _links only", () => {
    const withLinks = { ...record, _links: { self: { href: "/x" } } };
    expect(project(withLinks, ["svm.name", "aggregates.name"], ["uuid", "name"])).toEqual({
      uuid: "u1",
      name: "p1234",
      svm: { name: "svm1" },
      aggregates: [{ name: "aggr1" }, { name: "aggr2" }],
      _links: { self: { href: "/x" } },
    });
    expect(project(withLinks, "*", ["uuid"])).toBe(withLinks);
  });
});

describe("queries over HTTPS", () => {
  let sim: RunningSimulator;
  let admin: SimAdmin;
  const svms: OntapRecord[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ jobMs: 0 });
    admin = new SimAdmin(sim.clusters[0]!);
    for (const name of ["alpha", "beta", "gamma", "delta", "epsilon"]) svms.push(await admin.createSvmDirect({ name }));
    await admin.setSvmState("beta", "stopped");
    for (const [i, svm] of svms.slice(0, 2).entries()) {
      await admin.rest("POST", "/api/network/ip/interfaces", {
        body: { name: "mgmt", svm: { uuid: svm.uuid }, ip: { address: `10.1.0.${i + 1}`, netmask: 24 } },
      });
    }
  });
  afterAll(async () => {
    await admin.close();
    await sim.stop();
  });

  const names = (records: OntapRecord[] | undefined) => (records ?? []).map((r) => r.name);

  it("returns only key fields and _links without fields, every field with fields=*", async () => {
    const keysOnly = await admin.rest("GET", "/api/svm/svms?name=alpha");
    expect(Object.keys(keysOnly.body.records![0]!).sort()).toEqual(["_links", "name", "uuid"]);
    const all = await admin.rest("GET", "/api/svm/svms?name=alpha&fields=*");
    expect(all.body.records![0]).toMatchObject({ state: "running", nvme: { enabled: true }, ipspace: { name: "Default" } });
  });

  it("filters with wildcards, OR and NOT on the server", async () => {
    expect(names((await admin.rest("GET", "/api/svm/svms?name=*ta")).body.records)).toEqual(["beta", "delta"]);
    expect(names((await admin.rest("GET", "/api/svm/svms?name=alpha|gamma")).body.records)).toEqual(["alpha", "gamma"]);
    const notRunning = await admin.rest("GET", "/api/svm/svms?state=!running&fields=state");
    expect(notRunning.body.records).toEqual([expect.objectContaining({ name: "beta", state: "stopped" })]);
  });

  it("filters on nested dotted fields: svm.uuid, owner.uuid and ip.address", async () => {
    const alpha = svms[0]!;
    const lifs = await admin.rest("GET", `/api/network/ip/interfaces?svm.uuid=${alpha.uuid}&fields=ip.address`);
    expect(lifs.body.records).toEqual([expect.objectContaining({ name: "mgmt", ip: { address: "10.1.0.1" } })]);
    const byIp = await admin.rest("GET", "/api/network/ip/interfaces?ip.address=10.1.0.2&fields=svm.name");
    expect(byIp.body.records).toEqual([expect.objectContaining({ svm: { name: "beta" } })]);
    const accounts = await admin.rest("GET", `/api/security/accounts?owner.uuid=${alpha.uuid}`);
    expect(accounts.body.records).toEqual([
      { owner: { uuid: alpha.uuid, name: "alpha" }, name: "vsadmin", _links: expect.any(Object) },
    ]);
  });

  it("pages with max_records and a next link that works until it is absent", async () => {
    const seen: string[] = [];
    let href: string | undefined = "/api/svm/svms?max_records=2&fields=state";
    let pages = 0;
    while (href) {
      const page = await admin.rest("GET", href);
      expect(page.status).toBe(200);
      expect(page.body.num_records).toBe(page.body.records!.length);
      expect(page.body.records!.length).toBeLessThanOrEqual(2);
      expect(page.body.records!.every((r) => typeof r.state === "string")).toBe(true);
      seen.push(...names(page.body.records).map(String));
      href = page.body._links?.next?.href;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(["alpha", "beta", "delta", "epsilon", "gamma"]);
  });

  it("keeps filters on the next link", async () => {
    const first = await admin.rest("GET", "/api/svm/svms?name=*a&max_records=1");
    const second = await admin.rest("GET", first.body._links!.next!.href);
    expect([...names(first.body.records), ...names(second.body.records)]).toEqual(["alpha", "beta"]);
    const third = await admin.rest("GET", second.body._links!.next!.href);
    expect(names(third.body.records)).toEqual(["delta"]);
    const fourth = await admin.rest("GET", third.body._links!.next!.href);
    expect(names(fourth.body.records)).toEqual(["gamma"]);
    expect(fourth.body._links?.next).toBeUndefined();
  });

  it("counts without records on return_records=false", async () => {
    const res = await admin.rest("GET", "/api/svm/svms?return_records=false&state=running");
    expect(res.body).toEqual({ num_records: 4, _links: { self: { href: "/api/svm/svms?return_records=false&state=running" } } });
    const volumes = await admin.rest("GET", `/api/storage/volumes?svm.name=alpha&is_svm_root=false&return_records=false`);
    expect(volumes.body.num_records).toBe(0);
  });

  it("narrows a single-record GET with fields and refuses unknown fields", async () => {
    const alpha = svms[0]!;
    const one = await admin.rest("GET", `/api/svm/svms/${alpha.uuid}?fields=state`);
    expect(one.body).toEqual({ uuid: alpha.uuid, name: "alpha", state: "running", _links: expect.any(Object) });
    const unknown = await admin.rest("GET", `/api/svm/svms/${alpha.uuid}?fields=colour`);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      error: { code: "262197", target: "fields", message: 'The value "colour" is invalid for field "fields" (<field,...>)' },
    });
    // One unknown entry refuses the whole request: no partial record with the fields that are known.
    const mixed = await admin.rest("GET", "/api/svm/svms?fields=state,colour");
    expect(mixed.status).toBe(400);
    expect(mixed.body).not.toHaveProperty("records");
  });
});
