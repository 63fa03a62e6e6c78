/**
 * The controller's heap at start against a seed of realistic Clusters: `npx tsx bench/startup-heap.ts`
 * (after the binaries are built). Starts its own kube-apiserver + etcd and ONTAP simulator, creates
 * STARTUP_CLUSTERS Clusters of STARTUP_CLUSTER_KIB KiB (default 1,000 of 101 KiB), then starts
 * `node <image flags> dist/cli.js run` (STARTUP_OLD_SPACE_MIB overrides the image's old space) and reports
 * whether it reached "informers synced" and its heap then (V8's heap used, from /metrics), or how it died.
 */
import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import { Clusters } from "../src/kube/resources.js";
import {
  buildWorld,
  cloudProfileShapeOfKiB,
  freePorts,
  imageNodeFlags,
  jsonKiB,
  metalCloudProfile,
  metalSeed,
  PROJECT_ANNOTATION,
  realisticClusterObject,
  withOldSpaceMiB,
} from "../src/testenv/index.js";
import { ensureBuilt, REPO_ROOT } from "./harness.js";

const COUNT = Number(process.env.STARTUP_CLUSTERS ?? 1000);
const KIB = Number(process.env.STARTUP_CLUSTER_KIB ?? 101);
const OLD_SPACE = process.env.STARTUP_OLD_SPACE_MIB ? Number(process.env.STARTUP_OLD_SPACE_MIB) : undefined;
const WAIT_MS = Number(process.env.STARTUP_WAIT_SECONDS ?? 120) * 1000;
/** Another build of the controller (e.g. of an older commit, for a before/after figure); default dist/cli.js. */
const CLI = process.env.STARTUP_CLI ? path.resolve(process.env.STARTUP_CLI) : path.join(REPO_ROOT, "dist", "cli.js");

if (!process.env.STARTUP_CLI) ensureBuilt();
// src/testenv's world builder: a seed of its own, one simulated cluster; nothing reconciles an Extension here.
const world = await buildWorld({ ontap: { clusters: 1 }, resourceManager: { kind: "none" }, shootWebhook: false, kubeTimeoutMs: 60_000, dirPrefix: "startup-heap-", keepDir: true });
try {
  const { kube, dir } = world;
  // The Cluster's own parts (Seed, Shoot, wrapper) are about 7 KiB; the CloudProfile makes up the rest.
  const cloudProfile = metalCloudProfile(cloudProfileShapeOfKiB(Math.max(1, KIB - 7)));
  const seed = metalSeed();
  const one = (i: number) =>
    realisticClusterObject({ namespace: `shoot--heap--s${i}`, shootName: `s${i}`, project: "heap", shootAnnotations: { [PROJECT_ANNOTATION]: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` } }, { cloudProfile, seed });
  const size = jsonKiB(one(0));
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < COUNT) await kube.create(Clusters, one(next++));
  }));
  const configPath = world.writeControllerConfig();
  const [healthPort = 0] = await freePorts(1);
  const flags = OLD_SPACE ? withOldSpaceMiB(imageNodeFlags(), OLD_SPACE) : imageNodeFlags();
  const logFile = path.join(dir, "controller.log");
  const out = openSync(logFile, "a");
  const proc = spawn(process.execPath, [...flags, CLI, "run", "--config", configPath, "--kubeconfig", world.controllerKubeconfigPath, "--health-port", String(healthPort), "--no-webhook"], {
    stdio: ["ignore", out, out],
    env: { ...process.env, LOG_LEVEL: "info" },
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const started = Date.now();
  let verdict = "";
  while (!verdict) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await exited;
      const log = readFileSync(logFile, "utf8");
      verdict = `DIED (exit ${proc.exitCode ?? proc.signalCode}) after ${((Date.now() - started) / 1000).toFixed(1)} s${log.includes("heap out of memory") ? ": JavaScript heap out of memory" : `: ${log.slice(-300)}`}`;
      break;
    }
    const log = readFileSync(logFile, "utf8");
    if (log.includes("caches synced")) {
      await new Promise((r) => setTimeout(r, 3000));
      const text = await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text()).catch(() => "");
      const heapUsed = Number(/gardener_extension_ontap_nodejs_heap_size_used_bytes (\d+)/.exec(text)?.[1] ?? 0) / 1048576;
      const rss = Number(/gardener_extension_ontap_process_resident_memory_bytes (\d+)/.exec(text)?.[1] ?? 0) / 1048576;
      verdict = `STARTED in ${((Date.now() - started) / 1000).toFixed(1)} s: heap used ${heapUsed.toFixed(0)} MiB, RSS ${rss.toFixed(0)} MiB`;
      break;
    }
    if (Date.now() - started > WAIT_MS) verdict = "no 'synced' line within the wait";
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stdout.write(`${COUNT} Clusters of ${size.toFixed(0)} KiB, node ${flags.join(" ")}: ${verdict}\n`);
  proc.kill("SIGKILL");
} finally {
  await world.close();
}
