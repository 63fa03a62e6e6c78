import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { inspect } from "node:util";
import { Agent, request } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FaultRuleSpec } from "../../src/faults/rules.js";
import {
  createMetroCluster,
  createOntapClient,
  isOntapError,
  type OntapClient,
  type OntapClientOptions,
  type OntapClusterConfig,
  OntapError,
  type OntapRequestEvent,
  type Svm,
} from "../../src/ontap/index.js";
import { startSimulator } from "../../src/simulator/index.js";

/**
 * The client against the simulator over real HTTPS: every behaviour here crosses TLS, HTTP and the ONTAP
 * JSON shapes. The simulator is an independent implementation, so agreement is evidence, not tautology.
 */

type SimCluster = { name: string; url: string; username: string; password: string; caFile: string };
let sim: { clusters: SimCluster[]; stop(): Promise<void> };
let a: SimCluster;
let b: SimCluster;
const adminAgents = new Map<string, Agent>();

/** Admin API calls, kept local so this file depends only on the documented HTTP contract. */
async function admin(cluster: SimCluster, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown) {
  let agent = adminAgents.get(cluster.name);
  if (!agent) {
    agent = new Agent({ connect: { ca: readFileSync(cluster.caFile, "utf8") } });
    adminAgents.set(cluster.name, agent);
  }
  const res = await request(`${cluster.url}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      authorization: `Basic ${Buffer.from(`${cluster.username}:${cluster.password}`).toString("base64")}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`admin ${method} ${path}: ${res.statusCode} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

const addFault = (cluster: SimCluster, rule: FaultRuleSpec) => admin(cluster, "POST", "/__sim/faults", rule);

/** Counts per `METHOD /path/template` as the simulator saw them. */
async function calls(cluster: SimCluster): Promise<Record<string, number>> {
  const body = await admin(cluster, "GET", "/__sim/calls");
  return (body?.calls ?? body) as Record<string, number>;
}

function callCount(counts: Record<string, number>, key: string): number {
  return counts[key] ?? 0;
}

const clients: OntapClient[] = [];
const fast = { baseMs: 5, capMs: 20, maxAttempts: 4, maxElapsedMs: 5_000 };

function configOf(cluster: SimCluster, extra: Partial<OntapClusterConfig> = {}): OntapClusterConfig {
  return {
    name: cluster.name,
    url: cluster.url,
    username: cluster.username,
    password: cluster.password,
    caFile: cluster.caFile,
    ...extra,
  };
}

function clientFor(
  cluster: SimCluster,
  extra: Partial<OntapClusterConfig> = {},
  opts: OntapClientOptions = {},
): OntapClient {
  const client = createOntapClient(configOf(cluster, extra), { retry: fast, ...opts });
  clients.push(client);
  return client;
}

function recording(
  cluster: SimCluster,
  extra: Partial<OntapClusterConfig> = {},
  opts: OntapClientOptions = {},
) {
  const events: OntapRequestEvent[] = [];
  const client = clientFor(cluster, extra, { ...opts, onRequest: (ev) => events.push(ev) });
  return { client, events };
}

async function caught(promise: Promise<unknown>): Promise<OntapError> {
  try {
    await promise;
  } catch (err) {
    if (isOntapError(err)) return err;
    throw err;
  }
  throw new Error("expected an OntapError, got success");
}

/** Every credential of the run: admin passwords, their Authorization values, and user passwords we set. */
const secrets = new Set<string>();
function rememberSecret(password: string, username?: string) {
  secrets.add(password);
  if (username) secrets.add(Buffer.from(`${username}:${password}`).toString("base64"));
}

/** Errors seen by any test; checked at the end for credentials. */
const seenErrors: unknown[] = [];
function expectNoCredentials(err: unknown) {
  seenErrors.push(err);
  const text = `${err instanceof Error ? err.message : ""}\n${inspect(err, { depth: 10, showHidden: true })}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
}

async function createRunningSvm(client: OntapClient, name: string): Promise<Svm> {
  const aggregates = await client.listAggregates();
  const created = await client.createSvm({ name, aggregateUuids: [aggregates[0]!.uuid] });
  if (created.job) await client.waitForJob(created.job, { deadlineMs: 10_000, pollBaseMs: 20 });
  const [svm] = (await client.findSvmsByName(name)).filter((s) => s.name === name);
  expect(svm).toBeDefined();
  return svm!;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

beforeAll(async () => {
  // Lenient: these tests drive authenticateAs against the cluster interface (the mechanics of the client);
  // verification at the SVM management LIF is tested in simulator-lif-endpoints and credentials tests.
  sim = await startSimulator({ clusters: 2, jobMs: 100, seed: 7, svmLoginOnCluster: true });
  [a, b] = sim.clusters as [SimCluster, SimCluster];
  for (const c of sim.clusters) rememberSecret(c.password, c.username);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([...adminAgents.values()].map((agent) => agent.close()));
  await sim?.stop();
});

beforeEach(async () => {
  await Promise.all(sim.clusters.map((c) => admin(c, "POST", "/__sim/reset")));
});

afterEach(async () => {
  await Promise.all(sim.clusters.map((c) => admin(c, "DELETE", "/__sim/faults")));
});

describe("reading cluster resources", () => {
  it("reads cluster identity, nodes and aggregates with volume counts as typed values", async () => {
    const client = clientFor(a);
    const info = await client.getCluster();
    expect(info.name).toBe(a.name);
    expect(info.uuid).toMatch(/[0-9a-f-]{36}/);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
    const nodes = await client.listNodes();
    expect(nodes).toHaveLength(2);
    for (const node of nodes) expect(Object.keys(node).sort()).toEqual(["name", "uuid"]);
    const aggregates = await client.listAggregates();
    expect(aggregates.length).toBeGreaterThan(0);
    for (const aggr of aggregates) expect(typeof aggr.volumeCount).toBe("number");
  });

  it("follows _links.next through every page when max_records is small", async () => {
    const { client, events } = recording(a, {}, { pageSize: 1 });
    const svm = await createRunningSvm(clientFor(a), "p100");
    const owner = clientFor(a);
    for (const name of ["u1", "u2", "u3"]) {
      await owner.createAccount({ ownerUuid: svm.uuid, name, password: "Initial-Passw0rd!" });
    }
    rememberSecret("Initial-Passw0rd!");
    events.length = 0;
    const accounts = await client.listAccounts(svm.uuid);
    // ONTAP gives every new SVM a locked vsadmin account of its own.
    expect(accounts.map((acc) => acc.name).sort()).toEqual(["u1", "u2", "u3", "vsadmin"]);
    expect(accounts.every((acc) => acc.ownerUuid === svm.uuid)).toBe(true);
    // Four records at one per page: four or five GETs (the last page may be empty), all on one template.
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(new Set(events.map((e) => e.endpoint))).toEqual(new Set(["/api/security/accounts"]));
  });

  it("filters on the server: with one record per page a name lookup among many SVMs costs one request", async () => {
    const setup = clientFor(a);
    for (const name of ["p1", "p10", "p2"]) await createRunningSvm(setup, name);
    const { client, events } = recording(a, {}, { pageSize: 1 });
    const found = await client.findSvmsByName("p1");
    expect(found.map((s) => s.name)).toEqual(["p1"]);
    expect(found[0]).toMatchObject({ state: "running", nvmeEnabled: true });
    // Listing three SVMs one per page and filtering here would have needed at least three requests.
    expect(events.filter((e) => e.endpoint === "/api/svm/svms").length).toBe(1);
  });

  it("counts data volumes and BGP peer groups with return_records=false", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p200");
    expect(await client.countDataVolumes(svm.uuid)).toBe(0);
    await admin(a, "PUT", `/__sim/svms/${svm.name}/volumes`, { count: 3 });
    expect(await client.countDataVolumes(svm.uuid)).toBe(3);
  });

  it("sees BGP peer groups come and go, and creates a /32 VIP interface only while they exist", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p201");
    const [node] = await client.listNodes();
    const vip = {
      name: "vip1",
      svmUuid: svm.uuid,
      ipAddress: "10.9.0.1",
      netmask: "32",
      homeNodeUuid: node!.uuid,
      servicePolicy: "default-data-nvme-tcp",
      vip: true,
    };
    await admin(a, "PUT", "/__sim/bgp", { enabled: false });
    expect(await client.hasBgpPeerGroups()).toBe(false);
    const refused = await caught(client.createInterface(vip));
    expect(refused).toMatchObject({ kind: "http", status: 400, transient: false });
    await admin(a, "PUT", "/__sim/bgp", { enabled: true });
    expect(await client.hasBgpPeerGroups()).toBe(true);
    expect(await client.createInterface(vip)).toMatchObject({ name: "vip1", netmask: "32" });
  });

  it("answers undefined for an SVM or account that does not exist", async () => {
    const client = clientFor(a);
    expect(await client.getSvm("00000000-0000-0000-0000-000000000000")).toBeUndefined();
    const svm = await createRunningSvm(client, "p300");
    expect(await client.getAccount(svm.uuid, "nobody")).toBeUndefined();
  });
});

