import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../../src/kube/config.js";
import { DaemonSets } from "../../src/testenv/trident-operator.js";
import { createKubeClient } from "../../src/kube/client.js";
import { ManagedResources, type ResourceType } from "../../src/kube/resources.js";
import { LABEL_MUTATED_BY_WEBHOOK, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET } from "../../src/trident/names.js";
import { INIT_CONTAINER_NAME } from "../../src/webhook/mutate.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const StorageClasses: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", kind: "StorageClass", namespaced: false };
const tsx = path.join(repoRoot, "node_modules/.bin/tsx");
const run = promisify(execFile);

let child: ChildProcess | undefined;
afterEach(() => {
  // Only if a test failed half-way: the demo stops everything itself on SIGTERM.
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  child = undefined;
});

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startDemo(
  args: string[],
  onOutput?: (stdout: string) => void,
): { process: ChildProcess; done: Promise<DemoRun>; output: () => string } {
  // node with tsx's loader, not the tsx CLI: the CLI relays Ctrl-C to its child and, when the child has not
  // acknowledged it within 30 ms (a busy 2-core machine), SIGKILLs it and exits 130 itself.
  const proc = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "demo", ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  child = proc;
  let stdout = "";
  let stderr = "";
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    onOutput?.(stdout);
  });
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<DemoRun>((resolve) => proc.on("close", (code) => resolve({ code, stdout, stderr })));
  return { process: proc, done, output: () => stdout };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Parses `stopped: kube-apiserver (pid 1), etcd (pid 2); closed ports: sim-1 3, ...; nothing left running`. */
