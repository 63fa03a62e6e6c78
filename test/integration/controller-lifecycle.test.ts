import { usernameFor } from "../support/invariants.js";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { isExtensionReady, PROJECT_ANNOTATION } from "../../src/testenv/index.js";
import type { Extension } from "../../src/extension/types.js";
import { Clusters, Extensions, ManagedResources, Secrets } from "../../src/kube/resources.js";
import { authenticates } from "../support/chaos-state.js";
import { eventually } from "../support/kube-test-helpers.js";
import { createMetrics } from "../../src/metrics/index.js";
import { type Shoot, uniqueSuffix, type World, worldPerFile, worldPerTest } from "../support/world.js";

// Each shoot namespace gets its own shoot kube-apiserver and real gardener-resource-manager (two shoots of one
// project are two shoots): delete waits for the resource manager to remove the shoot's objects and its
// finalizers, migrate (keepObjects) leaves them in the shoot.

// Addresses of their own per project: the delete tests share one ONTAP, where an SVM kept by one (data
// volumes, Retain) still holds its LIFs, and an address is one interface's on a cluster.
const lifs = (n: number) => ({ dataLifs: [`10.20.${n}.11`, `10.20.${n}.12`], managementLif: `10.20.${n}.10` });
const svmName = (shoot: Shoot) => `p${shoot.projectId.replaceAll("-", "")}`;

interface OntapRecords {
  svms: { uuid?: string; name?: string }[];
  accounts: { name?: string; owner?: unknown }[];
  interfaces: { uuid?: string; name?: string }[];
}

/**
 * ONTAP's SVMs, accounts and LIFs on every cluster; with `since`, only those that were not there then (the
 * delete tests share one world: each looks at what it made, so an SVM another test kept is not counted).
 */
async function ontapWorld(w: World, since?: OntapRecords): Promise<OntapRecords> {
  const states = await Promise.all(w.admins.map((a) => a.state()));
  const key = (r: { uuid?: string; name?: string; owner?: unknown }) => `${r.uuid ?? ""}/${r.name ?? ""}/${JSON.stringify(r.owner ?? null)}`;
  const fresh = <T extends { uuid?: string; name?: string; owner?: unknown }>(now: T[], before?: T[]) => {
    const old = new Set((before ?? []).map(key));
    return now.filter((r) => !old.has(key(r)));
  };
  return {
    svms: fresh(states.flatMap((s) => s.svms), since?.svms),
    accounts: fresh(states.flatMap((s) => s.accounts), since?.accounts),
    interfaces: fresh(states.flatMap((s) => s.interfaces), since?.interfaces),
  };
}