describe("SVM lifecycle and jobs", () => {
  it("returns the 202 job handle of an SVM create without waiting, and waitForJob sees it succeed", async () => {
    const client = clientFor(a);
    const [aggr] = await client.listAggregates();
    const created = await client.createSvm({ name: "p400", aggregateUuids: [aggr!.uuid] });
    expect(created.job?.uuid).toBeTruthy();
    const job = await client.waitForJob(created.job!, { deadlineMs: 10_000, pollBaseMs: 10 });
    expect(job.state).toBe("success");
    const [svm] = await client.findSvmsByName("p400");
    expect(await client.getSvm(svm!.uuid)).toMatchObject({ name: "p400", state: "running", nvmeEnabled: true });
  });

  it("surfaces a failed job's code and message as a permanent job error", async () => {
    const client = clientFor(a);
    await addFault(a, {
      method: "JOB",
      path: "^POST /api/svm/svms$",
      count: 1,
      action: { type: "error", status: 400, code: "13434914", message: "not enough space for the root volume" },
    });
    const [aggr] = await client.listAggregates();
    const created = await client.createSvm({ name: "p401", aggregateUuids: [aggr!.uuid] });
    const err = await caught(client.waitForJob(created.job!, { deadlineMs: 10_000, pollBaseMs: 10 }));
    expect(err).toMatchObject({ kind: "job", code: "13434914", transient: false });
    expect(err.message).toContain("not enough space for the root volume");
    expectNoCredentials(err);
  });

  it("gives up waiting at the deadline with a transient timeout while the job still runs", async () => {
    const client = clientFor(a);
    await addFault(a, { method: "JOB", path: "^POST /api/svm/svms$", count: 1, action: { type: "hang" } });
    const [aggr] = await client.listAggregates();
    const created = await client.createSvm({ name: "p402", aggregateUuids: [aggr!.uuid] });
    const started = Date.now();
    const err = await caught(client.waitForJob(created.job!, { deadlineMs: 300, pollBaseMs: 20 }));
    expect(err).toMatchObject({ kind: "timeout", transient: true });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("deletes an SVM through its job, and a second delete of the same SVM is a no-op", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p403");
    const deleted = await client.deleteSvm(svm.uuid);
    if (deleted.job) await client.waitForJob(deleted.job, { deadlineMs: 10_000, pollBaseMs: 10 });
    expect(await client.getSvm(svm.uuid)).toBeUndefined();
    expect(await client.deleteSvm(svm.uuid)).toEqual({});
  });

  it("reports a refused SVM delete (data volumes remain) as a permanent error with ONTAP's code", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p404");
    await admin(a, "PUT", `/__sim/svms/${svm.name}/volumes`, { count: 1 });
    const err = await caught(client.deleteSvm(svm.uuid));
    expect(err).toMatchObject({ kind: "http", transient: false });
    expect(err.code).toBeTruthy();
    expectNoCredentials(err);
  });

  it("reports a duplicate SVM name on the first attempt as ONTAP's 13434908, without a lookup", async () => {
    const client = clientFor(a);
    await createRunningSvm(client, "p405");
    const [aggr] = await client.listAggregates();
    const err = await caught(client.createSvm({ name: "p405", aggregateUuids: [aggr!.uuid] }));
    expect(err).toMatchObject({ kind: "http", status: 400, code: "13434908", transient: false });
    expect(err.message).toMatch(/^ONTAP sim-\S+: create SVM p405 failed: 400 13434908 /);
  });
});

