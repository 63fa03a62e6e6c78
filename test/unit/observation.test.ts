import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf, createInventoryCache, interfacesOf, ownSvmOn, svmsNamed, takeInventory } from "../../src/observation/cluster-inventory.js";
import { passwordProof } from "../../src/observation/observed.js";
import { inventoryReader } from "../../src/observation/ontap-reader.js";
import { createProofSchedule, proofOffsetMs, proofSlot } from "../../src/observation/proof-schedule.js";
import { createOntapClient, type OntapClient } from "../../src/ontap/index.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * The typed observations and the bulk inventory, against the simulator over HTTPS: three list requests per
 * cluster whatever the number of SVMs, found / absent / unknown per resource, and a cluster that does not
 * answer is unknown, never absent.
 */

describe("which stored password authenticates", () => {
  it("current, pending, none or unknown with its cause", () => {
    expect(passwordProof({ result: "ok" }, { result: "ok" })).toEqual({ authenticates: "current" });
    expect(passwordProof({ result: "rejected" }, { result: "ok" })).toEqual({ authenticates: "pending" });
    expect(passwordProof({ result: "rejected" }, undefined)).toEqual({ authenticates: "none" });
    expect(passwordProof({ result: "rejected" }, { result: "rejected" })).toEqual({ authenticates: "none" });
    // A pending password the LIF did not answer for may be the live one: not "none".
    expect(passwordProof({ result: "rejected" }, { result: "no-answer", error: "timeout" })).toEqual({ authenticates: "unknown", cause: "timeout" });
    expect(passwordProof({ result: "not-checked", why: "there is no SVM" }, undefined)).toEqual({ authenticates: "unknown", cause: "there is no SVM" });
    expect(passwordProof(undefined, undefined)).toMatchObject({ authenticates: "unknown" });
  });
});

describe("password proofs spread over the period", () => {
  it("a shoot's offset is stable, and 1,000 shoots spread over the period", () => {
    const period = 600_000;
    expect(proofOffsetMs("shoot--p--a", period)).toBe(proofOffsetMs("shoot--p--a", period));
    const deciles = new Set(Array.from({ length: 1000 }, (_, i) => Math.floor((proofOffsetMs(`shoot--p${i % 200}--s${i}`, period) / period) * 10)));
    expect(deciles.size).toBe(10);
  });

  it("a good proof is reused until the shoot's next slot; a bad one is not kept", () => {
    let now = 1_000_000;
    const period = 60_000;
    const schedule = createProofSchedule<string>({ periodMs: period, now: () => now });
    expect(schedule.reuse("k")).toBeUndefined();
    schedule.record("k", "proof-1", true);
    const slot = proofSlot("k", now, period);
    let reusedFor = 0;
    while (schedule.reuse("k") === "proof-1") {
      now += 1_000;
      reusedFor += 1_000;
    }
    // Due again exactly when the next slot begins: at most one period after the last proof.
    expect(proofSlot("k", now, period)).toBe(slot + 1);
    expect(reusedFor).toBeLessThanOrEqual(period);
    schedule.record("k", "rejected", false);
    expect(schedule.reuse("k")).toBeUndefined();
    // Period 0: every check proves.
    const always = createProofSchedule<string>({ periodMs: 0 });
    always.record("k", "p", true);
    expect(always.reuse("k")).toBeUndefined();
  });
});

