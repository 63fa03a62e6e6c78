import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOntapClient, ENDPOINTS, type OntapClient } from "../../src/ontap/index.js";
import type { SimCallLogEntry, SimExchange } from "../../src/simulator/cluster.js";
import { bodyShape } from "../../src/simulator/http.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { servedFields } from "../../src/simulator/views.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * The vendor as the oracle. The simulator and the client were written from the same reference page, so a
 * mistake there is invisible to every other test; here NetApp's own published model (its official Python
 * client, netapp-ontap from PyPI, installed by hack/vendor-client-venv.sh) judges both:
 *  - schema: every field the client asks for or sends, recorded at the wire while it runs each of its operations
 *    (so the lists cannot drift from the code), and every field the simulator serves, must exist in the vendor's
 *    resource schema with that wire name and type;
 *  - behaviour: the vendor's client drives the simulator over HTTPS through each operation this project uses and
 *    parses every answer with its own schema.
 */

const here = import.meta.dirname;
const cacheRoot = process.env.GARDENER_EXTENSION_ONTAP_CACHE ?? join(homedir(), ".cache", "gardener-extension-ontap");
const pythonEnv = join(cacheRoot, "venv-netapp-ontap-9.19.1.0", "python.env");

function vendorPython(): string {
  if (!existsSync(pythonEnv)) {
    throw new Error(`${pythonEnv} is missing: run \`bash hack/vendor-client-venv.sh\` (npm run test:conformance does)`);
  }
  const line = readFileSync(pythonEnv, "utf8").split("\n").find((l) => l.startsWith("VENDOR_PYTHON="));
  if (!line) throw new Error(`${pythonEnv} names no VENDOR_PYTHON`);
  return line.slice("VENDOR_PYTHON=".length).trim();
}

interface PythonRun {
  code: number | null;
  report: { vendor: string; problems: string[]; [key: string]: unknown };
  stderr: string;
}

/** Runs one of the Python scripts next to this file; its last stdout line is its JSON report. */
function runPython(script: string, input: unknown): Promise<PythonRun> {
  const file = join(work, `${script}.input.json`);
  writeFileSync(file, JSON.stringify(input));
  const env = { ...process.env };
  // requests prefers REQUESTS_CA_BUNDLE over verify=<file>: the simulator's CA must be the one trusted.
  delete env.REQUESTS_CA_BUNDLE;
  delete env.CURL_CA_BUNDLE;
  return new Promise((resolve, reject) => {
    const child = spawn(vendorPython(), [join(here, script), file], { cwd: here, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? "";
      try {
        resolve({ code, report: JSON.parse(last), stderr });
      } catch {
        reject(new Error(`${script} exited ${code} without a JSON report:\n${stdout}\n${stderr}`));
      }
    });
  });
}

let sim: RunningSimulator;
let admin: SimAdmin;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "ontap-conformance-"));
  sim = await startSimulator({ clusters: 1, jobMs: 20 });
  admin = new SimAdmin(sim.clusters[0]!);
});

afterAll(async () => {
  await admin?.close();
  await sim?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Records which operations of the client ran, so a new operation nobody exercises here fails the test. */
function recording(client: OntapClient): { client: OntapClient; called: Set<string> } {
  const called = new Set<string>();
  const proxy = new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        called.add(String(key));
        return value.apply(target, args);
      };
    },
  });
  return { client: proxy, called };
}