describe("controller: delete", () => {
  // One world for the block: each test has a project of its own and looks only at the ONTAP objects it made
  // (`ontapWorld(world, baseline)`); no world-wide counter is asserted.
  const opened = worldPerFile({});
  let world: World;
  let baseline: OntapRecords;
  beforeEach(async () => {
    world = opened();
    baseline = await ontapWorld(world);
  });
  // Each test deletes its shoots: their shoot API servers need not wait for the block's end.
  afterEach(async () => {
    for (const namespace of world.shoots?.namespaces() ?? []) await world.shoots?.release(namespace);
  });

  it("removes the shoot's user and Secret, keeping the SVM for the project's other shoot and for data volumes", async () => {
    const a = await world.createShoot({ project: "del", ...lifs(1) });
    const b = await world.createShoot({ project: "del", ...lifs(1) });
    await Promise.all([world.waitSucceeded(a), world.waitSucceeded(b)]);

    await world.deleteShoot(a);
    await world.waitGone(a);
    let ontap = await ontapWorld(world, baseline);
    expect(ontap.svms.map((s) => s.name)).toEqual([svmName(a)]);
    expect(ontap.accounts.map((x) => x.name)).not.toContain(usernameFor(a.namespace));
    expect(ontap.accounts.map((x) => x.name)).toContain(usernameFor(b.namespace));
    expect(await world.invariants([{ ...a, deleted: true }, b])).toEqual([]);

    const hostName = (await world.extension(b))?.status?.providerStatus?.cluster as string;
    const host = world.admins[world.sim.clusters.findIndex((c) => c.name === hostName)]!;
    await host.setVolumes(svmName(b), 2);
    await world.deleteShoot(b);
    await world.waitGone(b);
    ontap = await ontapWorld(world, baseline);
    // the last user is gone, but the SVM holds data: it stays
    expect(ontap.svms.map((s) => s.name)).toEqual([svmName(b)]);
    expect(ontap.accounts.filter((x) => x.name === usernameFor(b.namespace))).toHaveLength(0);
    expect(await world.kube.get(Secrets, b.namespace, "ontap-svm-credentials")).toBeUndefined();
  });

  it("deletes LIFs and the SVM with its last user when no data volume is left", async () => {
    const shoot = await world.createShoot({ project: "last", ...lifs(2) });
    await world.waitSucceeded(shoot);
    expect((await ontapWorld(world, baseline)).interfaces.length).toBeGreaterThan(0);
    await world.deleteShoot(shoot);
    await world.waitGone(shoot);
    const ontap = await ontapWorld(world, baseline);
    expect(ontap.svms).toHaveLength(0);
    expect(ontap.interfaces).toHaveLength(0);
    expect((await world.kube.list(ManagedResources, shoot.namespace)).items).toHaveLength(0);
    expect(await world.invariants([{ ...shoot, deleted: true }])).toEqual([]);
  });

  it("tears down by what the status recorded when the providerConfig and the project annotation went bad", async () => {
    const shoot = await world.createShoot({ project: "badin", ...lifs(3) });
    await world.waitSucceeded(shoot);
    // Both inputs break after creation: the Extension's providerConfig and the Cluster's project annotation.
    await world.kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { spec: { providerConfig: { svmIpaddresses: { managementLif: "not-an-address" } } } });
    await world.kube.mergePatch(Clusters, "", shoot.namespace, { spec: { shoot: { metadata: { annotations: { [PROJECT_ANNOTATION]: null } } } } });
    await world.waitFor(shoot, (e) => e.status?.lastOperation?.state === "Failed", 30_000, "Failed on the bad providerConfig");
    await world.deleteShoot(shoot);
    await world.waitGone(shoot);
    // The user (whose password the shoot owner could read) and the SVM it alone used are gone, not left behind.
    const ontap = await ontapWorld(world, baseline);
    expect(ontap.accounts.map((x) => x.name)).not.toContain(usernameFor(shoot.namespace));
    expect(ontap.svms).toHaveLength(0);
    expect(await world.invariants([{ ...shoot, deleted: true }])).toEqual([]);
  });

  it("keeps the SVM under svmDeletionPolicy Retain", async () => {
    // A second seed's controller in the same world, with its own class and the policy: it alone serves this shoot.
    const extensionClass = `retain-${uniqueSuffix()}`;
    await world.startController({ config: { extensionClass, svmDeletionPolicy: "Retain" }, metrics: createMetrics() });
    const shoot = await world.createShoot({ project: "keep", ...lifs(4), extensionClass });
    await world.waitSucceeded(shoot);
    await world.deleteShoot(shoot);
    await world.waitGone(shoot);
    const ontap = await ontapWorld(world, baseline);
    expect(ontap.svms.map((s) => s.name)).toEqual([svmName(shoot)]);
    expect(ontap.accounts.map((x) => x.name)).not.toContain(usernameFor(shoot.namespace));
  });

  it("force-deletes seed-side state without touching ONTAP", async () => {
    onTestFinished(() => Promise.all(world.admins.map((a) => a.clearFaults())).then(() => undefined));
    const shoot = await world.createShoot({ project: "force", ...lifs(5) });
    await world.waitSucceeded(shoot);
    await world.annotate(shoot, { "confirmation.gardener.cloud/force-deletion": "true" });
    await world.admins[0]!.addFault({ path: "^/api/", action: { type: "reset" } });
    await world.admins[1]!.addFault({ path: "^/api/", action: { type: "reset" } });
    await world.deleteShoot(shoot);
    await world.waitGone(shoot);
    expect(await world.kube.get(Secrets, shoot.namespace, "ontap-svm-credentials")).toBeUndefined();
    // Force-delete issues every ManagedResource delete without waiting for the resource manager: the real one
    // may still be removing the shoot's objects behind its finalizer when the Extension is gone (the stand-in,
    // which has no finalizer, hid that), so each left is terminating, and all of them go.
    const left = (await world.kube.list<{ metadata: { name: string; deletionTimestamp?: string } }>(ManagedResources, shoot.namespace)).items;
    for (const mr of left) expect(mr.metadata.deletionTimestamp, `${mr.metadata.name} is being deleted`).toBeDefined();
    await eventually(async () => expect((await world.kube.list(ManagedResources, shoot.namespace)).items).toHaveLength(0), { timeoutMs: 90_000, intervalMs: 300 });
  });
});

