import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

function runWithConfig(yaml: string) {
  const dir = mkdtempSync(path.join(tmpdir(), "ontap-cli-"));
  const config = path.join(dir, "config.yaml");
  writeFileSync(config, yaml);
  return spawnSync(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "src", "cli.ts"), "run", "--config", config], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 20_000,
  });
}

describe("gardener-extension-ontap run: invalid configuration", () => {
  it("exits at start with code 2 and a message naming the field", () => {
    const result = runWithConfig("clusters:\n- name: a\n  url: http://10.0.0.1\n  usernameFile: /u\n  passwordFile: /p\n");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/clusters\[0\]\.url: must be an https:\/\/ URL/);
  });

  it("names the unreadable credentials file without printing any credential", () => {
    const result = runWithConfig(
      "clusters:\n- {name: a, url: 'https://10.0.0.1', usernameFile: /nonexistent/u, passwordFile: /nonexistent/p}\n",
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/clusters\[0\]\.usernameFile: cannot read \/nonexistent\/u \(ENOENT\)/);
  });
});
