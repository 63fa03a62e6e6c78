import { afterAll, describe, expect, inject, it } from "vitest";
import { seededRandom } from "../../src/faults/rules.js";
import { Extensions } from "../../src/kube/resources.js";
import { gardenletRequest } from "../../src/testenv/index.js";
import { writeReport } from "../support/chaos-report.js";
import { createExtension, createShootNamespace, type PlannedShoot, planShoot, succeeded } from "../support/chaos-state.js";
import { type ChaosLane, createChaosLane, ontapSnapshot, orphans, scanForSecrets, sleep } from "../support/chaos-world.js";
import type { ShootExpectation } from "../support/invariants.js";

/**
 * The soak: 50 shoots over 10 projects on a two-cluster MetroCluster, a fault probability on every
 * endpoint of both sides and random SIGKILLs of the controller process for a fixed period; then every
 * fault is cleared and everything must converge with every invariant holding. Then half the shoots are
 * deleted under the same chaos, and once it is cleared nothing of them may be left, nothing of the others
 * touched, and no password anywhere it should not be.
 *
 * SOAK_SEED makes a run reproducible (workload, fault mix, restart times and the Kubernetes-side fault
 * decisions; the simulator's decisions follow its fixed seed, so given the same order of calls they repeat
 * too). SOAK_SECONDS is the length of the create phase's chaos (default 60; the delete phase gets half).
 */

const SEED = Number(process.env.SOAK_SEED ?? 20_261_125);
const CHAOS_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const PROJECTS = 10;
const SHOOTS_PER_PROJECT = 5;
const CONVERGE_MS = 240_000;

const random = seededRandom(SEED);
const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
const between = (lo: number, hi: number) => lo + random() * (hi - lo);

let lane: ChaosLane;
const report: string[] = [];
const startedAt = Date.now();

afterAll(async () => {
  writeReport(inject("chaosResultsDir"), "soak", {
    kind: "section",
    order: 3,
    title: "Soak",
    markdown: report.join("\n"),
  });
  await lane?.close();
});

interface ChaosStats {
  ontapFaults: number;
  kubeFaults: number;
  restarts: number;
}

/** Fault rules with a probability on every endpoint of every cluster and of kube-apiserver. */
async function armChaos(): Promise<void> {
  const p = (base: number) => base * between(0.5, 1.5);
  for (const admin of lane.admins) {
    const cluster = admin.cluster.name;
    await admin.addFault({ path: ".*", cluster, probability: p(0.04), action: { type: "error", status: 500, code: "13434889" } });
    await admin.addFault({ path: ".*", cluster, probability: p(0.015), action: { type: "reset" } });
    await admin.addFault({ path: ".*", cluster, probability: p(0.004), action: { type: "hang" } });
    await admin.addFault({ path: ".*", cluster, probability: p(0.02), action: { type: "delay", ms: 400 } });
    for (const method of ["POST", "PATCH", "DELETE"]) {
      await admin.addFault({ method, path: ".*", cluster, probability: p(0.03), action: { type: "applyThenFail", status: 500 } });
    }
    // Jobs fail now and then, too (the SVM create and delete).
    await admin.addFault({ method: "JOB", path: ".*", cluster, probability: p(0.1), action: { type: "error", status: 500 } });
  }
  const rules = lane.world.proxy!.rules;
  rules.reseed(SEED);
  rules.add({ path: ".*", probability: p(0.03), action: { type: "error", status: 500 } });
  rules.add({ path: ".*", probability: p(0.01), action: { type: "error", status: 503 } });
  rules.add({ path: ".*", probability: p(0.01), action: { type: "reset" } });
  rules.add({ path: ".*", probability: p(0.02), action: { type: "delay", ms: 300 } });
  // A watch never ends, so "apply, then lose the answer" only makes sense for writes.
  for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
    rules.add({ method, path: ".*", probability: p(0.03), action: { type: "applyThenFail", status: 500 } });
  }
}