describe("interfaces and accounts", () => {
  it("creates, lists, repairs and deletes interfaces with typed values", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p500");
    const [node] = await client.listNodes();
    const lif = await client.createInterface({
      name: "data1",
      svmUuid: svm.uuid,
      ipAddress: "10.0.0.11",
      netmask: "24",
      homeNodeUuid: node!.uuid,
      servicePolicy: "default-data-nvme-tcp",
    });
    expect(lif).toMatchObject({ name: "data1", ipAddress: "10.0.0.11", homeNodeUuid: node!.uuid });
    expect(lif.servicePolicy).toBe("default-data-nvme-tcp");
    await client.patchInterface(lif.uuid, { ipAddress: "10.0.0.12", netmask: "24" });
    const [after] = await client.listInterfaces(svm.uuid);
    expect(after).toMatchObject({ uuid: lif.uuid, ipAddress: "10.0.0.12" });
    await client.deleteInterface(lif.uuid);
    expect(await client.listInterfaces(svm.uuid)).toEqual([]);
    await client.deleteInterface(lif.uuid);
  });

  it("brings an SVM's interfaces with its lookup (ip_interfaces), in one request", async () => {
    const { client, events } = recording(a);
    const svm = await createRunningSvm(client, "p502");
    expect(svm.interfaces).toEqual([]);
    const [node] = await client.listNodes();
    const lif = await client.createInterface({
      name: "managementlif",
      svmUuid: svm.uuid,
      ipAddress: "10.0.0.21",
      netmask: "24",
      homeNodeUuid: node!.uuid,
      servicePolicy: "default-management",
    });
    events.length = 0;
    const [found] = (await client.findSvmsByName("p502")).filter((s) => s.name === "p502");
    expect(events).toHaveLength(1);
    expect(found?.interfaces).toEqual([
      { uuid: lif.uuid, name: "managementlif", ipAddress: "10.0.0.21", netmask: "24", homeNodeUuid: node!.uuid, servicePolicy: "default-management" },
    ]);
  });

  it("reports a duplicate IP as a permanent error with ONTAP's code 1376963", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p501");
    const [node] = await client.listNodes();
    const base = { svmUuid: svm.uuid, netmask: "24", homeNodeUuid: node!.uuid, servicePolicy: "default-data-nvme-tcp" };
    await client.createInterface({ ...base, name: "d1", ipAddress: "10.0.1.1" });
    const err = await caught(client.createInterface({ ...base, name: "d2", ipAddress: "10.0.1.1" }));
    expect(err).toMatchObject({ code: "1376963", transient: false });
  });

  it("creates an account, changes its password, and deletes it twice without error", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p502");
    const first = "First-Passw0rd-x1";
    const second = "Second-Passw0rd-x2";
    rememberSecret(first, "shoot1");
    rememberSecret(second, "shoot1");
    const account = await client.createAccount({ ownerUuid: svm.uuid, name: "shoot1", password: first });
    expect(account).toMatchObject({ name: "shoot1", ownerUuid: svm.uuid, role: "vsadmin", locked: false });
    expect(await client.getAccount(svm.uuid, "shoot1")).toMatchObject({ name: "shoot1", role: "vsadmin" });
    await client.changePassword({ svmName: svm.name, name: "shoot1", password: second });
    expect(await client.authenticateAs({ name: "shoot1", password: second })).toEqual({ result: "ok" });
    expect(await client.authenticateAs({ name: "shoot1", password: first })).toEqual({ result: "wrong-password" });
    await client.deleteAccount(svm.uuid, "shoot1");
    expect(await client.getAccount(svm.uuid, "shoot1")).toBeUndefined();
    await client.deleteAccount(svm.uuid, "shoot1");
  });
});

