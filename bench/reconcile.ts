/**
 * `npm run bench`: what a reconcile costs and how the controller holds up at scale. Four scenarios
 * (bench/scenarios.ts), each in a fresh world with the controller as its own process:
 *   noop         ONTAP requests, Kubernetes requests and writes, and CPU ms per no-op reconcile
 *   timeToReady  first and second shoot of a project against the critical path of the latency profile
 *   fleet        N Extensions over N/5 projects at once: wall time, p50/p95/p99, peak ONTAP concurrency, RSS, CPU
 *   recovery     one cluster unreachable under a settled fleet, then back: request rate, time to converge
 *
 *   goSideBySide the fleet at 100 and 300 beside the Go extension (bench/go-side-by-side.ts), when GO_EXTENSION_BIN
 *                names its binary (built outside the repository: see that file)
 *
 * Default: a small run (CI: a minute or two) that checks every goal it can at that size and writes
 * bench/results.quick.json. `--full` runs the real sizes several times and writes bench/results.json and
 * docs/performance.md. `--only a,b` picks scenarios; with `--full` the others' figures in bench/results.json are
 * kept as they were (each section says which command and date produced it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuilt, log, PROFILES, REPO_ROOT } from "./harness.js";
import { renderPerformanceDoc } from "./report.js";
import { fleet, noop, recovery, timeToReady } from "./scenarios.js";
import { idle } from "./idle.js";
import { goExtensionBinary, goSideBySide } from "./go-side-by-side.js";

const args = process.argv.slice(2);
const full = args.includes("--full");
const onlyArg = args.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? (args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined);
const only = new Set((onlyArg ?? "noop,timeToReady,fleet,recovery,goSideBySide").split(","));
const fleetSizes = full ? (process.env.BENCH_FLEET_SIZES ?? "100,300,1000").split(",").map(Number) : [20];
const FLEET_WORKERS = 32;
const CAP = 8;

// `--render`: docs/performance.md again from bench/results.json, nothing run.
if (args.includes("--render")) {
  const saved = JSON.parse(readFileSync(path.join(REPO_ROOT, "bench", "results.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(REPO_ROOT, "docs", "performance.md"), renderPerformanceDoc(saved));
  log("wrote docs/performance.md from bench/results.json");
  process.exit(0);
}
ensureBuilt();
const started = Date.now();
const machine = {
  cores: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  note: "a shared machine: other builds and tests ran on the same cores, so times and CPU figures are pessimistic",
};
const command = `npm run bench --${full ? " --full" : ""}${onlyArg ? ` --only ${onlyArg}` : ""}`;
const out = path.join(REPO_ROOT, "bench", full ? "results.json" : "results.quick.json");
// A partial full run replaces only its scenarios' figures; the rest stay with the command and date that made them.
const kept: Record<string, unknown> = full && onlyArg && existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>) : {};
const results: Record<string, unknown> = {
  ...kept,
  date: new Date().toISOString(),
  command,
  machine,
};
/** Where each scenario's figures came from (a partial run keeps the others'), with the load around it. */
interface Source {
  command: string;
  date: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}
const sources = ((kept.sources as Record<string, unknown> | undefined) ?? {}) as Record<string, Source>;
// Figures kept from a run before `sources` existed belong to that run's command, date and load.
const keptMachine = kept.machine as { loadAverageAtStart?: number[] } | undefined;
for (const name of ["noop", "timeToReady", "fleet", "recovery", "goSideBySide", "idle"]) {
  if (kept[name] !== undefined && !sources[name]) {
    sources[name] = { command: String(kept.command), date: String(kept.date), loadAverageAtStart: keptMachine?.loadAverageAtStart ?? [] };
  }
}
results.sources = sources;
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
/** A scenario starts: its figures carry this run's command, the time, and the load at its start and end. */
const ran = (name: string) => {
  sources[name] = { command, date: new Date().toISOString(), loadAverageAtStart: load() };
};
const finished = (name: string) => {
  const source = sources[name];
  if (source) source.loadAverageAtEnd = load();
};

