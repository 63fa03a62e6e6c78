import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import https from "node:https";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

/**
 * A real kube-apiserver backed by a real etcd, for the integration tests and the demo, started from the
 * binaries that hack/build-kube-binaries.sh builds. There are no controllers: a deleted namespace stays Terminating and nothing is garbage collected.
 */
export interface TestEnv {
  /** DIR/kubeconfig: the admin identity (user `admin`, group `system:masters`). */
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** Bearer token of the admin identity. */
  token: string;
  /** PEM file of the CA that signed kube-apiserver's serving certificate. */
  caFile: string;
  dir: string;
  stop(): Promise<void>;
}

export class TestEnvError extends Error {
  constructor(
    message: string,
    readonly code:
      | "BINARIES_MISSING"
      | "CRDS_MISSING"
      | "PROCESS_EXITED"
      | "NOT_READY"
      | "CRD_NOT_ESTABLISHED"
      | "OPENSSL_FAILED",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TestEnvError";
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Parent of the directories that startTestEnv creates itself, so leftovers of crashed runs can be found. */
export const TESTENV_ROOT = path.join(os.tmpdir(), "gardener-extension-ontap-testenv");
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const run = promisify(execFile);

/** Files in DIR that belong to the environment; `down` removes exactly these. */
const OWNED = [
  "pki",
  "etcd-data",
  "apiserver-certs",
  "tokens.csv",
  "kubeconfig",
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

export function cacheDir(): string {
  return process.env.GARDENER_EXTENSION_ONTAP_CACHE ?? path.join(os.homedir(), ".cache", "gardener-extension-ontap");
}

/**
 * Paths of the binaries: env TESTENV_KUBE_APISERVER_BIN / TESTENV_ETCD_BIN / TESTENV_GARDENER_RESOURCE_MANAGER_BIN,
 * else the env file the build recipe writes. `gardenerResourceManager` is undefined when it was never built.
 */
export function resolveBinaries(): { kubeApiserver: string; etcd: string; gardenerResourceManager?: string } {
  let kubeApiserver = process.env.TESTENV_KUBE_APISERVER_BIN;
  let etcd = process.env.TESTENV_ETCD_BIN;
  let gardenerResourceManager = process.env.TESTENV_GARDENER_RESOURCE_MANAGER_BIN;
  const envFile = path.join(cacheDir(), "bin", "binaries.env");
  if ((!kubeApiserver || !etcd || !gardenerResourceManager) && existsSync(envFile)) {
    for (const line of readFileSync(envFile, "utf8").split("\n")) {
      const [key, ...rest] = line.split("=");
      const value = rest.join("=").trim();
      if (key === "KUBE_APISERVER") kubeApiserver ??= value;
      if (key === "ETCD") etcd ??= value;
      if (key === "GARDENER_RESOURCE_MANAGER") gardenerResourceManager ??= value;
    }
  }
  if (!kubeApiserver || !etcd || !existsSync(kubeApiserver) || !existsSync(etcd)) {
    throw new TestEnvError(
      `kube-apiserver/etcd binaries not found (looked at TESTENV_KUBE_APISERVER_BIN, TESTENV_ETCD_BIN and ${envFile}); ` +
        "run `bash hack/build-kube-binaries.sh` first",
      "BINARIES_MISSING",
    );
  }
  if (gardenerResourceManager && !existsSync(gardenerResourceManager)) gardenerResourceManager = undefined;
  // An env file written by an older copy of the recipe names only the first two; the binary may be there anyway.
  const binDir = path.join(cacheDir(), "bin");
  gardenerResourceManager ??= (existsSync(binDir) ? readdirSync(binDir, { withFileTypes: true }) : [])
    .filter((e) => e.isFile() && /^gardener-resource-manager-v[\d.]+$/.test(e.name))
    .map((e) => path.join(binDir, e.name))
    .sort()
    .at(-1);
  return { kubeApiserver, etcd, gardenerResourceManager };
}

/** The Gardener CRDs: TESTENV_CRD_DIR, else the copy kept in the repository (hack/crds). */
export function crdDir(): string {
  const dir = process.env.TESTENV_CRD_DIR ?? path.resolve(repoRoot, "hack", "crds");
  if (!existsSync(dir)) {
    throw new TestEnvError(`CRD directory ${dir} does not exist (set TESTENV_CRD_DIR)`, "CRDS_MISSING");
  }
  return dir;
}

export async function startTestEnv(opts: { dir?: string } = {}): Promise<TestEnv> {
  const binaries = resolveBinaries();
  const crds = await readCrds(crdDir());
  const ownDir = opts.dir === undefined;
  await reapCrashedEnvs();
  const dir = await prepareDir(opts.dir);
  const children: ChildProcess[] = [];
  const stop = async () => {
    await killRecordedProcesses(dir);
    for (const child of children) await waitForExit(child);
    if (ownDir) await rm(dir, { recursive: true, force: true });
    else await removeOwned(dir, []);
  };
  try {
    const api = await startApiServer(dir, binaries, children, "testenv");
    await installCrds(api, crds);
    return { kubeconfigPath: api.kubeconfigPath, server: api.server, token: api.token, caFile: api.caFile, dir, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** DIR for an environment: a fresh one under TESTENV_ROOT (reaped once this process is gone), or the given one, emptied of a previous run. */
export async function prepareDir(given: string | undefined): Promise<string> {
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

interface RunningApiServer {
  server: string;
  token: string;
  ca: string;
  caFile: string;
  kubeconfigPath: string;
}

/** etcd + kube-apiserver with their files in DIR, ready to serve; the children are pushed as soon as they exist. */
export async function startApiServer(
  dir: string,
  binaries: { kubeApiserver: string; etcd: string },
  children: ChildProcess[],
  name: string,
  extraArgs: string[] = [],
): Promise<RunningApiServer> {
  const pki = await generatePki(path.join(dir, "pki"));
  const token = randomBytes(24).toString("hex");
  const tokenFile = path.join(dir, "tokens.csv");
  await writeFile(tokenFile, `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });

  const [etcdPort, etcdPeerPort, apiPort] = await freePorts(3);
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const etcd = startProcess(dir, "etcd", binaries.etcd, [
    "--name=testenv",
    `--data-dir=${path.join(dir, "etcd-data")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=testenv=${peerUrl}`,
    "--log-level=warn",
    // Test data is disposable; fsync on a disk shared by several builds makes every write slow.
    ...(etcdHasFlag(binaries.etcd, "--unsafe-no-fsync") ? ["--unsafe-no-fsync"] : []),
  ]);
  children.push(etcd);

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserver = startProcess(dir, "kube-apiserver", binaries.kubeApiserver, [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    // The `kubernetes` Service endpoint would have to be a non-loopback address; nothing here needs it.
    "--endpoint-reconciler-type=none",
    `--secure-port=${apiPort}`,
    `--cert-dir=${path.join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    `--token-auth-file=${tokenFile}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    // Pods are never run here; the ServiceAccount admission plugin would only demand token volumes.
    "--disable-admission-plugins=ServiceAccount",
    "--v=1",
    ...extraArgs,
  ]);
  children.push(apiserver);

  await waitUntilReady({ server, token, ca: pki.caCertPem, processes: { etcd, "kube-apiserver": apiserver }, dir });

  const kubeconfigPath = path.join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, renderKubeconfig({ server, token, caPem: pki.caCertPem, name }), { mode: 0o600 });
  return { server, token, ca: pki.caCertPem, caFile: pki.caCert, kubeconfigPath };
}

/** Stops an environment that `testenv up --dir DIR` left running and removes its data. */
export async function stopTestEnvInDir(dir: string): Promise<void> {
  const resolved = path.resolve(dir);
  await killRecordedProcesses(resolved);
  await removeOwned(resolved, []);
  // The directory itself goes too when nothing but our files was in it.
  await rmdir(resolved).catch(() => undefined);
}

const etcdHelp = new Map<string, string>();
function etcdHasFlag(binary: string, flag: string): boolean {
  if (!etcdHelp.has(binary)) {
    const help = spawnSync(binary, ["--help"], { encoding: "utf8" });
    etcdHelp.set(binary, `${help.stdout ?? ""}${help.stderr ?? ""}`);
  }
  return etcdHelp.get(binary)!.includes(flag);
}

/** A kubeconfig with one cluster, one token user and one context, all named `name`. */
export function renderKubeconfig(input: { server: string; token?: string; caPem?: string; name: string }): string {
  const cluster: Record<string, string> = { server: input.server };
  if (input.caPem) cluster["certificate-authority-data"] = Buffer.from(input.caPem).toString("base64");
  const user: Record<string, string> = input.token ? { token: input.token } : {};
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: input.name, cluster }],
      users: [{ name: input.name, user }],
      contexts: [{ name: input.name, context: { cluster: input.name, user: input.name } }],
      "current-context": input.name,
    },
    null,
    2,
  );
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

export async function waitUntilReady(input: {
  server: string;
  token: string;
  ca: string;
  processes: Record<string, ChildProcess>;
  dir: string;
}): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    for (const [name, child] of Object.entries(input.processes)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new TestEnvError(
          `${name} exited (${child.exitCode ?? child.signalCode}) before kube-apiserver was ready; ` +
            `last log lines:\n${tailLog(path.join(input.dir, `${name}.log`))}`,
          "PROCESS_EXITED",
        );
      }
    }
    try {
      const { status, body } = await httpsRequest("GET", `${input.server}/readyz`, input);
      if (status === 200) return;
      last = `HTTP ${status}: ${body.slice(0, 500)}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new TestEnvError(
    `kube-apiserver not ready after ${READY_TIMEOUT_MS}ms (${last}); log:\n${tailLog(path.join(input.dir, "kube-apiserver.log"))}`,
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

export function httpsRequest(
  method: string,
  url: string,
  auth: { token: string; ca: string },
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${auth.token}`, accept: "application/json" };
    if (payload !== undefined) headers["content-type"] = "application/json";
    const req = https.request(url, { method, ca: auth.ca, headers, timeout: 10_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}

export async function readCrds(dir: string): Promise<Record<string, unknown>[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const crds: Record<string, unknown>[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(path.join(dir, file), "utf8"))) {
      const obj = doc.toJS() as Record<string, unknown> | null;
      if (obj?.kind === "CustomResourceDefinition") crds.push(obj);
    }
  }
  if (crds.length === 0) throw new TestEnvError(`no CustomResourceDefinition found in ${dir}`, "CRDS_MISSING");
  return crds;
}

/**
 * Raw JSON on purpose: client-node's typed serializer knows JSONSchemaProps only by its TypeScript names
 * (`x_kubernetes_preserve_unknown_fields`) and silently drops the YAML's `x-kubernetes-*` keys, after which
 * kube-apiserver prunes every providerConfig and raw Shoot to `{}`.
 */
export async function installCrds(auth: { server: string; token: string; ca: string }, crds: unknown[]): Promise<void> {
  const base = `${auth.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
  const names: string[] = [];
  for (const crd of crds) {
    const { status, body } = await httpsRequest("POST", base, auth, crd);
    if (status !== 201) {
      throw new TestEnvError(`creating a CRD failed: HTTP ${status}: ${body.slice(0, 500)}`, "CRD_NOT_ESTABLISHED");
    }
    names.push((JSON.parse(body) as { metadata: { name: string } }).metadata.name);
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const { status, body } = await httpsRequest("GET", `${base}/${name}`, auth);
      const conditions =
        status === 200
          ? ((JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } }).status
              ?.conditions ?? [])
          : [];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) {
        throw new TestEnvError(`CRD ${name} not Established within 60s`, "CRD_NOT_ESTABLISHED");
      }
      await sleep(100);
    }
  }
}

interface Pki {
  caCert: string;
  caCertPem: string;
  serverCert: string;
  serverKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

/** A fresh CA and a serving certificate for 127.0.0.1/localhost signed by it (EC P-256, ten years). */
export async function generateServingCert(
  dir: string,
  commonName: string,
): Promise<{ caCert: string; caCertPem: string; cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-days",
    "3650",
    "-subj",
    `/CN=${commonName}-ca`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl(["req", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", `/CN=${commonName}`]);
  await writeFile(
    f("server.ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
      "",
    ].join("\n"),
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("server.crt"),
    "-days",
    "3650",
    "-extfile",
    f("server.ext"),
  ]);
  return {
    caCert: f("ca.crt"),
    caCertPem: await readFile(f("ca.crt"), "utf8"),
    cert: f("server.crt"),
    key: f("server.key"),
  };
}

async function generatePki(dir: string): Promise<Pki> {
  const serving = await generateServingCert(dir, "kube-apiserver");
  const f = (name: string) => path.join(dir, name);
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", f("sa.key")]);
  // kube-apiserver reads PKCS#8 private keys only as signing keys; verification wants the public half.
  await openssl(["pkey", "-in", f("sa.key"), "-pubout", "-out", f("sa.pub")]);
  return {
    caCert: serving.caCert,
    caCertPem: serving.caCertPem,
    serverCert: serving.cert,
    serverKey: serving.key,
    serviceAccountKey: f("sa.key"),
    serviceAccountPublicKey: f("sa.pub"),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    throw new TestEnvError(`openssl ${args[0]} failed`, "OPENSSL_FAILED", { cause: error });
  }
}

/** Asks the kernel for free loopback ports; all listeners stay open until every port is known, so they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
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

function isAlive(pid: number): boolean {
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

export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, STOP_GRACE_MS + 1_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Environments that startTestEnv created for a process that no longer runs (crashed, SIGKILLed). */
export async function reapCrashedEnvs(): Promise<void> {
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
