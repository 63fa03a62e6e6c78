import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Clusters } from "../../src/kube/resources.js";
import { imageNodeFlags, jsonKiB, metalCloudProfile, metalSeed, PROJECT_ANNOTATION, realisticClusterObject, withOldSpaceMiB } from "../../src/testenv/index.js";
import { type ControllerProcess, spawnController } from "../support/controller-process.js";
import { writeControllerConfig } from "../../src/testenv/controller-config.js";
import { testEnv } from "../support/kube-test-helpers.js";
import { createWorld, uniqueSuffix, type World } from "../support/world.js";

/**
 * A seed of realistic size: gardenlet's Clusters embed the whole CloudProfile, Seed and Shoot, about 100 KiB
 * each on a metal-stack landscape (src/testenv/gardener-objects.ts). The controller, as its own process with
 * the image's node flags, must start against such a seed and reconcile a shoot. Before its Cluster cache kept
 * only what a reconcile reads, the first list held every Cluster whole and the process died at start with
 * "JavaScript heap out of memory", on every start.
 *
 * Cheap on purpose: the image's flags with a smaller old space (LARGE_SEED_OLD_SPACE_MIB, default 64 MiB instead
 * of the image's 192) and a proportionally smaller seed (LARGE_SEED_CLUSTERS, default 200 Clusters of 101 KiB,
 * 20 MiB of JSON) give the failure 1,000 Clusters give with the image's 192 MiB. Measured (the controller under
 * tsx, as spawnController runs it): before the fix 200 x 101 KiB at 64 MiB died at start with "JavaScript heap out
 * of memory"; after it the controller reconciled with 39 MiB of heap used. With the built controller and the
 * image's own flags, `npx tsx bench/startup-heap.ts` (1,000 x 101 KiB): before, died after 10 s (heap out of
 * memory; with a 2 GiB old space it held 244 MiB); after, started with 26 MiB used (24 MiB with no Clusters).
 */
const CLUSTERS = Number(process.env.LARGE_SEED_CLUSTERS ?? 200);
const OLD_SPACE_MIB = Number(process.env.LARGE_SEED_OLD_SPACE_MIB ?? 64);

let world: World | undefined;
let controller: ControllerProcess | undefined;
const created: string[] = [];

afterAll(async () => {
  await controller?.kill("SIGKILL");
  if (world) {
    const kube = world.kube;
    await inParallel(created, 16, (name) => kube.delete(Clusters, undefined, name).then(() => undefined));
    await world.close();
  }
}, 300_000);

async function inParallel<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

describe("a seed of realistic size", () => {
  it(`starts with the image's node flags (old space ${OLD_SPACE_MIB} MiB) against ${CLUSTERS} Clusters of a metal-stack seed and reconciles a shoot`, { timeout: 600_000 }, async () => {
    world = await createWorld({ clusters: 1, startController: false });
    const kube = world.kube;
    const prefix = `bulk-${uniqueSuffix()}`;
    const cloudProfile = metalCloudProfile();
    const seed = metalSeed();
    const sample = realisticClusterObject({ namespace: `${prefix}-0`, shootName: "s0", project: prefix, shootAnnotations: { [PROJECT_ANNOTATION]: "p" } }, { cloudProfile, seed });
    const clusterKiB = jsonKiB(sample);
    const startedCreate = Date.now();
    await inParallel(
      Array.from({ length: CLUSTERS }, (_, i) => i),
      16,
      async (i) => {
        const name = `${prefix}-${i}`;
        await kube.create(Clusters, realisticClusterObject({ namespace: name, shootName: `s${i}`, project: prefix, shootAnnotations: { [PROJECT_ANNOTATION]: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` } }, { cloudProfile, seed }));
        created.push(name);
      },
    );
    process.stderr.write(`large seed: ${CLUSTERS} Clusters of ${clusterKiB.toFixed(0)} KiB created in ${((Date.now() - startedCreate) / 1000).toFixed(0)} s\n`);

    const dir = mkdtempSync(path.join(tmpdir(), "ontap-large-seed-"));
    const configPath = writeControllerConfig(dir, world.sim.clusters, {
      extensionClass: world.config.extensionClass,
      credentialsVerification: { managementLifUrlsFile: world.sim.lifEndpointsFile },
    });
    const nodeArgs = withOldSpaceMiB(imageNodeFlags(), OLD_SPACE_MIB);
    controller = await spawnController({ configPath, kubeconfig: testEnv().kubeconfigPath, dir, name: "large-seed", nodeArgs });
    const exited = controller.exited.then((code) => {
      const log = readFileSync(controller!.logFile, "utf8");
      throw new Error(`the controller exited (code ${code}) while starting against ${CLUSTERS} Clusters of ${clusterKiB.toFixed(0)} KiB with node ${nodeArgs.join(" ")}: ${log.includes("heap out of memory") ? "JavaScript heap out of memory" : log.slice(-800)}`);
    });

    const shoot = await world.createShoot({ project: "large", dataLifs: ["10.31.0.11"], managementLif: "10.31.0.10" });
    await Promise.race([world.waitSucceeded(shoot, 240_000), exited]);
    expect(await world.invariants([shoot])).toEqual([]);
    // Still up after the reconcile: a process that only died later would not have answered.
    expect(controller.proc.exitCode).toBeNull();
    expect(await controller.metric("reconciles_total")).toBeGreaterThan(0);
    const heapMiB = (await controller.metric("nodejs_heap_size_used_bytes")) / 1048576;
    process.stderr.write(`large seed: controller heap used after the reconcile ${heapMiB.toFixed(0)} MiB (old space limit ${OLD_SPACE_MIB} MiB)\n`);
  });
});
