import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { SimClusterInfo } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function startCli(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "sim", ...args], { cwd: root });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<{ ready: boolean; clusters: SimClusterInfo[] }>((resolve, reject) => {
    // tsx compiles the simulator on start: a second when idle, far more on a loaded machine.
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 90_000);
    child.stdout.on("data", () => {
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(stdout.slice(0, newline)));
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code} before ready; stderr: ${stderr}`)));
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe("sim command", { timeout: 120_000 }, () => {
  it("prints one ready line, serves every cluster with the CA in the cert dir, and stops with exit 0 on SIGTERM", async () => {
    const certDir = await mkdtemp(join(tmpdir(), "sim-cli-test-"));
    dirs.push(certDir);
    const run = startCli(["--clusters", "2", "--job-ms", "50", "--cert-dir", certDir]);
    const line = await run.ready;
    expect(line.ready).toBe(true);
    expect(line.clusters.map((c) => c.name)).toEqual(["sim-1", "sim-2"]);
    for (const cluster of line.clusters) {
      expect(Object.keys(cluster).sort()).toEqual(["caFile", "name", "password", "url", "username"]);
      expect(cluster.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cluster.caFile).toBe(join(certDir, "ca.pem"));
      const admin = new SimAdmin(cluster);
      try {
        expect((await admin.rest("GET", "/api/cluster")).body.name).toBe(cluster.name);
      } finally {
        await admin.close();
      }
    }
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.output().stdout.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(certDir, "ca.pem"))).toBe(true);
  });

  it("takes option values as strings: job duration and --no-bgp", async () => {
    const run = startCli(["--job-ms", "300", "--no-bgp"]);
    const { clusters } = await run.ready;
    const admin = new SimAdmin(clusters[0]!);
    try {
      expect((await admin.rest("GET", "/api/network/ip/bgp/peer-groups")).body.num_records).toBe(0);
      const created = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
      await new Promise((r) => setTimeout(r, 100));
      expect((await admin.rest("GET", `/api/cluster/jobs/${created.body.job!.uuid}`)).body.state).not.toBe("success");
      expect((await admin.waitForJob(created.body.job!.uuid)).state).toBe("success");
    } finally {
      await admin.close();
    }
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });

  it("stops even while a request hangs on a fault", async () => {
    const run = startCli([]);
    const { clusters } = await run.ready;
    const admin = new SimAdmin(clusters[0]!);
    try {
      await admin.addFault({ path: "^/api/cluster$", action: { type: "hang" } });
      const pending = admin.rest("GET", "/api/cluster").catch((error: unknown) => error);
      await new Promise((r) => setTimeout(r, 100));
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      expect(await pending).toBeInstanceOf(Error);
    } finally {
      await admin.close();
    }
  });

  it("refuses a non-numeric option with a message and a non-zero exit", async () => {
    const run = startCli(["--clusters", "two"]);
    await expect(run.ready).rejects.toThrow(/--clusters must be a non-negative integer/);
    expect(await run.exited).not.toBe(0);
  });
});
