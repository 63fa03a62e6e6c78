import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

// Starting the CLI under tsx compiles the whole process on the fly: a second on an idle machine, more than the
// unit default of 20 s on a loaded one. So the child runs asynchronously under a generous deadline of its own.
const CLI_DEADLINE_MS = 100_000;

function runWithConfig(yaml: string, extra: { args?: string[]; env?: Record<string, string> } = {}): Promise<{ status: number | null; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "ontap-cli-"));
  const config = path.join(dir, "config.yaml");
  writeFileSync(config, yaml);
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "src", "cli.ts"), "run", "--config", config, ...(extra.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...extra.env },
    stdio: ["ignore", "ignore", "pipe"],
    timeout: CLI_DEADLINE_MS,
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stderr }));
  });
}

describe("gardener-extension-ontap run: invalid configuration", () => {
  it("exits at start with code 2 and a message naming the field", { timeout: CLI_DEADLINE_MS + 10_000 }, async () => {
    const result = await runWithConfig("clusters:\n- name: a\n  url: http://10.0.0.1\n  usernameFile: /u\n  passwordFile: /p\n");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/clusters\[0\]\.url: must be an https:\/\/ URL/);
  });

  it("names the unreadable credentials file without printing any credential", { timeout: CLI_DEADLINE_MS + 10_000 }, async () => {
    const result = await runWithConfig(
      "clusters:\n- {name: a, url: 'https://10.0.0.1', usernameFile: /nonexistent/u, passwordFile: /nonexistent/p}\n",
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/clusters\[0\]\.usernameFile: cannot read \/nonexistent\/u \(ENOENT\)/);
  });

  it("names an unknown log level and where it came from: --log-level first, else LOG_LEVEL", { timeout: 2 * CLI_DEADLINE_MS + 10_000 }, async () => {
    const valid = "clusters:\n- name: a\n  url: https://10.0.0.1\n  usernameFile: /u\n  passwordFile: /p\n";
    const [fromEnv, fromFlag] = await Promise.all([
      runWithConfig(valid, { env: { LOG_LEVEL: "verbose" } }),
      runWithConfig(valid, { env: { LOG_LEVEL: "debug" }, args: ["--log-level", "loud"] }),
    ]);
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toContain('LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"');
    expect(fromFlag.status).toBe(2);
    expect(fromFlag.stderr).toContain('--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"');
    expect(fromFlag.stderr).not.toMatch(/at .*pino/);
  });
});
