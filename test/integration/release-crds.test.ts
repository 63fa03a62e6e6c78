import { beforeAll, describe, expect, it } from "vitest";
import { ManagedResources, Secrets } from "../../src/kube/resources.js";
import {
  MANAGED_RESOURCE_ORIGIN,
  MODE_ANNOTATION,
  MR_TRIDENT_CRDS,
  renderReleasedTridentCrds,
  renderTridentCrds,
  toManagedResourceObjects,
  TRIDENT_CRD_NAMES,
  TRIDENT_OPERATOR_CRD_NAMES,
} from "../../src/trident/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import { type MrObject, renderedObjects } from "../support/shoot-objects.js";
import { type Shoot, type World, worldPerFile } from "../support/world.js";

/**
 * An earlier version of this controller put all 17 of Trident's CRDs into `trident-crds`; today it holds the
 * operator's two, and Trident's installer owns the other 15. Dropping the 15 from the ManagedResource in one step
 * would make gardener-resource-manager delete them from the shoot, and with each CRD every Trident object of its
 * kind (the volumes' records). Through the real resource manager into a shoot API server, this proves the
 * release: the 15 are rendered once with `mode: Ignore`, the resource manager stops managing them, the next
 * rendering leaves them out, and the CRDs and a Trident object stay in the shoot throughout.
 */
const PROJECT = "rel";
const SHOOT = "r1";
const LIFS = { dataLifs: ["10.82.0.11"], managementLif: "10.82.0.10" };
const CRDS = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false };
const TRIDENT_VOLUMES = { group: "trident.netapp.io", version: "v1", plural: "tridentvolumes", kind: "TridentVolume", namespaced: true };

interface MrWithResources extends MrObject {
  status?: MrObject["status"] & { resources?: { kind?: string; name?: string }[] };
}

describe("the 15 Trident CRDs of an earlier trident-crds are released, not deleted, through the real gardener-resource-manager", () => {
  // The world opens before this block's beforeAll and closes (checking for leaked passwords) after its last test.
  const opened = worldPerFile({ shoot: { project: PROJECT, shoot: SHOOT, tridentOperator: false } });
  let world: World;
  let shoot: Shoot;
  const shootKube = () => world.shoot!.kube;
  const managedCrds = async () => {
    const mr = await world.kube.get<MrWithResources>(ManagedResources, shoot.namespace, MR_TRIDENT_CRDS);
    return (mr?.status?.resources ?? []).filter((r) => r.kind === "CustomResourceDefinition").map((r) => r.name as string).sort();
  };

  beforeAll(async () => {
    world = opened();
    shoot = await world.createShoot({ project: PROJECT, shoot: SHOOT, ...LIFS });
    await world.waitSucceeded(shoot, 120_000);
  }, 300_000);


  it("keeps every CRD and Trident object in the shoot while trident-crds shrinks from 17 CRDs to 2", { timeout: 240_000 }, async () => {
    // The state the earlier version left: its controller gone, trident-crds with all 17 CRDs, applied.
    await world.controller!.stop();
    const own = renderReleasedTridentCrds(TRIDENT_CRD_NAMES) as { metadata: { annotations?: Record<string, string> } }[];
    for (const crd of own) delete crd.metadata.annotations;
    const earlier = toManagedResourceObjects(
      { name: MR_TRIDENT_CRDS, keepObjects: true, objects: [...renderTridentCrds(), ...own] },
      { namespace: shoot.namespace, origin: MANAGED_RESOURCE_ORIGIN },
    );
    await world.kube.mergePatch(Secrets, shoot.namespace, earlier.secret.metadata.name, { data: earlier.secret.data, metadata: { annotations: earlier.secret.metadata.annotations } });
    await world.kube.mergePatch(ManagedResources, shoot.namespace, MR_TRIDENT_CRDS, { metadata: { annotations: earlier.managedResource.metadata.annotations } });
    const all = [...TRIDENT_OPERATOR_CRD_NAMES, ...TRIDENT_CRD_NAMES].sort();
    await eventually(async () => expect(await managedCrds()).toEqual(all), { timeoutMs: 90_000, intervalMs: 500 });
    for (const name of TRIDENT_CRD_NAMES) expect(await shootKube().get(CRDS, undefined, name), name).toBeDefined();

    // A Trident object of one of the 15 kinds: deleting its CRD would delete it.
    await eventually(
      async () => {
        await shootKube().create(TRIDENT_VOLUMES, {
          apiVersion: "trident.netapp.io/v1",
          kind: "TridentVolume",
          metadata: { name: "pvc-kept", namespace: "kube-system" },
          config: { name: "pvc-kept", size: "1073741824" },
        });
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // This controller takes over: the first pass renders the 15 with mode Ignore, a later one leaves them out.
    await world.startController();
    await world.reconcileNow(shoot, 120_000);
    await eventually(
      async () => {
        await world.reconcileNow(shoot, 60_000);
        expect(await managedCrds()).toEqual([...TRIDENT_OPERATOR_CRD_NAMES].sort());
        const mr = await world.kube.get<MrObject>(ManagedResources, shoot.namespace, MR_TRIDENT_CRDS);
        const rendered = await renderedObjects(world.kube, shoot.namespace, mr as MrObject);
        expect(rendered.map((o) => o.metadata.name).sort()).toEqual([...TRIDENT_OPERATOR_CRD_NAMES].sort());
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );

    // Every CRD and the Trident object are still in the shoot, the 15 no longer carrying the resource manager's marks.
    for (const name of TRIDENT_CRD_NAMES) {
      const crd = await shootKube().get<{ metadata: { annotations?: Record<string, string> } }>(CRDS, undefined, name);
      expect(crd, name).toBeDefined();
      expect(crd?.metadata.annotations?.[MODE_ANNOTATION], name).toBeUndefined();
      expect(crd?.metadata.annotations?.["resources.gardener.cloud/origin"], name).toBeUndefined();
    }
    expect(await shootKube().get(TRIDENT_VOLUMES, "kube-system", "pvc-kept")).toBeDefined();
  });
});
