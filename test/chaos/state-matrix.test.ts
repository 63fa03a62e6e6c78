import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { Clusters, Events, Extensions, ManagedResources, Secrets } from "../../src/kube/resources.js";
import { PROJECT_ANNOTATION } from "../../src/testenv/index.js";
import { writeReport } from "../support/chaos-report.js";
import {
  authenticates,
  createExtension,
  createLif,
  createSeedSecret,
  createShootLifs,
  createShootNamespace,
  createSvm,
  createUser,
  kubeWrites,
  ontapWrites,
  type PlannedShoot,
  planShoot as planShootNames,
  SEED_SECRET,
  seedSecret,
  setLifReachable,
  succeeded,
} from "../support/chaos-state.js";
import { type ChaosLane, createChaosLane, ontapSnapshot, orphans, scanForSecrets, sleep, waitUntil } from "../support/chaos-world.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";
import { usernameFor } from "../support/invariants.js";

/**
 * The state matrix: each starting state is built directly (simulator and kube-apiserver), then the
 * controller reconciles once more. Each row asserts what the controller did (its writes, read from the
 * call logs of both sides) and the end state, or, where repair is unsafe, that it stopped with an Error
 * and touched nothing.
 */

let lane: ChaosLane;
let sim1: SimAdmin;
let sim2: SimAdmin;
const rows: { row: string; state: string; action: string; passed: boolean; seconds: number }[] = [];
const startedAt = Date.now();

beforeAll(async () => {
  lane = await createChaosLane({ name: "state", kind: "in-process", resourceManager: "real" });
  [sim1, sim2] = lane.admins as [SimAdmin, SimAdmin];
});
beforeEach(async () => {
  await lane.clearFaults();
  await lane.resetOntap();
});
afterAll(async () => {
  const table = [
    "Each row builds its starting state directly (simulator admin API and REST, kube-apiserver), then lets the controller reconcile once more, and asserts the action (the writes on both sides, from the call logs) and the end state. Rows marked *Error* are those where repair would be unsafe: the controller must stop with an Error (or escalate) and write nothing.",
    "",
    "| starting state (SVM / data LIFs / mgmt LIF / user / seed Secret, or as named) | action asserted | result | seconds |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.state} | ${r.action} | ${r.passed ? "✓" : "✗"} | ${r.seconds.toFixed(1)} |`),
  ];
  writeReport(inject("chaosResultsDir"), "state-matrix", {
    kind: "section",
    order: 2,
    title: "State matrix",
    markdown: `${table.join("\n")}\n\n${rows.length} rows, ${rows.filter((r) => r.passed).length} passed, in ${((Date.now() - startedAt) / 1000).toFixed(0)} s.`,
  });
  await lane.close();
});

/** Shoots of the running row: discarded after it, so a row left in Error cannot act in the next one. */
const rowShoots: PlannedShoot[] = [];
function planShoot(of: Parameters<typeof planShootNames>[0] = {}): PlannedShoot {
  const shoot = planShootNames(of);
  rowShoots.push(shoot);
  return shoot;
}

/** Runs one row and records it for the report whatever the outcome. */
function row(state: string, action: string, body: () => Promise<void>) {
  it(`${state}: ${action}`, async () => {
    const t0 = Date.now();
    let passed = false;
    try {
      await body();
      passed = true;
    } finally {
      rows.push({ row: `${state}: ${action}`, state, action, passed, seconds: (Date.now() - t0) / 1000 });
      for (const shoot of rowShoots.splice(0)) await lane.discard(shoot);
      await lane.quiesce();
    }
  });
}

interface Marks {
  ontap: number;
  kube: number;
}

async function mark(): Promise<Marks> {
  const log = await lane.ontapLog();
  return { ontap: log.at(-1)?.seq ?? 0, kube: lane.kubeSeq() };
}

async function writesSince(m: Marks, shoot: PlannedShoot) {
  return { ontap: ontapWrites(await lane.ontapLog(m.ontap)), kube: kubeWrites(lane.kubeLog(m.kube), shoot) };
}

async function waitForSuccess(shoot: PlannedShoot, timeoutMs = 120_000): Promise<void> {
  const ok = await waitUntil(async () => (succeeded(await lane.world.extension(shoot)) ? true : undefined), timeoutMs, 100);
  if (!ok) {
    const ext = await lane.world.extension(shoot);
    throw new Error(`${shoot.namespace} did not succeed: ${JSON.stringify(ext?.status?.lastOperation)}`);
  }
}

async function converged(shoot: PlannedShoot): Promise<void> {
  expect(await lane.world.invariants([shoot])).toEqual([]);
  expect(orphans(await ontapSnapshot(lane), [shoot])).toEqual([]);
  expect(scanForSecrets(lane.controller.drainLogs(), lane.world.knownSecrets)).toEqual([]);
}

const count = (list: string[], entry: string) => list.filter((x) => x === entry).length;
const STRONG = "State-Matrix-Passw0rd-";
const password = (tag: string) => `${STRONG}${tag}-${Math.random().toString(36).slice(2, 8)}`;

