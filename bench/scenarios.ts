/**
 * The four scenarios of `npm run bench`. Each starts its own world (API server, simulator, controller
 * process) so no scenario's objects sit in another's caches, and returns plain figures.
 */
import { extensionKey, isReady, log, median, PROFILES, percentile, type Profile, shootsOver, startWorld, type World, type WorldOptions } from "./harness.js";

const WRITE_VERBS = /verb="(create|update|patch|delete)"/;

async function quiet(world: World, reconcilesBefore: number, expected: number): Promise<void> {
  // Done when the controller has finished the expected reconciles and nothing more arrives for 500 ms.
  const deadline = Date.now() + 120_000;
  while ((await world.controller.metric("reconciles_total")) < reconcilesBefore + expected) {
    if (Date.now() > deadline) throw new Error("reconciles did not finish in 120 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  let last = await world.simCalls();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await world.simCalls();
    if (now.every((v, i) => v === last[i])) return;
    last = now;
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

// ---------------------------------------------------------------------------------------------------- noop

export interface NoopResult {
  profile: string;
  shoots: number;
  projects: number;
  rounds: number;
  ontapRequestsPerNoop: number;
  ontapRequestsPerNoopByRound: number[];
  kubeRequestsPerNoop: number;
  kubeWritesPerNoop: number;
  cpuMsPerNoop: number;
  cpuMsPerNoopByRound: number[];
  goal: string;
  goalMet: boolean;
}

export async function noop(opts: { shoots: number; projects: number; rounds: number }): Promise<NoopResult> {
  const profile = PROFILES.simDefault;
  const world = await startWorld({ profile, workers: 8, maxConcurrentPerCluster: 8 });
  try {
    const shoots = shootsOver(opts.shoots, opts.projects, "noop");
    const keys = shoots.map(extensionKey);
    await world.prepareShoots(shoots);
    await world.createExtensions(shoots);
    await world.waitReady(keys, 300_000, "noop: create");
    await quiet(world, 0, 0);
    // Warm-up, not counted: the first reconcile after a create writes status once (lastOperation.type goes
    // from Create to Reconcile).
    const warm = await world.controller.metric("reconciles_total");
    await world.annotateReconcile(keys);
    await quiet(world, warm, keys.length);
    const ontap: number[] = [];
    const kube: number[] = [];
    const writes: number[] = [];
    const cpu: number[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      // gardenlet's requests come minutes apart: a request in the second of the last status write would be
      // answered by that write and cost one write less than a real one. Not counted (before is read after).
      await new Promise((r) => setTimeout(r, 1_000));
      const before = {
        sim: sum(await world.simCalls()),
        kube: await world.controller.metric("kube_requests_total"),
        writes: await world.controller.metric("kube_requests_total", (l) => WRITE_VERBS.test(l)),
        reconciles: await world.controller.metric("reconciles_total"),
        cpu: world.controller.cpuMs(),
      };
      await world.annotateReconcile(keys);
      await quiet(world, before.reconciles, keys.length);
      const n = keys.length;
      ontap.push((sum(await world.simCalls()) - before.sim) / n);
      kube.push(((await world.controller.metric("kube_requests_total")) - before.kube) / n);
      writes.push(((await world.controller.metric("kube_requests_total", (l) => WRITE_VERBS.test(l))) - before.writes) / n);
      // Includes the 0.5 s of quiet after the last reconcile: idle CPU there is part of the figure.
      cpu.push((world.controller.cpuMs() - before.cpu) / n);
      log(`noop round ${round}: ${round2(ontap.at(-1))} ONTAP, ${round2(kube.at(-1))} kube (${round2(writes.at(-1))} writes), ${round2(cpu.at(-1))} CPU ms per no-op`);
    }
    const result: NoopResult = {
      profile: profile.name,
      shoots: opts.shoots,
      projects: opts.projects,
      rounds: opts.rounds,
      ontapRequestsPerNoop: round(median(ontap), 2),
      ontapRequestsPerNoopByRound: ontap.map((x) => round(x, 2)),
      kubeRequestsPerNoop: round(median(kube), 2),
      kubeWritesPerNoop: round(median(writes), 2),
      cpuMsPerNoop: round(median(cpu), 2),
      cpuMsPerNoopByRound: cpu.map((x) => round(x, 2)),
      // 2 writes: the annotation's removal and lastOperation's time, which gardenlet's check reads (a status
      // patch cannot remove an annotation).
      goal: "at most 3 ONTAP requests and at most 2 Kubernetes writes per requested no-op reconcile (2-cluster MetroCluster)",
      goalMet: false,
    };
    result.goalMet = result.ontapRequestsPerNoop <= 3 && result.kubeWritesPerNoop <= 2;
    return result;
  } finally {
    await world.stop();
  }
}

function round2(x: number | undefined): string {
  return (x ?? Number.NaN).toFixed(2);
}

// ---------------------------------------------------------------------------------------------- timeToReady

/** The ONTAP calls a new shoot must make one after the other under the design (observe, then act). */
export function criticalPath(profile: Profile, which: "first" | "second"): { calls: string[]; ms: number } {
  const L = profile.latencyMs;
  const J = profile.jobMs;
  const steps: [string, number][] =
    which === "first"
      ? [
          ["GET /api/svm/svms on every cluster (in parallel): is the SVM anywhere?", L],
          ["GET /api/storage/aggregates on every cluster (in parallel): placement by volume count", L],
          ["POST /api/svm/svms: 202 with a job", L],
          [`the SVM job itself (${J} ms)`, J],
          ["GET /api/cluster/jobs/{uuid}: the look that sees it succeed", L],
          ["GET /api/svm/svms on every cluster: the SVM record (uuid, state, ip_interfaces)", L],
          ["GET /api/cluster/nodes and GET /api/network/ip/bgp/peer-groups (in parallel): LIF homes and VIP mode", L],
          ["POST /api/network/ip/interfaces for every LIF (in parallel)", L],
          ["GET /api/security/accounts/{owner.uuid}/{name} (beside the seed Secret write of the new password)", L],
          ["POST /api/security/accounts: the shoot's SVM user", L],
          ["GET /api/svm/svms as the new user: the password proof", L],
        ]
      : [
          ["GET /api/svm/svms on every cluster (in parallel): the project's SVM, with its ip_interfaces", L],
          ["GET /api/security/accounts/{owner.uuid}/{name} (beside the seed Secret write of the new password)", L],
          ["POST /api/security/accounts: the shoot's SVM user", L],
          ["GET /api/svm/svms as the new user: the password proof", L],
        ];
  return { calls: steps.map(([c, ms]) => `${c} — ${ms} ms`), ms: steps.reduce((n, [, ms]) => n + ms, 0) };
}

export interface TimeToReadyResult {
  profile: string;
  projects: number;
  firstShootMs: number;
  firstShootMsByProject: number[];
  secondShootMs: number;
  secondShootMsByProject: number[];
  criticalPathFirstMs: number;
  criticalPathSecondMs: number;
  criticalPathFirst: string[];
  criticalPathSecond: string[];
  firstShootOverCriticalPath: number;
  secondShootOverCriticalPath: number;
  goal: string;
  goalMet: boolean;
}

export async function timeToReady(opts: { profile: Profile; projects: number; goal: "path" | "goExtension" }): Promise<TimeToReadyResult> {
  const world = await startWorld({ profile: opts.profile, workers: 8, maxConcurrentPerCluster: 8 });
  try {
    const first: number[] = [];
    const second: number[] = [];
    for (let p = 0; p < opts.projects; p++) {
      const pair = [
        { namespace: `shoot--ttr${p}--first`, project: 100 + p },
        { namespace: `shoot--ttr${p}--second`, project: 100 + p },
      ];
      await world.prepareShoots(pair);
      for (const [i, shoot] of pair.entries()) {
        await world.createExtensions([shoot]);
        const key = extensionKey(shoot);
        await world.waitReady([key], 60_000, `timeToReady ${i === 0 ? "first" : "second"} shoot of project ${p}`);
        const ms = (world.readyAt.get(key) as number) - (world.createdAt.get(key) as number);
        (i === 0 ? first : second).push(ms);
      }
      log(`timeToReady (${opts.profile.name}) project ${p}: first shoot ${first.at(-1)} ms, second ${second.at(-1)} ms`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const pathFirst = criticalPath(opts.profile, "first");
    const pathSecond = criticalPath(opts.profile, "second");
    const result: TimeToReadyResult = {
      profile: opts.profile.name,
      projects: opts.projects,
      firstShootMs: median(first),
      firstShootMsByProject: first,
      secondShootMs: median(second),
      secondShootMsByProject: second,
      criticalPathFirstMs: pathFirst.ms,
      criticalPathSecondMs: pathSecond.ms,
      criticalPathFirst: pathFirst.calls,
      criticalPathSecond: pathSecond.calls,
      firstShootOverCriticalPath: round(median(first) / pathFirst.ms, 2),
      secondShootOverCriticalPath: round(median(second) / pathSecond.ms, 2),
      goal:
        opts.goal === "path"
          ? "within 1.2x of the critical path computed from the profile"
          : "a new shoot Succeeded faster than the Go extension's 2.7 s on the same simulator",
      goalMet: false,
    };
    result.goalMet =
      opts.goal === "path"
        ? result.firstShootOverCriticalPath <= 1.2 && result.secondShootOverCriticalPath <= 1.2
        : result.firstShootMs < 2700;
    return result;
  } finally {
    await world.stop();
  }
}

// ---------------------------------------------------------------------------------------------------- fleet

export interface FleetResult {
  profile: string;
  extensions: number;
  projects: number;
  /** Size of each shoot's Cluster object (JSON), as gardenlet writes it on a metal-stack seed. */
  clusterObjectKiB: number;
  workers: number;
  maxConcurrentPerCluster: number;
  wallSecondsUntilAllSucceeded: number;
  timeToReadySeconds: { p50: number; p95: number; p99: number };
  peakConcurrentOntapRequestsPerCluster: number[];
  capExceeded: boolean;
  ontapRequestsTotal: number;
  ontapRequestsPerExtension: number;
  controllerPeakRssMiB: number;
  controllerCpuSeconds: number;
  /** As read from the controller process (the image's ENTRYPOINT flags unless BENCH_NODE_FLAGS said otherwise). */
  controllerNodeFlags: string[];
  goal: string;
  goalMet: boolean;
}

export async function fleet(opts: {
  extensions: number;
  workers: number;
  cap: number;
  /** Another controller (the Go extension) and what its world needs. */
  world?: Pick<WorldOptions, "spawnController" | "managementAddresses" | "auditController">;
  /** After the figures of the creates, in the same world before it stops (the side-by-side's window at rest). */
  afterCreates?: (world: World, keys: string[]) => Promise<void>;
}): Promise<FleetResult> {
  const profile = PROFILES.slow;
  const projects = Math.max(1, Math.round(opts.extensions / 5));
  const world = await startWorld({ profile, workers: opts.workers, maxConcurrentPerCluster: opts.cap, ...opts.world });
  try {
    const shoots = shootsOver(opts.extensions, projects, "fleet");
    const keys = shoots.map(extensionKey);
    log(`fleet ${opts.extensions}: preparing ${opts.extensions} namespaces and Clusters over ${projects} projects`);
    await world.prepareShoots(shoots);
    await world.resetSimPeaks();
    const callsBefore = sum(await world.simCalls());
    const cpuBefore = world.controller.cpuMs();
    const started = Date.now();
    await world.createExtensions(shoots, 32);
    log(`fleet ${opts.extensions}: all Extensions created in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await world.waitReady(keys, 1_800_000, `fleet ${opts.extensions}`);
    const wall = (Math.max(...keys.map((k) => world.readyAt.get(k) as number)) - started) / 1000;
    const ttr = keys.map((k) => ((world.readyAt.get(k) as number) - (world.createdAt.get(k) as number)) / 1000);
    const peaks = await world.simPeaks();
    const calls = sum(await world.simCalls()) - callsBefore;
    const result: FleetResult = {
      profile: profile.name,
      extensions: opts.extensions,
      projects,
      clusterObjectKiB: world.clusterObjectKiB,
      workers: opts.workers,
      maxConcurrentPerCluster: opts.cap,
      wallSecondsUntilAllSucceeded: round(wall, 1),
      timeToReadySeconds: { p50: round(percentile(ttr, 50), 2), p95: round(percentile(ttr, 95), 2), p99: round(percentile(ttr, 99), 2) },
      peakConcurrentOntapRequestsPerCluster: peaks,
      capExceeded: peaks.some((p) => p > opts.cap),
      ontapRequestsTotal: calls,
      ontapRequestsPerExtension: round(calls / opts.extensions, 1),
      controllerPeakRssMiB: Math.round(world.controller.peakRssMiB()),
      controllerCpuSeconds: round((world.controller.cpuMs() - cpuBefore) / 1000, 1),
      controllerNodeFlags: world.controller.nodeFlags(),
      goal: "the cap is never exceeded; at 1,000 Extensions the controller's peak RSS is at most 256 MiB",
      goalMet: false,
    };
    result.goalMet = !result.capExceeded && (opts.extensions < 1000 || result.controllerPeakRssMiB <= 256);
    log(
      `fleet ${opts.extensions}: all Succeeded in ${result.wallSecondsUntilAllSucceeded} s; p50/p95/p99 ${result.timeToReadySeconds.p50}/${result.timeToReadySeconds.p95}/${result.timeToReadySeconds.p99} s; peak in flight ${peaks.join("/")} (cap ${opts.cap}); RSS ${result.controllerPeakRssMiB} MiB; CPU ${result.controllerCpuSeconds} s`,
    );
    await opts.afterCreates?.(world, keys);
    return result;
  } finally {
    await world.stop();
  }
}

// ------------------------------------------------------------------------------------------------- recovery

export interface RecoveryResult {
  profile: string;
  extensions: number;
  downSeconds: number;
  unreachableCluster: string;
  breaker: { consecutiveFailures: number; probeIntervalSeconds: number };
  requestsToDownClusterWhileDown: number;
  requestsPerSecondToDownClusterWhileDown: number;
  requestsToDownClusterAfterFirst5Seconds: number;
  requestsPerSecondAfterFirst5Seconds: number;
  affectedExtensions: number;
  affectedInStateError: number;
  secondsUntilEveryAffectedConverged: number;
  /** What the convergence cost the controller, per affected Extension: its CPU, its Kubernetes requests and writes, its ONTAP requests. */
  convergence: { controllerCpuMsPerExtension: number; kubeRequestsPerExtension: number; kubeWritesPerExtension: number; ontapRequestsPerExtension: number };
  maxConsecutiveFailures: number;
  /** The backoff ceiling that many failures had reached: min(capSeconds, baseSeconds * 2^(n-1)), full jitter below it. */
  maxBackoffCeilingSeconds: number;
  goal: string;
  goalMet: boolean;
}

/**
 * A settled fleet; one cluster stops answering (every connection reset); Gardener asks every Extension to
 * reconcile meanwhile, so each fails and backs off; after `downSeconds` the cluster answers again.
 */
export async function recovery(opts: { extensions: number; downSeconds: number; workers: number; cap: number }): Promise<RecoveryResult> {
  const profile = PROFILES.slow;
  const projects = Math.max(1, Math.round(opts.extensions / 5));
  const breaker = { consecutiveFailures: 5, probeIntervalSeconds: 1 };
  const world = await startWorld({ profile, workers: opts.workers, maxConcurrentPerCluster: opts.cap, breaker, requeue: { baseSeconds: 2, capSeconds: 300 } });
  try {
    const shoots = shootsOver(opts.extensions, projects, "rec");
    const keys = shoots.map(extensionKey);
    await world.prepareShoots(shoots);
    await world.createExtensions(shoots, 32);
    await world.waitReady(keys, 1_800_000, `recovery: fleet of ${opts.extensions}`);
    await quiet(world, 0, 0);
    const down = world.admins[1]!;
    const callsAt = async () => Object.values(await down.calls()).reduce((n, v) => n + v, 0);
    const before = await callsAt();
    const faultId = await down.addFault({ path: "^/api/", action: { type: "reset" } });
    const downAt = Date.now();
    log(`recovery: ${down.cluster.name} unreachable (every connection reset) for ${opts.downSeconds} s; Gardener asks all ${keys.length} Extensions to reconcile`);
    await world.annotateReconcile(keys, 32);
    await new Promise((r) => setTimeout(r, 5_000 - (Date.now() - downAt)));
    const after5 = await callsAt();
    await new Promise((r) => setTimeout(r, opts.downSeconds * 1000 - (Date.now() - downAt)));
    const atBack = await callsAt();
    // Affected: every Extension not settled as Succeeded when the cluster comes back (its reconcile failed, or
    // waits in its backoff with the annotation still on). Their clocks start now.
    const affected = keys.filter((k) => {
      const ext = world.latest.get(k);
      return !ext || !isReady(ext);
    });
    const errored = keys.filter((k) => world.latest.get(k)?.status?.lastOperation?.state === "Error").length;
    // The most consecutive failures any Extension had when the cluster came back, from the controller's gauge.
    const maxFailures = Math.max(
      0,
      ...(await world.controller.metricsText())
        .split("\n")
        .filter((l) => l.startsWith("gardener_extension_ontap_consecutive_failures{"))
        .map((l) => Number(l.split(" ").at(-1))),
    );
    const costBefore = {
      cpu: world.controller.cpuMs(),
      kube: await world.controller.metric("kube_requests_total"),
      writes: await world.controller.metric("kube_requests_total", (l) => WRITE_VERBS.test(l)),
      ontap: await world.controller.metric("ontap_requests_total"),
    };
    await down.removeFault(faultId);
    const backAt = Date.now();
    for (const k of affected) {
      world.readyAt.delete(k);
      world.createdAt.set(k, backAt);
    }
    log(`recovery: ${down.cluster.name} answers again; ${affected.length} Extensions waiting (${errored} in state Error)`);
    await world.waitReady(affected, 600_000, "recovery: converging");
    const converged = affected.length === 0 ? 0 : (Math.max(...affected.map((k) => world.readyAt.get(k) as number)) - backAt) / 1000;
    const per = (n: number) => round(n / Math.max(1, affected.length), 2);
    const convergence = {
      controllerCpuMsPerExtension: per(world.controller.cpuMs() - costBefore.cpu),
      kubeRequestsPerExtension: per((await world.controller.metric("kube_requests_total")) - costBefore.kube),
      kubeWritesPerExtension: per((await world.controller.metric("kube_requests_total", (l) => WRITE_VERBS.test(l))) - costBefore.writes),
      ontapRequestsPerExtension: per((await world.controller.metric("ontap_requests_total")) - costBefore.ontap),
    };
    const downFor = (backAt - downAt) / 1000;
    const result: RecoveryResult = {
      profile: profile.name,
      extensions: opts.extensions,
      downSeconds: round(downFor, 1),
      unreachableCluster: down.cluster.name,
      breaker,
      requestsToDownClusterWhileDown: atBack - before,
      requestsPerSecondToDownClusterWhileDown: round((atBack - before) / downFor, 2),
      requestsToDownClusterAfterFirst5Seconds: atBack - after5,
      requestsPerSecondAfterFirst5Seconds: round((atBack - after5) / (downFor - 5), 2),
      affectedExtensions: affected.length,
      affectedInStateError: errored,
      secondsUntilEveryAffectedConverged: round(converged, 2),
      convergence,
      maxConsecutiveFailures: maxFailures,
      maxBackoffCeilingSeconds: round(Math.min(300, 2 * 2 ** Math.max(0, maxFailures - 1)), 0),
      goal: "while down, a bounded request rate (breaker: one probe per second); once back, every affected Extension Succeeded within 10 s",
      goalMet: false,
    };
    result.goalMet = result.secondsUntilEveryAffectedConverged <= 10 && result.requestsPerSecondAfterFirst5Seconds <= 1.5;
    log(
      `recovery: ${result.requestsToDownClusterWhileDown} requests to ${down.cluster.name} in ${result.downSeconds} s down (${result.requestsPerSecondAfterFirst5Seconds}/s after the first 5 s); ${affected.length} affected converged ${result.secondsUntilEveryAffectedConverged} s after it came back; per Extension: ${JSON.stringify(convergence)}`,
    );
    return result;
  } finally {
    await world.stop();
  }
}
