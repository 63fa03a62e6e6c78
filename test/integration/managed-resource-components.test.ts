import { beforeAll, describe, expect, it } from "vitest";
import { installTridentOwnCrds } from "../../src/testenv/trident-operator.js";
import { ManagedResources, Namespaces } from "../../src/kube/resources.js";
import { isManagedResourceHealthy, MANAGED_RESOURCE_ORIGIN } from "../../src/trident/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import { inShoot, type MrObject, objectsOf, type ShootObject } from "../support/shoot-objects.js";
import { type Shoot, type World, worldPerFile } from "../support/world.js";

/**
 * Trident's ManagedResources as components, through the real gardener-resource-manager into a shoot API
 * server: reconcile deploys what is rendered and destroys what is not (and the resource manager removes its
 * objects from the shoot); migrate destroys with keepObjects, every object stays in the shoot, and migrate is
 * done only once the ManagedResources are gone. One world and one shoot for the file, the steps in order (a
 * shoot API server and a resource manager cost seconds of both cores); each starts from what the last left.
 */
const HOLD = "test.ontap.extensions.gardener.cloud/resource-manager-still-deleting";
const PROJECT = "comp";
const SHOOT = "c1";
const LIFS = { dataLifs: ["10.81.0.11"], managementLif: "10.81.0.10" };
const CWNP = "trident-cwnp";

