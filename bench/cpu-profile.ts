/**
 * A V8 CPU profile of one window of the controller process, over its inspector (the harness opens it on
 * loopback with BENCH_INSPECT=1): where the idle window's CPU goes, without the creates before it. The
 * profile is written as a `.cpuprofile` (Chrome DevTools opens it) and summed by function here.
 */
import { writeFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface WindowProfiler {
  /** Stops the profiler, writes the profile to `file` and returns the top functions by self time. */
  stop(file: string): Promise<ProfileSummary & { file: string }>;
}

export interface ProfileSummary {
  /** Sampled time on the CPU (the inspector's idle samples left out). */
  sampledMs: number;
  /** Share of sampled time by function (self time), the largest first. */
  top: { fn: string; selfMs: number; percent: number }[];
  /** Share by module (self time summed over its functions; node internals and V8 as their own rows). */
  byModule: { module: string; selfMs: number; percent: number }[];
}

export async function startWindowProfiler(port: number): Promise<WindowProfiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on 127.0.0.1:${port}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 1000 });
  await send("Profiler.start");
  return {
    async stop(file) {
      const { profile } = (await send("Profiler.stop")) as { profile: CpuProfile };
      ws.close();
      writeFileSync(file, JSON.stringify(profile));
      return { file, ...summarize(profile) };
    },
  };
}

export function summarize(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  // The idle samples are time the process did nothing: left out of the shares.
  for (const [id] of selfUs) if (byId.get(id)?.callFrame.functionName === "(idle)") selfUs.delete(id);
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, "$1/") || "(native)";
    const fn = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const module = frame.url === "" ? frame.functionName : where.startsWith("node_modules/") ? where.split("/").slice(0, 2).join("/") : where;
    modules.set(module, (modules.get(module) ?? 0) + us);
  }
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, selfMs: Math.round(us / 1000), percent: Number(((us / total) * 100).toFixed(1)) }));
  return {
    sampledMs: Math.round(total / 1000),
    top: rows(fns, 25).map(({ k, ...r }) => ({ fn: k, ...r })),
    byModule: rows(modules, 20).map(({ k, ...r }) => ({ module: k, ...r })),
  };
}