/** A shoot converged from nothing, for the rows that change one thing behind the controller's back. */
async function convergedShoot(): Promise<{ shoot: PlannedShoot; svmUuid: string; host: SimAdmin; hostName: string }> {
  const shoot = planShoot();
  await createShootNamespace(lane, shoot);
  await createExtension(lane, shoot);
  await waitForSuccess(shoot);
  // Placement is by rendezvous hash over the clusters' UUIDs: the SVM may be on either cluster.
  for (const host of [sim1, sim2]) {
    const svm = (await host.state()).svms.find((s) => s.name === shoot.svmName);
    if (svm) return { shoot, svmUuid: String(svm.uuid), host, hostName: host.cluster.name };
  }
  throw new Error(`SVM ${shoot.svmName} is on no cluster`);
}

/**
 * The Go extension's table: a starting state per row, in named columns (what exists on ONTAP and in the seed
 * before the Extension is created), and what the controller must then write. `asserts` holds the row's own
 * assertions beyond convergence; the row's label in the report is the columns in the Go table's order.
 */
interface GoTableRow {
  svm: boolean;
  dataLifs: boolean;
  managementLif: boolean;
  /** The shoot's ONTAP user, with a password the seed does not know (`unknown`) or the seed Secret's (`live`). */
  user: "none" | "unknown password" | "live password";
  /** The seed Secret: its password `stored` (no user has it yet), the user's `live` one, or `empty`. */
  seedSecret: "none" | "stored password" | "live password" | "empty password";
  action: string;
  asserts(row: GoTableRun): Promise<void>;
}

interface GoTableRun {
  shoot: PlannedShoot;
  /** Since the Extension was created. */
  since: Marks;
  writes: { ontap: string[]; kube: string[] };
  svmUuid?: string;
  /** The seed Secret's password, when the row wrote one. */
  storedPassword?: string;
  seedSecretBefore?: Awaited<ReturnType<typeof seedSecret>>;
}

const yesNo = (present: boolean) => (present ? "yes" : "no");
function goTableLabel(r: GoTableRow): string {
  const secret = { none: "no", "stored password": "yes", "live password": "yes (password works)", "empty password": "empty password" }[r.seedSecret];
  return [yesNo(r.svm), yesNo(r.dataLifs), yesNo(r.managementLif), yesNo(r.user !== "none"), secret].join(" / ");
}

const GO_TABLE: GoTableRow[] = [
  {
    svm: false, dataLifs: false, managementLif: false, user: "none", seedSecret: "none",
    action: "creates SVM, 3 LIFs, user and seed Secret",
    async asserts({ writes: w }) {
      expect(count(w.ontap, "sim-1 POST /api/svm/svms")).toBe(1);
      expect(count(w.ontap, "sim-1 POST /api/network/ip/interfaces")).toBe(3);
      expect(count(w.ontap, "sim-1 POST /api/security/accounts")).toBe(1);
      expect(w.kube).toContain("POST /api/v1/namespaces/{ns}/secrets");
    },
  },
  {
    svm: true, dataLifs: false, managementLif: false, user: "none", seedSecret: "none",
    action: "keeps the SVM, creates 3 LIFs, user and Secret",
    async asserts({ writes: w, svmUuid }) {
      expect(w.ontap.filter((x) => x.includes("/api/svm/svms"))).toEqual([]);
      expect(count(w.ontap, "sim-1 POST /api/network/ip/interfaces")).toBe(3);
      expect(count(w.ontap, "sim-1 POST /api/security/accounts")).toBe(1);
      expect((await sim1.state()).svms.map((s) => s.uuid)).toEqual([svmUuid]);
    },
  },
  {
    svm: true, dataLifs: true, managementLif: false, user: "none", seedSecret: "none",
    action: "creates only the management LIF, then user and Secret",
    async asserts({ writes: w }) {
      expect(count(w.ontap, "sim-1 POST /api/network/ip/interfaces")).toBe(1);
      expect((await sim1.state()).interfaces.map((i) => i.name).sort()).toEqual(["datalif+0", "datalif+1", "managementlif"]);
      expect(count(w.ontap, "sim-1 POST /api/security/accounts")).toBe(1);
    },
  },
  {
    svm: true, dataLifs: true, managementLif: true, user: "none", seedSecret: "none",
    action: "creates user and Secret, no LIF write",
    async asserts({ writes: w }) {
      expect(w.ontap.filter((x) => x.includes("interfaces"))).toEqual([]);
      expect(w.ontap).toEqual(["sim-1 POST /api/security/accounts"]);
    },
  },
  {
    svm: true, dataLifs: true, managementLif: true, user: "unknown password", seedSecret: "none",
    action: "stores a new password (pending) first, then sets it on the user, then promotes it",
    async asserts({ writes: w, since, shoot }) {
      expect(w.ontap).toEqual(["sim-1 POST /api/security/authentication/password"]);
      const ontapLog = await lane.ontapLog(since.ontap);
      const passwordSet = ontapLog.find((c) => c.method === "POST" && c.template === "/api/security/authentication/password")!;
      // The seed Secret's create is the second Secret create in the namespace: trident-crds' ManagedResource
      // Secret is written at the start of the pass, the seed Secret once the SVM is found (the proxy's log has
      // no bodies to tell them apart by name).
      const secretCreates = lane.kubeLog(since.kube).filter((c) => c.method === "POST" && c.path === `/api/v1/namespaces/${shoot.namespace}/secrets`);
      expect(secretCreates.length).toBeGreaterThanOrEqual(2);
      expect(secretCreates[1]!.at).toBeLessThan(passwordSet.at);
    },
  },
  {
    svm: true, dataLifs: true, managementLif: true, user: "none", seedSecret: "stored password",
    action: "creates the user with a password stored (pending) before the create",
    async asserts({ writes: w, since, shoot, storedPassword }) {
      expect(w.ontap).toEqual(["sim-1 POST /api/security/accounts"]);
      const accountCreate = (await lane.ontapLog(since.ontap)).find((c) => c.method === "POST" && c.template === "/api/security/accounts")!;
      const pendingWrite = lane.kubeLog(since.kube).find((c) => c.method === "PUT" && c.path.endsWith(`/${shoot.namespace}/secrets/${SEED_SECRET}`))!;
      expect(pendingWrite.at).toBeLessThan(accountCreate.at);
      expect((await seedSecret(lane, shoot))?.data.password).not.toBe(storedPassword);
    },
  },
  {
    svm: true, dataLifs: true, managementLif: true, user: "live password", seedSecret: "live password",
    action: "verifies only: no write on ONTAP, none to the Secret",
    async asserts({ writes: w, shoot, seedSecretBefore }) {
      expect(w.ontap).toEqual([]);
      expect(w.kube.filter((x) => x.includes("ontap-svm-credentials"))).toEqual([]);
      expect((await seedSecret(lane, shoot))?.resourceVersion).toBe(seedSecretBefore?.resourceVersion);
    },
  },
  {
    svm: true, dataLifs: true, managementLif: true, user: "unknown password", seedSecret: "empty password",
    action: "sets a new password (stored first) and updates the Secret",
    async asserts({ writes: w }) {
      expect(w.ontap).toEqual(["sim-1 POST /api/security/authentication/password"]);
      expect(w.kube.filter((x) => x.startsWith("PUT") && x.includes(SEED_SECRET)).length).toBe(2);
    },
  },
];