describe("ManagedResources as components, through the real gardener-resource-manager", () => {
  // The world opens before this block's beforeAll and closes (checking for leaked passwords) after its last test.
  const opened = worldPerFile({ shoot: { project: PROJECT, shoot: SHOOT, tridentOperator: false } });
  let world: World;
  let shoot: Shoot;
  const shootKube = () => world.shoot!.kube;
  const managedResources = async () =>
    (await world.kube.list<MrObject>(ManagedResources, shoot.namespace, { labelSelector: `origin=${MANAGED_RESOURCE_ORIGIN}` })).items;
  /** Every ManagedResource applied and healthy as gardener-resource-manager reports it. */
  const allHealthy = () =>
    eventually(
      async () => {
        const items = await managedResources();
        expect(items.length).toBeGreaterThan(0);
        for (const mr of items) expect(isManagedResourceHealthy(mr).healthy, `${mr.metadata.name}: ${isManagedResourceHealthy(mr).reason}`).toBe(true);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  const expectInShoot = (objects: ShootObject[], present: boolean) =>
    eventually(
      async () => {
        for (const obj of objects) expect(await inShoot(shootKube(), obj), `${obj.kind} ${obj.metadata.name} in the shoot`).toBe(present);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

  beforeAll(async () => {
    world = opened();
    // Trident's operator installs its own CRDs (TridentBackendConfig among them); none runs here.
    await installTridentOwnCrds(shootKube());
    shoot = await world.createShoot({ project: PROJECT, shoot: SHOOT, ...LIFS });
    await world.waitSucceeded(shoot, 120_000);
    await allHealthy();
  }, 300_000);


  it("destroys a ManagedResource that is no longer rendered (trident-cwnp when the configuration turns it off), and its policy leaves the shoot", { timeout: 180_000 }, async () => {
    const policy = await objectsOf(world.kube, shoot.namespace, CWNP);
    expect(policy.map((o) => o.kind)).toEqual(["ClusterwideNetworkPolicy"]);
    await expectInShoot(policy, true);

    await world.controller!.stop();
    world.config.clusterwideNetworkPolicy = false;
    await world.startController();
    await world.reconcileNow(shoot, 120_000);
    expect(await world.kube.get(ManagedResources, shoot.namespace, CWNP)).toBeUndefined();
    expect((await managedResources()).map((m) => m.metadata.name).sort()).toEqual([
      "extension-ontap-shoot",
      "trident-backends",
      "trident-crds",
      "trident-init",
      "trident-svm-secret",
    ]);
    // keepObjects false: gardener-resource-manager deleted the policy from the shoot before it let the ManagedResource go.
    await expectInShoot(policy, false);
    expect(await world.invariants([{ ...shoot, firewall: false }])).toEqual([]);
  });

  it("follows the Go extension's rule without configuration: trident-cwnp once the seed has a namespace firewall, and the policy arrives in the shoot", { timeout: 180_000 }, async () => {
    await world.controller!.stop();
    world.config.clusterwideNetworkPolicy = undefined;
    // The namespace is cluster-wide and cannot be deleted again (no namespace controller runs here); the
    // other tests configure the policy explicitly, so they never look at it.
    expect(await world.kube.get(Namespaces, undefined, "firewall")).toBeUndefined();
    await world.startController();
    await world.reconcileNow(shoot, 120_000);
    expect(await world.kube.get(ManagedResources, shoot.namespace, CWNP)).toBeUndefined();

    await world.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: "firewall" } });
    // A new process reads the seed's namespaces afresh (a running one re-reads them within a minute).
    await world.controller!.stop();
    await world.startController();
    await world.reconcileNow(shoot, 120_000);
    expect(await world.kube.get(ManagedResources, shoot.namespace, CWNP)).toBeDefined();
    await expectInShoot(await objectsOf(world.kube, shoot.namespace, CWNP), true);
    await allHealthy();
    expect(await world.invariants([shoot])).toEqual([]);
  });

  it("migrate switches every ManagedResource to keepObjects, waits until they are gone, only then reports Succeeded, and leaves every object in the shoot", { timeout: 180_000 }, async () => {
    const objects = (await Promise.all((await managedResources()).map((mr) => objectsOf(world.kube, shoot.namespace, mr.metadata.name)))).flat();
    expect(objects.length).toBeGreaterThan(0);
    // gardener-resource-manager lets a ManagedResource go within a moment; this finalizer holds trident-init for as
    // long as the test needs to see that migrate waits (as it would for a resource manager still releasing).
    // A merge patch replaces the whole list: the resource manager's own finalizer is kept beside it. Its status
    // writes move the resourceVersion meanwhile, so a conflict is read again and retried, as any client does.
    await eventually(
      async () => {
        const mr = await world.kube.get<MrObject & { metadata: { resourceVersion?: string } }>(ManagedResources, shoot.namespace, "trident-init");
        expect(mr?.metadata.finalizers).toContain("resources.gardener.cloud/gardener-resource-manager");
        await world.kube.mergePatch(ManagedResources, shoot.namespace, "trident-init", {
          metadata: { resourceVersion: mr!.metadata.resourceVersion, finalizers: [...(mr!.metadata.finalizers ?? []), HOLD] },
        });
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );

    await world.annotate(shoot, { "gardener.cloud/operation": "migrate" });
    // Several reconciles: while trident-init is still being deleted, migrate is not done.
    const held = await eventually(
      async () => {
        const mr = await world.kube.get<MrObject & { spec: { keepObjects?: boolean } }>(ManagedResources, shoot.namespace, "trident-init");
        expect(mr?.metadata.deletionTimestamp).toBeDefined();
        return mr!;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(held.spec.keepObjects).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    const during = await world.extension(shoot);
    expect(during?.status?.lastOperation?.type === "Migrate" && during.status.lastOperation.state === "Succeeded").toBe(false);
    expect(during?.metadata.annotations?.["gardener.cloud/operation"]).toBe("migrate");
    expect(await world.kube.get(ManagedResources, shoot.namespace, "trident-init")).toBeDefined();

    await eventually(
      async () => {
        const mr = await world.kube.get<MrObject & { metadata: { resourceVersion?: string } }>(ManagedResources, shoot.namespace, "trident-init");
        await world.kube.mergePatch(ManagedResources, shoot.namespace, "trident-init", {
          metadata: { resourceVersion: mr!.metadata.resourceVersion, finalizers: (mr!.metadata.finalizers ?? []).filter((f) => f !== HOLD) },
        });
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    await world.waitFor(
      shoot,
      (e) => e.status?.lastOperation?.type === "Migrate" && e.status.lastOperation.state === "Succeeded" && !e.metadata.annotations?.["gardener.cloud/operation"],
      60_000,
      "Migrate Succeeded",
    );
    expect((await world.kube.list(ManagedResources, shoot.namespace)).items).toEqual([]);
    // keepObjects: the resource manager released everything and deleted nothing from the shoot.
    await expectInShoot(objects, true);
  });
});
