import { usernameFor } from "../support/invariants.js";
import { afterEach, describe, expect, it } from "vitest";
import { Events, Secrets } from "../../src/kube/resources.js";
import { sumCounter } from "../../src/metrics/index.js";
import { type Shoot, type World, worldPerFile, worldPerTest } from "../support/world.js";

// On the real gardener-resource-manager, one shoot per shoot namespace: repairs of drift on ONTAP and in the
// seed Secret. The fault proxy sits between the controller and kube-apiserver only; the resource manager talks
// to the seed directly, so the rules count the controller's requests alone.
const newWorld = worldPerTest();

const lifs = (n: number) => ({ dataLifs: [`10.${n}.1.11`], managementLif: `10.${n}.1.10` });
const b64 = (s: string) => Buffer.from(s).toString("base64");
const svmName = (shoot: Shoot) => `p${shoot.projectId.replaceAll("-", "")}`;
const SEED_SECRET_CREATE = "^/api/v1/namespaces/shoot--[^/]+/secrets$";
/**
 * The seed Secret's create is the second Secret create in the shoot namespace: trident-crds (whose Secret is
 * created first) is written at the start of the first pass, the seed Secret only once the SVM exists, after
 * ONTAP answered the lookup, the create and its job. The other ManagedResource Secrets follow the credentials.
 */
const SEED_SECRET_CREATE_NTH = 2;

async function seedPassword(world: World, shoot: Shoot): Promise<string | undefined> {
  const secret = await world.kube.get<{ data?: Record<string, string> }>(Secrets, shoot.namespace, "ontap-svm-credentials");
  const raw = secret?.data?.password;
  return raw ? Buffer.from(raw, "base64").toString() : undefined;
}

describe("controller: the Go extension's failure (SVM created, seed Secret create refused)", () => {
  it("reports a failed seed Secret create, retries, and converges once the API server accepts it", async () => {
    const world = await newWorld({ faultProxy: true });
    world.proxy!.rules.add({ method: "POST", path: SEED_SECRET_CREATE, nth: SEED_SECRET_CREATE_NTH, count: 1_000, action: { type: "error", status: 500 } });
    const shoot = await world.createShoot({ project: "art1", ...lifs(1) });
    const failing = await world.waitFor(shoot, (e) => e.status?.lastOperation?.state === "Error", 20_000, "Error");
    expect(failing.status?.lastOperation?.description).toMatch(/failed to write the seed Secret .*ontap-svm-credentials.*will retry/);
    expect(failing.status?.lastError?.codes).toEqual(["ERR_RETRYABLE_INFRA_DEPENDENCIES"]);
    // The SVM exists already, but no password was set on ONTAP that is not stored first.
    const accounts = (await world.admins[0]!.state()).accounts.concat((await world.admins[1]!.state()).accounts);
    expect(accounts.filter((a) => a.name === usernameFor(shoot.namespace))).toHaveLength(0);

    world.proxy!.rules.clear();
    await world.waitSucceeded(shoot, 30_000);
    expect(await world.invariants([shoot])).toEqual([]);
    expect(await sumCounter(world.metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "failed" })).toBeGreaterThan(0);
  });

  it("recovers when the seed Secret was created but the answer was lost", async () => {
    const world = await newWorld({ faultProxy: true });
    world.proxy!.rules.add({ method: "POST", path: SEED_SECRET_CREATE, nth: SEED_SECRET_CREATE_NTH, action: { type: "applyThenFail", status: 500 } });
    const shoot = await world.createShoot({ project: "art2", ...lifs(2) });
    await world.waitSucceeded(shoot, 30_000);
    expect(world.proxy!.rules.list()[0]?.hits).toBe(1);
    expect(await sumCounter(world.metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "failed" })).toBe(1);
    expect(await world.invariants([shoot])).toEqual([]);
  });
});

describe("controller: repairs what changed behind its back", () => {
  // One world for the three repairs: each breaks and checks its own shoot (a sibling of the same project), and
  // no world-wide counter is asserted. A repaired shoot's shoot API server is released after its test.
  const opened = worldPerFile({});
  afterEach(async () => {
    const world = opened();
    for (const namespace of world.shoots?.namespaces() ?? []) await world.shoots?.release(namespace);
  });
  it.each([
    ["the seed Secret deleted by hand", async (w: World, s: Shoot) => void (await w.kube.delete(Secrets, s.namespace, "ontap-svm-credentials"))],
    [
      "the seed Secret emptied",
      async (w: World, s: Shoot) =>
        void (await w.kube.mergePatch(Secrets, s.namespace, "ontap-svm-credentials", { data: { password: null, username: b64("") } })),
    ],
    [
      "the password changed on ONTAP by hand",
      async (w: World, s: Shoot) => {
        const host = (await w.extension(s))?.status?.providerStatus?.cluster as string;
        const admin = w.admins[w.sim.clusters.findIndex((c) => c.name === host)]!;
        await admin.setAccountPassword(svmName(s), usernameFor(s.namespace), "Drifted-Passw0rd-1234");
        w.knownSecrets.add("Drifted-Passw0rd-1234");
      },
    ],
  ])("repairs %s on the next reconcile", async (_what, breakIt) => {
    const world = opened();
    const shoot = await world.createShoot({ project: "rep", ...lifs(3) });
    await world.waitSucceeded(shoot);
    const before = await seedPassword(world, shoot);
    await breakIt(world, shoot);
    await world.reconcileNow(shoot);
    expect(await world.invariants([shoot])).toEqual([]);
    expect(await seedPassword(world, shoot)).not.toBe(before);
  });
});