/** The shoot's own ONTAP user (`<gardener project>--<shoot>`); the rows named "legacy" model the Go extension's, the shoot name. */
function userOf(shoot: { namespace: string }): string {
  return usernameFor(shoot.namespace);
}

/** Builds a Go-table row's starting state, creates the Extension, waits for Succeeded and runs the row's checks. */
async function runGoTableRow(r: GoTableRow): Promise<void> {
  const shoot = planShoot();
  const svm = r.svm ? await createSvm(sim1, shoot) : undefined;
  if (svm && (r.dataLifs || r.managementLif)) await createShootLifs(sim1, svm.uuid, shoot, { data: r.dataLifs, management: r.managementLif });
  const live = r.user === "live password" ? password("live") : undefined;
  if (svm && r.user !== "none") await createUser(lane, sim1, svm.uuid, userOf(shoot), live ?? password(r.seedSecret === "empty password" ? "old" : "unknown"));
  await createShootNamespace(lane, shoot);
  const storedPassword = r.seedSecret === "stored password" ? password("stored") : r.seedSecret === "live password" ? live : r.seedSecret === "empty password" ? "" : undefined;
  if (storedPassword !== undefined) await createSeedSecret(lane, shoot, { username: userOf(shoot), password: storedPassword });
  const seedSecretBefore = storedPassword !== undefined ? await seedSecret(lane, shoot) : undefined;
  const since = await mark();
  await createExtension(lane, shoot);
  await waitForSuccess(shoot);
  const writes = await writesSince(since, shoot);
  await r.asserts({ shoot, since, writes, svmUuid: svm ? String(svm.uuid) : undefined, storedPassword, seedSecretBefore });
  await converged(shoot);
}

describe("state matrix: the rows of the Go extension's table", () => {
  for (const r of GO_TABLE) row(goTableLabel(r), r.action, () => runGoTableRow(r));
});