async function faultsFired(): Promise<{ ontap: number; kube: number }> {
  let ontap = 0;
  for (const admin of lane.admins) ontap += (await admin.listFaults()).rules.reduce((n, r) => n + r.hits, 0);
  const kube = lane.world.proxy!.rules.list().reduce((n, r) => n + r.hits, 0);
  return { ontap, kube };
}

/** Runs `work` under chaos for `seconds`, killing the controller at random, then clears every fault. */
async function underChaos(seconds: number, work: (until: number) => Promise<void>): Promise<ChaosStats> {
  await armChaos();
  const until = Date.now() + seconds * 1000;
  let restarts = 0;
  const killer = (async () => {
    for (;;) {
      const wait = between(6_000, 15_000);
      if (Date.now() + wait > until) break;
      await sleep(wait);
      await lane.controller.restart();
      restarts++;
    }
  })();
  await Promise.all([work(until), killer]);
  const wait = until - Date.now();
  if (wait > 0) await sleep(wait);
  const fired = await faultsFired();
  await lane.clearFaults();
  return { ontapFaults: fired.ontap, kubeFaults: fired.kube, restarts };
}

/** Waits until every shoot is where it should be and every invariant holds; answers the seconds it took. */
async function convergeAll(expect: (PlannedShoot & { deleted?: boolean })[]): Promise<{ seconds: number; problems: string[] }> {
  const t0 = Date.now();
  let problems: string[] = [];
  while (Date.now() - t0 < CONVERGE_MS) {
    const pending: string[] = [];
    for (const s of expect) {
      const ext = await lane.world.extension(s);
      if (s.deleted ? ext !== undefined : !succeeded(ext)) pending.push(`${s.namespace}: ${JSON.stringify(ext?.status?.lastOperation?.description ?? "absent").slice(0, 160)}`);
    }
    if (pending.length === 0) {
      problems = [
        ...(await lane.world.invariants(expect as ShootExpectation[])),
        ...orphans(await ontapSnapshot(lane), expect.filter((s) => !s.deleted)),
      ];
      if (problems.length === 0) return { seconds: (Date.now() - t0) / 1000, problems };
    } else {
      problems = pending;
    }
    await sleep(500);
  }
  return { seconds: (Date.now() - t0) / 1000, problems };
}

