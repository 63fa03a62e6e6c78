import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import path from "node:path";
import { freePorts } from "../../src/testenv/index.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

export interface ControllerProcess {
  proc: ChildProcess;
  healthPort: number;
  logFile: string;
  /** The Prometheus text of the process, or undefined while it does not answer. */
  metrics(): Promise<string | undefined>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `gardener-extension-ontap run` as its own process, as it runs in a seed. */
export async function spawnController(opts: {
  configPath: string;
  kubeconfig: string;
  dir: string;
  name: string;
  /** `--poll-seconds`; default 0.2 (a test's simulator jobs take 30 ms, production's 2 s would only wait). */
  pollSeconds?: number;
  args?: string[];
  /** Node's own flags (e.g. the image's heap limits, `imageNodeFlags()` of src/testenv); default none. */
  nodeArgs?: string[];
}): Promise<ControllerProcess> {
  const [healthPort = 0] = await freePorts(1);
  const logFile = path.join(opts.dir, `${opts.name}.log`);
  const out = openSync(logFile, "a");
  const proc = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      "--import",
      "tsx",
      path.join(REPO_ROOT, "src", "cli.ts"),
      "run",
      "--config",
      opts.configPath,
      "--kubeconfig",
      opts.kubeconfig,
      "--health-port",
      String(healthPort),
      "--poll-seconds",
      String(opts.pollSeconds ?? 0.2),
      "--resync-minutes",
      "0",
      ...(opts.args ?? []),
    ],
    // Info unless LOG_LEVEL asks for more (while chasing a scenario). The in-process lanes run the same reconcile
    // code at debug with the secret scan over every line; a process adds only its assembly, logged at info.
    { cwd: REPO_ROOT, stdio: ["ignore", out, out], env: { ...process.env, LOG_LEVEL: process.env["LOG_LEVEL"] ?? "info" } },
  );
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const metrics = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${healthPort}/metrics`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    proc,
    healthPort,
    logFile,
    metrics,
    async metric(name, labels = {}) {
      const text = (await metrics()) ?? "";
      let sum = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(`gardener_extension_ontap_${name}`)) continue;
        const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        if (!m || m[1] !== `gardener_extension_ontap_${name}`) continue;
        const labelText = m[2] ?? "";
        if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
    exited,
    async kill(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
