import { afterEach, describe, expect, it } from "vitest";
import { createWorld, type World } from "../support/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("controller: a shoot's storage", () => {
  it("reconciles a new shoot to Succeeded, with every invariant holding and the annotation consumed", async () => {
    world = await createWorld();
    const shoot = await world.createShoot({ project: "alpha", dataLifs: ["10.10.0.11", "10.10.0.12"], managementLif: "10.10.0.10" });
    const ext = await world.waitSucceeded(shoot);
    expect(ext.metadata.finalizers).toContain("extensions.gardener.cloud/ontap");
    expect(ext.status?.providerStatus).toMatchObject({ svmName: `p${shoot.projectId.replaceAll("-", "")}`, user: shoot.name });
    expect(await world.invariants([shoot])).toEqual([]);
  });
});