describe("soak", () => {
  it(`converges after ${CHAOS_SECONDS} s of faults on every endpoint and random SIGKILLs, for 50 shoots over 10 projects, and deleting half of them leaves nothing behind (seed ${SEED})`, async () => {
    // The stand-in resource manager on purpose: 50 shoots at once would be 50 shoot API servers, etcds and
    // resource managers (about 150 processes and several GB) on a 2-core machine; what the soak proves is about
    // ONTAP, the seed and SIGKILLs, and the real resource manager is in the state matrix and the integration suite.
    lane = await createChaosLane({ name: "soak", kind: "process", clusters: 2, resourceManager: "stand-in" });
    await lane.resetOntap();
    // Shoots of one project share the SVM, and so its LIFs.
    const projects = Array.from({ length: PROJECTS }, () => planShoot());
    const shoots: PlannedShoot[] = [];
    for (const p of projects) {
      for (let i = 0; i < SHOOTS_PER_PROJECT; i++) {
        const s = planShoot();
        const shoot: PlannedShoot = {
          ...s,
          project: p.project,
          projectId: p.projectId,
          svmName: p.svmName,
          namespace: `shoot--${p.project}--${s.name}`,
          legacySecretName: `${p.svmName}-${p.project}--${s.name}-credentials`,
          dataLifs: p.dataLifs,
          managementLif: p.managementLif,
        };
        shoots.push(shoot);
      }
    }
    const order = [...shoots].sort(() => random() - 0.5);

    // Phase 1: create all 50 under chaos, with Gardener's reconcile trigger on random shoots now and then.
    const create = await underChaos(CHAOS_SECONDS, async (until) => {
      const spread = ((until - Date.now()) * 0.6) / order.length;
      for (const shoot of order) {
        await createShootNamespace(lane, shoot, { realistic: true });
        await createExtension(lane, shoot);
        await sleep(spread * between(0.5, 1.5));
      }
      while (Date.now() < until - 1000) {
        const shoot = pick(shoots);
        await lane.world.kube.mergePatch(Extensions, shoot.namespace, "ontap", { metadata: { annotations: gardenletRequest("reconcile") } }).catch(() => undefined);
        await sleep(between(300, 1500));
      }
    });
    const created = await convergeAll(shoots);
    report.push(
      `Seed ${SEED}; ${PROJECTS} projects x ${SHOOTS_PER_PROJECT} shoots on 2 simulated clusters; the controller runs as its own process.`,
      "",
      "Faults on every endpoint: ONTAP (each cluster) 500/13434889 4 %, reset 1.5 %, hang 0.4 %, 400 ms delay 2 %, apply-then-fail on writes 3 %, failed SVM jobs 10 %; Kubernetes 500 3 %, 503 1 %, reset 1 %, 300 ms delay 2 %, apply-then-fail on writes 3 % (each probability scaled by a seeded factor of 0.5-1.5).",
      "",
      "| phase | chaos | faults fired (ONTAP / Kubernetes) | SIGKILL + restart | converged after the faults were cleared | result |",
      "|---|---|---|---|---|---|",
      `| create 50 shoots, random reconcile triggers | ${CHAOS_SECONDS} s | ${create.ontapFaults} / ${create.kubeFaults} | ${create.restarts} | ${created.seconds.toFixed(1)} s | ${created.problems.length === 0 ? "✓ all invariants hold" : `✗ ${created.problems.length} problems`} |`,
    );
    expect(created.problems).toEqual([]);

    // Phase 2: delete half (two projects entirely, three shoots of each of five others) under chaos.
    const byProject = projects.map((p) => shoots.filter((s) => s.project === p.project));
    const doomed = [...byProject.slice(0, 2).flat(), ...byProject.slice(2, 7).flatMap((list) => list.slice(0, 3))];
    expect(doomed).toHaveLength(25);
    const remove = await underChaos(CHAOS_SECONDS / 2, async () => {
      for (const shoot of [...doomed].sort(() => random() - 0.5)) {
        await lane.world.kube.delete(Extensions, shoot.namespace, "ontap");
        await sleep(between(50, 400));
      }
    });
    const expectations = shoots.map((s) => (doomed.includes(s) ? { ...s, deleted: true } : s));
    const deleted = await convergeAll(expectations);
    const namespaces = shoots.map((s) => s.namespace);
    const leaks = [...scanForSecrets(lane.controller.drainLogs(), lane.world.knownSecrets), ...(await lane.world.leaks(namespaces))];
    report.push(
      `| delete 25 (2 projects entirely) | ${CHAOS_SECONDS / 2} s | ${remove.ontapFaults} / ${remove.kubeFaults} | ${remove.restarts} | ${deleted.seconds.toFixed(1)} s | ${deleted.problems.length === 0 && leaks.length === 0 ? "✓ nothing left of the deleted, the rest intact, no orphan, no password leaked" : `✗ ${deleted.problems.length + leaks.length} problems`} |`,
      "",
      `Wall time ${((Date.now() - startedAt) / 1000).toFixed(0)} s.`,
    );
    expect(deleted.problems).toEqual([]);
    expect(leaks).toEqual([]);
    const svms = (await ontapSnapshot(lane)).flatMap((c) => c.svms.map((s) => s.name));
    expect(svms.sort()).toEqual(projects.slice(2).map((p) => p.svmName).sort());
    expect(create.ontapFaults + create.kubeFaults).toBeGreaterThan(0);
    expect(create.restarts + remove.restarts).toBeGreaterThan(0);
  }, (CHAOS_SECONDS * 1.5 + (2 * CONVERGE_MS) / 1000 + 180) * 1000);
});