function stoppedLine(stdout: string): { pids: number[]; ports: number[] } {
  const line = stdout.split("\n").find((l) => l.startsWith("stopped: "));
  if (!line) throw new Error(`no "stopped:" line in:\n${stdout.slice(-2000)}`);
  expect(line).toMatch(/nothing left running/);
  const pids = [...line.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
  const ports = [...(line.split("closed ports: ")[1] ?? "").matchAll(/ (\d+)[,;]/g)].map((m) => Number(m[1]));
  return { pids, ports };
}

async function expectNothingLeft(stdout: string): Promise<void> {
  const { pids, ports } = stoppedLine(stdout);
  // The seed's kube-apiserver and etcd, and per shoot its kube-apiserver, etcd and gardener-resource-manager.
  expect(pids).toHaveLength(2 + 3 * 3);
  // The seed's kube-apiserver, two simulated clusters, the fault proxy, the metrics port, the shoot webhook, per
  // shoot its kube-apiserver and resource manager.
  expect(ports).toHaveLength(6 + 3 * 2);
  for (const pid of pids) expect(isAlive(pid), `pid ${pid} still runs`).toBe(false);
  for (const port of ports) expect(await portAnswers(port), `port ${port} still answers`).toBe(false);
}

describe("demo, end to end", () => {
  it("plays the story non-interactively: the injected failure is reported, every shoot ends Succeeded and verified, nothing is left running", { timeout: 300_000 }, async () => {
    const { done } = startDemo(["--no-tty"]);
    const result = await done;
    const { stdout } = result;
    expect(result.code, `${stdout.slice(-3000)}\n${result.stderr}`).toBe(0);

    // The Go extension's failure (the seed Secret's create refused after the SVM exists) was injected, reported by the Extension, retried, and cleared.
    expect(stdout).toMatch(
      /shoot--beta--api reports Error \[ERR_RETRYABLE_INFRA_DEPENDENCIES\]: failed to write the seed Secret shoot--beta--api\/ontap-svm-credentials .*500/,
    );
    const refused = Number(/fault cleared after (\d+) refused Secret creates/.exec(stdout)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(stdout).toMatch(/ReconcileEscalated=True/);
    // doctor, reading the same state, calls it broken and points at the error rather than at a reconcile.
    expect(stdout).toMatch(/doctor says shoot--beta--api is broken \(failing: ONTAP user beta--api, seed Secret shoot--beta--api\/ontap-svm-credentials.*next action: fix the cause of that error/);
    expect(stdout).toMatch(/recovered: every shoot Succeeded and verified/);

    // The final matrix: three shoots, every cell as it should be.
    const lines = stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("Final state"));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {2}SHOOT\s+SVM\s+DATA LIFS\s+MGMT LIF\s+USER\s+SEED SECRET\s+PASSWORD\s+TRIDENT\s+EXTENSION\s+RETRIES$/);
    const rows = lines.slice(at + 2, at + 5).map((l) => l.trim().split(/\s{2,}/));
    expect(rows.map((r) => r[0])).toEqual(["shoot--alpha--web", "shoot--alpha--db", "shoot--beta--api"]);
    for (const row of rows) {
      // Six ManagedResources (Trident's five and the shoot webhook's), healthy as gardener-resource-manager reports them.
      expect(row.slice(1, 9)).toEqual([expect.stringMatching(/^sim-[12] running$/), "2/2", "ok", "ok", "ok", "verified", "6/6", "Succeeded"]);
    }
    // Both shoots of project alpha share one SVM; the failing shoot needed retries, the others none.
    expect(rows[0]![1]).toBe(rows[1]![1]);
    expect(Number(rows[2]![9])).toBeGreaterThanOrEqual(3);
    expect(Number(rows[0]![9])).toBe(0);
    expect(lines[at + 5]).toBe("  doctor: shoot--alpha--web healthy, shoot--alpha--db healthy, shoot--beta--api healthy");

    // What arrived in each shoot's own kube-apiserver through the real gardener-resource-manager.
    const inShoots = lines.findIndex((l) => l.startsWith("In the shoots"));
    expect(inShoots).toBeGreaterThan(at);
    expect(lines[inShoots + 1]).toMatch(/^ {2}SHOOT\s+OPERATOR CRDS\s+BACKEND\s+STORAGECLASSES\s+CREDENTIALS\s+WEBHOOK$/);
    const shootRows = lines.slice(inShoots + 2, inShoots + 5).map((l) => l.trim().split(/\s{2,}/));
    expect(shootRows.map((r) => r[0])).toEqual(["shoot--alpha--web", "shoot--alpha--db", "shoot--beta--api"]);
    for (const row of shootRows) {
      expect(row.slice(1)).toEqual([
        "2/2 Established",
        expect.stringMatching(/^ontap-p[0-9a-f]{32}-backend$/),
        "ontap-encrypted,ontap-gold",
        "= seed Secret",
        "2/2 mutated",
      ]);
    }
    // The backend is the project's: both shoots of project alpha name the same SVM.
    expect(shootRows[0]![2]).toBe(shootRows[1]![2]);
    expect(shootRows[2]![2]).not.toBe(shootRows[0]![2]);

    const secretWrites = /seed Secret writes: +(\d+) ok, (\d+) failed/.exec(stdout);
    expect(Number(secretWrites?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(secretWrites?.[2])).toBe(refused);
    expect(stdout).toMatch(/ONTAP requests: +\d+ \(\d+ GET, \d+ POST/);

    // Logs went to the file it names, not to the terminal.
    const logFile = /Controller log: (\S+)/.exec(stdout)?.[1] ?? "";
    expect(existsSync(logFile) && statSync(logFile).size > 0).toBe(true);
    expect(lines.filter((l) => l.startsWith("{"))).toEqual([]);
    expect(result.stderr).toBe("");

    await expectNothingLeft(stdout);
  });

  it("with --keep stays up for doctor until Ctrl-C, then stops everything and exits 0", { timeout: 300_000 }, async () => {
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const demo = startDemo(["--keep", "--no-tty"], (out) => {
      if (out.includes("Ctrl-C stops everything")) ready();
    });
    await Promise.race([isReady, demo.done.then((r) => Promise.reject(new Error(`demo ended early (${r.code}):\n${r.stdout.slice(-2000)}`)))]);
    expect(demo.process.exitCode).toBeNull();

    // The printed doctor command works against the running demo.
    const partial = demo.output();
    const doctorLine = /doctor: +npm run cli -- (doctor .*)/.exec(partial)?.[1];
    expect(doctorLine).toBeDefined();
    const doctor = await run(tsx, ["src/cli.ts", ...doctorLine!.split(" ")], { cwd: repoRoot, timeout: 60_000 });
    expect(doctor.stdout).toMatch(/3 shoots: 3 healthy/);
    expect(partial).toMatch(/metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(partial).toMatch(/kubeconfig: +\/\S+kubeconfig/);
    const seed = createKubeClient(loadKubeConfig(/kubeconfig: +(\/\S+kubeconfig)/.exec(partial)![1]!));

    // Each printed shoot kubeconfig reaches that shoot's kube-apiserver, where the resource manager applied the
    // ManagedResources and the webhook mutated Trident's node DaemonSet (read here, not from the demo's view).
    const shootKubeconfigs = [...partial.matchAll(/shoot (shoot--\S+): kubectl --kubeconfig (\S+) /g)].map((m) => ({ namespace: m[1]!, file: m[2]! }));
    expect(shootKubeconfigs.map((s) => s.namespace)).toEqual(["shoot--alpha--web", "shoot--alpha--db", "shoot--beta--api"]);
    for (const { namespace, file } of shootKubeconfigs) {
      const shoot = createKubeClient(loadKubeConfig(file));
      const classes = await shoot.list<{ metadata: { name: string }; provisioner: string }>(StorageClasses);
      expect(classes.items.filter((c) => c.provisioner === "csi.trident.netapp.io").map((c) => c.metadata.name).sort(), namespace).toEqual(["ontap-encrypted", "ontap-gold"]);
      const ds = await shoot.get<{ metadata: { labels?: Record<string, string> }; spec: { template: { spec: { initContainers?: { name: string }[] } } } }>(
        DaemonSets,
        SHOOT_SYSTEM_NAMESPACE,
        TRIDENT_NODE_DAEMONSET,
      );
      expect(ds?.metadata.labels?.[LABEL_MUTATED_BY_WEBHOOK], namespace).toBe("true");
      expect(ds?.spec.template.spec.initContainers?.map((c) => c.name), namespace).toEqual([INIT_CONTAINER_NAME]);
      const mrs = await seed.list<{ metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason?: string }[] } }>(ManagedResources, namespace);
      expect(mrs.items.length, namespace).toBe(6);
      for (const mr of mrs.items) {
        // Written by gardener-resource-manager itself.
        expect(mr.status?.conditions?.find((c) => c.type === "ResourcesApplied"), `${namespace}/${mr.metadata.name}`).toMatchObject({ status: "True", reason: "ApplySucceeded" });
      }
    }

    demo.process.kill("SIGINT");
    const result = await demo.done;
    expect(result.code).toBe(0);
    await expectNothingLeft(result.stdout);
  });
});