describe("transient failures are retried", () => {
  it("retries 5xx with the wait-and-retry code 13434889 and succeeds", async () => {
    const { client, events } = recording(a);
    await addFault(a, {
      method: "GET",
      path: "^/api/cluster$",
      count: 2,
      action: { type: "error", status: 500, code: "13434889", message: "internal error, wait and retry" },
    });
    expect((await client.getCluster()).name).toBe(a.name);
    expect(events.map((e) => [e.status, e.attempt])).toEqual([
      [500, 1],
      [500, 2],
      [200, 3],
    ]);
  });

  it("retries a wait-and-retry code even on a 4xx status", async () => {
    const { client, events } = recording(a);
    await addFault(a, {
      method: "GET",
      path: "^/api/cluster/nodes$",
      count: 1,
      action: { type: "error", status: 409, code: "13434916", message: "SVM is being created" },
    });
    expect(await client.listNodes()).toHaveLength(2);
    expect(events.map((e) => e.status)).toEqual([409, 200]);
  });

  it("retries a connection reset", async () => {
    const { client, events } = recording(a);
    await addFault(a, { method: "GET", path: "^/api/cluster$", count: 1, action: { type: "reset" } });
    expect((await client.getCluster()).name).toBe(a.name);
    expect(events.map((e) => e.status)).toEqual(["error", 200]);
  });

  it("times out a hung request after timeoutMs and retries it", async () => {
    const { client, events } = recording(a, { timeoutMs: 300 });
    await addFault(a, { method: "GET", path: "^/api/cluster$", count: 1, action: { type: "hang" } });
    const started = Date.now();
    expect((await client.getCluster()).name).toBe(a.name);
    expect(events.map((e) => e.status)).toEqual(["error", 200]);
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("waits out a delay shorter than the timeout without retrying", async () => {
    const { client, events } = recording(a, { timeoutMs: 2_000 });
    await addFault(a, { method: "GET", path: "^/api/cluster$", count: 1, action: { type: "delay", ms: 200 } });
    expect((await client.getCluster()).name).toBe(a.name);
    expect(events.map((e) => e.status)).toEqual([200]);
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(180);
  });

  it("treats a delay longer than the timeout as a timeout and retries", async () => {
    const { client, events } = recording(a, { timeoutMs: 200 });
    await addFault(a, { method: "GET", path: "^/api/cluster$", count: 1, action: { type: "delay", ms: 1_000 } });
    expect((await client.getCluster()).name).toBe(a.name);
    expect(events.map((e) => e.status)).toEqual(["error", 200]);
  });

  it("gives up after maxAttempts with the last transient error", async () => {
    const { client, events } = recording(a);
    await addFault(a, { method: "GET", path: "^/api/cluster$", action: { type: "error", status: 503, code: "13434894" } });
    const err = await caught(client.getCluster());
    expect(err).toMatchObject({ kind: "http", status: 503, code: "13434894", transient: true });
    expect(events).toHaveLength(fast.maxAttempts);
    expectNoCredentials(err);
  });

  it("retries a DELETE whose answer was lost and counts the now-missing object as deleted", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p600");
    const [node] = await client.listNodes();
    const lif = await client.createInterface({
      name: "m1",
      svmUuid: svm.uuid,
      ipAddress: "10.0.6.1",
      netmask: "24",
      homeNodeUuid: node!.uuid,
      servicePolicy: "default-management",
    });
    await addFault(a, { method: "DELETE", path: "^/api/network/ip/interfaces/", count: 1, action: { type: "applyThenFail" } });
    await client.deleteInterface(lif.uuid);
    expect(await client.listInterfaces(svm.uuid)).toEqual([]);
  });
});

describe("permanent failures are not retried", () => {
  for (const [status, code] of [
    [400, "2"],
    [401, "6691623"],
    [403, "6"],
    [404, "4"],
  ] as const) {
    it(`answers ${status} after exactly one request`, async () => {
      const { client, events } = recording(a);
      await addFault(a, { method: "GET", path: "^/api/cluster$", action: { type: "error", status, code, message: "no" } });
      const err = await caught(client.getCluster());
      expect(err).toMatchObject({ kind: "http", status, code, transient: false, endpoint: "/api/cluster" });
      expect(events).toHaveLength(1);
      expectNoCredentials(err);
    });
  }

  it("does not retry real bad credentials, and the error names no credential", async () => {
    const wrong = "Not-The-Admin-Passw0rd";
    rememberSecret(wrong, a.username);
    const { client, events } = recording(a, { password: wrong });
    const err = await caught(client.getCluster());
    expect(err).toMatchObject({ kind: "http", status: 401, transient: false });
    expect(events).toHaveLength(1);
    expectNoCredentials(err);
  });
});

describe("a create is never retried blindly", () => {
  it("returns the SVM an applied-then-failed create made, without a second POST", async () => {
    const client = clientFor(a);
    const [aggr] = await client.listAggregates();
    await addFault(a, { method: "POST", path: "^/api/svm/svms$", count: 1, action: { type: "applyThenFail" } });
    const before = callCount(await calls(a), "POST /api/svm/svms");
    const created = await client.createSvm({ name: "p700", aggregateUuids: [aggr!.uuid] });
    expect(created.svm).toMatchObject({ name: "p700" });
    expect(callCount(await calls(a), "POST /api/svm/svms") - before).toBe(1);
    expect((await client.findSvmsByName("p700")).filter((s) => s.name === "p700")).toHaveLength(1);
  });

  it("creates again after a 500 that came before anything was applied", async () => {
    const client = clientFor(a);
    const [aggr] = await client.listAggregates();
    await addFault(a, {
      method: "POST",
      path: "^/api/svm/svms$",
      count: 1,
      action: { type: "error", status: 500, code: "13434889", message: "internal error" },
    });
    const before = callCount(await calls(a), "POST /api/svm/svms");
    const created = await client.createSvm({ name: "p701", aggregateUuids: [aggr!.uuid] });
    expect(created.job ?? created.svm).toBeDefined();
    expect(callCount(await calls(a), "POST /api/svm/svms") - before).toBe(2);
    if (created.job) await client.waitForJob(created.job, { deadlineMs: 10_000, pollBaseMs: 10 });
    expect((await client.findSvmsByName("p701")).filter((s) => s.name === "p701")).toHaveLength(1);
  });

  it("resolves a lost interface-create answer (502) by looking the interface up", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p702");
    const [node] = await client.listNodes();
    await addFault(a, {
      method: "POST",
      path: "^/api/network/ip/interfaces$",
      count: 1,
      action: { type: "applyThenFail", status: 502 },
    });
    const lif = await client.createInterface({
      name: "data1",
      svmUuid: svm.uuid,
      ipAddress: "10.0.7.1",
      netmask: "24",
      homeNodeUuid: node!.uuid,
      servicePolicy: "default-data-nvme-tcp",
    });
    expect(lif).toMatchObject({ name: "data1", ipAddress: "10.0.7.1" });
    expect(await client.listInterfaces(svm.uuid)).toHaveLength(1);
  });

  it("returns the account an applied-then-failed create made", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p703");
    const password = "Lost-Answer-Passw0rd";
    rememberSecret(password, "shoot7");
    await addFault(a, { method: "POST", path: "^/api/security/accounts$", count: 1, action: { type: "applyThenFail" } });
    const account = await client.createAccount({ ownerUuid: svm.uuid, name: "shoot7", password });
    expect(account).toMatchObject({ name: "shoot7", ownerUuid: svm.uuid });
    expect((await client.listAccounts(svm.uuid)).filter((acc) => acc.name === "shoot7")).toHaveLength(1);
    expect(await client.authenticateAs({ name: "shoot7", password })).toEqual({ result: "ok" });
  });

  it("accepts a password change whose answer was lost once the new password works", async () => {
    const client = clientFor(a);
    const svm = await createRunningSvm(client, "p704");
    const first = "Before-Passw0rd-aa";
    const second = "After-Passw0rd-bb";
    rememberSecret(first, "shoot8");
    rememberSecret(second, "shoot8");
    await client.createAccount({ ownerUuid: svm.uuid, name: "shoot8", password: first });
    await addFault(a, {
      method: "POST",
      path: "^/api/security/authentication/password$",
      count: 1,
      action: { type: "applyThenFail" },
    });
    const before = callCount(await calls(a), "POST /api/security/authentication/password");
    await client.changePassword({ svmName: svm.name, name: "shoot8", password: second });
    // The retry checked the new password instead of posting it again (ONTAP may refuse a reused password).
    expect(callCount(await calls(a), "POST /api/security/authentication/password") - before).toBe(1);
    expect(await client.authenticateAs({ name: "shoot8", password: second })).toEqual({ result: "ok" });
  });
});

