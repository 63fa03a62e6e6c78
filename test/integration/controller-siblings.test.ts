import { describe, expect, it } from "vitest";
import { Events, Extensions } from "../../src/kube/resources.js";
import { createMetrics } from "../../src/metrics/index.js";
import { svmNameFor } from "../../src/ontap-extension/plan.js";
import { projectIdFor, type World, worldPerTest } from "../support/world.js";

/**
 * Shoots of one metal-stack project share an SVM and its LIFs. With the periodic re-check on (resync every
 * 400 ms), siblings whose providerConfigs disagree must not flap the LIFs (the simulator's own call log
 * shows no write at all after the first shoot converged), the shoot that lost is told what to set, and
 * siblings that agree both converge. Two controllers of two seeds, listing the clusters in opposite order,
 * race to create one project's SVM and must end with one.
 */

// Each shoot namespace gets its own shoot kube-apiserver and real gardener-resource-manager (siblings of one
// project are separate shoots); the assertions are about the shared SVM and LIFs on ONTAP.
const world = worldPerTest();

/** POST/PATCH/DELETE requests the simulators answered, from their own call logs. */
async function ontapWrites(w: World): Promise<number> {
  let writes = 0;
  for (const admin of w.admins) {
    for (const [call, count] of Object.entries(await admin.calls())) {
      if (/^(POST|PATCH|DELETE) \/api\//.test(call)) writes += count;
    }
  }
  return writes;
}

async function lifAddresses(w: World, svmName: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const admin of w.admins) {
    const state = await admin.state();
    const svm = state.svms.find((s) => s.name === svmName);
    if (!svm) continue;
    for (const lif of state.interfaces) {
      if ((lif.svm as { uuid?: string } | undefined)?.uuid === svm.uuid) out[lif.name as string] = (lif.ip as { address: string }).address;
    }
  }
  return out;
}

const reconciles = async (w: World) =>
  (await w.metrics.reconcilesTotal.get()).values.reduce((sum, v) => sum + v.value, 0);

describe("sibling shoots of one project", () => {
  it("with different addresses: the LIF on ONTAP wins, nothing flaps across resyncs, the other shoot is told what to set", async () => {
    const w = await world({ clusters: 1, resyncMs: 400 });
    const first = await w.createShoot({ project: "sib", dataLifs: ["10.40.0.11"], managementLif: "10.40.0.10" });
    await w.waitSucceeded(first, 60_000);
    const second = await w.createShoot({ project: "sib", dataLifs: ["10.40.9.11"], managementLif: "10.40.0.10" });
    const failed = await w.waitFor(second, (e) => e.status?.lastOperation?.state === "Failed", 60_000, "Failed");
    expect(failed.status?.lastError?.codes).toContain("ERR_CONFIGURATION_PROBLEM");
    const told = failed.status?.lastError?.description ?? "";
    expect(told).toContain("svmIpaddresses.dataLifs[0] is 10.40.9.11 but LIF datalif+0 has 10.40.0.11");
    expect(told).toContain("set svmIpaddresses.dataLifs[0]: 10.40.0.11");
    const events = await w.kube.list<{ type: string; message: string }>(Events, second.namespace);
    expect(events.items.some((e) => e.type === "Warning" && e.message.includes("LIF datalif+0 has 10.40.0.11"))).toBe(true);

    const writesBefore = await ontapWrites(w);
    const reconcilesBefore = await reconciles(w);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await reconciles(w)).toBeGreaterThan(reconcilesBefore + 4);
    expect(await ontapWrites(w)).toBe(writesBefore);
    const svmName = svmNameFor(projectIdFor("sib"));
    expect(await lifAddresses(w, svmName)).toEqual({ "datalif+0": "10.40.0.11", managementlif: "10.40.0.10" });
    expect((await w.extension(first))?.status?.lastOperation?.state).toBe("Succeeded");

    // The fix the message named converges the second shoot.
    await w.kube.mergePatch(
      Extensions,
      second.namespace,
      second.extensionName,
      { spec: { providerConfig: { svmIpaddresses: { managementLif: "10.40.0.10", dataLifs: ["10.40.0.11"] } } } },
    );
    await w.waitSucceeded(second, 60_000);
    expect(await w.invariants([first, { ...second, dataLifs: ["10.40.0.11"] }])).toEqual([]);
  });

  it("with equal addresses: both converge and resyncs write nothing", async () => {
    const w = await world({ clusters: 1, resyncMs: 400 });
    const lifs = { dataLifs: ["10.41.0.11", "10.41.0.12"], managementLif: "10.41.0.10" };
    const a = await w.createShoot({ project: "same", ...lifs });
    const b = await w.createShoot({ project: "same", ...lifs });
    await Promise.all([w.waitSucceeded(a, 60_000), w.waitSucceeded(b, 60_000)]);
    const writesBefore = await ontapWrites(w);
    const reconcilesBefore = await reconciles(w);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await reconciles(w)).toBeGreaterThan(reconcilesBefore + 4);
    expect(await ontapWrites(w)).toBe(writesBefore);
    expect(await w.invariants([a, b])).toEqual([]);
  });
});

