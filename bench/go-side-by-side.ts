/**
 * The fleet beside the Go extension (metal-stack/gardener-extension-ontap), in the same world: the same
 * simulator and latency profile, the same kube-apiserver and stand-in resource manager, the same Clusters and
 * Extensions, one controller at a time, each at its chart's default of 5 concurrent reconciles.
 *
 * The Go binary is not built here: its source comes from the tool library's `fetch`, and neither that code nor
 * a recipe that builds it may be committed. The recipe lives outside the repository, at
 * ~/.cache/gardener-extension-ontap/recipes/build-go-extension.sh (GOTOOLCHAIN=local, GOFLAGS=-mod=mod, the module
 * proxy); it writes ~/.cache/gardener-extension-ontap/bin/gardener-extension-ontap-go-<sha>. Set GO_EXTENSION_BIN
 * to that binary and `npm run bench -- --full` runs this scenario too (`--only goSideBySide` alone).
 *
 * What the Go extension needs from the world (read from its source at 6e39aea, cmd/ and pkg/):
 * - its component configuration: `clusters: [{name, ipaddress, username, password}]`, `ipaddress` a bare IP
 *   address (it refuses anything else) reached at https://<ipaddress>/api, TLS unverified. So the simulator
 *   serves each cluster on an address of its own at port 443 (`managementAddresses`);
 * - the Extension's providerConfig with apiVersion and kind (its decoder needs them), the shoot's project in the
 *   Cluster's Shoot annotation `cluster.metal-stack.io/project`;
 * - Gardener's webhook library: certificates it makes itself into Secrets of `--webhook-config-namespace`, a
 *   webhook server (`--webhook-config-mode=url`), the shoot webhook's ManagedResource per shoot;
 * - the heartbeat Lease in `--heartbeat-namespace`; leader election off, as this controller runs here;
 * - its working directory at its source tree: it reads Trident's manifests from the relative path
 *   `charts/trident/resources/...` (its image's WORKDIR). GO_EXTENSION_SRC, else the recipe's build directory
 *   ~/.cache/gardener-extension-ontap/build/<binary name>.
 *
 * At rest: once a side's creates have all Succeeded, a window of BENCH_GO_IDLE_SECONDS (default 60) in which
 * nothing is asked of it, measured as bench/at-rest.ts measures the `idle` key, the same way for both sides:
 * ONTAP requests per second per cluster at the simulator, CPU from /proc, and Kubernetes requests at
 * kube-apiserver, from its audit log of the controller's own user (the Go binary has no kube_requests_total).
 * Before it each side settles: this controller until its storage health check has looked at every shoot (the
 * first round's proofs are a one-off; the Go extension has no health check), then both until no ONTAP request
 * came for 2 s. Goal at rest: the `idle` key's absolute goals, not the Go extension's figures (it checks
 * nothing at rest; this one proves each shoot's password once per period).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { Namespaces } from "../src/kube/resources.js";
import { freePorts } from "../src/testenv/index.js";
import { AUDITED_CONTROLLER } from "../src/testenv/world.js";
import { AT_REST_GOAL, type AtRestFigures, type AtRestMeasure, atRestGoalMet, atRestRatio, auditLogCount, measureAtRest, ownMetricsCount, quietOntap, waitHealthChecked } from "./at-rest.js";
import { type ControllerChild, log, PROFILES, procCpuMs, procStatus, type World, type WorldOptions } from "./harness.js";
import { type FleetResult, fleet } from "./scenarios.js";

/**
 * Each simulated cluster's management address in the side-by-side worlds (both controllers get the same); port
 * 443 on them is taken for the run, so two runs at once on one machine need BENCH_GO_ADDRESSES (comma-separated).
 */
const MANAGEMENT_ADDRESSES = (process.env.BENCH_GO_ADDRESSES ?? "127.0.0.11,127.0.0.12").split(",");
/** Both charts' default number of concurrent reconciles (the Go chart's `controllers.concurrentSyncs`, ours `maxConcurrentReconciles`). */
const CHART_WORKERS = 5;
/** This controller's chart default per-cluster cap on concurrent ONTAP requests (the Go extension has none). */
const CHART_CAP = 8;
const GO_NAMESPACE = "extension-ontap-go";

