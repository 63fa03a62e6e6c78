import { describe, expect, it } from "vitest";
import { ConfigError, parseComponentConfig } from "../../src/config/component-config.js";

const files: Record<string, string> = {
  "/creds/a/username": "admin\n",
  "/creds/a/password": "s3cret-admin\n",
  "/creds/empty": "\n",
  "/ca.pem": "-----BEGIN CERTIFICATE-----\n",
};
const readFile = (path: string) => {
  const v = files[path];
  if (v === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
  return v;
};

describe("component configuration", () => {
  it("reads credentials from mounted files and applies defaults", () => {
    const cfg = parseComponentConfig(
      `clusters:\n- name: a\n  url: https://10.0.0.1/\n  caFile: /ca.pem\n  usernameFile: /creds/a/username\n  passwordFile: /creds/a/password\n`,
      "cfg.yaml",
      readFile,
    );
    expect(cfg.clusters[0]).toMatchObject({ name: "a", url: "https://10.0.0.1", username: "admin", password: "s3cret-admin", caFile: "/ca.pem" });
    expect(cfg.svmDeletionPolicy).toBe("DeleteWhenUnused");
    expect(cfg.escalation).toEqual({ consecutiveFailures: 5, afterMs: 30 * 60_000, waitingMs: 30 * 60_000 });
    expect(cfg.warnings).toEqual([]);
  });

  it("escalates a wait after escalation.waitingMinutes, or afterMinutes when it is not set, and names a bad value", () => {
    const base = `clusters:\n- {name: a, url: "https://10.0.0.1", caFile: /ca.pem, usernameFile: /creds/a/username, passwordFile: /creds/a/password}\n`;
    expect(parseComponentConfig(`${base}escalation: {afterMinutes: 45}\n`, "cfg.yaml", readFile).escalation).toEqual({ consecutiveFailures: 5, afterMs: 45 * 60_000, waitingMs: 45 * 60_000 });
    expect(parseComponentConfig(`${base}escalation: {waitingMinutes: 10}\n`, "cfg.yaml", readFile).escalation.waitingMs).toBe(10 * 60_000);
    expect(() => parseComponentConfig(`${base}escalation: {waitingMinutes: 0}\n`, "cfg.yaml", readFile)).toThrow(/escalation\.waitingMinutes/);
  });

  it("reads the per-cluster ONTAP request cap and circuit breaker, with defaults, and names a bad value", () => {
    const base = `clusters:\n- {name: a, url: "https://10.0.0.1", caFile: /ca.pem, usernameFile: /creds/a/username, passwordFile: /creds/a/password}\n`;
    expect(parseComponentConfig(base, "cfg.yaml", readFile).ontapRequests).toEqual({
      maxConcurrentPerCluster: 8,
      circuitBreaker: { consecutiveFailures: 5, probeIntervalMs: 1000 },
    });
    const tuned = parseComponentConfig(
      `${base}ontapRequests: {maxConcurrentPerCluster: 16, circuitBreaker: {consecutiveFailures: 3, probeIntervalSeconds: 0.5}}\n`,
      "cfg.yaml",
      readFile,
    );
    expect(tuned.ontapRequests).toEqual({ maxConcurrentPerCluster: 16, circuitBreaker: { consecutiveFailures: 3, probeIntervalMs: 500 } });
    expect(() => parseComponentConfig(`${base}ontapRequests: {maxConcurrentPerCluster: 0}\n`, "cfg.yaml", readFile)).toThrow(
      /ontapRequests\.maxConcurrentPerCluster/,
    );
  });

  it("accepts the Go extension's inline format with a warning that never shows the password", () => {
    const cfg = parseComponentConfig(
      `clusters:\n- {name: metro-a, ipaddress: 10.1.1.1, username: admin, password: hunter2hunter2}\n`,
      "cfg.yaml",
      readFile,
    );
    expect(cfg.clusters[0]?.url).toBe("https://10.1.1.1");
    expect(cfg.warnings.join("\n")).toMatch(/inline password/);
    expect(cfg.warnings.join("\n")).not.toContain("hunter2");
  });

  it("reads a Go entry addressed by metal-stack's partition proxy name, verified with the proxy's CA", () => {
    const cfg = parseComponentConfig(
      'clusters:\n- {name: metro-a, ipaddress: ontap.fra-equ01.proxy.metal-stack.dev, usernameFile: /creds/a/username, passwordFile: /creds/a/password, ca: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"}\n',
      "cfg.yaml",
      readFile,
    );
    expect(cfg.clusters[0]).toMatchObject({ url: "https://ontap.fra-equ01.proxy.metal-stack.dev", insecureSkipTlsVerify: false, tls: { kind: "ca" } });
  });

  it("keeps each cluster's aggregate list 300 s by default (aggregateAssignment), or as configured", () => {
    const cfg = (extra: string) => parseComponentConfig(`clusters:\n- {name: a, ipaddress: 10.1.1.1, username: u, password: p}\n${extra}`, "cfg.yaml", readFile);
    expect(cfg("").aggregateAssignment).toEqual({ clusterListMaxAgeMs: 300_000 });
    expect(cfg("aggregateAssignment: {clusterListMaxAgeSeconds: 0}\n").aggregateAssignment).toEqual({ clusterListMaxAgeMs: 0 });
    expect(() => cfg("aggregateAssignment: {clusterListMaxAgeSeconds: -1}\n")).toThrow(/aggregateAssignment\.clusterListMaxAgeSeconds/);
  });

  it("reads a Go entry as the chart renders it (credentials as files) and each way to trust its certificate", () => {
    const go = (extra: string) =>
      parseComponentConfig(`clusters:\n- {name: cluster-a, ipaddress: 10.1.1.1, usernameFile: /creds/a/username, passwordFile: /creds/a/password${extra}}\n`, "cfg.yaml", readFile);
    const plain = go("");
    expect(plain.clusters[0]).toMatchObject({ url: "https://10.1.1.1", username: "admin", password: "s3cret-admin", insecureSkipTlsVerify: true, legacyFormat: true });
    expect(plain.clusters[0]?.tls).toEqual({ kind: "unverified", why: "go-extension-default" });
    expect(plain.warnings.join("\n")).not.toMatch(/inline password/);
    const withCa = go(', ca: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"');
    expect(withCa.clusters[0]).toMatchObject({ insecureSkipTlsVerify: false, tls: { kind: "ca" } });
    expect(withCa.clusters[0]?.ca).toContain("BEGIN CERTIFICATE");
    expect(withCa.warnings.join("\n")).not.toMatch(/NOT verified/);
    const pinned = go(", pinCertificate: true");
    expect(pinned.clusters[0]).toMatchObject({ insecureSkipTlsVerify: false, pinCertificate: true, tls: { kind: "pinned" } });
    expect(go(", insecureSkipTlsVerify: true").clusters[0]?.tls).toEqual({ kind: "unverified", why: "insecureSkipTlsVerify" });
    const bad = (extra: string) => () => go(extra);
    expect(bad(", pinCertificate: true, ca: '-----BEGIN CERTIFICATE-----'")).toThrow(/clusters\[0\]\.pinCertificate: choose one of ca, pinCertificate/);
    expect(bad(", ca: not-a-pem")).toThrow(/clusters\[0\]\.ca: must be a PEM certificate/);
    expect(() => parseComponentConfig("clusters:\n- {name: a, ipaddress: 10.1.1.1, usernameFile: /creds/a/username}\n", "cfg.yaml", readFile)).toThrow(
      /clusters\[0\]\.passwordFile: is required with usernameFile\/passwordFile/,
    );
    expect(() => parseComponentConfig("clusters:\n- {name: a, ipaddress: 10.1.1.1, username: u}\n", "cfg.yaml", readFile)).toThrow(
      /clusters\[0\]\.password: is required/,
    );
  });

  it("names the field and the fix when the configuration is invalid", () => {
    const bad = (text: string) => () => parseComponentConfig(text, "cfg.yaml", readFile);
    expect(bad("clusters: []\n")).toThrow(/clusters: at least one ONTAP cluster/);
    expect(bad("clusters:\n- name: a\n  url: http://x\n  usernameFile: /u\n  passwordFile: /p\n")).toThrow(/clusters\[0\]/);
    expect(bad("clusters:\n- name: a\n  url: https://x\n  usernameFile: /missing\n  passwordFile: /creds/a/password\n")).toThrow(
      /clusters\[0\]\.usernameFile: cannot read \/missing \(ENOENT\)/,
    );
    expect(bad("clusters:\n- name: a\n  url: https://x\n  usernameFile: /creds/a/username\n  passwordFile: /creds/empty\n")).toThrow(
      /passwordFile: \/creds\/empty is empty/,
    );
    expect(bad("clusters:\n- {name: a, ipaddress: 1.1.1.1, username: u, password: p}\n- {name: a, ipaddress: 1.1.1.2, username: u, password: p}\n")).toThrow(
      /clusters\[1\]\.name: duplicate cluster name "a"/,
    );
    expect(bad("svmDeletionPolicy: Sometimes\nclusters:\n- {name: a, ipaddress: 1.1.1.1, username: u, password: p}\n")).toThrow(ConfigError);
  });

  it("loads the Go chart's configuration as it is: apiVersion, kind, clientConnection, healthCheckConfig, unknown keys", () => {
    const goChart = [
      "---",
      "apiVersion: ontap.metal.extensions.config.gardener.cloud/v1alpha1",
      "kind: ControllerConfiguration",
      "clientConnection:",
      "  acceptContentTypes: application/json",
      "  contentType: application/json",
      "  qps: 100",
      "  burst: 130",
      "healthCheckConfig:",
      "  syncPeriod: 30s",
      "clusters:",
      "- name: cluster-a",
      "  ipaddress: 192.168.10.11",
      "  username: admin",
      "  password: fsqe2020",
      "  zone: a",
      "somethingNewer: true",
      "",
    ].join("\n");
    const cfg = parseComponentConfig(goChart, "cfg.yaml", readFile);
    expect(cfg.clusters).toEqual([
      expect.objectContaining({
        name: "cluster-a",
        url: "https://192.168.10.11",
        username: "admin",
        password: "fsqe2020",
        insecureSkipTlsVerify: true,
        tls: { kind: "unverified", why: "go-extension-default" },
        legacyFormat: true,
      }),
    ]);
    const warnings = cfg.warnings.join("\n");
    expect(warnings).toMatch(/clientConnection .*accepted and not used/);
    expect(warnings).toMatch(/healthCheckConfig .*accepted and not used/);
    expect(warnings).toMatch(/unknown key somethingNewer is ignored/);
    expect(warnings).toMatch(/clusters\[0\] \(cluster-a\): unknown key zone is ignored/);
    expect(warnings).toMatch(/clusters\[0\] \(cluster-a\) uses the Go extension's inline password/);
    // Issue 23: a Go entry without a CA works as it did under the Go extension (TLS not verified), said loudly
    // with what to add to the same entry.
    expect(warnings).toMatch(/clusters\[0\] \(cluster-a\): TLS certificates are NOT verified .*`ca: <PEM .*`pinCertificate: true`/);
    expect(warnings).not.toContain("fsqe2020");
  });

  it("names every invalid field at once, never quoting a value", () => {
    const text = [
      "clusters:",
      "- name: a",
      "  url: https://admin:hunter2@10.0.0.1",
      "  usernameFile: /creds/a/username",
      "  passwordFile: /creds/a/password",
      "- {name: b, ipaddress: 'not an address!', username: u, password: hunter3}",
      "- {name: a, url: 'https://10.0.0.1', usernameFile: /creds/a/username, passwordFile: /creds/a/password}",
      "svmDeletionPolicy: Sometimes",
      "requeue: {baseSeconds: 10, capSeconds: 5}",
      "",
    ].join("\n");
    let message = "";
    try {
      parseComponentConfig(text, "cfg.yaml", readFile);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/clusters\[0\]\.url: must not contain credentials/);
    expect(message).toMatch(/clusters\[1\]\.ipaddress: must be an IP address or a host name/);
    expect(message).toMatch(/clusters\[2\]\.name: duplicate cluster name "a"/);
    expect(message).toMatch(/svmDeletionPolicy: /);
    expect(message).toMatch(/requeue\.baseSeconds: must not exceed requeue\.capSeconds/);
    expect(message).not.toMatch(/hunter2|hunter3/);
    expect(message.split("\n")).toHaveLength(1);
  });

  it("refuses a duplicated cluster address, a missing caFile, control characters and oversized values", () => {
    const bad = (text: string) => () => parseComponentConfig(text, "cfg.yaml", readFile);
    expect(bad("clusters:\n- {name: a, ipaddress: 10.0.0.1, username: u, password: p}\n- {name: b, ipaddress: 10.0.0.1, username: u, password: p}\n")).toThrow(
      /clusters\[1\]\.ipaddress: the same cluster as clusters\[0\]/,
    );
    expect(bad("clusters:\n- {name: a, ipaddress: 10.0.0.1, username: u, password: p, caFile: /missing-ca.pem}\n")).toThrow(
      /clusters\[0\]\.caFile: cannot read \/missing-ca\.pem \(ENOENT\)/,
    );
    expect(bad('clusters:\n- {name: "a\\u0007", ipaddress: 10.0.0.1, username: u, password: p}\n')).toThrow(/clusters\[0\]\.name: contains control characters/);
    expect(bad(`clusters:\n- {name: a, ipaddress: 10.0.0.1, username: u, password: ${"x".repeat(5000)}}\n`)).toThrow(
      /clusters\[0\]\.password: is longer than 4096 characters/,
    );
  });

  it("reports a YAML syntax error by position without printing the line, which may hold a password", () => {
    const text = "clusters:\n- name: a\n  password: \"s3cr3t-in-yaml\n  ipaddress: [10.0.0.1\n";
    expect(() => parseComponentConfig(text, "cfg.yaml", readFile)).toThrow(/cfg\.yaml: not valid YAML at line \d+, column \d+/);
    expect(() => parseComponentConfig(text, "cfg.yaml", readFile)).not.toThrow(/s3cr3t/);
  });

  it("refuses an operator image that would downgrade Trident, naming the field", () => {
    expect(() =>
      parseComponentConfig("tridentOperatorImage: docker.io/netapp/trident-operator:25.06.1\nclusters:\n- {name: a, ipaddress: 10.0.0.1, username: u, password: p}\n", "cfg.yaml", readFile),
    ).toThrow(/tridentOperatorImage: "docker\.io\/netapp\/trident-operator:25\.06\.1" is Trident 25\.06\.1, older than 25\.06\.3/);
    const cfg = parseComponentConfig(
      "tridentOperatorImage: docker.io/netapp/trident-operator:26.06.0\ntridentOrchestrator: {debug: false}\nclusters:\n- {name: a, ipaddress: 10.0.0.1, username: u, password: p}\n",
      "cfg.yaml",
      readFile,
    );
    expect(cfg.tridentOperatorImage).toBe("docker.io/netapp/trident-operator:26.06.0");
    expect(cfg.tridentOrchestrator).toEqual({ debug: false });
    expect(() => parseComponentConfig("tridentOrchestrator: {debugg: false}\nclusters:\n- {name: a, ipaddress: 10.0.0.1, username: u, password: p}\n", "cfg.yaml", readFile)).toThrow(
      /tridentOrchestrator: Unrecognized key: "debugg"/,
    );
  });
});
