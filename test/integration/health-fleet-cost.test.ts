import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_HEALTHY } from "../../src/health/evaluate.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { createLogger } from "../../src/log.js";
import { type RunningController, startController } from "../../src/process-assembly.js";
import type { SimCallLogEntry } from "../../src/simulator/cluster.js";
import { testEnv } from "../support/kube-test-helpers.js";
import { createWorld, type Shoot, type World } from "../support/world.js";

/**
 * What a round of storage health checks costs ONTAP and the seed at rest (issue 24): one bulk observation per
 * cluster and round (the SVM list, the interface list, the account list), not a lookup per shoot; each shoot's
 * password proven once per period (the first round proves all, the next reuses the proofs); no status write when
 * nothing changed. Before the bulk observation, each shoot cost an SVM lookup on every cluster, an interface
 * list and an account read per round, and a login every round.
 *
 * On the stand-in resource manager: what is counted is the controller's requests to ONTAP and the API server;
 * the real one (shoot-health.test.ts) adds nothing to them but costs a shoot API server per shoot.
 */

const SHOOTS = 4;

let world: World;
let running: RunningController;
let shoots: Shoot[];

beforeAll(async () => {
  world = await createWorld({ startController: false, resourceManager: "stand-in" });
  running = await startController({
    // The loop waits an hour: the rounds below are driven by the test, one at a time.
    config: { ...world.config, healthCheck: { intervalMs: 3_600_000, passwordProofMs: 600_000 } },
    kubeconfig: loadKubeConfig(testEnv().kubeconfigPath),
    logger: createLogger({ level: "info", stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
    healthPort: 0,
    host: "127.0.0.1",
    handleSignals: false,
    pollMs: 150,
    resyncMs: 0,
    shutdownTimeoutMs: 5000,
  });
  const tag = randomBytes(2).toString("hex");
  shoots = [];
  for (let i = 0; i < SHOOTS; i++) {
    // Two projects, two shoots each: two SVMs, four users.
    const p = i % 2;
    shoots.push(await world.createShoot({ project: `hc${tag}${p}`, shoot: `s${i}`, dataLifs: [`10.131.${p}.11`], managementLif: `10.131.${p}.10` }));
  }
  await Promise.all(shoots.map((s) => world.waitSucceeded(s, 120_000)));
}, 300_000);

afterAll(async () => {
  await running?.stop();
  await world?.close();
});

async function ontapLogSince(since: number): Promise<SimCallLogEntry[]> {
  const logs = await Promise.all(
    world.admins.map(async (admin) => (await admin.rest("GET", `/__sim/calls?log=true&since=${since}`)).body as { log: SimCallLogEntry[] }),
  );
  return logs.flatMap((l) => l.log);
}

const lastSeq = async () => Math.max(0, ...(await ontapLogSince(0)).map((e) => e.seq));

/** One round, and what it sent to ONTAP per cluster: admin reads by route, and the logins as a shoot's user. */
async function round() {
  const since = await lastSeq();
  await running.health!.checkAll();
  const log = await ontapLogSince(since);
  const admins = new Set(world.sim.clusters.map((c) => c.username));
  const perCluster = world.sim.clusters.map((c) => {
    const mine = log.filter((e) => e.cluster === c.name && e.method === "GET" && admins.has(e.username));
    const count = (template: string) => mine.filter((e) => e.template === template).length;
    return {
      svmLists: count("/api/svm/svms"),
      interfaceLists: count("/api/network/ip/interfaces"),
      accountLists: count("/api/security/accounts"),
      accountReads: count("/api/security/accounts/{owner.uuid}/{name}"),
    };
  });
  const logins = log.filter((e) => e.username !== "" && !admins.has(e.username)).length;
  return { perCluster, logins };
}

describe("storage health check at rest: the cost of a round does not grow with the shoots", () => {
  it("one SVM, interface and account list per cluster and round; each password proven once per period; no write when nothing changed", { timeout: 120_000 }, async () => {
    const first = await round();
    for (const cluster of first.perCluster) expect(cluster).toEqual({ svmLists: 1, interfaceLists: 1, accountLists: 1, accountReads: 0 });
    // The first round proves every shoot's password.
    expect(first.logins).toBe(SHOOTS);
    for (const shoot of shoots) {
      const ext = await world.extension(shoot);
      expect(ext?.status?.conditions?.find((c) => c.type === STORAGE_HEALTHY)).toMatchObject({ status: "True" });
    }

    const versions = await Promise.all(shoots.map(async (s) => (await world.extension(s))?.metadata.resourceVersion));
    const second = await round();
    for (const cluster of second.perCluster) expect(cluster).toEqual({ svmLists: 1, interfaceLists: 1, accountLists: 1, accountReads: 0 });
    // Proofs are reused until each shoot's slot in the 10-minute period comes round: at most the one whose
    // slot began between the two rounds (a second apart) proves again, never every shoot.
    expect(second.logins).toBeLessThan(SHOOTS);
    // Nothing changed: no status write (a condition is written only when it changes).
    expect(await Promise.all(shoots.map(async (s) => (await world.extension(s))?.metadata.resourceVersion))).toEqual(versions);
  });
});