/** The Go extension's binary named by GO_EXTENSION_BIN, if it exists. */
export function goExtensionBinary(): string | undefined {
  const bin = process.env.GO_EXTENSION_BIN;
  return bin && existsSync(bin) ? path.resolve(bin) : undefined;
}

export interface SideFigures {
  wallSeconds: number;
  p95Seconds: number;
  controllerCpuSeconds: number;
  controllerPeakRssMiB: number;
  ontapRequestsPerShoot: number;
  peakConcurrentOntapRequestsPerCluster: number[];
  /** The window at rest after the creates (absent in rows measured before it was). */
  idle?: SideIdleFigures;
}

/** A side at rest; this controller's also with its own count of its Kubernetes requests, a check on the audit log's. */
export type SideIdleFigures = AtRestFigures & { kubeRequestsPerSecondOwnMetrics?: number };

type CreateMeasure = keyof Omit<SideFigures, "peakConcurrentOntapRequestsPerCluster" | "idle">;

export interface GoSideBySideRow {
  shoots: number;
  clusterObjectKiB: number;
  profile: string;
  workers: number;
  /** The binary measured and the commit it was built from (its file name). */
  goBinary: string;
  go: SideFigures;
  ts: SideFigures;
  /** ts / go for each figure: below 1 is this controller ahead; at rest null where the Go extension's figure is 0. */
  ratio: Record<CreateMeasure, number> & { idle?: Record<AtRestMeasure, number | null> };
  loadAverageAtStart: number[];
  /** The run that measured this row (rows of several runs are kept side by side in results.json). */
  command?: string;
  date?: string;
  /** The creates: each figure at most the Go extension's. */
  goal: string;
  goalMet: boolean;
  /** At rest: the `idle` key's absolute goals, judged on this controller's window. */
  idleGoal?: string;
  idleGoalMet?: boolean;
}

function figures(r: FleetResult): SideFigures {
  return {
    wallSeconds: r.wallSecondsUntilAllSucceeded,
    p95Seconds: r.timeToReadySeconds.p95,
    controllerCpuSeconds: r.controllerCpuSeconds,
    controllerPeakRssMiB: r.controllerPeakRssMiB,
    ontapRequestsPerShoot: r.ontapRequestsPerExtension,
    peakConcurrentOntapRequestsPerCluster: r.peakConcurrentOntapRequestsPerCluster,
  };
}