describe("controller: migrate and restore", () => {
  // Its own world: it counts every password write on ONTAP.
  const newWorld = worldPerTest();
  it("carries the credentials to the new seed: migrate keeps the Secret and names it in status.resources; restore proves it and rotates nothing, the shoot's Trident keeps working", async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "mig", ...lifs(6) });
    await world.waitSucceeded(shoot);
    const before = await ontapWorld(world);
    const seedSecretBefore = await world.kube.get<SecretObject>(Secrets, shoot.namespace, "ontap-svm-credentials");
    expect((await world.extension(shoot))?.status?.resources).toEqual([CREDENTIALS_REFERENCE]);

    await world.annotate(shoot, { "gardener.cloud/operation": "migrate" });
    const migrated = await world.waitFor(
      shoot,
      (e) => e.status?.lastOperation?.type === "Migrate" && e.status.lastOperation.state === "Succeeded" && !e.metadata.annotations?.["gardener.cloud/operation"],
      20_000,
      "Migrate Succeeded",
    );
    expect(migrated.metadata.finalizers ?? []).toEqual([]);
    expect((await world.kube.list(ManagedResources, shoot.namespace)).items).toHaveLength(0);
    // Kept for gardenlet, which reads it after Migrate: a reference, never the password, in status.
    expect(migrated.status?.resources).toEqual([CREDENTIALS_REFERENCE]);
    expect(JSON.stringify(migrated.status)).not.toContain(decode(seedSecretBefore!.data!.password!));
    const after = await ontapWorld(world);
    expect(after.svms).toEqual(before.svms);
    expect(after.accounts.map((a) => a.name).sort()).toEqual(before.accounts.map((a) => a.name).sort());

    // gardenlet cannot run here (it needs a garden cluster, a Shoot and a second seed): the test plays its part of
    // the move, as pkg/utils/gardener/shootstate and pkg/extensions' RestoreExtensionWithDeployFunction do it.
    const shootState = await persistShootState(world, shoot);
    await world.kube.delete(Extensions, shoot.namespace, shoot.extensionName);
    await world.kube.delete(Secrets, shoot.namespace, "ontap-svm-credentials");
    await world.waitGone(shoot, 10_000);
    const passwordWritesBefore = await ontapPasswordWrites(world);
    await restoreFromShootState(world, shoot, shootState);
    await world.waitFor(
      shoot,
      (e) => isExtensionReady(e) && e.status?.lastOperation?.type === "Restore",
      30_000,
      "Restore Succeeded, ready by Gardener's check",
    );

    expect(await ontapPasswordWrites(world)).toBe(passwordWritesBefore);
    const seedSecretAfter = await world.kube.get<SecretObject>(Secrets, shoot.namespace, "ontap-svm-credentials");
    expect(decode(seedSecretAfter!.data!.password!)).toBe(decode(seedSecretBefore!.data!.password!));
    // The shoot's Trident Secret (kept in the shoot through the move) still authenticates at the management LIF.
    const side = await world.shootOf(shoot);
    const tridentSecret = (await side.kube.list<SecretObject>(Secrets, "kube-system")).items.find((s) => s.metadata.name.endsWith(`${shoot.name}-credentials`));
    expect(tridentSecret, "the shoot's Trident credentials Secret").toBeDefined();
    const hostName = (await world.extension(shoot))?.status?.providerStatus?.cluster as string;
    const host = world.admins[world.sim.clusters.findIndex((c) => c.name === hostName)]!;
    expect(await authenticates(host, shoot.managementLif, decode(tridentSecret!.data!.username!), decode(tridentSecret!.data!.password!))).toBe(true);
    expect(await world.invariants([shoot])).toEqual([]);
  });
});

