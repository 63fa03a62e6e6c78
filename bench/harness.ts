/**
 * The benchmark's world, from src/testenv's world builder (`buildWorld`): a real kube-apiserver + etcd, a
 * 2-cluster simulated MetroCluster with a latency profile (in this process), the watching resource manager
 * stand-in (in this process); and, the benchmark's own, the controller as its own process (`node dist/cli.js
 * run`, built from src), so its memory and CPU are its own: read from /proc.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Extension } from "../src/extension/types.js";
import type { KubeClient } from "../src/kube/client.js";
import { Clusters, Extensions, Namespaces } from "../src/kube/resources.js";
import { createInformer } from "../src/runtime/informer.js";
import type { RunningSimulator } from "../src/simulator/index.js";
import type { SimAdmin } from "../src/simulator/admin-client.js";
import { buildWorld, freePorts, gardenletRequest, imageEnvironment, imageNodeFlags, isExtensionReady, jsonKiB, metalCloudProfile, metalSeed, PROJECT_ANNOTATION, realisticClusterObject, type TestEnv } from "../src/testenv/index.js";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const DIST_CLI = path.join(REPO_ROOT, "dist", "cli.js");

/** Node's flags from the image's ENTRYPOINT (the heap limit), so the benchmark measures the controller as it ships. */
export { imageNodeFlags };

/**
 * The node flags the controller process gets: the image's (the heap limit), or BENCH_NODE_FLAGS
 * (space-separated; empty for none) for trying other limits without editing the Dockerfile.
 */
export function controllerNodeFlags(): string[] {
  const override = process.env.BENCH_NODE_FLAGS;
  return override !== undefined ? override.split(" ").filter(Boolean) : imageNodeFlags();
}

export interface Profile {
  name: string;
  /** Added to every ONTAP REST call. */
  latencyMs: number;
  /** Duration of an SVM create or delete job. */
  jobMs: number;
}

export const PROFILES = {
  slow: { name: "50 ms per ONTAP call, 3 s per SVM job", latencyMs: 50, jobMs: 3000 },
  simDefault: { name: "the simulator's CLI default: no added latency, 200 ms per SVM job", latencyMs: 0, jobMs: 200 },
} satisfies Record<string, Profile>;

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Builds dist/ from src/ when any source file is newer than dist/cli.js (the controller runs as shipped). */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (existsSync(DIST_CLI) && statSync(DIST_CLI).mtimeMs >= newest(path.join(REPO_ROOT, "src"))) return;
  log("building dist/ (tsc -p tsconfig.build.json) so the controller runs as shipped");
  execFileSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], {
    cwd: REPO_ROOT,
    stdio: "inherit",
  });
}

const CLOCK_TICKS_PER_SECOND = 100;

/** The controller process: its /proc figures and its /metrics. */
export interface ControllerChild {
  proc: ChildProcess;
  pid: number;
  /** user + system CPU so far, ms. */
  cpuMs(): number;
  /** The node flags the process really runs with, read from /proc/<pid>/cmdline (what precedes dist/cli.js). */
  nodeFlags(): string[];
  /** Peak resident set (VmHWM), MiB. */
  peakRssMiB(): number;
  rssMiB(): number;
  metricsText(): Promise<string>;
  /** Sum of a metric over the label sets whose labels contain every given pair. */
  metric(name: string, where?: (labels: string) => boolean): Promise<number>;
  /** The controller's log (JSON lines; with BENCH_LOG_LEVEL=debug every reconcile and Kubernetes request). */
  logPath: string;
  /** The inspector's port on loopback when BENCH_INSPECT=1 (bench/cpu-profile.ts profiles a window with it). */
  inspectPort?: number;
  stop(): Promise<void>;
}

/** user + system CPU of a process so far, ms (from /proc/<pid>/stat). */
export function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // After the ") ": state is field 3, utime 14 and stime 15 of the full line.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

export function procStatus(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? 0) / 1024;
}

