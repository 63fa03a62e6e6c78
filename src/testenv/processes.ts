import { setTimeout as delay } from "node:timers/promises";
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { TestEnvError } from "./errors.js";

/**
 * The processes of the test world (etcd, kube-apiserver, gardener-resource-manager) and the directory they
 * live in: each is started detached with its pid on disk, so `testenv down` or a later run can stop what a
 * crashed one left behind, and only a pid whose command line still names the directory is ever killed.
 */

/** Parent of the directories that the launcher creates itself, so leftovers of crashed runs can be found. */
export const TESTENV_ROOT = path.join(os.tmpdir(), "gardener-extension-ontap-testenv");
const STOP_GRACE_MS = 10_000;

/** Files in DIR that belong to the environment; `down` removes exactly these. */
const OWNED = [
  "pki",
  "etcd-data",
  "apiserver-certs",
  "tokens.csv",
  "kubeconfig",
  // startTestEnv's `audit`: the policy, the log, the audited users' kubeconfigs.
  "audit",
  "etcd.log",
  "kube-apiserver.log",
  "etcd.pid",
  "kube-apiserver.pid",
  "owner.pid",
  // The shoot (startShootEnv) lives in DIR/shoot with the same files plus the resource manager's.
  "shoot",
  "gardener-resource-manager.log",
  "gardener-resource-manager.pid",
  "gardener-resource-manager.yaml",
  "gardener-resource-manager-certs",
];

/** An environment's directory, the children started in it, and how to stop them and clean it. */
export interface EnvDir {
  dir: string;
  /** Children are pushed as soon as they exist, so a failed start stops what did start. */
  children: ChildProcess[];
  /** Stops the recorded processes; removes a directory we created, or only our files from a given one. */
  stop(): Promise<void>;
}

/** DIR for an environment: a fresh one under TESTENV_ROOT (reaped once this process is gone), or the given one, emptied of a previous run. */
export async function openEnvDir(given: string | undefined): Promise<EnvDir> {
  const ownDir = given === undefined;
  await reapCrashedEnvs();
  const dir = await prepareDir(given);
  const children: ChildProcess[] = [];
  return {
    dir,
    children,
    async stop() {
      await killRecordedProcesses(dir);
      for (const child of children) await waitForExit(child);
      if (ownDir) await rm(dir, { recursive: true, force: true });
      else await removeOwned(dir, []);
    },
  };
}

async function prepareDir(given: string | undefined): Promise<string> {
  if (given === undefined) {
    await mkdir(TESTENV_ROOT, { recursive: true });
    const dir = await mkdtemp(path.join(TESTENV_ROOT, "env-"));
    // A directory we created is ours to reap once this process is gone.
    await writeFile(path.join(dir, "owner.pid"), String(process.pid));
    return dir;
  }
  const dir = path.resolve(given);
  await mkdir(dir, { recursive: true });
  await killRecordedProcesses(dir);
  await removeOwned(dir, ["owner.pid"]);
  return dir;
}

export function startProcess(dir: string, name: string, binary: string, args: string[]): ChildProcess {
  const logFd = openSync(path.join(dir, `${name}.log`), "a");
  // etcd reads every ETCD_* variable as a flag, and gardener-resource-manager lets KUBECONFIG and
  // TARGET_KUBECONFIG override its configuration: none left in the caller's environment may configure them.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("ETCD_") && key !== "KUBECONFIG" && key !== "TARGET_KUBECONFIG"),
  );
  try {
    // Detached: `testenv up` leaves both running after the CLI exits.
    const child = spawn(binary, args, { detached: true, env, stdio: ["ignore", logFd, logFd] });
    child.unref();
    if (child.pid === undefined) throw new TestEnvError(`could not start ${binary}`, "PROCESS_EXITED");
    // Sync write: the pid must be on disk before anything can fail, so a later `up` can reap it.
    writeFileSync(path.join(dir, `${name}.pid`), String(child.pid));
    return child;
  } finally {
    closeSync(logFd);
  }
}

/**
 * Polls `probe` until it answers `true`, failing at once (with the log's tail) when one of the processes
 * exits, and after `timeoutMs` with the probe's last answer.
 */
export async function waitForReadiness(input: {
  /** What is waited for, in messages. */
  what: string;
  dir: string;
  processes: Record<string, ChildProcess>;
  /** `true` when ready; otherwise what it answered (for the timeout message). */
  probe(): Promise<true | string>;
  timeoutMs?: number;
}): Promise<void> {
  const timeoutMs = input.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    for (const [name, child] of Object.entries(input.processes)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new TestEnvError(
          `${name} exited (${child.exitCode ?? child.signalCode}) before ${input.what} was ready; ` +
            `last log lines:\n${tailLog(path.join(input.dir, `${name}.log`))}`,
          "PROCESS_EXITED",
        );
      }
    }
    try {
      const answer = await input.probe();
      if (answer === true) return;
      last = answer;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new TestEnvError(
    `${input.what} not ready after ${timeoutMs}ms (${last}); log:\n${tailLog(path.join(input.dir, `${input.what}.log`))}`,
    "NOT_READY",
  );
}

export function tailLog(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Asks the kernel for free loopback ports; all listeners stay open until every port is known, so they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === "string") throw new Error("unexpected listener address");
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * Kills the processes whose pids DIR records, but only if the pid still runs a command that names DIR:
 * a pid reused by an unrelated process after a reboot or a long pause is left alone.
 */
export async function killRecordedProcesses(dir: string): Promise<void> {
  // The shoot first (its resource manager watches this seed), then the resource manager, then kube-apiserver,
  // so it does not log a storm of etcd errors while etcd goes away.
  if (existsSync(path.join(dir, "shoot"))) await killRecordedProcesses(path.join(dir, "shoot"));
  for (const name of ["gardener-resource-manager", "kube-apiserver", "etcd"]) {
    const pidFile = path.join(dir, `${name}.pid`);
    let pid: number;
    try {
      pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
    } catch {
      continue;
    }
    if (Number.isInteger(pid) && pid > 1 && processMentions(pid, dir)) await terminate(pid);
    await rm(pidFile, { force: true });
  }
}

function processMentions(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return false;
  }
}

/** Whether PID runs (a zombie does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; /proc tells whether it is really running.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return;
    }
    while (isAlive(pid)) await sleep(50);
  }
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, STOP_GRACE_MS + 1_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Environments created for a process that no longer runs (crashed, SIGKILLed). */
async function reapCrashedEnvs(): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(TESTENV_ROOT);
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(TESTENV_ROOT, entry);
    let owner: number;
    try {
      owner = Number.parseInt(await readFile(path.join(dir, "owner.pid"), "utf8"), 10);
    } catch {
      continue;
    }
    if (isAlive(owner)) continue;
    await killRecordedProcesses(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function removeOwned(dir: string, keep: string[]): Promise<void> {
  for (const name of OWNED) {
    if (!keep.includes(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

export async function sleep(ms: number): Promise<void> {
  await delay(ms);
}
