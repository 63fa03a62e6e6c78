import { describe, expect, it } from "vitest";
import { ConfigError, parseComponentConfig } from "../../src/config/component-config.js";

const files: Record<string, string> = {
  "/creds/a/username": "admin\n",
  "/creds/a/password": "s3cret-admin\n",
  "/creds/empty": "\n",
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
    expect(cfg.escalation).toEqual({ consecutiveFailures: 5, afterMs: 30 * 60_000 });
    expect(cfg.warnings).toEqual([]);
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
});
