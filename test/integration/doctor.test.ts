import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDoctorClients, type DoctorResult, runDoctor } from "../../src/doctor/command.js";
import { reconcileCommand } from "../../src/diagnosis/row.js";
import type { DoctorDeps } from "../../src/diagnosis/observe.js";
import { renderJson, renderReport } from "../../src/doctor/render.js";
import type { KubeClient } from "../../src/kube/client.js";
import { Extensions, ManagedResources, Secrets } from "../../src/kube/resources.js";
import type { OntapClient } from "../../src/ontap/index.js";
import { isManagedResourceHealthy, type ManagedResourceLike } from "../../src/trident/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import { usernameFor } from "../support/invariants.js";
import { type Shoot, type World, worldPerFile } from "../support/world.js";

/**
 * The doctor against a live installation on the real gardener-resource-manager: each shoot namespace has its
 * own shoot API server and resource manager, and the doctor reads the ManagedResource conditions those write
 * (it reads only the seed and ONTAP). One world for the file, four shoots of four projects (one SVM each),
 * settled once with the controller then stopped, so nothing repairs what a step breaks; each step breaks a
 * shoot no earlier step broke (except the last, which takes the one the second step repaired), in this order.
 * One world per step started eight shoot API servers: 186 s for this file against 44 s on the stand-in at
 * load 10-16 on 2 cores (2026-12-01), over the budget of a file.
 */

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");

let clients: OntapClient[] = [];
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

const lifs = (n: number) => ({ dataLifs: [`10.7${n}.0.11`, `10.7${n}.0.12`], managementLif: `10.7${n}.0.10` });
const svmName = (shoot: Shoot) => `p${shoot.projectId.replaceAll("-", "")}`;

/**
 * Creates `count` shoots of their own projects, waits until every one converged and its ManagedResources are
 * all healthy as its resource manager reports them, then stops the controller (the resource managers keep
 * running, as in a seed: they are not the controller's to stop).
 */
async function settle(w: World, count: number): Promise<Shoot[]> {
  const shoots: Shoot[] = [];
  for (let i = 0; i < count; i++) shoots.push(await w.createShoot({ project: `doc${"abcd"[i]}`, ...lifs(i) }));
  // Each shoot's API server and resource manager start once its first ManagedResource is written (6-7 s of
  // both cores each, more on a loaded machine; the shoots start side by side).
  for (const shoot of shoots) await w.waitSucceeded(shoot, 150_000);
  // Succeeded needs only the CRDs healthy; the resource manager reports the rest healthy once applied and rolled out.
  await eventually(
    async () => {
      for (const shoot of shoots) {
        const { items } = await w.kube.list<ManagedResourceLike & { metadata?: { name?: string } }>(ManagedResources, shoot.namespace);
        const unhealthy = items.filter((mr) => !isManagedResourceHealthy(mr).healthy);
        if (items.length < 6 || unhealthy.length > 0) {
          throw new Error(
            `${shoot.namespace}: ManagedResources not all healthy yet: ${items.length} of them, unhealthy ${unhealthy.map((mr) => `${mr.metadata?.name} (${isManagedResourceHealthy(mr).reason})`).join("; ")}`,
          );
        }
      }
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  await stopController(w);
  return shoots;
}

async function stopController(w: World): Promise<void> {
  await w.controller?.stop();
  w.controller = undefined;
}

/** Records which KubeClient methods the doctor calls. */
function recordingKube(kube: KubeClient, used: Set<string>): KubeClient {
  return new Proxy(kube, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        used.add(String(prop));
        return value.apply(target, args);
      };
    },
  });
}

async function doctor(w: World, opts: { namespace?: string; kubeUsed?: Set<string> } = {}): Promise<{ results: DoctorResult[]; text: string; json: string }> {
  clients = createDoctorClients(w.config, 3000);
  const deps: DoctorDeps = { kube: recordingKube(w.kube, opts.kubeUsed ?? new Set()), clients, config: w.config };
  const results = await runDoctor(deps, { namespace: opts.namespace });
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  return { results, text: renderReport(results.map((r) => r.diagnosis), { verbose: true }), json: renderJson(results) };
}