describe("authenticateAs", () => {
  it("answers ok, wrong-password (after one request), and error (cluster failing) without throwing", async () => {
    const setup = clientFor(a);
    const svm = await createRunningSvm(setup, "p800");
    const password = "Shoot-User-Passw0rd";
    rememberSecret(password, "shoot9");
    await setup.createAccount({ ownerUuid: svm.uuid, name: "shoot9", password });

    const { client, events } = recording(a);
    expect(await client.authenticateAs({ name: "shoot9", password })).toEqual({ result: "ok" });

    events.length = 0;
    const wrong = "Wrong-Passw0rd-zz";
    rememberSecret(wrong, "shoot9");
    expect(await client.authenticateAs({ name: "shoot9", password: wrong })).toEqual({ result: "wrong-password" });
    expect(events).toHaveLength(1);

    await addFault(a, { method: "GET", path: "^/api/svm/svms$", action: { type: "error", status: 500, code: "13434889" } });
    const failing = await client.authenticateAs({ name: "shoot9", password });
    expect(failing.result).toBe("error");
    if (failing.result === "error") {
      expect(failing.error).toBeInstanceOf(OntapError);
      expect(failing.error.status).toBe(500);
      expectNoCredentials(failing.error);
    }
  });

  it("answers error, not wrong-password, when the cluster cannot be reached", async () => {
    const client = clientFor(a, { url: await closedPortUrl() });
    const answer = await client.authenticateAs({ name: "shoot9", password: "Whatever-Passw0rd" });
    expect(answer.result).toBe("error");
    if (answer.result === "error") expect(answer.error.kind).toBe("connection");
  });

  it("lets an SVM user see only its own SVM", async () => {
    const setup = clientFor(a);
    const mine = await createRunningSvm(setup, "p801");
    await createRunningSvm(setup, "p802");
    const password = "Limited-User-Passw0rd";
    rememberSecret(password, "scoped");
    await setup.createAccount({ ownerUuid: mine.uuid, name: "scoped", password });
    const asUser = clientFor(a, { username: "scoped", password });
    const visible = await asUser.findSvmsByName("p802");
    expect(visible).toEqual([]);
  });
});

