import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKubeConfig, type RunningController } from "../../src/controller.js";
import type { FaultCall, FaultRule } from "../../src/faults/rules.js";
import { createMetrics } from "../../src/metrics/index.js";
import type { OntapCallLogEntry } from "../support/chaos-world.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { testEnv } from "../support/kube-test-helpers.js";
import { createWorld, uniqueSuffix, type World } from "../support/world.js";

/**
 * Two controller processes' worth of controllers (in this process, each with its own fault proxy to the one
 * kube-apiserver and its own ONTAP admin account, so both call logs say who wrote what), one Lease. The
 * leader's reconcile is in flight (its ONTAP account create held on the wire for 6 s) when its Lease calls
 * are cut at its proxy. Required: one writer at a time, proven from the simulator's ordered call log (by
 * account) and the proxies' ordered call logs (by proxy); convergence under the new leader; the stored
 * password authenticates (secret first) after the held write landed.
 */

const PASSWORD_B = `Pw-${uniqueSuffix()}-0123456789abcdef`;
let world: World | undefined;
const proxies: FaultProxy[] = [];
afterAll(async () => {
  await world?.close();
  await Promise.all(proxies.map((p) => p.stop()));
});

interface KubeWrite {
  seq: number;
  who: "a" | "b";
  method: string;
  path: string;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "a a a b b" is one handover; "a b a" is two writers at once. */
function writerRuns(writers: string[]): string[] {
  return writers.filter((w, i) => i === 0 || writers[i - 1] !== w);
}

describe("chaos: leadership", () => {
  it("the leader loses its Lease while its ONTAP write hangs: one writer at a time, convergence, secret first", { timeout: 180_000 }, async () => {
    const w = await createWorld({ clusters: 1, startController: false });
    world = w;
    const env = testEnv();
    const kubeLog: KubeWrite[] = [];
    let seq = 0;
    for (const who of ["a", "b"] as const) {
      const proxy = await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token });
      proxies.push(proxy);
      const decide = proxy.rules.decide.bind(proxy.rules);
      proxy.rules.decide = (call: FaultCall): FaultRule | undefined => {
        kubeLog.push({ seq: ++seq, who, method: call.method.toUpperCase(), path: call.path });
        return decide(call);
      };
    }
    const sim = w.admins[0]!;
    const created = await sim.rest("POST", "/api/security/accounts", {
      body: { name: "admin-b", role: { name: "admin" }, password: PASSWORD_B, applications: [{ application: "http", authentication_methods: ["password"] }] },
    });
    expect(created.status).toBeLessThan(300);
    w.knownSecrets.add(PASSWORD_B);

    const leaseName = `lease-${uniqueSuffix()}`;
    const kubeconfigOf = (i: number) => loadKubeConfig(proxies[i]!.kubeconfigFor(mkdtempSync(path.join(tmpdir(), "ontap-lead-"))));
    const a: RunningController = await w.startController({ identity: "a", metrics: createMetrics(), kubeconfig: kubeconfigOf(0), leaseName });
    await until("a leads", () => a.manager.isLeader(), 30_000);
    const b: RunningController = await w.startController({
      identity: "b",
      metrics: createMetrics(),
      kubeconfig: kubeconfigOf(1),
      leaseName,
      config: { clusters: w.config.clusters.map((c) => ({ ...c, username: "admin-b", password: PASSWORD_B })) },
    });
    await until("b is ready", () => b.manager.isReady(), 30_000);

    // A's account create reaches ONTAP and is held there: the term ends while it is on the wire.
    await sim.addFault({ method: "POST", path: "^/api/security/accounts$", count: 1, action: { type: "delay", ms: 6000 } });
    const shoot = await w.createShoot({ project: `lead${uniqueSuffix()}`, dataLifs: ["10.77.0.11"], managementLif: "10.77.0.10" });
    await until("a's account create on the wire", async () => ((await sim.calls())["POST /api/security/accounts"] ?? 0) >= 2, 60_000);
    const cut = proxies[0]!.rules.add({ path: `/leases/${leaseName}$`, action: { type: "error", status: 503 } });
    await until("b leads", () => b.manager.isLeader(), 30_000);
    expect(a.manager.isLeader()).toBe(false);

    await w.waitSucceeded(shoot, 90_000);
    proxies[0]!.rules.remove(cut.id);
    // The held write lands (its client gave up long ago), then everything is checked again.
    await new Promise((r) => setTimeout(r, 7000));
    expect(await w.invariants([shoot])).toEqual([]);
    expect(b.manager.isLeader()).toBe(true);
    expect(a.manager.isLeader()).toBe(false);
    expect(a.manager.isLive()).toBe(true);

    // One writer at a time, from the simulator's own ordered log (who = the admin account used).
    const ontap = ((await sim.rest("GET", "/__sim/calls?log=true&since=0")).body as { log: OntapCallLogEntry[] }).log;
    const ontapWriters = ontap
      .filter((c) => c.method !== "GET" && c.template.startsWith("/api/") && (c.username === "admin-b" || c.username === w.config.clusters[0]!.username))
      .map((c) => (c.username === "admin-b" ? "b" : "a"));
    expect(ontapWriters).toContain("b");
    expect(writerRuns(ontapWriters)).toEqual(ontapWriters[0] === "a" ? ["a", "b"] : ["b"]);
    // ... and from the proxies' ordered logs: seed writes other than the Lease and Events.
    const kubeWriters = kubeLog
      .filter((c) => c.method !== "GET" && !c.path.includes("/leases/") && !c.path.endsWith("/leases") && !c.path.includes("/events"))
      .map((c) => c.who);
    expect(writerRuns(kubeWriters)).toEqual(["a", "b"]);
    process.stderr.write(
      `leadership chaos: ONTAP writes a=${ontapWriters.filter((x) => x === "a").length} b=${ontapWriters.filter((x) => x === "b").length}; seed writes a=${kubeWriters.filter((x) => x === "a").length} b=${kubeWriters.filter((x) => x === "b").length}\n`,
    );
    expect(await w.leaks()).toEqual([]);
  });
});
