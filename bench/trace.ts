/**
 * `npx tsx bench/trace.ts [slow|simDefault]`: the timeline of one new shoot and a second one of the same
 * project: every ONTAP call as the simulator received it, in ms since the Extension's creation. For finding
 * where the time to ready goes; the controller log (BENCH_LOG_LEVEL=debug) adds the requeues.
 */
import { ensureBuilt, extensionKey, log, PROFILES, startWorld } from "./harness.js";

ensureBuilt();
const profile = PROFILES[(process.argv[2] ?? "slow") as keyof typeof PROFILES];
const world = await startWorld({ profile, workers: 8, maxConcurrentPerCluster: 8 });
try {
  for (const [i, shoot] of [
    { namespace: "shoot--trace--first", project: 7 },
    { namespace: "shoot--trace--second", project: 7 },
  ].entries()) {
    await world.prepareShoots([shoot]);
    const logs = await Promise.all(world.admins.map(async (a) => ((await a.rest("GET", "/__sim/calls?log=true")).body as { log: { seq: number }[] }).log.length));
    void logs;
    const since = Math.max(0, ...(await Promise.all(world.admins.map(async (a) => {
      const l = ((await a.rest("GET", "/__sim/calls?log=true")).body as { log: { seq: number }[] }).log;
      return l.at(-1)?.seq ?? 0;
    }))));
    await world.createExtensions([shoot]);
    const key = extensionKey(shoot);
    await world.waitReady([key], 60_000, "trace");
    const t0 = world.createdAt.get(key) as number;
    const calls = (
      await Promise.all(
        world.admins.map(async (a) => ((await a.rest("GET", `/__sim/calls?log=true&since=${since}`)).body as { log: { seq: number; at: number; cluster: string; method: string; template: string; username: string }[] }).log),
      )
    )
      .flat()
      .sort((a, b) => a.seq - b.seq);
    log(`${i === 0 ? "first" : "second"} shoot (${profile.name}): Succeeded after ${(world.readyAt.get(key) as number) - t0} ms`);
    for (const c of calls) process.stdout.write(`${String(Math.round(c.at - t0)).padStart(6)} ms  ${c.cluster}  ${c.method} ${c.template}${c.username !== "admin" ? ` (as ${c.username})` : ""}\n`);
  }
} finally {
  await world.stop();
}
