import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ControllerProcess, spawnController } from "../support/controller-process.js";
import { writeControllerConfig } from "../../src/testenv/controller-config.js";
import { eventually } from "../support/kube-test-helpers.js";
import { testEnv } from "../support/kube-test-helpers.js";
import { createWorld, uniqueSuffix, type World } from "../support/world.js";

// On the real gardener-resource-manager (a shoot per shoot namespace, two here): each leader's shoot reaches
// Succeeded through it, so the deadlines for Succeeded fit a shoot world on a loaded machine.

let world: World | undefined;
const processes: ControllerProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill("SIGKILL")));
  await world?.close();
  world = undefined;
});

const lifs = { dataLifs: ["10.30.0.11"], managementLif: "10.30.0.10" };

describe("controller process: leader election", () => {
  it("lets only the leader reconcile, hands over within the lease duration when it is killed, and exits 0 on SIGTERM", { timeout: 300_000 }, async () => {
    world = await createWorld({ clusters: 1, startController: false });
    const dir = mkdtempSync(path.join(tmpdir(), "ontap-leader-"));
    const configPath = writeControllerConfig(dir, world.sim.clusters, {
      extensionClass: world.config.extensionClass,
      credentialsVerification: { managementLifUrlsFile: world.sim.lifEndpointsFile },
    });
    const lease = ["--leader-elect", "--leader-election-namespace", "default", "--leader-election-id", `ontap-${uniqueSuffix()}`];
    const timing = ["--lease-duration-seconds", "4", "--renew-deadline-seconds", "3", "--retry-period-seconds", "1"];
    const start = (name: string) =>
      spawnController({ configPath, kubeconfig: testEnv().kubeconfigPath, dir, name, args: [...lease, ...timing] });
    const [a, b] = await Promise.all([start("a"), start("b")]);
    processes.push(a, b);

    const leader = await eventually(
      async () => {
        const [la, lb] = await Promise.all([a.metric("leader"), b.metric("leader")]);
        if (la + lb !== 1) throw new Error(`leaders: a=${la} b=${lb}`);
        return la === 1 ? a : b;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const standby = leader === a ? b : a;

    const first = await world.createShoot({ project: "lead", ...lifs });
    await world.waitSucceeded(first, 120_000);
    expect(await leader.metric("reconciles_total")).toBeGreaterThan(0);
    expect(await standby.metric("reconciles_total")).toBe(0);

    const killedAt = Date.now();
    await leader.kill("SIGKILL");
    await eventually(
      async () => {
        if ((await standby.metric("leader")) !== 1) throw new Error("standby has not taken over");
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const handover = Date.now() - killedAt;
    process.stderr.write(`leader handover after SIGKILL: ${handover} ms (lease 4 s)\n`);
    expect(handover).toBeLessThan(4000 + 2 * 1000 + 1500);

    const second = await world.createShoot({ project: "lead2", ...lifs, dataLifs: ["10.30.1.11"], managementLif: "10.30.1.10" });
    await world.waitSucceeded(second, 120_000);
    expect(await standby.metric("reconciles_total")).toBeGreaterThan(0);
    expect(await world.invariants([first, second])).toEqual([]);

    expect(await standby.kill("SIGTERM")).toBe(0);
  });
});
