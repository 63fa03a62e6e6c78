import { describe, expect, it } from "vitest";
import { ManagedResources, Namespaces } from "../../src/kube/resources.js";
import { worldPerTest } from "../support/world.js";

/**
 * Trident's ManagedResources as components: reconcile deploys what is rendered and destroys what is not;
 * migrate destroys with keepObjects and is done only when they are gone. A finalizer on a ManagedResource
 * stands in for gardener-resource-manager still deleting its shoot objects (the fake resource manager
 * deletes nothing, so without one a deletion would be instant and prove nothing).
 */
const newWorld = worldPerTest();
const HOLD = "test.ontap.extensions.gardener.cloud/resource-manager-still-deleting";

interface Mr {
  metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] };
  spec: { keepObjects?: boolean };
}

describe("ManagedResources as components", () => {
  it("migrate switches every ManagedResource to keepObjects, waits until they are gone, and only then reports Succeeded", { timeout: 60_000 }, async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "mig", dataLifs: ["10.81.0.11"], managementLif: "10.81.0.10" });
    await world.waitSucceeded(shoot);
    await world.kube.mergePatch(ManagedResources, shoot.namespace, "trident-init", { metadata: { finalizers: [HOLD] } });

    await world.annotate(shoot, { "gardener.cloud/operation": "migrate" });
    // Give it several reconciles: while trident-init is still being deleted, migrate is not done.
    await new Promise((r) => setTimeout(r, 2500));
    const during = await world.extension(shoot);
    expect(during?.status?.lastOperation?.type === "Migrate" && during.status.lastOperation.state === "Succeeded").toBe(false);
    expect(during?.metadata.annotations?.["gardener.cloud/operation"]).toBe("migrate");
    const held = await world.kube.get<Mr>(ManagedResources, shoot.namespace, "trident-init");
    expect(held?.metadata.deletionTimestamp).toBeDefined();
    expect(held?.spec.keepObjects).toBe(true);

    await world.kube.mergePatch(ManagedResources, shoot.namespace, "trident-init", { metadata: { finalizers: null } });
    await world.waitFor(
      shoot,
      (e) => e.status?.lastOperation?.type === "Migrate" && e.status.lastOperation.state === "Succeeded" && !e.metadata.annotations?.["gardener.cloud/operation"],
      30_000,
      "Migrate Succeeded",
    );
    expect((await world.kube.list(ManagedResources, shoot.namespace)).items).toEqual([]);
  });

  it("destroys a ManagedResource that is no longer rendered (trident-cwnp when the configuration turns it off)", { timeout: 60_000 }, async () => {
    const world = await newWorld();
    const shoot = await world.createShoot({ project: "cwnp", dataLifs: ["10.82.0.11"], managementLif: "10.82.0.10" });
    await world.waitSucceeded(shoot);
    expect(await world.kube.get(ManagedResources, shoot.namespace, "trident-cwnp")).toBeDefined();

    await world.controller!.stop();
    world.config.clusterwideNetworkPolicy = false;
    await world.startController();
    await world.reconcileNow(shoot);
    expect(await world.kube.get(ManagedResources, shoot.namespace, "trident-cwnp")).toBeUndefined();
    expect((await world.kube.list<Mr>(ManagedResources, shoot.namespace)).items.map((m) => m.metadata.name).sort()).toEqual([
      "extension-ontap-shoot",
      "trident-backends",
      "trident-crds",
      "trident-init",
      "trident-svm-secret",
    ]);
    expect(await world.invariants([{ ...shoot, firewall: false }])).toEqual([]);
  });

  it("follows the Go extension's rule without configuration: trident-cwnp once the seed has a namespace firewall", { timeout: 60_000 }, async () => {
    const world = await newWorld({ startController: false });
    world.config.clusterwideNetworkPolicy = undefined;
    // The namespace is cluster-wide and cannot be deleted again (no namespace controller runs here); the
    // other tests configure the policy explicitly, so they never look at it.
    expect(await world.kube.get(Namespaces, undefined, "firewall")).toBeUndefined();
    await world.startController();
    const shoot = await world.createShoot({ project: "gorule", dataLifs: ["10.83.0.11"], managementLif: "10.83.0.10" });
    await world.waitSucceeded(shoot);
    expect(await world.kube.get(ManagedResources, shoot.namespace, "trident-cwnp")).toBeUndefined();

    await world.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: "firewall" } });
    // A new process reads the seed's namespaces afresh (a running one re-reads them within a minute).
    await world.controller!.stop();
    await world.startController();
    await world.reconcileNow(shoot);
    expect(await world.kube.get(ManagedResources, shoot.namespace, "trident-cwnp")).toBeDefined();
    expect(await world.invariants([shoot])).toEqual([]);
  });
});