export async function spawnControllerChild(opts: {
  configPath: string;
  kubeconfig: string;
  dir: string;
  workers: number;
  pollSeconds: number;
}): Promise<ControllerChild> {
  const [healthPort = 0, inspectPort = 0] = await freePorts(2);
  const inspect = process.env.BENCH_INSPECT === "1";
  const logPath = path.join(opts.dir, "controller.log");
  const out = openSync(logPath, "a");
  const proc = spawn(
    process.execPath,
    [
      ...controllerNodeFlags(),
      // BENCH_CPU_PROF=DIR writes a V8 CPU profile of the controller there when it stops (for finding where
      // a scenario's time goes; open it in Chrome DevTools).
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : []),
      // BENCH_INSPECT=1 opens the inspector on loopback, so a scenario can profile one window (the idle one).
      ...(inspect ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
      DIST_CLI,
      "run",
      "--config",
      opts.configPath,
      "--kubeconfig",
      opts.kubeconfig,
      "--health-port",
      String(healthPort),
      "--poll-seconds",
      String(opts.pollSeconds),
      "--resync-minutes",
      "0",
      "--max-concurrent-reconciles",
      String(opts.workers),
      "--no-leader-elect",
      "--log-level",
      process.env.BENCH_LOG_LEVEL ?? "warn",
    ],
    // The image's environment too (MALLOC_ARENA_MAX: the allocator is part of the footprint measured).
    { cwd: REPO_ROOT, stdio: ["ignore", out, out], env: { ...process.env, ...imageEnvironment() } },
  );
  const pid = proc.pid as number;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const metricsText = async () => {
    const res = await fetch(`http://127.0.0.1:${healthPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.text();
  };
  // Ready once /healthz answers.
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null) throw new Error(`controller exited with ${proc.exitCode}; see ${opts.dir}/controller.log`);
    if (i > 600) throw new Error("controller did not become healthy in 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    pid,
    cpuMs: () => procCpuMs(pid),
    nodeFlags() {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return argv.slice(1, argv.indexOf(DIST_CLI)).filter((a) => !a.startsWith("--cpu-prof") && !a.startsWith("--inspect"));
    },
    peakRssMiB: () => procStatus(pid, "VmHWM"),
    rssMiB: () => procStatus(pid, "VmRSS"),
    metricsText,
    logPath,
    ...(inspect ? { inspectPort } : {}),
    async metric(name, where = () => true) {
      const text = await metricsText();
      let sum = 0;
      for (const line of text.split("\n")) {
        const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        if (!m || m[1] !== `gardener_extension_ontap_${name}`) continue;
        if (where(m[2] ?? "")) sum += Number(m[3]);
      }
      return sum;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ShootSpec {
  namespace: string;
  project: number;
}

export interface WorldOptions {
  profile: Profile;
  workers: number;
  maxConcurrentPerCluster: number;
  /** --poll-seconds of the controller (re-check of things not ready yet). */
  pollSeconds?: number;
  requeue?: { baseSeconds: number; capSeconds: number };
  breaker?: { consecutiveFailures: number; probeIntervalSeconds: number };
  /** Each simulated cluster's management address (port 443), for a controller that takes bare IP addresses. */
  managementAddresses?: string[];
  /** Another controller in the same world (the Go extension, bench/go-side-by-side.ts); default this one, built from src. `kubeconfigPath` is the one the controller runs with. */
  spawnController?: (world: { dir: string; env: TestEnv; sim: RunningSimulator; kube: KubeClient; workers: number; kubeconfigPath: string }) => Promise<ControllerChild>;
  /** The controller runs as a user of its own whose requests kube-apiserver writes to `World.auditLogPath` (buildWorld's `auditController`). */
  auditController?: boolean;
}

export interface World {
  env: TestEnv;
  sim: RunningSimulator;
  admins: SimAdmin[];
  kube: KubeClient;
  controller: ControllerChild;
  /** When each Extension was created (ms since epoch, as the create returned) and first seen ready. */
  createdAt: Map<string, number>;
  readyAt: Map<string, number>;
  /** The newest state of every Extension, from the benchmark's own watch. */
  latest: Map<string, Extension>;
  /** With `auditController`: kube-apiserver's audit log of the controller's requests (bench/at-rest.ts counts it). */
  auditLogPath?: string;
  /** Size of one shoot's Cluster object as created (JSON, KiB); 0 until prepareShoots ran. */
  clusterObjectKiB: number;
  /** Creates namespace and Cluster of each shoot (setup, not timed). */
  prepareShoots(shoots: ShootSpec[]): Promise<void>;
  /** Creates the Extensions, `parallel` at a time; records their creation time. */
  createExtensions(shoots: ShootSpec[], parallel?: number): Promise<void>;
  /** Waits until every given key is ready; logs progress every few seconds. */
  waitReady(keys: string[], timeoutMs: number, label: string): Promise<void>;
  /** Marks every given key not ready (before a Gardener-triggered reconcile) and annotates it. */
  annotateReconcile(keys: string[], parallel?: number): Promise<void>;
  /** REST calls the simulator counted, per cluster. */
  simCalls(): Promise<number[]>;
  /** Peak concurrent requests per cluster since the last reset, as the simulator saw them. */
  simPeaks(): Promise<number[]>;
  resetSimPeaks(): Promise<void>;
  stop(): Promise<void>;
}

export const extensionKey = (s: ShootSpec) => `${s.namespace}/ontap`;

/** Ready as gardenlet decides it after a request: Gardener's `checkExtensionObject`. */
export function isReady(ext: Extension): boolean {
  return isExtensionReady(ext);
}

async function inParallel<T>(items: T[], parallel: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  // src/testenv's world builder, as the tests and the demo use it: a seed of its own (every scenario in a fresh
  // world), the simulator with the profile's latency, and the watching stand-in (a thousand shoots have no
  // shoot API servers here).
  const built = await buildWorld({
    ontap: { clusters: 2, latencyMs: opts.profile.latencyMs, jobMs: opts.profile.jobMs, managementAddresses: opts.managementAddresses },
    resourceManager: { kind: "watching stand-in" },
    shootWebhook: false,
    kubeTimeoutMs: 60_000,
    dirPrefix: "ontap-bench-",
    // BENCH_KEEP=1 keeps the controller's log and configuration for a look afterwards.
    keepDir: Boolean(process.env.BENCH_KEEP),
    ...(opts.auditController ? { auditController: true } : {}),
  });
  const { dir, sim, admins, kube } = built;
  const env = built.seedEnv as TestEnv;
  const configPath = built.writeControllerConfig({
    extensionClass: "shoot",
    requeue: opts.requeue ?? { baseSeconds: 2, capSeconds: 300 },
    ontapRequests: {
      maxConcurrentPerCluster: opts.maxConcurrentPerCluster,
      circuitBreaker: opts.breaker ?? { consecutiveFailures: 5, probeIntervalSeconds: 1 },
    },
  });
  const controller = opts.spawnController
    ? await opts.spawnController({ dir, env, sim, kube, workers: opts.workers, kubeconfigPath: built.controllerKubeconfigPath })
    : await spawnControllerChild({
        configPath,
        kubeconfig: built.controllerKubeconfigPath,
        dir,
        workers: opts.workers,
        pollSeconds: opts.pollSeconds ?? 2,
      });

  const createdAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const extensions = createInformer<Extension>(kube, Extensions, {});
  const latest = new Map<string, Extension>();
  const observe = (ext: Extension) => {
    const key = `${ext.metadata.namespace}/${ext.metadata.name}`;
    latest.set(key, ext);
    if (createdAt.has(key) && !readyAt.has(key) && isReady(ext)) readyAt.set(key, Date.now());
  };
  extensions.onAdd(observe);
  extensions.onUpdate((_o, n) => observe(n));
  const watchAbort = new AbortController();
  void extensions.start(watchAbort.signal);

  const world: World = {
    env,
    sim,
    admins,
    kube,
    controller,
    createdAt,
    readyAt,
    latest,
    ...(built.auditLogPath ? { auditLogPath: built.auditLogPath } : {}),
    clusterObjectKiB: 0,
    async prepareShoots(shoots) {
      const cloudProfile = metalCloudProfile();
      const seed = metalSeed();
      await inParallel(shoots, 16, async (s) => {
        await kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: s.namespace } });
        // What gardenlet writes on a metal-stack seed: the whole CloudProfile, Seed and Shoot (about 101 KiB).
        const cluster = realisticClusterObject(
          { namespace: s.namespace, shootName: s.namespace.split("--")[2] ?? s.namespace, project: s.namespace.split("--")[1] ?? "bench", shootAnnotations: { [PROJECT_ANNOTATION]: `00000000-0000-0000-0000-${String(s.project).padStart(12, "0")}` } },
          { cloudProfile, seed },
        );
        world.clusterObjectKiB = Math.max(world.clusterObjectKiB, Math.round(jsonKiB(cluster)));
        await kube.create(Clusters, cluster);
      });
    },
    async createExtensions(shoots, parallel = 16) {
      await inParallel(shoots, parallel, async (s) => {
        const p = s.project;
        const ip = (last: number) => `10.${Math.floor(p / 250) + 10}.${p % 250}.${last}`;
        await kube.create(Extensions, {
          apiVersion: "extensions.gardener.cloud/v1alpha1",
          kind: "Extension",
          metadata: { name: "ontap", namespace: s.namespace, annotations: gardenletRequest("reconcile") },
          // With apiVersion and kind, as gardenlet copies it from the Shoot (the Go extension's decoder needs them).
          spec: {
            type: "ontap",
            providerConfig: { apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1", kind: "TridentConfig", svmIpaddresses: { managementLif: ip(10), dataLifs: [ip(11), ip(12)] } },
          },
        });
        createdAt.set(extensionKey(s), Date.now());
      });
    },
    async waitReady(keys, timeoutMs, label) {
      const started = Date.now();
      let lastLog = 0;
      for (;;) {
        const ready = keys.filter((k) => readyAt.has(k)).length;
        if (ready === keys.length) return;
        if (Date.now() - lastLog > 5_000) {
          lastLog = Date.now();
          log(`${label}: ${ready}/${keys.length} Succeeded after ${((Date.now() - started) / 1000).toFixed(0)} s`);
        }
        if (Date.now() - started > timeoutMs) throw new Error(`${label}: only ${ready}/${keys.length} Succeeded after ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async annotateReconcile(keys, parallel = 16) {
      for (const key of keys) {
        readyAt.delete(key);
        createdAt.set(key, Date.now());
      }
      await inParallel(keys, parallel, async (key) => {
        const [namespace = "", name = ""] = key.split("/");
        await kube.mergePatch(Extensions, namespace, name, { metadata: { annotations: gardenletRequest("reconcile") } });
      });
    },
    async simCalls() {
      return Promise.all(admins.map(async (a) => Object.values(await a.calls()).reduce((n, v) => n + v, 0)));
    },
    async simPeaks() {
      return Promise.all(admins.map(async (a) => ((await a.rest("GET", "/__sim/concurrency")).body as { peak: number }).peak));
    },
    async resetSimPeaks() {
      await Promise.all(admins.map((a) => a.rest("DELETE", "/__sim/concurrency")));
    },
    async stop() {
      await controller.stop();
      watchAbort.abort();
      await extensions.stopped().catch(() => undefined);
      await built.close();
      if (process.env.BENCH_KEEP) log(`kept ${dir}`);
    },
  };
  return world;
}

export function shootsOver(count: number, projects: number, prefix: string): ShootSpec[] {
  return Array.from({ length: count }, (_, i) => ({ namespace: `shoot--${prefix}${i % projects}--s${i}`, project: i % projects }));
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