describe("the bulk inventory of a cluster", () => {
  let sim: RunningSimulator;
  let admin: SimAdmin;
  let client: OntapClient;
  let silent: OntapClient;
  let svm: { uuid: string; name: string };

  beforeAll(async () => {
    sim = await startSimulator({ clusters: 1 });
    const cluster = sim.clusters[0]!;
    admin = new SimAdmin(cluster);
    client = createOntapClient({ name: cluster.name, url: cluster.url, username: cluster.username, password: cluster.password, caFile: cluster.caFile });
    // Nothing listens there: a cluster that does not answer (loopback only).
    silent = createOntapClient(
      { name: "silent", url: "https://127.0.0.1:1", username: "admin", password: "x", caFile: cluster.caFile, timeoutMs: 500 },
      { retry: { baseMs: 1, capMs: 2, maxAttempts: 1, maxElapsedMs: 500 } },
    );
    svm = await admin.createSvmDirect({ name: "pinventory", nvme: { enabled: true, allowed: true } });
    for (let i = 0; i < 5; i++) await admin.createSvmDirect({ name: `pother${i}` });
    const [node] = await client.listNodes();
    await client.createInterface({ name: "datalif1", svmUuid: svm.uuid, ipAddress: "10.77.0.11", netmask: "24", homeNodeUuid: node!.uuid, servicePolicy: "default-data-nvme-tcp" });
    await client.createAccount({ ownerUuid: svm.uuid, name: "shoot--p--a", password: "Initial-Passw0rd!", role: "vsadmin" });
  });

  afterAll(async () => {
    await Promise.all([client?.close(), silent?.close(), admin?.close()]);
    await sim?.stop();
  });

  it("three list requests per cluster, whatever the number of SVMs; found and absent per resource", async () => {
    const before = await admin.calls();
    const answer = await takeInventory(client);
    const after = await admin.calls();
    const sent = Object.entries(after)
      .filter(([key]) => !key.includes("/__sim/"))
      .reduce((n, [key, count]) => n + count - (before[key] ?? 0), 0);
    expect(sent).toBe(3);
    expect(answer.ok).toBe(true);

    const own = ownSvmOn(answer, "pinventory");
    expect(own).toMatchObject({ kind: "found", value: { uuid: svm.uuid, state: "running", nvmeEnabled: true } });
    expect(ownSvmOn(answer, "pmissing")).toEqual({ kind: "absent" });
    expect(svmsNamed(answer, "pmissing")).toEqual({ kind: "absent" });
    const lifs = interfacesOf(answer, svm.uuid);
    expect(lifs.kind === "found" && lifs.value.map((l) => [l.name, l.ipAddress, l.state])).toEqual([["datalif1", "10.77.0.11", "up"]]);
    expect(accountOf(answer, svm.uuid, "shoot--p--a")).toMatchObject({ kind: "found", value: { name: "shoot--p--a", role: "vsadmin" } });
    expect(accountOf(answer, svm.uuid, "shoot--p--b")).toEqual({ kind: "absent" });
  });

  it("a cluster that does not answer is unknown with its cause, never absent", async () => {
    const answer = await takeInventory(silent);
    expect(answer.ok).toBe(false);
    const svmObservation = ownSvmOn(answer, "pinventory");
    expect(svmObservation.kind).toBe("unknown");
    expect(svmObservation.kind === "unknown" && svmObservation.cause.length).toBeGreaterThan(0);
    expect(interfacesOf(answer, svm.uuid).kind).toBe("unknown");
    expect(accountOf(answer, svm.uuid, "shoot--p--a").kind).toBe("unknown");
    // The reader the health check uses throws (the observation records "no answer"), it does not answer [].
    const reader = inventoryReader(createInventoryCache({ clients: [silent], maxAgeMs: 60_000 }));
    await expect(reader.svmsNamed(silent, "pinventory")).rejects.toThrow();
  });

  it("callers within the period share one inventory (and its requests)", async () => {
    let now = 0;
    const cache = createInventoryCache({ clients: [client], maxAgeMs: 30_000, now: () => now });
    const before = await admin.calls();
    const reader = inventoryReader(cache);
    const answers = await Promise.all(Array.from({ length: 20 }, () => reader.svmsNamed(client, "pinventory")));
    expect(answers.every((a) => a.length === 1)).toBe(true);
    now = 29_000;
    await reader.account(client, svm.uuid, "shoot--p--a");
    const mid = await admin.calls();
    now = 31_000;
    await reader.interfaces(client, svm.uuid);
    const after = await admin.calls();
    const count = (c: Record<string, number>) => Object.entries(c).filter(([k]) => !k.includes("/__sim/")).reduce((n, [, v]) => n + v, 0);
    expect(count(mid) - count(before)).toBe(3);
    expect(count(after) - count(mid)).toBe(3);
  });
});