/** Every operation of the project's client, in the order a shoot's lifecycle uses them. */
async function runEveryOperation(client: OntapClient): Promise<void> {
  await client.getCluster();
  const nodes = await client.listNodes();
  const aggregates = await client.listAggregates();
  expect(aggregates.every((a) => Number.isInteger(a.volumeCount))).toBe(true);
  await client.findSvmsByName("pvendor");
  const created = await client.createSvm({ name: "pvendor", aggregateUuids: aggregates.map((a) => a.uuid) });
  const job = await client.waitForJob(created.job!, { pollBaseMs: 10 });
  await client.getJob(job.uuid);
  const [svm] = await client.findSvmsByName("pvendor");
  expect(await client.getSvm(svm!.uuid)).toMatchObject({ state: "running", nvmeEnabled: true });
  // An aggregate added to the cluster later is assigned with the whole list (svm-aggregates.ts).
  const assigned = await client.setSvmAggregates(svm!.uuid, aggregates.map((a) => a.uuid));
  if (assigned.job) await client.waitForJob(assigned.job, { pollBaseMs: 10 });
  const vip = await client.hasBgpPeerGroups();
  const lif = await client.createInterface({
    name: "managementlif",
    svmUuid: svm!.uuid,
    ipAddress: "10.130.0.10",
    netmask: "24",
    homeNodeUuid: nodes[0]!.uuid,
    servicePolicy: "default-management",
    vip,
  });
  await client.listInterfaces(svm!.uuid);
  await client.patchInterface(lif.uuid, { ipAddress: "10.130.0.11", netmask: "24" });
  await client.createAccount({ ownerUuid: svm!.uuid, name: "shoot-a", password: "Conformance-1a!" });
  await client.getAccount(svm!.uuid, "shoot-a");
  await client.setAccountComment(svm!.uuid, "shoot-a", "gardener shoot garden-conformance/vendor");
  await client.listAccounts(svm!.uuid);
  // The least-privilege role (svm-user-role.ts): made whole, read, changed tuple by tuple, given to the user.
  await client.createRole({ ownerUuid: svm!.uuid, name: "trident", privileges: [{ path: "/api/cluster", access: "readonly" }, { path: "/api/svm/svms", access: "readonly" }] });
  await client.addRolePrivilege(svm!.uuid, "trident", { path: "/api/storage/volumes", access: "all" });
  await client.setRolePrivilegeAccess(svm!.uuid, "trident", { path: "/api/storage/volumes", access: "readonly" });
  expect((await client.getRole(svm!.uuid, "trident"))?.privileges).toContainEqual({ path: "/api/storage/volumes", access: "readonly" });
  await client.removeRolePrivilege(svm!.uuid, "trident", "/api/storage/volumes");
  await client.setAccountRole(svm!.uuid, "shoot-a", "trident");
  expect((await client.getAccount(svm!.uuid, "shoot-a"))?.role).toBe("trident");
  await client.setAccountRole(svm!.uuid, "shoot-a", "vsadmin");
  // The health check's inventory: each collection once per cluster and round (src/observation/cluster-inventory.ts).
  expect((await client.listSvms()).map((s) => s.name)).toContain("pvendor");
  expect((await client.listAllInterfaces()).some((l) => l.name === "managementlif")).toBe(true);
  expect((await client.listAllAccounts()).some((a) => a.name === "shoot-a")).toBe(true);
  await client.changePassword({ svmName: "pvendor", name: "shoot-a", password: "Conformance-2b!" });
  // SVM accounts authenticate at their SVM management LIF only; the cluster interface refuses them.
  expect(await client.authenticateAs({ name: "shoot-a", password: "Conformance-2b!" })).toEqual({ result: "wrong-password" });
  expect(await client.countDataVolumes(svm!.uuid)).toBe(0);
  await client.deleteInterface(lif.uuid);
  await client.deleteAccount(svm!.uuid, "shoot-a");
  const deleted = await client.deleteSvm(svm!.uuid);
  await client.waitForJob(deleted.job!, { pollBaseMs: 10 });
}