if (only.has("noop")) {
  log("scenario noop");
  ran("noop");
  results.noop = await noop(full ? { shoots: 100, projects: 20, rounds: 3 } : { shoots: 10, projects: 5, rounds: 1 });
  finished("noop");
}
if (only.has("timeToReady")) {
  log("scenario timeToReady");
  const projects = full ? 3 : 1;
  ran("timeToReady");
  results.timeToReady = {
    latencyProfile: await timeToReady({ profile: PROFILES.slow, projects, goal: "path" }),
    simulatorDefault: await timeToReady({ profile: PROFILES.simDefault, projects, goal: "goExtension" }),
  };
  finished("timeToReady");
}
if (only.has("fleet")) {
  ran("fleet");
  const runs = [];
  for (const size of fleetSizes) {
    log(`scenario fleet ${size}`);
    runs.push(await fleet({ extensions: size, workers: FLEET_WORKERS, cap: CAP }));
  }
  results.fleet = runs;
  finished("fleet");
}
if (only.has("goSideBySide")) {
  const bin = goExtensionBinary();
  if (full && bin) {
    log(`scenario goSideBySide (${bin})`);
    ran("goSideBySide");
    const rows = await goSideBySide({
      bin,
      sizes: (process.env.BENCH_GO_SIZES ?? "100,300").split(",").map(Number),
      idleSeconds: Number(process.env.BENCH_GO_IDLE_SECONDS ?? 60),
      command: `${process.env.GO_EXTENSION_BIN ? `GO_EXTENSION_BIN=${process.env.GO_EXTENSION_BIN.replace(os.homedir(), "~")} ` : ""}${process.env.BENCH_GO_SIZES ? `BENCH_GO_SIZES=${process.env.BENCH_GO_SIZES} ` : ""}${process.env.BENCH_GO_IDLE_SECONDS ? `BENCH_GO_IDLE_SECONDS=${process.env.BENCH_GO_IDLE_SECONDS} ` : ""}${command}`,
    });
    // Rows of other sizes measured by earlier runs stay, each with its command and date.
    const earlier = ((kept.goSideBySide as { shoots: number }[] | undefined) ?? []).filter((r) => !rows.some((n) => n.shoots === r.shoots));
    results.goSideBySide = [...earlier, ...rows].sort((a, b) => a.shoots - b.shoots);
    finished("goSideBySide");
  } else if (onlyArg) {
    log(full ? "scenario goSideBySide skipped: GO_EXTENSION_BIN names no binary (see bench/go-side-by-side.ts)" : "scenario goSideBySide runs with --full only");
  }
}
if (only.has("recovery")) {
  log("scenario recovery");
  ran("recovery");
  results.recovery = await recovery(full ? { extensions: Number(process.env.BENCH_RECOVERY_EXTENSIONS ?? 300), downSeconds: 60, workers: FLEET_WORKERS, cap: CAP } : { extensions: 10, downSeconds: 8, workers: 8, cap: CAP });
  finished("recovery");
}
if (only.has("idle") || (full && !onlyArg)) {
  // bench/idle.ts: the controller at rest (BENCH_IDLE_SHOOTS, BENCH_IDLE_SECONDS).
  log("scenario idle");
  ran("idle");
  results.idle = await idle({ shoots: Number(process.env.BENCH_IDLE_SHOOTS ?? (full ? 1000 : 20)), seconds: Number(process.env.BENCH_IDLE_SECONDS ?? (full ? 300 : 60)), cap: CAP, workers: FLEET_WORKERS });
  finished("idle");
}
results.benchSeconds = Math.round((Date.now() - started) / 1000);

writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${path.relative(REPO_ROOT, out)}`);
if (full) {
  writeFileSync(path.join(REPO_ROOT, "docs", "performance.md"), renderPerformanceDoc(results));
  log("wrote docs/performance.md");
}

// The small run guards the benchmark and the goals that are exact at any size and any load (request counts,
// the cap); timings on a loaded CI machine are reported, not judged.
const failed = Object.entries(results)
  .flatMap(([name, r]) => (Array.isArray(r) ? r.map((x, i) => [`${name}[${i}]`, x]) : r && typeof r === "object" && "goalMet" in r ? [[name, r]] : r && typeof r === "object" ? Object.entries(r).map(([k, v]) => [`${name}.${k}`, v]) : []))
  .filter(([, r]) => r && typeof r === "object" && "goalMet" in (r as object) && (r as { goalMet: boolean }).goalMet === false)
  .map(([name, r]) => `${name}: ${(r as { goal: string }).goal}`);
for (const f of failed) log(`goal not met: ${f}`);
const mustHold = failed.filter((f) => f.startsWith("noop") || f.startsWith("fleet"));
process.exit(!full && mustHold.length > 0 ? 1 : 0);
