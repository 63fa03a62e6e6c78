/**
 * The `idle` scenario of `npm run bench`: what the controller costs a seed and its ONTAP clusters at rest.
 * N shoots (realistic Clusters, `prepareShoots`) are created and settled, the storage health check has looked
 * at every one of them, and then nothing happens for a window: what is counted there is what the controller
 * does on its own. ONTAP requests per second per cluster (the simulator's count, the logins at the SVM
 * management LIFs included), Kubernetes requests and writes per second (the controller's own
 * `kube_requests_total`), and the controller process's CPU (from /proc) as a percentage of one core.
 *
 * The controller runs as the harness starts it: the chart's health check defaults (every 30 s, each shoot's
 * password proven once per 10 minutes) and the reconciler's periodic resync off (`--resync-minutes 0`), so
 * the window holds the health check and whatever else runs at rest, not the resync.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { type ProfileSummary, startWindowProfiler } from "./cpu-profile.js";
import { AT_REST_GOAL, atRestGoalMet, measureAtRest, ownMetricsCount, quietOntap, waitHealthChecked } from "./at-rest.js";
import { extensionKey, log, PROFILES, shootsOver, startWorld } from "./harness.js";

export interface IdleResult {
  profile: string;
  shoots: number;
  projects: number;
  clusters: number;
  seconds: number;
  ontapRequestsPerSecondPerCluster: number;
  ontapRequestsPerSecondByCluster: number[];
  kubeRequestsPerSecond: number;
  kubeWritesPerSecond: number;
  /** Kubernetes requests per second by `verb resource` (the controller's kube_requests_total labels); absent in runs before it was recorded. */
  kubeRequestsPerSecondByKind?: Record<string, number>;
  controllerCpuPercent: number;
  peakConcurrentOntapRequestsPerCluster: number[];
  capExceeded: boolean;
  goal: string;
  goalMet: boolean;
  /** Set by hand when the figure is merged into results.json: which code it measured, what to know, earlier runs. */
  code?: string;
  note?: string;
  runs?: (Partial<IdleResult> & { loadAverageAtStart?: number[] })[];
}

export async function idle(opts: { shoots: number; seconds: number; cap: number; workers: number }): Promise<IdleResult> {
  const profile = PROFILES.simDefault;
  const projects = Math.max(1, Math.round(opts.shoots / 5));
  const world = await startWorld({ profile, workers: opts.workers, maxConcurrentPerCluster: opts.cap });
  try {
    const shoots = shootsOver(opts.shoots, projects, "idle");
    const keys = shoots.map(extensionKey);
    log(`idle ${opts.shoots}: preparing ${opts.shoots} namespaces and Clusters over ${projects} projects`);
    await world.prepareShoots(shoots);
    await world.createExtensions(shoots, 32);
    await world.waitReady(keys, 1_800_000, `idle ${opts.shoots}: create`);
    // At rest means after the first health round has seen every shoot (its first proofs are a one-off).
    await waitHealthChecked(world, keys, 600_000, `idle ${opts.shoots}`);
    await quietOntap(world);
    await world.resetSimPeaks();
    // BENCH_INSPECT=1: a CPU profile of the window alone (bench/cpu-profile.ts), summed into the log.
    const profiler = world.controller.inspectPort ? await startWindowProfiler(world.controller.inspectPort) : undefined;
    log(`idle ${opts.shoots}: counting for ${opts.seconds} s`);
    const { figures } = await measureAtRest(world, opts.seconds, ownMetricsCount(world.controller));
    if (profiler) logProfile(await profiler.stop(path.join(tmpdir(), `idle-${opts.shoots}-${Date.now()}.cpuprofile`)));
    const peaks = await world.simPeaks();
    const result: IdleResult = {
      profile: profile.name,
      shoots: opts.shoots,
      projects,
      clusters: figures.ontapRequestsPerSecondByCluster.length,
      ...figures,
      peakConcurrentOntapRequestsPerCluster: peaks,
      capExceeded: peaks.some((p) => p > opts.cap),
      goal: `${AT_REST_GOAL}, the cap never exceeded`,
      goalMet: false,
    };
    // The figures that grow with the shoots are judged at the goal's size; the cap at any size.
    result.goalMet = !result.capExceeded && atRestGoalMet(result, opts.shoots);
    log(
      `idle ${opts.shoots}: ${result.ontapRequestsPerSecondPerCluster} ONTAP req/s per cluster (${result.ontapRequestsPerSecondByCluster.join(", ")}), ` +
        `${result.kubeRequestsPerSecond} kube req/s (${result.kubeWritesPerSecond} writes/s), CPU ${result.controllerCpuPercent}%`,
    );
    return result;
  } finally {
    await world.stop();
  }
}

function logProfile(summary: ProfileSummary & { file: string }): void {
  log(`idle: CPU profile of the window (${summary.file}), ${summary.sampledMs} ms on the CPU; by module:`);
  for (const r of summary.byModule) log(`  ${r.percent}% ${r.selfMs} ms ${r.module}`);
  log("idle: by function (self time):");
  for (const r of summary.top) log(`  ${r.percent}% ${r.selfMs} ms ${r.fn}`);
}

/** The `idle` section of docs/performance.md. */
/** `madeBy`: the command, date and load of the run that produced the figures (report.ts). */
export function renderIdle(idle: IdleResult, madeBy: string): string[] {
  const where = madeBy;
  return [
    "## idle",
    "",
    where,
    "",
    `${idle.shoots} settled shoots over ${idle.projects} projects on ${idle.clusters} clusters, every one health-checked once; then ${idle.seconds} s of rest (health check every 30 s, each password proven once per 10 minutes, the resync off). Profile: ${idle.profile}.`,
    "",
    "| measure | value | goal |",
    "|---|---|---|",
    `| ONTAP requests per second per cluster (each cluster) | ${idle.ontapRequestsPerSecondPerCluster} (${idle.ontapRequestsPerSecondByCluster.join(", ")}) | ≤ 2 at 1,000 shoots |`,
    `| Kubernetes requests per second (writes) | ${idle.kubeRequestsPerSecond} (${idle.kubeWritesPerSecond}) | writes only when something changed |`,
    ...(idle.kubeRequestsPerSecondByKind
      ? [`| of them, by verb and resource | ${Object.entries(idle.kubeRequestsPerSecondByKind).map(([k, r]) => `${k} ${r}`).join(", ") || "none"} | |`]
      : []),
    `| controller CPU, % of one core | ${idle.controllerCpuPercent} | ≤ 5 |`,
    `| peak ONTAP requests in flight per cluster | ${idle.peakConcurrentOntapRequestsPerCluster.join(" / ")} | ≤ the cap |`,
    "",
    ...(idle.code ? [`Code: ${idle.code}.${idle.note ? ` ${idle.note}` : ""}`, ""] : []),
    ...(idle.runs?.length
      ? [
          "Earlier runs:",
          "",
          ...idle.runs.map(
            (r) =>
              `- ${r.shoots} shoots, ${r.code ?? "?"}: ${r.controllerCpuPercent}% CPU, ${r.kubeRequestsPerSecond} kube req/s (${r.kubeWritesPerSecond} writes/s), ${r.ontapRequestsPerSecondPerCluster} ONTAP req/s per cluster; load at start ${r.loadAverageAtStart?.join(" / ") ?? "?"}`,
          ),
          "",
        ]
      : []),
  ];
}
