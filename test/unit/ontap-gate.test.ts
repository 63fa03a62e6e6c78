import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClusterGate, createOntapClient, isOntapError, type OntapClient, OntapError } from "../../src/ontap/index.js";
import { startSimulator } from "../../src/simulator/index.js";

/**
 * The per-cluster gate: the concurrency cap (measured by the simulator, which counts requests in flight as it
 * receives them) and the circuit breaker (requests to an unreachable cluster counted by the simulator too).
 */

type SimCluster = { name: string; url: string; username: string; password: string; caFile: string };
let sim: { clusters: SimCluster[]; stop(): Promise<void> };
let a: SimCluster;
const agents: Agent[] = [];
const clients: OntapClient[] = [];

async function admin(cluster: SimCluster, method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
  const agent = new Agent({ connect: { ca: readFileSync(cluster.caFile, "utf8") } });
  agents.push(agent);
  const res = await request(`${cluster.url}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      authorization: `Basic ${Buffer.from(`${cluster.username}:${cluster.password}`).toString("base64")}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`admin ${method} ${path}: ${res.statusCode} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

const totalCalls = async (cluster: SimCluster) =>
  Object.values((await admin(cluster, "GET", "/__sim/calls")).calls as Record<string, number>).reduce((n, v) => n + v, 0);

beforeAll(async () => {
  sim = await startSimulator({ clusters: 1, latencyMs: 30 });
  [a] = sim.clusters as [SimCluster];
}, 60_000);

afterEach(async () => {
  await admin(a, "POST", "/__sim/reset");
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(agents.map((x) => x.close()));
  await sim?.stop();
});

function clientWith(gate: ReturnType<typeof createClusterGate>): OntapClient {
  const client = createOntapClient(
    { name: a.name, url: a.url, username: a.username, password: a.password, caFile: a.caFile, timeoutMs: 2_000 },
    { gate, retry: { maxAttempts: 1 } },
  );
  clients.push(client);
  return client;
}

describe("concurrency cap", () => {
  it("never has more requests at the cluster than the cap, as the simulator counts them", async () => {
    const gate = createClusterGate({ cluster: a.name, maxConcurrent: 4, breaker: false });
    const client = clientWith(gate);
    await admin(a, "DELETE", "/__sim/concurrency");
    await Promise.all(Array.from({ length: 40 }, () => client.getCluster()));
    const { peak } = await admin(a, "GET", "/__sim/concurrency");
    expect(peak).toBe(4);
    expect(gate.peakInFlight()).toBe(4);
    expect(gate.inFlight()).toBe(0);
  });

  it("does not count time queued behind the cap against the request timeout", async () => {
    const gate = createClusterGate({ cluster: a.name, maxConcurrent: 1, breaker: false });
    const client = createOntapClient(
      // 30 ms per request, 12 queued behind one slot: 360 ms in all, far beyond a 200 ms timeout per request.
      { name: a.name, url: a.url, username: a.username, password: a.password, caFile: a.caFile, timeoutMs: 200 },
      { gate, retry: { maxAttempts: 1 } },
    );
    clients.push(client);
    const answers = await Promise.all(Array.from({ length: 12 }, () => client.getCluster()));
    expect(answers.every((c) => c.name === a.name)).toBe(true);
  });

  it("lets an aborted caller leave the queue without taking a slot", async () => {
    const gate = createClusterGate({ cluster: "x", maxConcurrent: 1, breaker: false });
    const ctx = { cluster: "x", operation: "op", method: "GET", endpoint: "/api/cluster", secrets: [] };
    let release: () => void = () => {};
    const first = gate.run({ ctx }, () => new Promise<void>((r) => (release = r)));
    const abort = new AbortController();
    const second = gate.run({ ctx, signal: abort.signal }, async () => "sent");
    abort.abort(new Error("caller gave up"));
    await expect(second).rejects.toThrow("caller gave up");
    expect(gate.queued()).toBe(0);
    release();
    await first;
    expect(gate.inFlight()).toBe(0);
  });
});

describe("circuit breaker", () => {
  it("opens after the configured failures in a row, refuses without a request, probes once per interval, and hands back the waiters when the cluster answers", async () => {
    const recovered: string[][] = [];
    let waiter = "shoot--p1--a/ontap";
    const gate = createClusterGate({
      cluster: a.name,
      maxConcurrent: 4,
      breaker: { consecutiveFailures: 3, probeIntervalMs: 200 },
      currentWaiter: () => waiter,
      onRecovered: (keys) => recovered.push(keys),
    });
    const client = clientWith(gate);
    await admin(a, "POST", "/__sim/faults", { path: "^/api/", action: { type: "reset" } });

    for (let i = 0; i < 3; i++) {
      const err = await client.getCluster().catch((e: unknown) => e);
      expect(isOntapError(err) && err.kind).toBe("connection");
    }
    expect(gate.state()).toBe("open");
    // The three requests that tripped it, and any probe already sent while the count was read (a loaded
    // machine may take longer than the 200 ms interval to answer the admin call).
    const afterTrip = await totalCalls(a);
    expect(afterTrip).toBeGreaterThanOrEqual(3);
    expect(afterTrip - 3).toBeLessThanOrEqual(gate.probes());

    // 1 s of callers hammering an open breaker: refused at once, and only probes reach the cluster.
    waiter = "shoot--p2--b/ontap";
    const until = Date.now() + 1_000;
    let refused = 0;
    while (Date.now() < until) {
      const err = await client.getCluster().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OntapError);
      expect((err as OntapError).kind).toBe("unavailable");
      expect((err as OntapError).transient).toBe(true);
      refused++;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refused).toBeGreaterThan(20);
    const probes = (await totalCalls(a)) - 3;
    // One per 200 ms: 5 in the 1 s of hammering (plus the time the counts took), give or take the timer.
    expect(probes).toBeGreaterThanOrEqual(3);
    expect(probes).toBeLessThanOrEqual(7);
    // Every request after the trip was a probe (one may still be on its way to the cluster).
    expect(gate.probes() - probes).toBeGreaterThanOrEqual(0);
    expect(gate.probes() - probes).toBeLessThanOrEqual(1);

    await admin(a, "DELETE", "/__sim/faults");
    const back = Date.now();
    while (gate.state() === "open" && Date.now() - back < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(gate.state()).toBe("closed");
    expect(Date.now() - back).toBeLessThan(500);
    expect(recovered).toEqual([["shoot--p1--a/ontap", "shoot--p2--b/ontap"]]);
    expect((await client.getCluster()).name).toBe(a.name);
  });

  it("counts an HTTP error as an answer: a cluster answering 500 never opens the breaker", async () => {
    const gate = createClusterGate({ cluster: a.name, breaker: { consecutiveFailures: 2, probeIntervalMs: 100 } });
    const client = clientWith(gate);
    await admin(a, "POST", "/__sim/faults", { path: "^/api/", action: { type: "error", status: 500 } });
    for (let i = 0; i < 5; i++) {
      const err = await client.getCluster().catch((e: unknown) => e);
      expect((err as OntapError).kind).toBe("http");
    }
    expect(gate.state()).toBe("closed");
  });
});
