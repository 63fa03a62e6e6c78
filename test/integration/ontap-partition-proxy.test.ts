import { mkdtempSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Events } from "../../src/kube/resources.js";
import { createOntapClient, overrideOntapDialing } from "../../src/ontap/index.js";
import { createTestCa, type TestCa } from "../../src/testenv/ca.js";
import { type PartitionProxy, startPartitionProxy } from "../support/partition-proxy.js";
import { createWorld, type World } from "../support/world.js";

/**
 * ONTAP behind metal-stack's partition proxy (metal-roles#559): the cluster is addressed by the proxy's name,
 * `https://ontap.<partition>.proxy.<domain>` on 443, and the controller verifies the proxy's certificate against
 * that name (the proxy's CA as the entry's `ca`). The name resolves nowhere here: the test/lab dial map
 * (`overrideOntapDialing`, what `run --ontap-dial-map-file` sets) sends the socket to the loopback stand-in of the
 * proxy (test/support/partition-proxy.ts), which forwards to the simulator as nginx does.
 *
 * The SVM management LIFs sit in the partition's network, behind the proxy only: the seed cannot reach them. A
 * LIF address (10.x from the providerConfig) is never dialled here; the check at the LIF is sent to a loopback
 * listener that accepts and never answers, as a route that drops packets does, so it runs into its timeout.
 */
const PROXY_NAME = "ontap.part1.proxy.example.test";
/** A name the proxy's certificate does not carry, dialled to the same proxy. */
const OTHER_NAME = "ontap.other.proxy.example.test";
const MANAGEMENT_LIF = "10.130.60.10";

let world: World | undefined;
let proxy: PartitionProxy | undefined;
let blackHole: { server: Server; sockets: Set<Socket>; port: number } | undefined;
let proxyCa: TestCa;

beforeAll(async () => {
  proxyCa = await createTestCa("partition-proxy-ca");
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  blackHole = { server, sockets, port: (server.address() as AddressInfo).port };
  world = await createWorld({ clusters: 1, startController: false });
  const dir = mkdtempSync(path.join(tmpdir(), "partition-proxy-"));
  const cert = await proxyCa.issue(dir, PROXY_NAME, [PROXY_NAME]);
  const p = await startPartitionProxy({ serverName: PROXY_NAME, certPem: cert.certPem, keyPem: cert.keyPem, upstream: world.sim.clusters[0]!.url });
  proxy = p;
  overrideOntapDialing((host, port) => ((host === PROXY_NAME || host === OTHER_NAME) && port === 443 ? { host: "127.0.0.1", port: p.port } : undefined));
});

afterAll(async () => {
  overrideOntapDialing(undefined);
  await world?.close();
  await proxy?.close();
  for (const s of blackHole?.sockets ?? []) s.destroy();
  await new Promise<void>((resolve) => (blackHole ? blackHole.server.close(() => resolve()) : resolve()));
});

describe("ONTAP behind metal-stack's partition proxy", () => {
  it("a cluster addressed by the proxy's name is verified against that name; another name on the same proxy is refused", async () => {
    const c = world!.sim.clusters[0]!;
    const settings = { username: c.username, password: c.password, ca: proxyCa.certPem, insecureSkipTlsVerify: false, timeoutMs: 3000 };
    const byName = createOntapClient({ name: "proxied", url: `https://${PROXY_NAME}`, ...settings });
    const wrongName = createOntapClient({ name: "wrong-name", url: `https://${OTHER_NAME}`, ...settings }, { retry: { maxAttempts: 1 } });
    try {
      expect((await byName.getCluster()).name).toBe(c.name);
      expect(proxy!.requests().at(-1)).toMatchObject({ servername: PROXY_NAME, host: PROXY_NAME, method: "GET", status: 200 });
      // The same proxy under a name its certificate does not carry: TLS refuses it before any request is sent.
      const before = proxy!.requests().length;
      await expect(wrongName.getCluster()).rejects.toThrow(/certificate|altnames/i);
      expect(proxy!.requests().length).toBe(before);
    } finally {
      await byName.close();
      await wrongName.close();
    }
  });

  it("a shoot reaches Succeeded through the proxy while its management LIF is unreachable, and says what it could not verify", async () => {
    const w = world!;
    const p = proxy!;
    const c = w.sim.clusters[0]!;
    await w.startController({
      config: {
        clusters: [{ name: c.name, url: `https://${PROXY_NAME}`, username: c.username, password: c.password, ca: proxyCa.certPem, insecureSkipTlsVerify: false, timeoutMs: 3000 }],
        credentialsVerification: {
          fallbackToClusterEndpoint: false,
          timeoutSeconds: 2,
          managementLifUrls: { [MANAGEMENT_LIF]: `https://127.0.0.1:${blackHole!.port}` },
        },
      },
    });
    const shoot = await w.createShoot({ project: "pxy1", dataLifs: ["10.130.60.11"], managementLif: MANAGEMENT_LIF });
    const ext = await w.waitSucceeded(shoot, 60_000);

    // Every ONTAP request went through the proxy, by its name.
    const through = p.requests();
    expect(through.map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual(expect.arrayContaining(["POST /api/svm/svms", "POST /api/security/accounts"]));
    expect(through.every((r) => r.servername === PROXY_NAME && r.host === PROXY_NAME && r.status < 500)).toBe(true);
    // The first test's two requests came before; everything the simulator answered since came through the proxy.
    const simCalls = Object.values(await w.admins[0]!.calls()).reduce((n, v) => n + v, 0);
    expect(simCalls).toBe(through.filter((r) => r.status !== 421).length);

    // What it could not check, said on the Extension and as an event; Trident is deployed with the password.
    const condition = ext.status?.conditions?.find((x) => x.type === "CredentialsVerified");
    expect(condition).toMatchObject({ status: "Unknown", reason: "ManagementLifUnreachable" });
    expect(condition?.message).toContain(MANAGEMENT_LIF);
    await expect
      .poll(async () => (await w.kube.list<{ reason?: string; message?: string }>(Events, shoot.namespace)).items.filter((e) => e.reason === "CredentialsUnverified").map((e) => e.message), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining(MANAGEMENT_LIF)]));

    // Not stuck, not rotating: the next reconcile succeeds again, writes nothing to ONTAP and keeps the password.
    const writesBefore = p.requests().filter((r) => r.method !== "GET").length;
    const again = await w.reconcileNow(shoot, 60_000);
    expect(again.status?.lastOperation?.state).toBe("Succeeded");
    expect(p.requests().filter((r) => r.method !== "GET").length).toBe(writesBefore);
    expect(await w.invariants([shoot])).toEqual([]);
  }, 180_000);
});
