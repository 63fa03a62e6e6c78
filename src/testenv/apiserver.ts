import { type ChildProcess, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { resolveBinaries } from "./binaries.js";
import { testCa, writeServiceAccountKeys } from "./ca.js";
import { TestEnvError } from "./errors.js";
import { httpsRequest } from "./http.js";
import { freePorts, killRecordedProcesses, openEnvDir, removeOwned, sleep, startProcess, waitForReadiness } from "./processes.js";

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
  /** With `audit`: each audited user's kubeconfig (user NAME, group `system:masters`, a token of its own). */
  auditedKubeconfigs?: Record<string, string>;
  /** With `audit`: kube-apiserver's audit log (JSON lines), one `RequestReceived` event per request of an audited user. */
  auditLogPath?: string;
  stop(): Promise<void>;
}

/**
 * Identities of their own whose every request kube-apiserver writes to an audit log (Metadata level, only the
 * `RequestReceived` stage: one line per request, watches included), so a benchmark counts one client's
 * Kubernetes requests at the server, whatever the client (a process without our metrics: the Go extension).
 * Everyone else's requests (the admin's) are not logged.
 */
export interface AuditOptions {
  users: string[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The Gardener CRDs: TESTENV_CRD_DIR, else the copy kept in the repository (hack/crds). */
export function crdDir(): string {
  const dir = process.env.TESTENV_CRD_DIR ?? path.resolve(repoRoot, "hack", "crds");
  if (!existsSync(dir)) {
    throw new TestEnvError(`CRD directory ${dir} does not exist (set TESTENV_CRD_DIR)`, "CRDS_MISSING");
  }
  return dir;
}

export async function startTestEnv(opts: { dir?: string; audit?: AuditOptions } = {}): Promise<TestEnv> {
  const binaries = resolveBinaries();
  const crds = await readCrds(crdDir());
  const { dir, children, stop } = await openEnvDir(opts.dir);
  try {
    const api = await startApiServer(dir, binaries, children, "testenv", [], opts.audit);
    await installCrds(api, crds);
    return {
      kubeconfigPath: api.kubeconfigPath,
      server: api.server,
      token: api.token,
      caFile: api.caFile,
      dir,
      ...(api.audit ? { auditedKubeconfigs: api.audit.kubeconfigs, auditLogPath: api.audit.logPath } : {}),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

interface RunningApiServer {
  server: string;
  token: string;
  ca: string;
  caFile: string;
  kubeconfigPath: string;
  audit?: { kubeconfigs: Record<string, string>; logPath: string };
}

/** etcd + kube-apiserver with their files in DIR, ready to serve; the children are pushed as soon as they exist. */
export async function startApiServer(
  dir: string,
  binaries: { kubeApiserver: string; etcd: string },
  children: ChildProcess[],
  name: string,
  extraArgs: string[] = [],
  audit?: AuditOptions,
): Promise<RunningApiServer> {
  const pkiDir = path.join(dir, "pki");
  const serving = await (await testCa()).issue(pkiDir, "kube-apiserver", [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
  ]);
  const serviceAccount = await writeServiceAccountKeys(pkiDir);
  const token = randomBytes(24).toString("hex");
  const tokenFile = path.join(dir, "tokens.csv");
  const auditTokens = new Map((audit?.users ?? []).map((user) => [user, randomBytes(24).toString("hex")]));
  const tokenLines = [["admin", token], ...auditTokens].map(([user, userToken]) => `${userToken},${user},${user}-uid,"system:masters"\n`);
  await writeFile(tokenFile, tokenLines.join(""), { mode: 0o600 });
  const auditArgs = audit ? await auditFlags(dir, audit) : [];

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
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    `--token-auth-file=${tokenFile}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${serviceAccount.privateKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    // Pods are never run here; the ServiceAccount admission plugin would only demand token volumes.
    "--disable-admission-plugins=ServiceAccount",
    "--v=1",
    ...auditArgs,
    ...extraArgs,
  ]);
  children.push(apiserver);

  await waitForReadiness({
    what: "kube-apiserver",
    dir,
    processes: { etcd, "kube-apiserver": apiserver },
    async probe() {
      const { status, body } = await httpsRequest("GET", `${server}/readyz`, { token, ca: serving.caCertPem });
      return status === 200 || `HTTP ${status}: ${body.slice(0, 500)}`;
    },
  });

  const kubeconfigPath = path.join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, renderKubeconfig({ server, token, caPem: serving.caCertPem, name }), { mode: 0o600 });
  const kubeconfigs: Record<string, string> = {};
  for (const [user, userToken] of auditTokens) {
    kubeconfigs[user] = path.join(dir, AUDIT_DIR, `kubeconfig-${user}`);
    await writeFile(kubeconfigs[user], renderKubeconfig({ server, token: userToken, caPem: serving.caCertPem, name: user }), { mode: 0o600 });
  }
  return {
    server,
    token,
    ca: serving.caCertPem,
    caFile: serving.caCert,
    kubeconfigPath,
    ...(audit ? { audit: { kubeconfigs, logPath: path.join(dir, AUDIT_DIR, "audit.log") } } : {}),
  };
}

/** DIR/audit: the policy, the log and the audited users' kubeconfigs (one of the environment's owned files). */
const AUDIT_DIR = "audit";

/** The audit policy (the audited users at Metadata level, once per request, nobody else) and kube-apiserver's flags for it. */
async function auditFlags(dir: string, audit: AuditOptions): Promise<string[]> {
  await mkdir(path.join(dir, AUDIT_DIR), { recursive: true });
  const policyPath = path.join(dir, AUDIT_DIR, "policy.json");
  const policy = {
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["ResponseStarted", "ResponseComplete", "Panic"],
    rules: [{ level: "Metadata", users: audit.users }, { level: "None" }],
  };
  await writeFile(policyPath, JSON.stringify(policy));
  // Blocking: an event is in the file before its request is served, so a count read after a window holds it.
  return [`--audit-policy-file=${policyPath}`, `--audit-log-path=${path.join(dir, AUDIT_DIR, "audit.log")}`, "--audit-log-format=json", "--audit-log-mode=blocking"];
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