describe("MetroCluster findSvm", () => {
  it("answers found (with the cluster), absent, several, and unknown when one cluster is down", async () => {
    const ca = clientFor(a);
    const cb = clientFor(b);
    const metro = createMetroCluster([ca, cb]);
    expect(await metro.findSvm("p900")).toEqual({ kind: "absent" });

    const svm = await createRunningSvm(cb, "p900");
    expect(await metro.findSvm("p900")).toEqual({ kind: "found", cluster: b.name, svm });

    await createRunningSvm(ca, "p900");
    const several = await metro.findSvm("p900");
    expect(several.kind).toBe("several");
    if (several.kind === "several") expect(several.found.map((f) => f.cluster).sort()).toEqual([a.name, b.name].sort());

    const downUrl = await closedPortUrl();
    const down = clientFor(b, { url: downUrl });
    const partial = createMetroCluster([ca, down]);
    const unknown = await partial.findSvm("p901");
    expect(unknown.kind).toBe("unknown");
    if (unknown.kind === "unknown") {
      expect(unknown.errors).toHaveLength(1);
      expect(unknown.errors[0]).toMatchObject({ cluster: b.name, error: { kind: "connection", transient: true } });
      expectNoCredentials(unknown.errors[0]!.error);
    }
  });

  it("does not count a <name>-mc copy on the partner as a second SVM", async () => {
    const ca = clientFor(a);
    const cb = clientFor(b);
    const source = await createRunningSvm(ca, "p910");
    await createRunningSvm(cb, "p910-mc");
    const answer = await createMetroCluster([ca, cb]).findSvm("p910");
    expect(answer).toEqual({ kind: "found", cluster: a.name, svm: source });
  });
});