describe("conformance with NetApp's published ONTAP model (netapp-ontap 9.19.1.0)", () => {
  it("every field the client asks for or sends, and every field the simulator serves, is in the vendor's schema", async () => {
    const cluster = sim.clusters[0]!;
    const { client, called } = recording(createOntapClient(cluster, { pageSize: 1 }));
    try {
      await runEveryOperation(client);
    } finally {
      await client.close();
    }
    const operations = Object.keys(createOntapClient(cluster)).filter((k) => k !== "cluster" && k !== "close");
    expect([...called].filter((k) => k !== "close").sort()).toEqual(operations.sort());

    const res = await admin.rest("GET", "/__sim/calls?log=true");
    const log = (res.body as unknown as { log: SimCallLogEntry[] }).log;
    // The client used every endpoint it declares, so the schema check below covers all of them.
    const templates = new Set(log.map((c) => c.template));
    for (const template of Object.values(ENDPOINTS)) expect(templates, template).toContain(template);

    // Bodies are recorded by shape (paths and JSON types, never values); without them the body check would pass
    // vacuously.
    const accountCreate = log.find((c) => c.method === "POST" && c.template === ENDPOINTS.accounts);
    expect(accountCreate?.bodyFields).toMatchObject({ name: "string", "owner.uuid": "string", password: "string", locked: "boolean" });
    const requests = log.map((c) => ({ method: c.method, template: c.template, query: c.query, bodyFields: c.bodyFields ?? {} }));
    const run = await runPython("check_schema.py", { requests, served: servedFields() });
    expect(run.report.problems, run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.report.vendor).toBe("9.19.1.0");
    expect(run.report.checked as number).toBeGreaterThan(100);
    console.log(`vendor schema check: ${run.report.checked} fields; endpoints:\n  ${(run.report.endpoints as string[]).join("\n  ")}`);
  });

  it("every request each real Trident release sent (its recorded conversation) is in the vendor's schema", async () => {
    // Recorded by `TRIDENT_VERSION=<version> npm run trident:e2e -- --record`; CI replays the same files in
    // test/unit/trident-conversation-replay.test.ts. One schema run for all releases keeps the suite's cost.
    const fixtures = join(here, "..", "fixtures");
    const recorded = readdirSync(fixtures).filter((name) => /^trident-v\d+\.\d+\.\d+$/.test(name));
    expect(recorded).toContain("trident-v25.06.3");
    const exchanges = recorded.flatMap(
      (name) => (JSON.parse(readFileSync(join(fixtures, name, "conversation.json"), "utf8")) as { exchanges: SimExchange[] }).exchanges,
    );
    const requests = exchanges.map((e) => ({
      method: e.method,
      template: e.template,
      query: e.query,
      bodyFields: e.body === undefined ? {} : (bodyShape(Buffer.from(JSON.stringify(e.body))) ?? {}),
    }));
    expect(requests.some((r) => r.method === "POST" && r.template === "/api/storage/namespaces")).toBe(true);
    const run = await runPython("check_schema.py", { requests, served: {} });
    expect(run.report.problems, run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.report.checked as number).toBeGreaterThan(50);
  });

  it("the schema check fails on a name the vendor does not know, and names the vendor's wire name", async () => {
    const run = await runPython("check_schema.py", {
      requests: [
        { method: "GET", template: "/api/storage/aggregates", query: "fields=uuid,volume_count", bodyFields: {} },
        { method: "POST", template: "/api/security/accounts", query: "", bodyFields: { "owner.colour": "string" } },
        { method: "GET", template: "/api/svm/svms", query: "nvme.enabled=maybe", bodyFields: {} },
        // `force` is a documented parameter of a volume DELETE, `forced` is nothing the vendor knows.
        { method: "DELETE", template: "/api/storage/volumes/{uuid}", query: "force=false&forced=true", bodyFields: {} },
      ],
      served: { "/api/cluster": { name: ["number"] } },
    });
    expect(run.code).toBe(1);
    expect(run.report.problems).toEqual([
      "DELETE /api/storage/volumes/{uuid}: filter forced: unknown field 'forced' under (top level) of VolumeSchema",
      "GET /api/storage/aggregates: fields=volume_count: unknown field 'volume_count' under (top level) of AggregateSchema; the vendor's wire name is 'volume-count'",
      "GET /api/svm/svms: filter nvme.enabled='maybe' does not fit the vendor's type boolean",
      "POST /api/security/accounts: body owner.colour: unknown field 'colour' under owner of AccountSchema",
      "served /api/cluster: name: served as number, the vendor's type is string",
    ]);
  });

  it("NetApp's client drives the simulator through every operation this project uses and parses every answer", async () => {
    const cluster = sim.clusters[0]!;
    await admin.reset();
    const url = new URL(cluster.url);
    const run = await runPython("drive_simulator.py", {
      host: url.hostname,
      port: Number(url.port),
      username: cluster.username,
      password: cluster.password,
      caFile: cluster.caFile,
    });
    expect(run.report.problems, run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    const operations = run.report.operations as Array<{ operation: string; ok: boolean }>;
    expect(operations.map((o) => o.operation.split(":")[0])).toEqual([
      "cluster",
      "nodes",
      "aggregates",
      "aggregates",
      "SVM create",
      "SVM get",
      "SVM aggregates",
      "interfaces",
      "BGP peer groups",
      "accounts",
      "password change",
      "volumes",
      "NVMe SAN",
      "SVM user",
      "SVM role",
      "account delete",
      "SVM delete",
    ]);
    expect(operations.every((o) => o.ok)).toBe(true);
    expect(run.report.responses as number).toBeGreaterThan(25);
  });
});
