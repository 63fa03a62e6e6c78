import { createServer, type Server } from "node:https";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseComponentConfig } from "../../src/config/component-config.js";
import {
  createOntapClient,
  fileDialMap,
  isOntapError,
  memoryPins,
  type OntapError,
  overrideOntapDialing,
  pinKey,
} from "../../src/ontap/index.js";
import { generateCa, generateServerCert, type KeyPairPem } from "../../src/webhook/certificates.js";
import { createConfigMapStore } from "../../src/kube/configmap-store.js";
import { ConfigMaps } from "../../src/kube/resources.js";
import { persistedPins } from "../../src/ontap/index.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";

/**
 * How an ONTAP cluster's certificate is trusted (src/ontap/tls-connect.ts), over real TLS on loopback: a Go
 * entry without a CA connects unverified as the Go extension did, the default otherwise verifies, and a pinned
 * certificate that changes is refused before any request (and its password) is sent. Addresses a configuration
 * names (10.x) are never dialled: the test/lab dial map sends those sockets to the loopback server.
 */
let server: Server;
let port: number;
let requests = 0;
let caA: KeyPairPem;
let certA: KeyPairPem;
let certB: KeyPairPem;
const PASSWORD = "Pinning-Admin-Passw0rd";

beforeAll(async () => {
  const now = new Date();
  // Two unrelated self-signed CAs, as two ONTAP clusters' own certificates would be.
  caA = await generateCa({ commonName: "cluster-a CA", now, validityMs: 86_400_000 });
  const caB = await generateCa({ commonName: "impostor CA", now, validityMs: 86_400_000 });
  certA = await generateServerCert({ ca: caA, commonName: "cluster-a", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "10.0.0.10"], now, validityMs: 86_400_000 });
  certB = await generateServerCert({ ca: caB, commonName: "cluster-a", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "10.0.0.10"], now, validityMs: 86_400_000 });
  server = createServer({ key: certA.keyPem, cert: certA.certPem }, (_req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ name: "cluster-a", uuid: "0b7e4c1e-0000-4000-8000-000000000001", version: { full: "NetApp Release 9.16.1" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterEach(() => {
  overrideOntapDialing(undefined);
  server.setSecureContext({ key: certA.keyPem, cert: certA.certPem });
  server.closeAllConnections();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function caught(promise: Promise<unknown>): Promise<OntapError> {
  try {
    await promise;
  } catch (err) {
    if (isOntapError(err)) return err;
    throw err;
  }
  throw new Error("expected an OntapError");
}

const retry = { retry: { baseMs: 1, capMs: 2, maxAttempts: 2 } };

describe("trusting an ONTAP cluster's certificate", () => {
  it("pins the certificate seen first and refuses a changed one before sending anything, saying what to do", async () => {
    const pins = memoryPins();
    const url = `https://127.0.0.1:${port}`;
    const first = createOntapClient({ name: "cluster-a", url, username: "admin", password: PASSWORD, pinCertificate: true, timeoutMs: 2_000 }, { ...retry, pins });
    await expect(first.getCluster()).resolves.toMatchObject({ name: "cluster-a" });
    const pinned = pins.get(pinKey("127.0.0.1", port));
    expect(pinned).toMatch(/^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await first.close();

    // Another certificate at the same address (a renewal, or someone else answering there).
    server.setSecureContext({ key: certB.keyPem, cert: certB.certPem });
    server.closeAllConnections();
    const before = requests;
    const second = createOntapClient({ name: "cluster-a", url, username: "admin", password: PASSWORD, pinCertificate: true, timeoutMs: 2_000 }, { ...retry, pins });
    const err = await caught(second.getCluster());
    await second.close();
    expect(requests, "no request reached the server with the changed certificate").toBe(before);
    expect(err.kind).toBe("connection");
    expect(err.transient).toBe(false);
    expect(err.code).toBe("ERR_TLS_PINNED_CERTIFICATE_CHANGED");
    expect(err.message).toContain(`shows a certificate other than the one pinned at first contact (pinned ${pinned}, now sha256:`);
    expect(err.message).toContain(`remove 127.0.0.1:${port} from this process's memory`);
    expect(err.message).not.toContain(PASSWORD);
    // The pin is not replaced by the new certificate.
    expect(pins.get(pinKey("127.0.0.1", port))).toBe(pinned);

    // Back to the pinned certificate: accepted again.
    server.setSecureContext({ key: certA.keyPem, cert: certA.certPem });
    server.closeAllConnections();
    const third = createOntapClient({ name: "cluster-a", url, username: "admin", password: PASSWORD, pinCertificate: true, timeoutMs: 2_000 }, { ...retry, pins });
    await expect(third.getCluster()).resolves.toMatchObject({ name: "cluster-a" });
    await third.close();
  });

  it("connects a Go entry without a CA unverified, as the Go extension did, at https://<ipaddress> on 443", async () => {
    const cfg = parseComponentConfig("clusters:\n- {name: cluster-a, ipaddress: 10.0.0.10, username: admin, password: Pinning-Admin-Passw0rd}\n", "cfg.yaml");
    const settings = cfg.clusters[0]!;
    expect(settings.url).toBe("https://10.0.0.10");
    // 10.0.0.10:443 is never dialled: the dial map sends the socket to the loopback server.
    overrideOntapDialing((host, p) => (host === "10.0.0.10" && p === 443 ? { host: "127.0.0.1", port } : undefined));
    const client = createOntapClient(settings, { ...retry, logger: { warn: () => {} } });
    await expect(client.getCluster()).resolves.toMatchObject({ name: "cluster-a" });
    await client.close();
  });

  it("verifies by default: an entry without a CA that is not a Go entry refuses the self-signed certificate", async () => {
    const client = createOntapClient({ name: "cluster-a", url: `https://127.0.0.1:${port}`, username: "admin", password: PASSWORD, timeoutMs: 2_000 }, retry);
    const err = await caught(client.getCluster());
    await client.close();
    expect(err.kind).toBe("connection");
    expect(err.message).toMatch(/TLS error/);
  });

  it("verifies a Go entry with an inline ca against that CA and the configured address's name, also through the dial map", async () => {
    const goEntry = (ca: string) =>
      parseComponentConfig(`clusters:\n- {name: cluster-a, ipaddress: 10.0.0.10, username: admin, password: x, ca: ${JSON.stringify(ca)}}\n`, "cfg.yaml").clusters[0]!;
    overrideOntapDialing(fileDialMap(["/nonexistent.json", "/map.json"], (p) => {
      if (p !== "/map.json") throw new Error("ENOENT");
      return JSON.stringify({ "10.0.0.10": `https://127.0.0.1:${port}` });
    }));
    const good = createOntapClient(goEntry(caA.certPem), retry);
    await expect(good.getCluster()).resolves.toMatchObject({ name: "cluster-a" });
    await good.close();
    // The same server under a certificate the configured CA did not sign: refused.
    server.setSecureContext({ key: certB.keyPem, cert: certB.certPem });
    server.closeAllConnections();
    const bad = createOntapClient(goEntry(caA.certPem), retry);
    const err = await caught(bad.getCluster());
    await bad.close();
    expect(err.message).toMatch(/TLS error/);
  });

  it("keeps pins across a restart in a ConfigMap, lets the first of two replicas win, and says where to remove one", async () => {
    const kube = createFakeKubeClient();
    const store = () => createConfigMapStore(kube, "extension-ontap-x", "gardener-extension-ontap-tls-pins");
    const warnings: string[] = [];
    const onWriteFailed = (key: string) => warnings.push(key);
    const url = `https://127.0.0.1:${port}`;
    const before = await persistedPins(store(), onWriteFailed);
    const c1 = createOntapClient({ name: "cluster-a", url, username: "admin", password: PASSWORD, pinCertificate: true, timeoutMs: 2_000 }, { ...retry, pins: before });
    await expect(c1.getCluster()).resolves.toMatchObject({ name: "cluster-a" });
    await c1.close();
    const cm = await kube.get<{ data?: Record<string, string> }>(ConfigMaps, "extension-ontap-x", "gardener-extension-ontap-tls-pins");
    expect(cm?.data).toEqual({ [`127.0.0.1_${port}`]: before.get(pinKey("127.0.0.1", port)) });

    // A restart: the pin is read back, so a changed certificate is refused, not trusted anew.
    server.setSecureContext({ key: certB.keyPem, cert: certB.certPem });
    server.closeAllConnections();
    const after = await persistedPins(store(), onWriteFailed);
    const c2 = createOntapClient({ name: "cluster-a", url, username: "admin", password: PASSWORD, pinCertificate: true, timeoutMs: 2_000 }, { ...retry, pins: after });
    const err = await caught(c2.getCluster());
    await c2.close();
    expect(err.message).toContain(`remove key 127.0.0.1_${port} of ConfigMap extension-ontap-x/gardener-extension-ontap-tls-pins and restart the controller`);

    // Two replicas pin the same address at once with different certificates: the first write holds for both.
    const r1 = await persistedPins(store(), onWriteFailed);
    const r2 = await persistedPins(store(), onWriteFailed);
    const [a, b] = await Promise.all([r1.pinFirst("10.0.0.20:443", "sha256:AA"), r2.pinFirst("10.0.0.20:443", "sha256:BB")]);
    expect(a).toBe(b);
    // A write the API server refuses keeps the pin for this process and is reported.
    kube.inject({ verb: "update", reason: "Forbidden", status: 403, times: 5 });
    const r3 = await persistedPins(store(), onWriteFailed);
    await expect(r3.pinFirst("10.0.0.30:443", "sha256:CC")).resolves.toBe("sha256:CC");
    expect(r3.get("10.0.0.30:443")).toBe("sha256:CC");
    expect(warnings).toEqual(["10.0.0.30:443"]);
  });
});
