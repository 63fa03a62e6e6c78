/**
 * `npx tsx bench/trace.ts [slow|simDefault]`: the timeline of one new shoot and a second one of the same
 * project: every ONTAP call as the simulator received it, in ms since the Extension's creation. For finding
 * where the time to ready goes. With BENCH_LOG_LEVEL=debug the controller's reconciles, requeues and
 * Kubernetes requests (logged when they end, with their duration) are merged into the same timeline.
 */
import { readFileSync } from "node:fs";
import { ensureBuilt, extensionKey, log, PROFILES, startWorld } from "./harness.js";

ensureBuilt();
const profile = PROFILES[(process.argv[2] ?? "slow") as keyof typeof PROFILES];
const world = await startWorld({ profile, workers: 8, maxConcurrentPerCluster: 8 });

interface SimCall {
  seq: number;
  at: number;
  cluster: string;
  method: string;
  template: string;
  username: string;
}

/** The controller's debug lines for one Extension (or any Kubernetes request) between two instants. */
function controllerLines(from: number, to: number, key: string): { at: number; text: string }[] {
  const lines: { at: number; text: string }[] = [];
  for (const raw of readFileSync(world.controller.logPath, "utf8").split("\n")) {
    if (!raw.startsWith("{")) continue;
    const l = JSON.parse(raw) as { time: string; msg: string; key?: string; verb?: string; resource?: string; code?: number; durationMs?: number; afterMs?: number; reason?: string };
    const at = Date.parse(l.time);
    if (at < from || at > to) continue;
    if (l.msg === "kube request") lines.push({ at, text: `kube  ${l.verb} ${l.resource} ${l.code} (${l.durationMs} ms)` });
    else if (l.msg === "reconciling" && l.key === key) lines.push({ at, text: "reconcile starts" });
    else if (l.msg === "requeued" && l.key === key) lines.push({ at, text: `requeued after ${l.afterMs} ms: ${l.reason}` });
  }
  return lines;
}

try {
  for (const [i, shoot] of [
    { namespace: "shoot--trace--first", project: 7 },
    { namespace: "shoot--trace--second", project: 7 },
  ].entries()) {
    await world.prepareShoots([shoot]);
    const since = Math.max(
      0,
      ...(await Promise.all(world.admins.map(async (a) => ((await a.rest("GET", "/__sim/calls?log=true")).body as { log: SimCall[] }).log.at(-1)?.seq ?? 0))),
    );
    await world.createExtensions([shoot]);
    const key = extensionKey(shoot);
    await world.waitReady([key], 60_000, "trace");
    const t0 = world.createdAt.get(key) as number;
    const readyAt = world.readyAt.get(key) as number;
    const calls = (await Promise.all(world.admins.map(async (a) => ((await a.rest("GET", `/__sim/calls?log=true&since=${since}`)).body as { log: SimCall[] }).log)))
      .flat()
      .map((c) => ({ at: c.at, text: `${c.cluster}  ${c.method} ${c.template}${c.username !== "admin" ? ` (as ${c.username})` : ""}` }));
    // Lines logged a little before t0 belong to this shoot too: the controller may see the Extension before the
    // benchmark's create call returns.
    const timeline = [...calls, ...controllerLines(t0 - 200, readyAt, key)].sort((a, b) => a.at - b.at);
    log(`${i === 0 ? "first" : "second"} shoot (${profile.name}): Succeeded after ${readyAt - t0} ms`);
    for (const e of timeline) process.stdout.write(`${String(Math.round(e.at - t0)).padStart(6)} ms  ${e.text}\n`);
  }
} finally {
  await world.stop();
}