describe("state matrix: the credentials protocol", () => {
  row("seed Secret: password stale, pendingPassword live", "promotes the pending password; no ONTAP write", async () => {
    const shoot = planShoot();
    const svm = await createSvm(sim1, shoot);
    await createShootLifs(sim1, svm.uuid, shoot, { data: true, management: true });
    const live = password("pending-live");
    await createUser(lane, sim1, svm.uuid, userOf(shoot), live);
    await createShootNamespace(lane, shoot);
    await createSeedSecret(lane, shoot, { username: userOf(shoot), password: password("stale"), pendingPassword: live });
    const m = await mark();
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    expect((await seedSecret(lane, shoot))?.data).toEqual({ username: userOf(shoot), password: live });
    await converged(shoot);
  });

  row("seed Secret: password live, pendingPassword not", "moves the stale pending password to the superseded (its write may still land); no ONTAP write", async () => {
    const shoot = planShoot();
    const svm = await createSvm(sim1, shoot);
    await createShootLifs(sim1, svm.uuid, shoot, { data: true, management: true });
    const live = password("live");
    await createUser(lane, sim1, svm.uuid, userOf(shoot), live);
    await createShootNamespace(lane, shoot);
    const neverSet = password("never-set");
    await createSeedSecret(lane, shoot, { username: userOf(shoot), password: live, pendingPassword: neverSet });
    const m = await mark();
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    const { supersededPasswords, ...plain } = (await seedSecret(lane, shoot))?.data ?? {};
    expect(plain).toEqual({ username: userOf(shoot), password: live });
    expect(JSON.parse(supersededPasswords ?? "[]").map((e: { password: string }) => e.password)).toEqual([neverSet]);
    await converged(shoot);
  });

  row("password drifted on ONTAP (changed by hand)", "rotates: new password stored first, set on ONTAP, promoted", async () => {
    const { shoot } = await convergedShoot();
    const before = (await seedSecret(lane, shoot))!.data.password!;
    const drifted = password("drifted");
    lane.world.knownSecrets.add(drifted);
    await sim1.setAccountPassword(shoot.svmName, userOf(shoot), drifted);
    const m = await mark();
    await lane.world.reconcileNow(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual(["sim-1 POST /api/security/authentication/password"]);
    const after = (await seedSecret(lane, shoot))!.data.password!;
    expect(after).not.toBe(before);
    expect(after).not.toBe(drifted);
    expect(await authenticates(sim1, shoot.managementLif, userOf(shoot), drifted)).toBe(false);
    await converged(shoot);
  });

  row(
    "management LIF unreachable from the seed (password also drifted on ONTAP)",
    "no rotation: keeps the stored password, Trident stays deployed with it, condition CredentialsVerified Unknown; rotates once the LIF answers 401",
    async () => {
      const { shoot, host, hostName } = await convergedShoot();
      const before = (await seedSecret(lane, shoot))!;
      const drifted = password("unreachable");
      lane.world.knownSecrets.add(drifted);
      // On a reachable LIF this drift would be a 401 and a rotation; unreachable, it must stay "unknown".
      await host.setAccountPassword(shoot.svmName, userOf(shoot), drifted);
      await setLifReachable(host, shoot.managementLif, false);
      const m = await mark();
      await lane.world.reconcileNow(shoot);
      const w = await writesSince(m, shoot);
      expect(w.ontap).toEqual([]);
      expect(w.kube.filter((x) => x.includes(SEED_SECRET))).toEqual([]);
      expect((await seedSecret(lane, shoot))?.resourceVersion).toBe(before.resourceVersion);
      const ext = await lane.world.extension(shoot);
      expect(ext?.status?.lastOperation?.state).toBe("Succeeded");
      const condition = ext?.status?.conditions?.find((c) => c.type === "CredentialsVerified");
      expect(condition).toMatchObject({ status: "Unknown", reason: "ManagementLifUnreachable" });
      expect(condition?.message).toContain(shoot.managementLif);
      expect(condition?.message).toContain("could not be verified");
      for (const mr of ["trident-backends", "trident-svm-secret", "trident-init"]) {
        expect(await lane.world.kube.get(ManagedResources, shoot.namespace, mr), mr).toBeDefined();
      }
      const warned = await waitUntil(async () => {
        const events = await lane.world.kube.list<{ reason?: string }>(Events, shoot.namespace);
        return events.items.some((e) => e.reason === "CredentialsUnverified") ? true : undefined;
      }, 10_000, 100);
      expect(warned).toBe(true);

      // The LIF answers again: now the 401 is real, and the protocol rotates.
      await setLifReachable(host, shoot.managementLif, true);
      const m2 = await mark();
      await lane.world.reconcileNow(shoot);
      expect((await writesSince(m2, shoot)).ontap).toEqual([`${hostName} POST /api/security/authentication/password`]);
      const recovered = await lane.world.extension(shoot);
      expect(recovered?.status?.conditions?.find((c) => c.type === "CredentialsVerified")).toMatchObject({
        status: "True",
        reason: "VerifiedAtManagementLif",
      });
      await converged(shoot);
    },
  );

  row("legacy Secret of the Go extension in kube-system, user live, no seed Secret", "adopts the Go user and its password, records the owner on the account (one PATCH, no password write), moves the password, deletes the legacy Secret", async () => {
    const shoot = planShoot();
    const svm = await createSvm(sim1, shoot);
    await createShootLifs(sim1, svm.uuid, shoot, { data: true, management: true });
    const legacy = password("legacy");
    await createUser(lane, sim1, svm.uuid, shoot.name, legacy);
    await createShootNamespace(lane, shoot);
    await createSeedSecret(lane, shoot, { username: shoot.name, password: legacy }, { namespace: "kube-system", name: shoot.legacySecretName });
    const m = await mark();
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual(["sim-1 PATCH /api/security/accounts/{owner.uuid}/{name}"]);
    expect((await seedSecret(lane, shoot))?.data).toEqual({ username: shoot.name, password: legacy });
    expect(await lane.world.kube.get(Secrets, "kube-system", shoot.legacySecretName)).toBeUndefined();
    await converged(shoot);
  });

  row("legacy Secret whose password no longer works", "the Go user is not provably this shoot's: creates the shoot's own user (password stored first), leaves the Go user alone, deletes the stale legacy Secret", async () => {
    const shoot = planShoot();
    const svm = await createSvm(sim1, shoot);
    await createShootLifs(sim1, svm.uuid, shoot, { data: true, management: true });
    await createUser(lane, sim1, svm.uuid, shoot.name, password("live-elsewhere"));
    await createShootNamespace(lane, shoot);
    const legacy = password("legacy-stale");
    await createSeedSecret(lane, shoot, { username: shoot.name, password: legacy }, { namespace: "kube-system", name: shoot.legacySecretName });
    const m = await mark();
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual(["sim-1 POST /api/security/accounts"]);
    expect((await seedSecret(lane, shoot))?.data.username).toBe(userOf(shoot));
    expect((await seedSecret(lane, shoot))?.data.password).not.toBe(legacy);
    expect(await lane.world.kube.get(Secrets, "kube-system", shoot.legacySecretName)).toBeUndefined();
    // The Go user stays for an operator (it may be another shoot's of the same name): the one orphan left.
    expect(await lane.world.invariants([shoot])).toEqual([]);
    expect(orphans(await ontapSnapshot(lane), [shoot])).toEqual([`sim-1: user ${shoot.name} on ${shoot.svmName} belongs to no live shoot`]);
    expect(scanForSecrets(lane.controller.drainLogs(), lane.world.knownSecrets)).toEqual([]);
  });

  row("data LIFs under this project's former names datalif<i>, user and Secret live", "keeps them as the same LIFs: no ONTAP write", async () => {
    const shoot = planShoot();
    const svm = await createSvm(sim1, shoot);
    for (const [i, ip] of shoot.dataLifs.entries()) await createLif(sim1, svm.uuid, `datalif${i}`, ip, "default-data-nvme-tcp");
    await createLif(sim1, svm.uuid, "managementlif", shoot.managementLif, "default-management");
    const live = password("former-names");
    await createUser(lane, sim1, svm.uuid, userOf(shoot), live);
    await createShootNamespace(lane, shoot);
    await createSeedSecret(lane, shoot, { username: userOf(shoot), password: live });
    const m = await mark();
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    expect((await sim1.state()).interfaces.filter((i) => (i.svm as { uuid?: string }).uuid === svm.uuid).map((i) => i.name).sort()).toEqual([
      "datalif0",
      "datalif1",
      "managementlif",
    ]);
    await converged(shoot);
  });
});

describe("state matrix: the SVM's state on ONTAP", () => {
  for (const state of ["initializing", "starting"] as const) {
    row(`SVM ${state}`, "waits (Processing, requeue), creates nothing, converges once it runs", async () => {
      const shoot = planShoot();
      const svm = await createSvm(sim1, shoot, { state });
      await createShootNamespace(lane, shoot);
      const m = await mark();
      await createExtension(lane, shoot);
      const waiting = await waitUntil(async () => {
        const ext = await lane.world.extension(shoot);
        return ext?.status?.lastOperation?.state === "Processing" && ext.status.lastOperation.description?.includes(state) ? ext : undefined;
      }, 15_000);
      expect(waiting, `Processing naming the state ${state}`).toBeDefined();
      await sleep(1000);
      expect((await writesSince(m, shoot)).ontap).toEqual([]);
      await sim1.setSvmState(shoot.svmName, "running");
      await waitForSuccess(shoot);
      expect((await sim1.state()).svms.map((s) => s.uuid)).toEqual([svm.uuid]);
      expect((await sim2.state()).svms).toEqual([]);
      await converged(shoot);
    });
  }

  row("SVM stopped", "Error naming the state and what to do; creates and deletes nothing; converges once started", async () => {
    const shoot = planShoot();
    const svm = await createSvm(sim1, shoot, { state: "stopped" });
    await createShootNamespace(lane, shoot);
    const m = await mark();
    await createExtension(lane, shoot);
    const failing = await waitUntil(async () => {
      const ext = await lane.world.extension(shoot);
      return ext?.status?.lastOperation?.state === "Error" ? ext : undefined;
    }, 15_000);
    expect(failing?.status?.lastError?.description).toMatch(/stopped; start it on ONTAP/);
    await sleep(1500);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    expect((await sim1.state()).svms.map((s) => [s.uuid, s.state])).toEqual([[svm.uuid, "stopped"]]);
    await sim1.setSvmState(shoot.svmName, "running");
    await waitForSuccess(shoot);
    await converged(shoot);
  });

  row("SVM deleting", "waits for the deletion, creates nothing meanwhile, then creates the SVM anew", async () => {
    const shoot = planShoot();
    const old = await createSvm(sim1, shoot, { state: "deleting" });
    await createShootNamespace(lane, shoot);
    const m = await mark();
    await createExtension(lane, shoot);
    const waiting = await waitUntil(async () => {
      const ext = await lane.world.extension(shoot);
      return ext?.status?.lastOperation?.description?.includes("being deleted") ? ext : undefined;
    }, 15_000);
    expect(waiting?.status?.lastOperation?.state).toBe("Processing");
    await sleep(1000);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    // The deletion finishes on ONTAP.
    await sim1.setSvmState(shoot.svmName, "running");
    const del = await sim1.rest("DELETE", `/api/svm/svms/${old.uuid}`);
    expect(del.status).toBe(202);
    await waitForSuccess(shoot);
    const svms = [...(await sim1.state()).svms, ...(await sim2.state()).svms];
    expect(svms.map((s) => s.name)).toEqual([shoot.svmName]);
    expect(svms[0]?.uuid).not.toBe(old.uuid);
    await converged(shoot);
  });

  row("SVM running without NVMe", "Error asking to enable NVMe; writes nothing", async () => {
    const shoot = planShoot();
    await createSvm(sim1, shoot, { nvme: false });
    await createShootNamespace(lane, shoot);
    const m = await mark();
    await createExtension(lane, shoot);
    const failing = await waitUntil(async () => {
      const ext = await lane.world.extension(shoot);
      return ext?.status?.lastOperation?.state === "Error" ? ext : undefined;
    }, 15_000);
    expect(failing?.status?.lastError?.description).toMatch(/without NVMe enabled/);
    await sleep(1000);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
  });

  row("SVM on both MetroCluster clusters, each holding LIFs", "Error and escalation (condition, Warning event); writes nothing on either; converges once one copy is removed", async () => {
    const shoot = planShoot();
    const keep = await createSvm(sim1, shoot);
    const wrong = await createSvm(sim2, shoot);
    // Both copies are in use (their LIFs may carry I/O): which one is right is the operator's call.
    await createShootLifs(sim1, keep.uuid, shoot, { data: true, management: true });
    await createLif(sim2, wrong.uuid, "elsewhere", "10.251.0.1", "default-data-nvme-tcp");
    await createShootNamespace(lane, shoot);
    const m = await mark();
    await createExtension(lane, shoot);
    // The world escalates after 5 consecutive failures.
    const escalated = await waitUntil(async () => {
      const ext = await lane.world.extension(shoot);
      const cond = ext?.status?.conditions?.find((c) => c.type === "ReconcileEscalated");
      return cond?.status === "True" ? ext : undefined;
    }, 30_000);
    expect(escalated?.status?.lastOperation?.state).toBe("Error");
    expect(escalated?.status?.lastError?.description).toMatch(/exists on several clusters/);
    // Events are sent in the background, after the status write.
    const announced = await waitUntil(async () => {
      const events = await lane.world.kube.list<{ type?: string; reason?: string }>(Events, shoot.namespace);
      return events.items.some((e) => e.type === "Warning" && e.reason === "Escalated") ? true : undefined;
    }, 10_000, 200);
    expect(announced, "a Warning event Escalated").toBe(true);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    expect((await sim1.state()).svms.map((s) => s.uuid)).toEqual([keep.uuid]);
    expect((await sim2.state()).svms.map((s) => s.uuid)).toEqual([wrong.uuid]);

    for (const lif of (await sim2.state()).interfaces) await sim2.rest("DELETE", `/api/network/ip/interfaces/${lif.uuid}`);
    expect((await sim2.rest("DELETE", `/api/svm/svms/${wrong.uuid}`)).status).toBe(202);
    await waitForSuccess(shoot);
    expect((await sim1.state()).svms.map((s) => s.uuid)).toEqual([keep.uuid]);
    const ext = await lane.world.extension(shoot);
    expect(ext?.status?.conditions?.find((c) => c.type === "ReconcileEscalated")?.status).toBe("False");
    await converged(shoot);
  });

  row("SVM on both clusters, both empty (two controllers raced to create it)", "removes the copy on the cluster whose name sorts last, keeps the other, converges", async () => {
    const shoot = planShoot();
    const keep = await createSvm(sim1, shoot);
    const leftover = await createSvm(sim2, shoot);
    await createShootNamespace(lane, shoot);
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await sim1.state()).svms.map((s) => s.uuid)).toEqual([keep.uuid]);
    expect((await sim2.state()).svms.map((s) => s.uuid)).not.toContain(leftover.uuid);
    await converged(shoot);
  });

  row("SVM on both clusters, only the second in use", "removes the empty copy whatever its cluster's name, keeps the one in use, converges", async () => {
    const shoot = planShoot();
    const leftover = await createSvm(sim1, shoot);
    const keep = await createSvm(sim2, shoot);
    await createShootLifs(sim2, keep.uuid, shoot, { data: true, management: true });
    await createShootNamespace(lane, shoot);
    await createExtension(lane, shoot);
    await waitForSuccess(shoot);
    expect((await sim1.state()).svms.map((s) => s.uuid)).not.toContain(leftover.uuid);
    expect((await sim2.state()).svms.map((s) => s.uuid)).toEqual([keep.uuid]);
    await converged(shoot);
  });
});