/** No password (nor its base64) that the seed Secrets ever held, nor an ONTAP admin password, is in `output`. */
function expectNoSecrets(w: World, output: string): void {
  expect(w.knownSecrets.size).toBeGreaterThan(w.sim.clusters.length);
  for (const secret of w.knownSecrets) {
    expect(output.includes(secret), "output contains a password").toBe(false);
    expect(output.includes(Buffer.from(secret).toString("base64")), "output contains a base64 password").toBe(false);
  }
}

async function callsOf(w: World): Promise<Record<string, number>[]> {
  return Promise.all(w.admins.map((a) => a.calls()));
}

function newCalls(before: Record<string, number>[], after: Record<string, number>[]): string[] {
  return after.flatMap((calls, i) => Object.keys(calls).filter((key) => calls[key] !== before[i]?.[key]));
}

function rowOf(result: DoctorResult | undefined, check: string) {
  const row = result?.diagnosis.rows.find((r) => r.check === check);
  if (!row) throw new Error(`no row "${check}": ${result?.diagnosis.rows.map((r) => r.check).join(", ")}`);
  return row;
}

describe("doctor on a live installation, through the real resource manager", () => {
  // The world opens before this block's beforeAll and closes (checking for leaked passwords) after its last
  // test; the fault proxy (no faults) is the command line's way in, so its requests are recorded.
  const opened = worldPerFile({ clusters: 2, faultProxy: true });
  let w: World;
  /** a: the table's first row, then repaired by the reconcile command, then its clusters go silent; b: its Secret deleted on the command line; c: drifted; d: on both clusters. */
  let shoots: Shoot[];
  beforeAll(async () => {
    w = opened();
    shoots = await settle(w, 4);
  }, 300_000);

  it("finds every shoot of its extension class healthy, with GETs only and no password in its output", async () => {
    const kubeUsed = new Set<string>();
    const before = await callsOf(w);
    const { results, text, json } = await doctor(w, { kubeUsed });
    const after = await callsOf(w);

    expect(results.map((r) => r.diagnosis.namespace)).toEqual(shoots.map((s) => s.namespace).sort());
    for (const r of results) {
      expect(r.diagnosis.verdict, renderReport([r.diagnosis])).toBe("healthy");
      expect(r.observation.password).toEqual({ result: "ok" });
    }
    const first = results.find((r) => r.diagnosis.namespace === shoots[0]!.namespace);
    const host = (await w.extension(shoots[0]!))?.status?.providerStatus?.cluster as string;
    expect(rowOf(first, `SVM ${svmName(shoots[0]!)}`).actual).toBe(`on ${host}: running, NVMe enabled`);
    expect(rowOf(first, "LIF datalif+1")).toMatchObject({ expected: "10.70.0.12 (default-data-nvme-tcp)", actual: "10.70.0.12", status: "ok" });
    expect(rowOf(first, "ManagedResource extension-ontap-shoot").actual).toBe("healthy");

    const touched = newCalls(before, after);
    expect(touched.length).toBeGreaterThan(0);
    expect(touched.filter((key) => !key.startsWith("GET "))).toEqual([]);
    expect([...kubeUsed].sort()).toEqual(["get", "list"]);
    expectNoSecrets(w, text + json);
  });

  it("prints the table and JSON, exits 0 when healthy and 1 when not, and sends only GETs over the wire", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "doctor-cli-"));
    const clusters = w.sim.clusters.map((c, i) => {
      writeFileSync(path.join(dir, `user-${i}`), c.username, { mode: 0o600 });
      writeFileSync(path.join(dir, `password-${i}`), c.password, { mode: 0o600 });
      return `  - name: ${c.name}\n    url: ${c.url}\n    caFile: ${c.caFile}\n    usernameFile: ${path.join(dir, `user-${i}`)}\n    passwordFile: ${path.join(dir, `password-${i}`)}\n`;
    });
    const configFile = path.join(dir, "config.yaml");
    writeFileSync(
      configFile,
      `extensionClass: ${w.config.extensionClass}\nclusters:\n${clusters.join("")}shootWebhook:\n  url: ${w.config.shootWebhook!.url}\n  caFile: ${w.config.shootWebhook!.caFile}\n` +
        `credentialsVerification:\n  managementLifUrlsFile: ${w.sim.lifEndpointsFile}\n`,
    );
    const kubeconfig = w.proxy!.kubeconfigFor(dir);
    const cli = (...args: string[]) =>
      run(path.join(repoRoot, "node_modules/.bin/tsx"), ["src/cli.ts", "doctor", "--config", configFile, "--kubeconfig", kubeconfig, ...args], {
        cwd: repoRoot,
        timeout: 60_000,
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );

    const kubeBefore = w.proxy!.calls();
    const ontapBefore = await callsOf(w);
    const table = await cli();
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NAMESPACE\s+VERDICT\s+NEXT ACTION\n/);
    for (const s of shoots) expect(table.stdout).toMatch(new RegExp(`${s.namespace}\\s+healthy\\s+-`));
    expect(table.stdout).toContain("4 shoots: 4 healthy");

    const json = await cli("--output", "json", "--namespace", shoots[0]!.namespace);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { verdict: string; shoots: { namespace: string; rows: { check: string; status: string }[] }[] };
    expect(report.verdict).toBe("healthy");
    expect(report.shoots.map((s) => s.namespace)).toEqual([shoots[0]!.namespace]);
    expect(report.shoots[0]!.rows.find((r) => r.check === "stored password")?.status).toBe("ok");

    const kubeAfter = w.proxy!.calls();
    const kubeTouched = Object.keys(kubeAfter).filter((key) => kubeAfter[key] !== kubeBefore[key]);
    expect(kubeTouched.length).toBeGreaterThan(0);
    expect(kubeTouched.filter((key) => !key.startsWith("GET "))).toEqual([]);
    expect(newCalls(ontapBefore, await callsOf(w)).filter((key) => !key.startsWith("GET "))).toEqual([]);

    await w.kube.delete(Secrets, shoots[1]!.namespace, "ontap-svm-credentials");
    const broken = await cli("--namespace", shoots[1]!.namespace);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`^${shoots[1]!.namespace}: BROKEN\n`));
    expect(broken.stdout).toMatch(/FAIL\s+seed Secret .*missing/);
    expect(broken.stdout).toContain(`next action: the seed Secret is missing: ${reconcileCommand(shoots[1]!.namespace)}`);

    const usage = await cli("--namespace", "not-a-shoot");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--namespace must be a shoot namespace/);
    expectNoSecrets(w, table.stdout + json.stdout + broken.stdout + table.stderr + json.stderr + broken.stderr);
  });

  it("reports a missing seed Secret as broken with the reconcile command, and the command repairs it", async () => {
    const shoot = shoots[0]!;
    await w.kube.delete(Secrets, shoot.namespace, "ontap-svm-credentials");

    const { results, text, json } = await doctor(w, { namespace: shoot.namespace });
    const [result] = results;
    expect(result?.diagnosis.verdict).toBe("broken");
    expect(rowOf(result, `seed Secret ${shoot.namespace}/ontap-svm-credentials`)).toMatchObject({ actual: "missing", status: "fail" });
    expect(rowOf(result, "stored password").actual).toBe("not checked: no password is stored");
    expect(result?.diagnosis.nextAction).toBe(
      `the seed Secret is missing: ${reconcileCommand(shoot.namespace)}; the controller re-creates it and rotates the password`,
    );
    expectNoSecrets(w, text + json);

    // Following the advice (what the kubectl command does) makes the shoot healthy again.
    await w.startController();
    await w.reconcileNow(shoot, 90_000);
    // Succeeded needs only the CRDs healthy: the resource manager may still be re-applying the ManagedResources
    // the repair changed (the rotated password's Secret), so the doctor is asked until it says healthy; the
    // last step of this file starts from that healthy shoot.
    const again = await eventually(
      async () => {
        const r = await doctor(w, { namespace: shoot.namespace });
        expect(r.results[0]?.diagnosis.verdict, r.text).toBe("healthy");
        return r;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expectNoSecrets(w, again.text + again.json);
    await stopController(w);
  });

  it("reports a password changed on ONTAP behind the controller's back as drifted", async () => {
    const shoot = shoots[2]!;
    const host = (await w.extension(shoot))?.status?.providerStatus?.cluster as string;
    const admin = w.admins[w.sim.clusters.findIndex((c) => c.name === host)]!;
    const drifted = "Drifted-Doctor-Passw0rd-77";
    w.knownSecrets.add(drifted);
    await admin.setAccountPassword(svmName(shoot), usernameFor(shoot.namespace), drifted);

    const { results, text, json } = await doctor(w, { namespace: shoot.namespace });
    const [result] = results;
    expect(result?.diagnosis.verdict).toBe("broken");
    expect(rowOf(result, "stored password")).toMatchObject({ actual: "rejected by ONTAP (drifted)", status: "fail" });
    expect(rowOf(result, `ONTAP user ${usernameFor(shoot.namespace)}`).status).toBe("ok");
    expect(result?.diagnosis.nextAction).toMatch(/^the stored password does not authenticate .*kubectl annotate extension .*rotates it/);
    expectNoSecrets(w, text + json);
  });

  it("reports an SVM present on both clusters as broken and one on another cluster than recorded as degraded", async () => {
    const shoot = shoots[3]!;
    const host = (await w.extension(shoot))?.status?.providerStatus?.cluster as string;
    const otherIndex = w.sim.clusters.findIndex((c) => c.name !== host);
    const other = w.sim.clusters[otherIndex]!.name;

    // providerStatus says the other cluster: the SVM is "on the wrong cluster".
    await w.kube.mergePatch(Extensions, shoot.namespace, "ontap", { status: { providerStatus: { cluster: other } } }, { subresource: "status" });
    const moved = await doctor(w, { namespace: shoot.namespace });
    expect(moved.results[0]?.diagnosis.verdict, moved.text).toBe("degraded");
    expect(rowOf(moved.results[0], `SVM ${svmName(shoot)}`)).toMatchObject({
      status: "warn",
      actual: `on ${host}: running, NVMe enabled (providerStatus records ${other})`,
    });

    // A second copy on the other cluster.
    await w.admins[otherIndex]!.createSvmDirect({ name: svmName(shoot) });
    const twice = await doctor(w, { namespace: shoot.namespace });
    const [result] = twice.results;
    expect(result?.diagnosis.verdict).toBe("broken");
    expect(rowOf(result, `SVM ${svmName(shoot)}`).actual).toMatch(/^on 2 clusters: sim-1 \(running, uuid .*\) and sim-2 \(running, uuid .*\)$/);
    expect(result?.diagnosis.nextAction).toMatch(/refuses to pick one\. Delete the wrong copy on ONTAP/);
    expectNoSecrets(w, twice.text + twice.json);
  });

  it("says unknown, never absent, when a cluster does not answer", async () => {
    // The shoot the reconcile command repaired above: healthy again, its SVM on one cluster only.
    const shoot = shoots[0]!;
    const host = (await w.extension(shoot))?.status?.providerStatus?.cluster as string;
    const hostIndex = w.sim.clusters.findIndex((c) => c.name === host);
    const other = w.sim.clusters[1 - hostIndex]!.name;

    // The cluster that does not hold the SVM is down: the SVM is found, but a second copy cannot be ruled out.
    const otherDown = await w.admins[1 - hostIndex]!.addFault({ path: "^/api/", action: { type: "reset" } });
    const partial = await doctor(w, { namespace: shoot.namespace });
    expect(partial.results[0]?.diagnosis.verdict, partial.text).toBe("unknown");
    expect(rowOf(partial.results[0], `ONTAP cluster ${other}`)).toMatchObject({ status: "unknown", actual: expect.stringMatching(/^no answer: /) });
    expect(rowOf(partial.results[0], `SVM ${svmName(shoot)}`).actual).toBe(`on ${host}: running, NVMe enabled; ${other} did not answer`);
    expect(rowOf(partial.results[0], "stored password").actual).toBe("authenticates");
    await w.admins[1 - hostIndex]!.removeFault(otherDown);

    // The cluster that holds the SVM is down: the SVM is not "absent", it is unknown.
    await w.admins[hostIndex]!.addFault({ path: "^/api/", action: { type: "reset" } });
    const { results, text, json } = await doctor(w, { namespace: shoot.namespace });
    const [result] = results;
    expect(result?.diagnosis.verdict, text).toBe("unknown");
    expect(rowOf(result, `SVM ${svmName(shoot)}`)).toMatchObject({
      status: "unknown",
      actual: `unknown: absent on ${other}, ${host} did not answer`,
    });
    expect(text).not.toMatch(/absent on every cluster/);
    expect(rowOf(result, "stored password").actual).toBe("not checked: the SVM's cluster is not known");
    expect(result?.diagnosis.nextAction).toMatch(new RegExp(`^ONTAP cluster ${host} does not answer`));
    expectNoSecrets(w, text + json);
  });
});
