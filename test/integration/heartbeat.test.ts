import { describe, expect, it } from "vitest";
import { createKubeClient } from "../../src/kube/client.js";
import { Leases } from "../../src/kube/resources.js";
import { createHeartbeat, HEARTBEAT_LEASE_NAME } from "../../src/extension/heartbeat.js";
import { freshNamespace, loadKubeConfig } from "../support/kube-test-helpers.js";

interface Lease {
  metadata: { name: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("Gardener's heartbeat Lease against kube-apiserver", () => {
  it("creates gardener-extension-heartbeat, renews it on its interval, recreates it when deleted, and stops with its run", async () => {
    const kc = loadKubeConfig();
    const kube = createKubeClient(kc);
    const namespace = await freshNamespace(kc, { prefix: "extension-ontap" });
    const renewals: string[] = [];
    const heartbeat = createHeartbeat({
      kube,
      namespace,
      extensionName: "gardener-extension-ontap",
      renewIntervalSeconds: 1,
      onRenew: (outcome) => renewals.push(outcome),
    });
    const informerStop = new AbortController();
    await heartbeat.informer.start(informerStop.signal);
    const stop = new AbortController();
    const running = heartbeat.run(stop.signal);
    try {
      const read = () => kube.get<Lease>(Leases, namespace, HEARTBEAT_LEASE_NAME);
      const first = await poll(read, (l) => l !== undefined, 5_000, "the Lease");
      expect(first?.spec).toMatchObject({ holderIdentity: "gardener-extension-ontap", leaseDurationSeconds: 1 });
      const firstRenew = Date.parse(first!.spec!.renewTime!);
      expect(Math.abs(Date.now() - firstRenew)).toBeLessThan(5_000);

      // Renewed about every second: renewTime moves forward by roughly the interval.
      const second = await poll(read, (l) => l?.spec?.renewTime !== first!.spec!.renewTime, 4_000, "a renewal");
      const gap = Date.parse(second!.spec!.renewTime!) - firstRenew;
      expect(gap).toBeGreaterThanOrEqual(900);
      expect(gap).toBeLessThan(3_000);

      // Someone deletes it: the next renewal creates it again.
      await kube.delete(Leases, namespace, HEARTBEAT_LEASE_NAME);
      const recreated = await poll(read, (l) => l !== undefined, 5_000, "the recreated Lease");
      expect(recreated?.spec?.holderIdentity).toBe("gardener-extension-ontap");
      expect(renewals.filter((r) => r === "ok").length).toBeGreaterThanOrEqual(3);
    } finally {
      stop.abort();
      await running;
    }
    // After the run ends (leadership lost, shutdown) nothing renews it any more.
    const last = (await kube.get<Lease>(Leases, namespace, HEARTBEAT_LEASE_NAME))?.spec?.renewTime;
    await new Promise((r) => setTimeout(r, 2_200));
    expect((await kube.get<Lease>(Leases, namespace, HEARTBEAT_LEASE_NAME))?.spec?.renewTime).toBe(last);
    expect(heartbeat.isRunning()).toBe(false);
    informerStop.abort();
    await heartbeat.informer.stopped();
  });
});
