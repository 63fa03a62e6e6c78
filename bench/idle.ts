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
import { extensionKey, log, PROFILES, shootsOver, startWorld, type World } from "./harness.js";

const WRITE_VERBS = /verb="(create|update|patch|delete)"/;
const HEALTH_CONDITION = "StorageHealthy";

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
    await waitHealthChecked(world, keys, 600_000);
    await quietOntap(world);
    await world.resetSimPeaks();
    // BENCH_INSPECT=1: a CPU profile of the window alone (bench/cpu-profile.ts), summed into the log.
    const profiler = world.controller.inspectPort ? await startWindowProfiler(world.controller.inspectPort) : undefined;
    const before = await snapshot(world);
    log(`idle ${opts.shoots}: counting for ${opts.seconds} s`);
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    const after = await snapshot(world);
    if (profiler) logProfile(await profiler.stop(path.join(tmpdir(), `idle-${opts.shoots}-${Date.now()}.cpuprofile`)));
    const seconds = (after.at - before.at) / 1000;
    const perCluster = after.sim.map((n, i) => (n - (before.sim[i] ?? 0)) / seconds);
    const peaks = await world.simPeaks();
    const result: IdleResult = {
      profile: profile.name,
      shoots: opts.shoots,
      projects,
      clusters: perCluster.length,
      seconds: round(seconds, 1),
      ontapRequestsPerSecondPerCluster: round(Math.max(...perCluster), 3),
      ontapRequestsPerSecondByCluster: perCluster.map((x) => round(x, 3)),
      kubeRequestsPerSecond: round((after.kube - before.kube) / seconds, 3),
      kubeWritesPerSecond: round((after.writes - before.writes) / seconds, 3),
      kubeRequestsPerSecondByKind: Object.fromEntries(
        [...after.byKind]
          .map(([k, n]) => [k, round((n - (before.byKind.get(k) ?? 0)) / seconds, 3)] as const)
          .filter(([, r]) => r > 0)
          .sort((a, b) => b[1] - a[1]),
      ),
      controllerCpuPercent: round(((after.cpuMs - before.cpuMs) / (after.at - before.at)) * 100, 2),
      peakConcurrentOntapRequestsPerCluster: peaks,
      capExceeded: peaks.some((p) => p > opts.cap),
      goal: "at rest, at 1,000 shoots: at most 2 ONTAP requests per second per cluster, controller CPU at most 5% of a core, the cap never exceeded",
      goalMet: false,
    };
    // The figures that grow with the shoots are judged at the goal's size; the cap at any size.
    result.goalMet = !result.capExceeded && result.ontapRequestsPerSecondPerCluster <= 2 * Math.max(1, opts.shoots / 1000) && result.controllerCpuPercent <= 5;
    log(
      `idle ${opts.shoots}: ${result.ontapRequestsPerSecondPerCluster} ONTAP req/s per cluster (${result.ontapRequestsPerSecondByCluster.join(", ")}), ` +
        `${result.kubeRequestsPerSecond} kube req/s (${result.kubeWritesPerSecond} writes/s), CPU ${result.controllerCpuPercent}%`,
    );
    return result;
  } finally {
    await world.stop();
  }
}

async function snapshot(world: World) {
  return {
    at: Date.now(),
    sim: await world.simCalls(),
    kube: await world.controller.metric("kube_requests_total"),
    writes: await world.controller.metric("kube_requests_total", (l) => WRITE_VERBS.test(l)),
    byKind: requestsByKind(await world.controller.metricsText()),
    cpuMs: world.controller.cpuMs(),
  };
}

/** kube_requests_total summed by `verb resource`. */
function requestsByKind(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split("\n")) {
    const m = /^gardener_extension_ontap_kube_requests_total\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const kind = `${labels.verb} ${labels.resource}`;
    out.set(kind, (out.get(kind) ?? 0) + Number(m[2]));
  }
  return out;
}

function logProfile(summary: ProfileSummary & { file: string }): void {
  log(`idle: CPU profile of the window (${summary.file}), ${summary.sampledMs} ms on the CPU; by module:`);
  for (const r of summary.byModule) log(`  ${r.percent}% ${r.selfMs} ms ${r.module}`);
  log("idle: by function (self time):");
  for (const r of summary.top) log(`  ${r.percent}% ${r.selfMs} ms ${r.fn}`);
}

/** Until every Extension carries the health check's condition (the first round has looked at each). */
async function waitHealthChecked(world: World, keys: string[], timeoutMs: number): Promise<void> {
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    const checked = keys.filter((k) => world.latest.get(k)?.status?.conditions?.some((c) => c.type === HEALTH_CONDITION)).length;
    if (checked === keys.length) return;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`idle: ${checked}/${keys.length} shoots health-checked after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    if (Date.now() - started > timeoutMs) throw new Error(`idle: only ${checked}/${keys.length} shoots health-checked after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Until the first health round's requests are over (no ONTAP request for 2 s). */
async function quietOntap(world: World): Promise<void> {
  let last = await world.simCalls();
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await world.simCalls();
    if (now.every((v, j) => v === last[j])) return;
    last = now;
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

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