describe("two seeds, one ONTAP", () => {
  it("two controllers listing the clusters in opposite order create one project's SVM once", async () => {
    const w = await world({ clusters: 2, startController: false });
    // Both creates are in flight before either lands: each controller has looked and found nothing.
    for (const admin of w.admins) await admin.addFault({ method: "POST", path: "^/api/svm/svms$", count: 1, action: { type: "delay", ms: 1500 } });
    const otherClass = `${w.config.extensionClass}-b`;
    await w.startController();
    await w.startController({ metrics: createMetrics(), config: { extensionClass: otherClass, clusters: [...w.config.clusters].reverse() } });
    const projectId = projectIdFor("race");
    const [a, b] = await Promise.all([
      w.createShoot({ project: "racea", projectId, dataLifs: ["10.42.0.11"], managementLif: "10.42.0.10" }),
      w.createShoot({ project: "raceb", projectId, dataLifs: ["10.42.0.11"], managementLif: "10.42.0.10", extensionClass: otherClass }),
    ]);
    await Promise.all([w.waitSucceeded(a, 90_000), w.waitSucceeded(b, 90_000)]);
    const svmName = svmNameFor(projectId);
    const copies = [];
    for (const admin of w.admins) copies.push(...(await admin.state()).svms.filter((s) => s.name === svmName).map(() => admin.cluster.name));
    expect(copies).toHaveLength(1);
  });

  it("when the volume counts change between the two controllers' reads, both create a copy, and the empty one goes", async () => {
    const w = await world({ clusters: 2, startController: false });
    const [sim1, sim2] = w.admins as [(typeof w.admins)[0], (typeof w.admins)[0]];
    // A's create is held on the wire after A read equal counts (and chose sim-1, the smaller name).
    await sim1.addFault({ method: "POST", path: "^/api/svm/svms$", count: 1, action: { type: "delay", ms: 3000 } });
    const otherClass = `${w.config.extensionClass}-b`;
    await w.startController();
    const projectId = projectIdFor("race2");
    const a = await w.createShoot({ project: "race2a", projectId, dataLifs: ["10.43.0.11"], managementLif: "10.43.0.10" });
    const svmName = svmNameFor(projectId);
    const held = async () => ((await sim1.calls())["POST /api/svm/svms"] ?? 0) > 0;
    for (let i = 0; i < 200 && !(await held()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await held(), "A's create is on the wire").toBe(true);
    // Meanwhile another project's volumes land on sim-1: B reads other counts and chooses sim-2.
    await sim1.createSvmDirect({ name: "pbusy" });
    await sim1.setVolumes("pbusy", 5);
    await w.startController({ metrics: createMetrics(), config: { extensionClass: otherClass } });
    const b = await w.createShoot({ project: "race2b", projectId, dataLifs: ["10.43.0.11"], managementLif: "10.43.0.10", extensionClass: otherClass });
    await Promise.all([w.waitSucceeded(a, 90_000), w.waitSucceeded(b, 90_000)]);
    const copies: string[] = [];
    for (const admin of w.admins) copies.push(...(await admin.state()).svms.filter((s) => s.name === svmName).map(() => admin.cluster.name));
    expect(copies).toHaveLength(1);
    // Both copies existed at some point (the race really happened), and the one left is the one in use.
    expect((await sim2.calls())["POST /api/svm/svms"] ?? 0).toBeGreaterThan(0);
    expect(await w.invariants([a, b])).toEqual([]);
  });
});