describe("controller: MetroCluster", () => {
  it("creates no SVM anywhere while one cluster cannot answer the lookup, and converges once it is back", async () => {
    const world = await newWorld({ clusters: 2 });
    const down = world.admins[1]!;
    await down.addFault({ method: "GET", path: "^/api/svm/svms$", action: { type: "reset" } });
    const shoot = await world.createShoot({ project: "metro", ...lifs(4) });
    const failing = await world.waitFor(shoot, (e) => e.status?.lastOperation?.state === "Error", 20_000, "Error");
    expect(failing.status?.lastOperation?.description).toMatch(/cannot tell whether SVM .* exists: cluster sim-2.*will retry/);
    const states = await Promise.all(world.admins.map((a) => a.state()));
    expect(states.flatMap((s) => s.svms)).toHaveLength(0);
    const posts = (await Promise.all(world.admins.map((a) => a.calls()))).reduce((n, c) => n + (c["POST /api/svm/svms"] ?? 0), 0);
    expect(posts).toBe(0);

    await down.clearFaults();
    await world.waitSucceeded(shoot, 30_000);
    expect(await world.invariants([shoot])).toEqual([]);
  });
});

describe("controller: drop-in for the Go extension", () => {
  it("adopts the Go extension's legacy Secret once its password verifies, and moves it into the shoot namespace", async () => {
    const world = await newWorld({ clusters: 1, startController: false });
    const shoot = await world.createShoot({ project: "legacy", ...lifs(5) });
    const admin = world.admins[0]!;
    const svm = await admin.createSvmDirect({ name: svmName(shoot) });
    const legacyPassword = "Legacy-Passw0rd-from-Go";
    world.knownSecrets.add(legacyPassword);
    const created = await admin.rest("POST", "/api/security/accounts", {
      body: {
        name: shoot.name,
        owner: { uuid: svm.uuid },
        role: { name: "vsadmin" },
        applications: [{ application: "http", authentication_methods: ["password"] }],
        password: legacyPassword,
      },
    });
    expect(created.status).toBe(201);
    const legacyName = `${svmName(shoot)}-legacy--${shoot.name}-credentials`;
    await world.kube
      .create(Secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "kube-system" } })
      .catch(() => undefined);
    await world.kube.create(Secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: legacyName, namespace: "kube-system" },
      data: { username: b64(shoot.name), password: b64(legacyPassword) },
    });

    await world.startController();
    await world.waitSucceeded(shoot);
    expect(await seedPassword(world, shoot)).toBe(legacyPassword);
    expect(await world.kube.get(Secrets, "kube-system", legacyName)).toBeUndefined();
    expect(await world.invariants([shoot])).toEqual([]);
    const calls = await admin.calls();
    expect(calls["POST /api/security/authentication/password"] ?? 0).toBe(0);
    expect(calls["POST /api/svm/svms"] ?? 0).toBe(0);
  });
});

describe("controller: aggregates added to a cluster later (the Go extension's PR #89)", () => {
  it("assigns them to the existing SVM on the next reconcile, with one PATCH, and none once assigned", async () => {
    // The cluster's aggregate list is read on every reconcile here (max age 0): the default keeps it 5 minutes.
    const world = await newWorld({ startController: false });
    await world.startController({ config: { aggregateAssignment: { clusterListMaxAgeMs: 0 } } });
    const shoot = await world.createShoot({ project: "agg1", ...lifs(5) });
    await world.waitSucceeded(shoot);
    const placed = (await world.extension(shoot))?.status?.providerStatus?.cluster;
    const admin = world.admins[world.sim.clusters.findIndex((c) => c.name === placed)]!;
    const aggregatesOfSvm = async () =>
      ((await admin.state()).svms.find((v) => v.name === svmName(shoot)) as { aggregates: Array<{ name: string }> }).aggregates.map((a) => a.name);
    const patches = async () => (await admin.calls())["PATCH /api/svm/svms/{uuid}"] ?? 0;
    expect(await aggregatesOfSvm()).not.toContain("aggr_added_later");
    expect(await patches()).toBe(0);

    await admin.addAggregate("aggr_added_later");
    await world.reconcileNow(shoot);
    // The PATCH is a job: the SVM shows the aggregate once it ran.
    await expect.poll(aggregatesOfSvm, { timeout: 10_000 }).toContain("aggr_added_later");
    expect(await patches()).toBe(1);
    const events = await world.kube.list<{ reason?: string; message?: string }>(Events, shoot.namespace);
    expect(events.items.filter((e) => e.reason === "AggregatesAssigned").map((e) => e.message)).toEqual([expect.stringContaining("aggr_added_later")]);

    // Assigned: the next reconcile sends no PATCH.
    await world.reconcileNow(shoot);
    expect(await patches()).toBe(1);
    expect(await world.invariants([shoot])).toEqual([]);
  });
});