describe("TLS", () => {
  it("refuses a server whose certificate is not signed by a trusted CA, permanently and at once", async () => {
    const { client, events } = recording(a, { caFile: undefined });
    const err = await caught(client.getCluster());
    expect(err).toMatchObject({ kind: "connection", transient: false });
    expect(err.message).toContain("TLS error");
    expect(events).toHaveLength(1);
    expectNoCredentials(err);
  });

  it("refuses a server when verifying against a CA that did not sign its certificate", async () => {
    const { client, events } = recording(a, { caFile: undefined, ca: UNRELATED_CA });
    const err = await caught(client.getCluster());
    expect(err).toMatchObject({ kind: "connection", transient: false });
    expect(events).toHaveLength(1);
  });

  it("verifies with the right CA given as a file or as a PEM string", async () => {
    expect((await clientFor(a).getCluster()).name).toBe(a.name);
    const pem = readFileSync(a.caFile, "utf8");
    expect((await clientFor(a, { caFile: undefined, ca: pem }).getCluster()).name).toBe(a.name);
  });

  it("connects without verification only on explicit opt-out, and warns once", async () => {
    const warnings: { obj: object; msg: string }[] = [];
    const logger = { warn: (obj: object, msg: string) => warnings.push({ obj, msg }) };
    const client = clientFor(a, { caFile: undefined, insecureSkipTlsVerify: true }, { logger });
    await client.getCluster();
    await client.getCluster();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/verification is disabled/);
    expect(JSON.stringify(warnings)).not.toContain(a.password);
  });
});

