import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseComponentConfig } from "../../src/config/component-config.js";
import { createClusterGate, createOntapClient, type OntapClient } from "../../src/ontap/index.js";
import { createManagementLifClients } from "../../src/ontap-extension/lif-clients.js";
import { createCredentialVerifier, DEFAULT_VERIFICATION, managementLifUrl } from "../../src/ontap-extension/verify-credentials.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * Where the stored password is proven: at the SVM management LIF (the simulator serves each as its own
 * listener). Only a 401 there is "wrong"; no answer is "unknown", which the credentials protocol never rotates on.
 */

const PASSWORD = "Verify-Lif-Passw0rd!";
const LIF = "10.140.0.10";
let strict: RunningSimulator;
let lenient: RunningSimulator;
let dir: string;

beforeAll(async () => {
  [strict, lenient] = await Promise.all([startSimulator({ jobMs: 0 }), startSimulator({ jobMs: 0, svmLoginOnCluster: true })]);
  dir = mkdtempSync(join(tmpdir(), "verify-lif-"));
});
afterAll(async () => {
  await Promise.all([strict.stop(), lenient.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function svmWithUserAndLif(sim: RunningSimulator): Promise<void> {
  const admin = new SimAdmin(sim.clusters[0]!);
  try {
    await admin.reset();
    const svm = await admin.createSvmDirect({ name: "pverify" });
    await admin.rest("POST", "/api/security/accounts", {
      body: {
        name: "shoot1",
        owner: { uuid: svm.uuid },
        role: { name: "vsadmin" },
        applications: [{ application: "http", authentication_methods: ["password"] }],
        password: PASSWORD,
      },
    });
    const node = (await admin.rest("GET", "/api/cluster/nodes")).body.records![0]!.uuid;
    const lif = await admin.rest("POST", "/api/network/ip/interfaces", {
      body: {
        name: "managementlif",
        ip: { address: LIF, netmask: "24" },
        svm: { uuid: svm.uuid },
        location: { home_node: { uuid: node } },
        service_policy: { name: "default-management" },
      },
    });
    expect(lif.status).toBe(201);
  } finally {
    await admin.close();
  }
}

async function setReachable(sim: RunningSimulator, reachable: boolean): Promise<void> {
  const admin = new SimAdmin(sim.clusters[0]!);
  try {
    await admin.rest("PUT", `/__sim/lif-endpoints/${LIF}`, { body: { reachable } });
  } finally {
    await admin.close();
  }
}

function verifierFor(sim: RunningSimulator, client: OntapClient, fallbackToClusterEndpoint = false) {
  const c = sim.clusters[0]!;
  return createCredentialVerifier({
    cluster: { name: c.name, caFile: c.caFile, insecureSkipTlsVerify: false },
    clusterClient: client,
    managementLif: LIF,
    settings: { ...DEFAULT_VERIFICATION, timeoutSeconds: 2, fallbackToClusterEndpoint, managementLifUrlsFile: sim.lifEndpointsFile },
  });
}

describe("managementLifUrl", () => {
  it("takes a fixed override first, then the URL file, else the address itself on 443 (IPv6 in brackets)", () => {
    const file = join(dir, "lifs.json");
    writeFileSync(file, JSON.stringify({ "10.0.0.2": "https://127.0.0.1:4002", "10.0.0.3": "http://plain" }));
    const settings = { ...DEFAULT_VERIFICATION, managementLifUrls: { "10.0.0.1": "https://127.0.0.1:4001" }, managementLifUrlsFile: file };
    expect(managementLifUrl("10.0.0.1", settings)).toBe("https://127.0.0.1:4001");
    expect(managementLifUrl("10.0.0.2", settings)).toBe("https://127.0.0.1:4002");
    expect(managementLifUrl("10.0.0.3", settings)).toBe("https://10.0.0.3");
    expect(managementLifUrl("fd00::10", DEFAULT_VERIFICATION)).toBe("https://[fd00::10]");
    expect(managementLifUrl("10.0.0.4", { ...DEFAULT_VERIFICATION, managementLifUrlsFile: join(dir, "missing.json") })).toBe("https://10.0.0.4");
  });
});

describe("credential verification at the SVM management LIF", () => {
  beforeEach(async () => {
    await Promise.all([svmWithUserAndLif(strict), svmWithUserAndLif(lenient)]);
  });

  it("answers ok and wrong from the LIF, and unknown (never wrong) when the LIF does not answer", async () => {
    const client = createOntapClient(strict.clusters[0]!);
    try {
      const verify = verifierFor(strict, client);
      expect(await verify("shoot1", PASSWORD)).toEqual({ result: "ok", at: "management LIF" });
      expect(await verify("shoot1", "Not-The-Passw0rd")).toEqual({ result: "wrong", at: "management LIF" });
      // The cluster interface refuses SVM accounts here, so only the LIF can prove the password.
      expect(await client.authenticateAs({ name: "shoot1", password: PASSWORD })).toEqual({ result: "wrong-password" });
      await setReachable(strict, false);
      const unknown = await verify("shoot1", PASSWORD);
      expect(unknown.result).toBe("unknown");
      const reason = (unknown as { reason: string }).reason;
      expect(reason).toContain(`management LIF ${LIF}`);
      expect(reason).not.toContain(PASSWORD);
      // No fallback configured: the cluster interface was not asked.
      expect(await verify("shoot1", "Not-The-Passw0rd")).toMatchObject({ result: "unknown" });
    } finally {
      await client.close();
      await setReachable(strict, true);
    }
  });

  it("falls back to the cluster interface when configured, for landscapes where SVM accounts may log in there", async () => {
    const client = createOntapClient(lenient.clusters[0]!);
    try {
      await setReachable(lenient, false);
      const verify = verifierFor(lenient, client, true);
      expect(await verify("shoot1", PASSWORD)).toEqual({ result: "ok", at: "cluster management interface" });
      expect(await verify("shoot1", "Not-The-Passw0rd")).toEqual({ result: "wrong", at: "cluster management interface" });
    } finally {
      await client.close();
      await setReachable(lenient, true);
    }
  });
});

describe("the controller's pools to the management LIFs", () => {
  beforeEach(async () => {
    await svmWithUserAndLif(strict);
  });

  it("reuse one pool per LIF, wait behind the cluster's cap like its own requests, and never open its breaker", async () => {
    const c = strict.clusters[0]!;
    const gate = createClusterGate({ cluster: c.name, maxConcurrent: 2, breaker: { consecutiveFailures: 2, probeIntervalMs: 100 } });
    const lifClients = createManagementLifClients({ gates: new Map([[c.name, gate]]) });
    const client = createOntapClient(c, { gate });
    const verify = createCredentialVerifier({
      cluster: { name: c.name, caFile: c.caFile, insecureSkipTlsVerify: false },
      clusterClient: client,
      managementLif: LIF,
      settings: { ...DEFAULT_VERIFICATION, timeoutSeconds: 2, managementLifUrlsFile: strict.lifEndpointsFile },
      lifClients,
    });
    const ctx = { cluster: c.name, operation: "hold a slot", method: "GET", endpoint: "/api/cluster", secrets: [] };
    try {
      expect(await verify("shoot1", PASSWORD)).toEqual({ result: "ok", at: "management LIF" });
      // Both slots taken by other requests to the cluster: the check waits for one.
      const releases: (() => void)[] = [];
      const held = [0, 1].map(() => gate.run({ ctx }, () => new Promise<void>((r) => releases.push(r))));
      let settled = false;
      const waiting = verify("shoot1", PASSWORD).finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(gate.queued()).toBe(1);
      expect(settled).toBe(false);
      for (const release of releases) release();
      await Promise.all(held);
      expect(await waiting).toEqual({ result: "ok", at: "management LIF" });
      expect(await verify("shoot1", "Not-The-Passw0rd")).toEqual({ result: "wrong", at: "management LIF" });
      expect(lifClients.size()).toBe(1);

      // A LIF the seed cannot reach is "unknown" for the password and says nothing about the cluster.
      await setReachable(strict, false);
      for (let i = 0; i < 3; i++) expect((await verify("shoot1", PASSWORD)).result).toBe("unknown");
      expect(gate.state()).toBe("closed");
      expect((await client.getCluster()).name).toBe(c.name);
    } finally {
      await setReachable(strict, true);
      await lifClients.close();
      await client.close();
      gate.close();
    }
  });
});

describe("component configuration: credentialsVerification", () => {
  const files: Record<string, string> = { "/u": "admin", "/p": "pw-admin-123" };
  const base = "clusters:\n- {name: a, url: 'https://10.0.0.1', usernameFile: /u, passwordFile: /p, caFile: /ca}\n";
  it("defaults to the LIF only, and warns that URL overrides are for tests and labs", () => {
    const plain = parseComponentConfig(base, "cfg.yaml", (p) => files[p]!);
    expect(plain.credentialsVerification).toEqual({ fallbackToClusterEndpoint: false, timeoutSeconds: 10, managementLifUrls: {} });
    const lab = parseComponentConfig(
      `${base}credentialsVerification:\n  managementLifUrls: {"10.1.0.10": "https://127.0.0.1:4443"}\n  fallbackToClusterEndpoint: true\n`,
      "cfg.yaml",
      (p) => files[p]!,
    );
    expect(lab.credentialsVerification?.managementLifUrls).toEqual({ "10.1.0.10": "https://127.0.0.1:4443" });
    expect(lab.warnings.join("\n")).toMatch(/tests and labs only/);
  });

  it("names the field of a bad override", () => {
    expect(() =>
      parseComponentConfig(`${base}credentialsVerification:\n  managementLifUrls: {"10.1.0.10": "http://x"}\n`, "cfg.yaml", (p) => files[p]!),
    ).toThrow(/credentialsVerification\.managementLifUrls\.10\.1\.0\.10: must be an https:\/\/ URL/);
  });
});
