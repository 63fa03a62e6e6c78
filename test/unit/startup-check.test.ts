import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OntapClusterSettings } from "../../src/config/component-config.js";
import { createLogger } from "../../src/log.js";
import { createOntapClient, type OntapClient } from "../../src/ontap/index.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { checkClustersAtStartup, reportTlsTrust } from "../../src/startup-check.js";
import { parseComponentConfig } from "../../src/config/component-config.js";

describe("start-up: one connection to every ONTAP cluster, logged per cluster", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ clusters: 2 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it("reports each cluster, says what to add for an untrusted certificate, and never throws", async () => {
    const [a, b] = sim.clusters;
    const settings: OntapClusterSettings[] = [
      { name: "trusted", url: a!.url, username: a!.username, password: a!.password, caFile: a!.caFile, insecureSkipTlsVerify: false, timeoutMs: 3000 },
      // The Go chart's format: an address, inline credentials, no CA: the simulator's certificate is self-signed.
      { name: "go-format", legacyFormat: true, url: b!.url, username: b!.username, password: b!.password, insecureSkipTlsVerify: false, timeoutMs: 3000 },
      { name: "down", url: "https://127.0.0.1:1", username: "admin", password: "irrelevant-pw", insecureSkipTlsVerify: false, timeoutMs: 1000 },
    ];
    const clients = new Map<string, OntapClient>(settings.map((s) => [s.name, createOntapClient(s)]));
    const lines: string[] = [];
    const logger = createLogger({ level: "info", stream: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }) });
    const results = await checkClustersAtStartup(settings, clients, logger);
    await Promise.all([...clients.values()].map((c) => c.close()));

    expect(results.map((r) => [r.cluster, r.ok])).toEqual([["trusted", true], ["go-format", false], ["down", false]]);
    expect(results[0]!.message).toMatch(/ONTAP cluster trusted \(clusters\[0\], https:\/\/127\.0\.0\.1:\d+\): connected to /);
    expect(results[1]!.message).toMatch(/clusters\[1\].*TLS certificate is not trusted .*To verify it, add to this cluster's entry `ca: <PEM.*`pinCertificate: true`/);
    expect(results[2]!.message).toMatch(/clusters\[2\].*not reachable at start-up/);
    expect(lines).toHaveLength(3);
    for (const secret of [a!.password, b!.password, "irrelevant-pw"]) expect(lines.join("\n")).not.toContain(secret);
  });

  it("says loudly, per cluster, that a Go entry without a CA is not verified: log, gauge and event, with what to add", () => {
    const cfg = parseComponentConfig(
      [
        "clusters:",
        "- {name: cluster-a, ipaddress: 10.0.0.10, username: admin, password: Go-Admin-Passw0rd}",
        "- {name: cluster-b, ipaddress: 10.0.0.20, username: admin, password: Go-Admin-Passw0rd, pinCertificate: true}",
        "",
      ].join("\n"),
      "cfg.yaml",
    );
    const lines: string[] = [];
    const logger = createLogger({ level: "info", stream: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }) });
    const gauge = new Map<string, boolean>();
    const events: string[] = [];
    reportTlsTrust(cfg.clusters, { logger, setUnverified: (c, u) => gauge.set(c, u), warn: (reason, message) => events.push(`${reason}: ${message}`) });
    expect(Object.fromEntries(gauge)).toEqual({ "cluster-a": true, "cluster-b": false });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^OntapTlsUnverified: ONTAP cluster cluster-a \(clusters\[0\], https:\/\/10\.0\.0\.10\): TLS certificate NOT verified.*`ca: <PEM.*`pinCertificate: true`/);
    const warn = lines.map((l) => JSON.parse(l) as { level: number | string; msg: string }).filter((l) => /NOT verified/.test(l.msg));
    expect(warn).toHaveLength(1);
    expect(lines.join("\n")).toMatch(/cluster-b: TLS certificate pinned at first contact/);
    expect(lines.join("\n")).not.toContain("Go-Admin-Passw0rd");
  });
});