describe("credentials", () => {
  it("never appear in any error seen by this suite", () => {
    expect(seenErrors.length).toBeGreaterThan(5);
    for (const err of seenErrors) {
      const text = inspect(err, { depth: 10, showHidden: true });
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it("a URL with embedded credentials is refused without echoing it", () => {
    const url = a.url.replace("https://", `https://${a.username}:${a.password}@`);
    expect(() => createOntapClient(configOf(a, { url }))).toThrow(/must not contain credentials/);
    try {
      createOntapClient(configOf(a, { url }));
    } catch (err) {
      expect(String(err)).not.toContain(a.password);
    }
  });
});

/** A self-signed CA made once with openssl for this test; it signed nothing the simulator serves. */
const UNRELATED_CA = `-----BEGIN CERTIFICATE-----
MIIBkDCCATWgAwIBAgIUaLVrYXCyyRdd749wPJUDJx2UgfswCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRdW5yZWxhdGVkIHRlc3QgQ0EwIBcNMjYxMTI1MTg0MzIxWhgP
MjEyNjExMDExODQzMjFaMBwxGjAYBgNVBAMMEXVucmVsYXRlZCB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECugIebbA0+GtN+5AK8wLR8j8tmOihRGK
uoLmkywjVdIluvP8j0/BP1E1B+PbqT9jgEbZbWMK1+Ri9cZc/N7RgaNTMFEwHQYD
VR0OBBYEFCjsbuS5iY37OzzeulY0a+sNXLzpMB8GA1UdIwQYMBaAFCjsbuS5iY37
OzzeulY0a+sNXLzpMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh
AJS0hgGmry6oRMHiiUQbt4H4V1lOeQKLC85vT9HngfM6AiEAz6f32/eQsXdj1VGm
bYvoP4givtV/i06tPQrHk0NQg9U=
-----END CERTIFICATE-----`;