const CREDENTIALS_REFERENCE = { name: "svm-credentials", resourceRef: { apiVersion: "v1", kind: "Secret", name: "ontap-svm-credentials" } };
const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

interface SecretObject {
  metadata: Record<string, unknown> & { name: string };
  data?: Record<string, string>;
  type?: string;
}
interface ShootStateCopy {
  resources: NonNullable<NonNullable<Extension["status"]>["resources"]>;
  objects: SecretObject[];
}

/** ONTAP calls that set a password: account creates and password changes, on every cluster. */
async function ontapPasswordWrites(world: World): Promise<number> {
  const calls = await Promise.all(world.admins.map((a) => a.calls()));
  return calls.flatMap((c) => Object.entries(c)).filter(([call]) => /^(POST|PATCH) \/api\/security\/(accounts|authentication\/password)/.test(call)).reduce((n, [, count]) => n + count, 0);
}

/** gardenlet's `shootstate.Deploy` after Migrate: the Extension's status.resources and each object they name, system metadata dropped. */
async function persistShootState(world: World, shoot: Shoot): Promise<ShootStateCopy> {
  const resources = (await world.extension(shoot))?.status?.resources ?? [];
  const objects: SecretObject[] = [];
  for (const r of resources) {
    expect(r.resourceRef.kind).toBe("Secret");
    const obj = await world.kube.get<SecretObject>(Secrets, shoot.namespace, r.resourceRef.name);
    expect(obj, `gardenlet reads ${r.resourceRef.name} after Migrate`).toBeDefined();
    const { uid, resourceVersion, creationTimestamp, managedFields, ownerReferences, generation, ...metadata } = obj!.metadata;
    objects.push({ ...obj!, metadata: { ...metadata, name: obj!.metadata.name } });
  }
  return { resources, objects };
}

/**
 * gardenlet's `RestoreExtensionWithDeployFunction` on the new seed: the Extension created with `wait-for-state`,
 * its status.resources restored, the objects they name re-created, then the `restore` annotation.
 */
async function restoreFromShootState(world: World, shoot: Shoot, state: ShootStateCopy): Promise<void> {
  await world.kube.create(Extensions, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: shoot.extensionName, namespace: shoot.namespace, annotations: { "gardener.cloud/operation": "wait-for-state" } },
    spec: {
      type: "ontap",
      class: world.config.extensionClass,
      providerConfig: { apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1", kind: "TridentConfig", svmIpaddresses: { managementLif: shoot.managementLif, dataLifs: shoot.dataLifs } },
    },
  });
  // The controller must leave an Extension that waits for its state alone: a reconcile now finds no Secret and rotates.
  await eventually(async () => expect(world.logs.some((l) => l.includes("wait-for-state") && l.includes(shoot.namespace))).toBe(true), { timeoutMs: 15_000, intervalMs: 100 });
  await world.kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { status: { resources: state.resources } }, { subresource: "status" });
  for (const obj of state.objects) await world.kube.create(Secrets, { ...obj, metadata: { ...obj.metadata, namespace: shoot.namespace } });
  await world.annotate(shoot, { "gardener.cloud/operation": "restore" });
}