export async function goSideBySide(opts: { bin: string; sizes: number[]; idleSeconds: number; command?: string }): Promise<GoSideBySideRow[]> {
  const rows: GoSideBySideRow[] = [];
  const { loadavg } = await import("node:os");
  for (const shoots of opts.sizes) {
    const loadAverageAtStart = loadavg().map((x) => Number(x.toFixed(2)));
    const date = new Date().toISOString();
    const world = { managementAddresses: MANAGEMENT_ADDRESSES, auditController: true };
    log(`goSideBySide ${shoots}: the Go extension (${path.basename(opts.bin)})`);
    let goIdle: SideIdleFigures | undefined;
    const go = await fleet({
      extensions: shoots,
      workers: CHART_WORKERS,
      cap: CHART_CAP,
      world: { ...world, spawnController: (w) => spawnGoExtension({ ...w, bin: opts.bin }) },
      afterCreates: async (w, keys) => {
        goIdle = await sideAtRest(w, keys, { label: `goSideBySide ${shoots} go`, seconds: opts.idleSeconds, healthChecked: false });
      },
    });
    log(`goSideBySide ${shoots}: this controller`);
    let tsIdle: SideIdleFigures | undefined;
    const ts = await fleet({
      extensions: shoots,
      workers: CHART_WORKERS,
      cap: CHART_CAP,
      world,
      afterCreates: async (w, keys) => {
        tsIdle = await sideAtRest(w, keys, { label: `goSideBySide ${shoots} ts`, seconds: opts.idleSeconds, healthChecked: true });
      },
    });
    const [g, t] = [{ ...figures(go), idle: goIdle }, { ...figures(ts), idle: tsIdle }];
    const ratio = {
      wallSeconds: Number((t.wallSeconds / g.wallSeconds).toFixed(2)),
      p95Seconds: Number((t.p95Seconds / g.p95Seconds).toFixed(2)),
      controllerCpuSeconds: Number((t.controllerCpuSeconds / g.controllerCpuSeconds).toFixed(2)),
      controllerPeakRssMiB: Number((t.controllerPeakRssMiB / g.controllerPeakRssMiB).toFixed(2)),
      ontapRequestsPerShoot: Number((t.ontapRequestsPerShoot / g.ontapRequestsPerShoot).toFixed(2)),
    };
    const idleRatio = g.idle && t.idle ? atRestRatio(g.idle, t.idle) : undefined;
    rows.push({
      shoots,
      clusterObjectKiB: ts.clusterObjectKiB,
      profile: PROFILES.slow.name,
      workers: CHART_WORKERS,
      goBinary: path.basename(opts.bin),
      go: g,
      ts: t,
      ratio: { ...ratio, ...(idleRatio ? { idle: idleRatio } : {}) },
      loadAverageAtStart,
      ...(opts.command ? { command: opts.command } : {}),
      date,
      goal: "each figure of the creates of this controller at most the Go extension's, measured in the same run",
      goalMet: Object.values(ratio).every((r) => r <= 1),
      idleGoal: `the idle key's absolute goals (${AT_REST_GOAL}); not the Go extension's figures, which check nothing at rest`,
      idleGoalMet: t.idle ? atRestGoalMet(t.idle, shoots) : false,
    });
    log(`goSideBySide ${shoots}: go ${JSON.stringify(g)}; ts ${JSON.stringify(t)}; ts/go ${JSON.stringify(rows.at(-1)?.ratio)}`);
  }
  return rows;
}

/**
 * One side's window at rest, in its fleet's world after the creates: settled (this controller: every shoot
 * health-checked once), no ONTAP request for 2 s, then `seconds` counted; Kubernetes requests from the audit log.
 */
async function sideAtRest(world: World, keys: string[], opts: { label: string; seconds: number; healthChecked: boolean }): Promise<SideIdleFigures> {
  if (!world.auditLogPath) throw new Error(`${opts.label}: the world has no audit log (startWorld's auditController)`);
  if (opts.healthChecked) await waitHealthChecked(world, keys, 600_000, opts.label);
  await quietOntap(world);
  log(`${opts.label}: at rest, counting for ${opts.seconds} s`);
  // This controller also counts its own requests in the same window: a check on the audit log's count.
  const own = opts.healthChecked ? ownMetricsCount(world.controller) : undefined;
  const ownBefore = await own?.();
  const { figures, before } = await measureAtRest(world, opts.seconds, auditLogCount(world.auditLogPath, AUDITED_CONTROLLER));
  const ownAfter = await own?.();
  const ownTotal = (m: Map<string, number> | undefined) => [...(m ?? new Map<string, number>()).values()].reduce((a, b) => a + b, 0);
  log(`${opts.label}: the audit log held ${ownTotal(before.kube)} requests of the controller before the window (its own metrics: ${ownBefore ? ownTotal(ownBefore) : "none"})`);
  const idle: SideIdleFigures = {
    ...figures,
    ...(own ? { kubeRequestsPerSecondOwnMetrics: Number(((ownTotal(ownAfter) - ownTotal(ownBefore)) / figures.seconds).toFixed(3)) } : {}),
  };
  log(
    `${opts.label}: at rest ${idle.ontapRequestsPerSecondPerCluster} ONTAP req/s per cluster, ${idle.kubeRequestsPerSecond} kube req/s (${idle.kubeWritesPerSecond} writes/s` +
      `${idle.kubeRequestsPerSecondOwnMetrics !== undefined ? `; its own metrics: ${idle.kubeRequestsPerSecondOwnMetrics}` : ""}), CPU ${idle.controllerCpuPercent}%; ${JSON.stringify(idle.kubeRequestsPerSecondByKind)}`,
  );
  return idle;
}

