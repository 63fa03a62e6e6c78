import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Secrets } from "../../src/kube/resources.js";
import { scopeKubeClient } from "../../src/kube/scoped.js";
import { createOntapClient, type OntapClient, scopeOntapClient } from "../../src/ontap/index.js";
import { FencedError } from "../../src/runtime/fence.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";

/**
 * The scope a reconcile runs in reaches every call: its abort cancels a pending ONTAP request (over real
 * HTTPS to the simulator, with the request hanging there) and a pending Kubernetes call, and its fence
 * keeps a write from being sent at all (the simulator's call log shows it never arrived).
 */

let sim: RunningSimulator;
let client: OntapClient;
let agent: Agent;

async function admin(method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
  const c = sim.clusters[0]!;
  const res = await request(`${c.url}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  return text === "" ? undefined : JSON.parse(text);
}

beforeAll(async () => {
  sim = await startSimulator({ clusters: 1 });
  const c = sim.clusters[0]!;
  agent = new Agent({ connect: { ca: readFileSync(c.caFile, "utf8") } });
  client = createOntapClient({ name: c.name, url: c.url, username: c.username, password: c.password, caFile: c.caFile });
});
afterAll(async () => {
  await client.close();
  await agent.close();
  await sim.stop();
});

describe("scoped ONTAP client", () => {
  it("an abort cancels a request that hangs on ONTAP", async () => {
    await admin("POST", "/__sim/faults", { method: "GET", path: "^/api/svm/svms$", count: 1, action: { type: "hang" } });
    const ac = new AbortController();
    const scoped = scopeOntapClient(client, { signal: ac.signal });
    const pending = scoped.findSvmsByName("p1");
    setTimeout(() => ac.abort(new Error("term ended")), 200);
    const started = performance.now();
    await expect(pending).rejects.toThrow("term ended");
    expect(performance.now() - started).toBeLessThan(2_000);
    await admin("DELETE", "/__sim/faults");
  });

  it("a closed fence keeps every write from being sent; reads still pass", async () => {
    let open = true;
    const scoped = scopeOntapClient(client, {
      beforeWrite: () => {
        if (!open) throw new FencedError("not leading");
      },
    });
    const aggregates = await scoped.listAggregates();
    open = false;
    const before = JSON.stringify(await admin("GET", "/__sim/calls"));
    await expect(scoped.createSvm({ name: "pfenced", aggregateUuids: [aggregates[0]!.uuid] })).rejects.toBeInstanceOf(FencedError);
    await expect(scoped.changePassword({ svmName: "x", name: "u", password: "secret-0123456789" })).rejects.toBeInstanceOf(FencedError);
    await expect(scoped.deleteSvm("00000000-0000-0000-0000-000000000000")).rejects.toBeInstanceOf(FencedError);
    const after = JSON.stringify(await admin("GET", "/__sim/calls"));
    expect(after).toBe(before);
    expect(await scoped.findSvmsByName("pfenced")).toEqual([]);
  });

  it("writes wait for `writesAfter` (reads do not) and fail with its error, unsent, when it rejects", async () => {
    let release!: () => void;
    const finalizer = new Promise<void>((resolve) => {
      release = resolve;
    });
    const scoped = scopeOntapClient(client, { writesAfter: finalizer });
    const aggregates = await scoped.listAggregates();
    let created = false;
    const create = scoped.createSvm({ name: "pafter", aggregateUuids: [aggregates[0]!.uuid] }).then((r) => {
      created = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(created).toBe(false);
    expect(await scoped.findSvmsByName("pafter")).toEqual([]);
    release();
    await create;
    expect((await scoped.findSvmsByName("pafter")).length).toBe(1);

    const refused = Promise.reject(new Error("finalizer write failed: Conflict"));
    refused.catch(() => undefined);
    const blocked = scopeOntapClient(client, { writesAfter: refused });
    const before = JSON.stringify(await admin("GET", "/__sim/calls"));
    await expect(blocked.createSvm({ name: "pnever", aggregateUuids: [aggregates[0]!.uuid] })).rejects.toThrow("finalizer write failed: Conflict");
    expect(JSON.stringify(await admin("GET", "/__sim/calls"))).toBe(before);
  });
});

describe("scoped Kubernetes client", () => {
  it("a closed fence keeps writes from being sent; an abort rejects pending and later calls", async () => {
    const kube = createFakeKubeClient();
    let open = true;
    const ac = new AbortController();
    const scoped = scopeKubeClient(kube, {
      signal: ac.signal,
      beforeWrite: () => {
        if (!open) throw new FencedError("not leading");
      },
    });
    await scoped.create(Secrets, { metadata: { name: "a", namespace: "n" } });
    open = false;
    const sent = kube.requests.length;
    await expect(scoped.create(Secrets, { metadata: { name: "b", namespace: "n" } })).rejects.toBeInstanceOf(FencedError);
    await expect(scoped.mergePatch(Secrets, "n", "a", { data: {} })).rejects.toBeInstanceOf(FencedError);
    await expect(scoped.delete(Secrets, "n", "a")).rejects.toBeInstanceOf(FencedError);
    expect(kube.requests.length).toBe(sent);
    expect(await scoped.get(Secrets, "n", "a")).toBeDefined();
    ac.abort(new Error("term ended"));
    await expect(scoped.get(Secrets, "n", "a")).rejects.toThrow("term ended");
  });

  it("writes wait for `writesAfter` (reads do not) and fail with its error, unsent, when it rejects", async () => {
    const kube = createFakeKubeClient();
    let release!: () => void;
    const finalizer = new Promise<void>((resolve) => {
      release = resolve;
    });
    const scoped = scopeKubeClient(kube, { writesAfter: finalizer });
    const write = scoped.create(Secrets, { metadata: { name: "a", namespace: "n" } });
    await new Promise((r) => setTimeout(r, 50));
    expect(await scoped.get(Secrets, "n", "a")).toBeUndefined();
    expect(kube.requests.filter((r) => !r.startsWith("get "))).toEqual([]);
    release();
    await write;
    expect(await scoped.get(Secrets, "n", "a")).toBeDefined();

    const refused = Promise.reject(new Error("finalizer write failed: Conflict"));
    refused.catch(() => undefined);
    const blocked = scopeKubeClient(kube, { writesAfter: refused });
    const sent = kube.requests.length;
    await expect(blocked.create(Secrets, { metadata: { name: "b", namespace: "n" } })).rejects.toThrow("finalizer write failed: Conflict");
    expect(kube.requests.length).toBe(sent);
  });
});