describe("state matrix: LIFs", () => {
  row(
    "a LIF with another address than the providerConfig",
    "moves nothing (no ONTAP write: the LIF may carry other shoots' I/O); Failed with ERR_CONFIGURATION_PROBLEM naming dataLifs[1] and the address to use",
    async () => {
      const { shoot } = await convergedShoot();
      const lif = (await sim1.state()).interfaces.find((i) => i.name === "datalif+1")!;
      expect((await sim1.rest("PATCH", `/api/network/ip/interfaces/${lif.uuid}`, { body: { ip: { address: "10.250.250.250" } } })).status).toBe(200);
      const m = await mark();
      await lane.world.annotate(shoot, { "gardener.cloud/operation": "reconcile" });
      const ext = await waitUntil(async () => {
        const e = await lane.world.extension(shoot);
        return e?.status?.lastOperation?.state === "Failed" ? e : undefined;
      }, 30_000);
      expect(ext?.status?.lastError?.codes).toContain("ERR_CONFIGURATION_PROBLEM");
      expect(ext?.status?.lastError?.description).toContain(
        `svmIpaddresses.dataLifs[1] is ${shoot.dataLifs[1]} but LIF datalif+1 has 10.250.250.250`,
      );
      expect((await writesSince(m, shoot)).ontap).toEqual([]);
      const after = (await sim1.state()).interfaces.find((i) => i.name === "datalif+1")!;
      expect((after.ip as { address: string }).address).toBe("10.250.250.250");
      // Put back as it was, so the lane's later rows start from a converged world.
      expect((await sim1.rest("PATCH", `/api/network/ip/interfaces/${lif.uuid}`, { body: { ip: { address: shoot.dataLifs[1] } } })).status).toBe(200);
      await lane.world.reconcileNow(shoot);
      await converged(shoot);
    },
  );

  row("a LIF missing", "creates that LIF only", async () => {
    const { shoot } = await convergedShoot();
    const lif = (await sim1.state()).interfaces.find((i) => i.name === "managementlif")!;
    expect((await sim1.rest("DELETE", `/api/network/ip/interfaces/${lif.uuid}`)).status).toBe(200);
    const m = await mark();
    await lane.world.reconcileNow(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual(["sim-1 POST /api/network/ip/interfaces"]);
    await converged(shoot);
  });

  row("a foreign LIF on the SVM", "leaves it alone (same uuid and address); writes nothing", async () => {
    const { shoot, svmUuid } = await convergedShoot();
    const foreignUuid = await createLif(sim1, svmUuid, "operator-backup", "10.251.0.1", "default-data-files");
    const m = await mark();
    await lane.world.reconcileNow(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    const foreign = (await sim1.state()).interfaces.find((i) => i.uuid === foreignUuid);
    expect((foreign?.ip as { address?: string } | undefined)?.address).toBe("10.251.0.1");
    expect(await lane.world.invariants([shoot])).toEqual([]);
  });
});

/**
 * The shapes of a real seed that issue 21 found the controller stuck or crossing tenants in. Each row failed
 * against the controller with its fix disabled in a scratch commit (2026-12-06, `npx vitest run --project chaos
 * test/chaos/state-matrix.test.ts -t "issue 21"`): pending-only with the unknown verdict an error again (before
 * f06eae1: Error, never Succeeded); locked with bf91823's two locked checks removed (a rotation, no `security login
 * unlock`); two `db` shoots with the user the shoot name again (before b6aee8b: 3 ONTAP password writes in 2
 * rounds); bad inputs with planTeardown ignoring providerStatus (before 2961b6e: the user left on ONTAP); silent
 * cluster with c7535f8's knownHome answering nothing (the repair never Succeeded).
 */
describe("state matrix: shapes of a real seed (issue 21)", () => {
  row(
    "seed Secret holds only pendingPassword (its promotion was lost), ONTAP holds it, management LIF silent",
    "sets the pending password again through the cluster interface and promotes it (reapplied-pending): one ONTAP password write, never a wait on the LIF",
    async () => {
      const shoot = planShoot();
      const svm = await createSvm(sim1, shoot);
      await createShootLifs(sim1, svm.uuid, shoot, { data: true, management: true });
      const pending = password("pending-only");
      await createUser(lane, sim1, svm.uuid, userOf(shoot), pending);
      await createShootNamespace(lane, shoot);
      await createSeedSecret(lane, shoot, { username: userOf(shoot), pendingPassword: pending });
      await setLifReachable(sim1, shoot.managementLif, false);
      const m = await mark();
      await createExtension(lane, shoot);
      await waitForSuccess(shoot, 30_000);
      expect((await writesSince(m, shoot)).ontap).toEqual(["sim-1 POST /api/security/authentication/password"]);
      expect((await seedSecret(lane, shoot))?.data).toEqual({ username: userOf(shoot), password: pending });
      const ext = await lane.world.extension(shoot);
      expect(ext?.status?.conditions?.find((c) => c.type === "CredentialsVerified")).toMatchObject({ status: "Unknown", reason: "ManagementLifUnreachable" });
      // The LIF answers again: the promoted password is the one ONTAP holds, nothing more to write.
      await setLifReachable(sim1, shoot.managementLif, true);
      const m2 = await mark();
      await lane.world.reconcileNow(shoot);
      expect((await writesSince(m2, shoot)).ontap).toEqual([]);
      await converged(shoot);
    },
  );

  row("the shoot's ONTAP user locked (ONTAP's lockout or an operator's lock)", "Error naming `security login unlock`; no password set on ONTAP, the stored password kept; converges without a rotation once unlocked", async () => {
    const { shoot, svmUuid, host } = await convergedShoot();
    const before = (await seedSecret(lane, shoot))!;
    const account = `/api/security/accounts/${svmUuid}/${encodeURIComponent(userOf(shoot))}`;
    expect((await host.rest("PATCH", account, { body: { locked: true } })).status).toBe(200);
    const m = await mark();
    await lane.world.annotate(shoot, { "gardener.cloud/operation": "reconcile" });
    const failing = await waitUntil(async () => {
      const ext = await lane.world.extension(shoot);
      return ext?.status?.lastOperation?.state === "Error" ? ext : undefined;
    }, 30_000);
    expect(failing?.status?.lastError?.description).toContain(`security login unlock -vserver ${shoot.svmName} -username ${userOf(shoot)}`);
    await sleep(1500);
    expect((await writesSince(m, shoot)).ontap).toEqual([]);
    // The pending password the rotation stored beside its account read never reached ONTAP; the stored one stays.
    expect((await seedSecret(lane, shoot))?.data.password).toBe(before.data.password);
    expect((await host.rest("PATCH", account, { body: { locked: false } })).status).toBe(200);
    const unlocked = await mark();
    await waitForSuccess(shoot, 30_000);
    expect((await writesSince(unlocked, shoot)).ontap).toEqual([]);
    expect((await seedSecret(lane, shoot))?.data.password).toBe(before.data.password);
    await converged(shoot);
  });

  row("two shoots named db in two Gardener projects on one metal-stack project (one SVM)", "a user each (<gardener project>--db); reconciles of both write no password; deleting one leaves the other's user working", async () => {
    const a = planShoot({ name: "db" });
    const b = planShoot({ name: "db", sameSvmAs: a });
    for (const shoot of [a, b]) {
      await createShootNamespace(lane, shoot);
      await createExtension(lane, shoot);
    }
    await Promise.all([waitForSuccess(a), waitForSuccess(b)]);
    expect(userOf(a)).not.toBe(userOf(b));
    const m = await mark();
    for (let round = 0; round < 2; round++) for (const shoot of [a, b]) await lane.world.reconcileNow(shoot);
    expect((await writesSince(m, a)).ontap).toEqual([]);
    expect(await lane.world.invariants([a, b])).toEqual([]);
    expect(orphans(await ontapSnapshot(lane), [a, b])).toEqual([]);

    await lane.world.deleteShoot(a);
    await lane.world.waitGone(a, 60_000);
    const users = [...(await sim1.state()).accounts, ...(await sim2.state()).accounts].map((x) => String(x.name));
    expect(users).not.toContain(userOf(a));
    expect(users).toContain(userOf(b));
    const password = (await seedSecret(lane, b))!.data.password!;
    const host = (await sim1.state()).svms.some((s) => s.name === b.svmName) ? sim1 : sim2;
    expect(await authenticates(host, b.managementLif, userOf(b), password)).toBe(true);
    await converged(b);
  });

  row("providerConfig and project annotation gone bad before the delete", "tears down by what status.providerStatus recorded: the user and the SVM it alone used are removed, nothing is left behind", async () => {
    const { shoot } = await convergedShoot();
    await lane.world.kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { spec: { providerConfig: { svmIpaddresses: { managementLif: "not-an-address" } } } });
    await lane.world.kube.mergePatch(Clusters, "", shoot.namespace, { spec: { shoot: { metadata: { annotations: { [PROJECT_ANNOTATION]: null } } } } });
    const failed = await waitUntil(async () => {
      const ext = await lane.world.extension(shoot);
      return ext?.status?.lastOperation?.state === "Failed" ? ext : undefined;
    }, 30_000);
    expect(failed?.status?.lastError?.codes).toContain("ERR_CONFIGURATION_PROBLEM");
    await lane.world.deleteShoot(shoot);
    await lane.world.waitGone(shoot, 60_000);
    const ontap = await ontapSnapshot(lane);
    expect(JSON.stringify(ontap)).not.toContain(userOf(shoot));
    expect([...(await sim1.state()).svms, ...(await sim2.state()).svms].map((s) => s.name)).not.toContain(shoot.svmName);
    expect(await lane.world.invariants([{ ...shoot, deleted: true }])).toEqual([]);
  });

  row("the other MetroCluster cluster silent, the SVM on its recorded home", "repairs on the home (a LIF missing: created there) and deletes the shoot's user there; never creates on unknown", async () => {
    const { shoot, host, hostName } = await convergedShoot();
    const other = host === sim1 ? sim2 : sim1;
    await other.addFault({ path: "^/api/", action: { type: "reset" } });
    const lif = (await host.state()).interfaces.find((i) => i.name === "managementlif")!;
    expect((await host.rest("DELETE", `/api/network/ip/interfaces/${lif.uuid}`)).status).toBe(200);
    const m = await mark();
    await lane.world.reconcileNow(shoot);
    expect((await writesSince(m, shoot)).ontap).toEqual([`${hostName} POST /api/network/ip/interfaces`]);
    expect((await lane.world.extension(shoot))?.status?.lastOperation?.state).toBe("Succeeded");
    await lane.world.deleteShoot(shoot);
    await lane.world.waitGone(shoot, 60_000);
    expect((await host.state()).accounts.map((x) => String(x.name))).not.toContain(userOf(shoot));
    expect((await other.state()).svms.map((s) => s.name)).not.toContain(shoot.svmName);
  });
});