/** The Go extension's source tree (its charts/ are read at run time); the recipe leaves it beside the binary's name. */
function goSourceTree(bin: string): string {
  const dir = process.env.GO_EXTENSION_SRC ?? path.join(homedir(), ".cache", "gardener-extension-ontap", "build", path.basename(bin));
  if (!existsSync(path.join(dir, "charts", "trident", "resources"))) throw new Error(`the Go extension reads charts/trident/resources from its working directory: ${dir} has none (set GO_EXTENSION_SRC)`);
  return dir;
}

/** The Go extension as the world's controller: its configuration file, its flags, its namespaces; figures from /proc. */
export async function spawnGoExtension(w: Parameters<NonNullable<WorldOptions["spawnController"]>>[0] & { bin: string }): Promise<ControllerChild> {
  const dir = path.join(w.dir, "go-extension");
  mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, "config.yaml");
  writeFileSync(
    configPath,
    stringify({
      apiVersion: "ontap.metal.extensions.config.gardener.cloud/v1alpha1",
      kind: "ControllerConfiguration",
      clusters: w.sim.clusters.map((c) => ({ name: c.name, ipaddress: new URL(c.url).hostname, username: c.username, password: c.password })),
    }),
    { mode: 0o600 },
  );
  await w.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: GO_NAMESPACE } }).catch(() => undefined);
  const [metricsPort = 0, healthPort = 0, webhookPort = 0] = await freePorts(3);
  const logPath = path.join(dir, "controller.log");
  const out = openSync(logPath, "a");
  const proc: ChildProcess = spawn(
    w.bin,
    [
      // The world's controller identity: with auditController a user of its own, whose requests the audit log holds.
      `--kubeconfig=${w.kubeconfigPath}`,
      `--config=${configPath}`,
      "--leader-election=false",
      `--max-concurrent-reconciles=${w.workers}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-bind-address=127.0.0.1:${healthPort}`,
      "--webhook-config-mode=url",
      `--webhook-config-url=127.0.0.1:${webhookPort}`,
      "--webhook-config-server-host=127.0.0.1",
      `--webhook-config-server-port=${webhookPort}`,
      `--webhook-config-namespace=${GO_NAMESPACE}`,
      `--webhook-config-cert-dir=${path.join(dir, "certs")}`,
      `--heartbeat-namespace=${GO_NAMESPACE}`,
      // Problems only, as this controller runs with warn: the Go extension logs every reconcile at info.
      `--log-level=${process.env.BENCH_GO_LOG_LEVEL ?? "error"}`,
    ],
    {
      cwd: goSourceTree(w.bin),
      stdio: ["ignore", out, out],
      env: { ...process.env, LEADER_ELECTION_NAMESPACE: GO_NAMESPACE, WEBHOOK_CONFIG_NAMESPACE: GO_NAMESPACE, POD_NAMESPACE: GO_NAMESPACE },
    },
  );
  const pid = proc.pid as number;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null) throw new Error(`the Go extension exited with ${proc.exitCode}: ${readFileSync(logPath, "utf8").slice(-2000)}`);
    if (i > 1200) throw new Error(`the Go extension did not become healthy in 120 s; see ${logPath}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const metricsText = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return {
    proc,
    pid,
    cpuMs: () => procCpuMs(pid),
    nodeFlags: () => [],
    peakRssMiB: () => procStatus(pid, "VmHWM"),
    rssMiB: () => procStatus(pid, "VmRSS"),
    metricsText,
    // Its metrics are controller-runtime's, not ours: the fleet scenario reads ONTAP requests at the simulator.
    metric: async () => 0,
    logPath,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
