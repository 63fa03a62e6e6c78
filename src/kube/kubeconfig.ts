import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * The cluster of the current context. Field names and encodings are those of @kubernetes/client-node's
 * `Cluster` (`caData` base64 as in the file), so a client-node KubeConfig built by a test fits
 * {@link KubeConnectionConfig} structurally; the controller itself never loads that library (its root
 * module alone costs about 100 MiB of RSS).
 */
export interface KubeCluster {
  readonly name: string;
  readonly server: string;
  /** `certificate-authority-data`: base64 of PEM. */
  readonly caData?: string;
  /** `certificate-authority`: a PEM file. */
  readonly caFile?: string;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string;
}

/** The user of the current context; see {@link KubeCluster} for why the names are client-node's. */
export interface KubeUser {
  readonly name: string;
  readonly token?: string;
  /** `tokenFile`, and the in-cluster ServiceAccount token: re-read while the process runs (kubelet rotates it). */
  readonly tokenFile?: string;
  /** `client-certificate-data` / `client-key-data`: base64 of PEM. */
  readonly certData?: string;
  readonly certFile?: string;
  readonly keyData?: string;
  readonly keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  /** Present only to be refused with a clear error: credential plugins are not supported. */
  readonly exec?: unknown;
  readonly authProvider?: unknown;
}

/** What the Kubernetes client needs of a kubeconfig. */
export interface KubeConnectionConfig {
  getCurrentCluster(): KubeCluster | null;
  getCurrentUser(): KubeUser | null;
}

export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
}

/** Where the kubelet mounts a Pod's ServiceAccount token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A loaded kubeconfig: the current context's cluster and user, with every file path made absolute. */
export class KubeConfig implements KubeConnectionConfig {
  constructor(
    readonly cluster: KubeCluster,
    readonly user: KubeUser,
    /** Where it came from, for messages: a file path or "in-cluster". */
    readonly source: string,
    readonly namespace?: string,
  ) {}
  getCurrentCluster(): KubeCluster {
    return this.cluster;
  }
  getCurrentUser(): KubeUser {
    return this.user;
  }
}

/**
 * The kubeconfig to use, in controller-runtime's order: the file given (`--kubeconfig`), else `$KUBECONFIG`
 * (a `:`-separated list, merged first-wins as kubectl does), else the Pod's ServiceAccount when running in a
 * cluster, else `~/.kube/config`.
 */
export function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  if (file) return loadKubeConfigFiles([file]);
  const fromEnv = (env["KUBECONFIG"] ?? "").split(path.delimiter).filter((f) => f !== "");
  if (fromEnv.length > 0) return loadKubeConfigFiles(fromEnv);
  if (env["KUBERNETES_SERVICE_HOST"] && env["KUBERNETES_SERVICE_PORT"]) return inClusterConfig(env);
  const home = path.join(env["HOME"] || homedir(), ".kube", "config");
  if (existsSync(home)) return loadKubeConfigFiles([home]);
  throw new KubeConfigError(
    "no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or run in a Pod with a ServiceAccount token",
  );
}

/**
 * The Pod's own credentials: the API server from KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount's CA and
 * its token file (read again while running: projected tokens expire within an hour and the kubelet
 * rewrites the file).
 */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConfig {
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (!host || !port) {
    throw new KubeConfigError("in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set");
  }
  const tokenFile = path.join(dir, "token");
  const caFile = path.join(dir, "ca.crt");
  for (const f of [tokenFile, caFile]) {
    if (!existsSync(f)) {
      throw new KubeConfigError(
        `in-cluster: ${f} does not exist; mount the ServiceAccount token (automountServiceAccountToken) or pass --kubeconfig`,
      );
    }
  }
  const namespaceFile = path.join(dir, "namespace");
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined;
  return new KubeConfig(
    { name: "in-cluster", server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, caFile, skipTLSVerify: false },
    { name: "in-cluster", tokenFile },
    "in-cluster",
    namespace,
  );
}

type Entry = Record<string, unknown>;

/** Loads and merges kubeconfig files (the first file to define a name wins, as kubectl merges). */
export function loadKubeConfigFiles(files: string[]): KubeConfig {
  const clusters = new Map<string, { entry: Entry; file: string }>();
  const users = new Map<string, { entry: Entry; file: string }>();
  const contexts = new Map<string, { entry: Entry; file: string }>();
  let currentContext: string | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      // kubectl skips missing files of a KUBECONFIG list; one named on its own must exist.
      if (files.length > 1 && (err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new KubeConfigError(`kubeconfig ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new KubeConfigError(`kubeconfig ${file}: not valid YAML (${(err as Error).message.split("\n")[0]})`);
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== "object" || Array.isArray(doc)) throw new KubeConfigError(`kubeconfig ${file}: not a mapping`);
    const config = doc as Entry;
    collect(config, "clusters", "cluster", file, clusters);
    collect(config, "users", "user", file, users);
    collect(config, "contexts", "context", file, contexts);
    const current = config["current-context"];
    if (currentContext === undefined && typeof current === "string" && current !== "") currentContext = current;
  }
  const where = files.join(path.delimiter);
  if (!currentContext) throw new KubeConfigError(`kubeconfig ${where}: current-context is not set`);
  const context = contexts.get(currentContext);
  if (!context) throw new KubeConfigError(`kubeconfig ${where}: current-context ${currentContext} is not in contexts`);
  const clusterName = optionalString(context.entry, "cluster", `contexts[${currentContext}].context`, context.file);
  const userName = optionalString(context.entry, "user", `contexts[${currentContext}].context`, context.file);
  const cluster = clusters.get(clusterName ?? "");
  if (!clusterName || !cluster) {
    throw new KubeConfigError(`kubeconfig ${where}: contexts[${currentContext}].context.cluster names no cluster in clusters`);
  }
  const user = userName ? users.get(userName) : undefined;
  if (userName && !user) {
    throw new KubeConfigError(`kubeconfig ${where}: contexts[${currentContext}].context.user names no user in users`);
  }
  const namespace = optionalString(context.entry, "namespace", `contexts[${currentContext}].context`, context.file);
  return new KubeConfig(
    parseCluster(clusterName, cluster.entry, cluster.file),
    user && userName ? parseUser(userName, user.entry, user.file) : { name: "" },
    where,
    namespace,
  );
}

function collect(
  config: Entry,
  list: string,
  inner: string,
  file: string,
  into: Map<string, { entry: Entry; file: string }>,
): void {
  const items = config[list];
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) throw new KubeConfigError(`kubeconfig ${file}: ${list} must be a list`);
  items.forEach((item: unknown, i) => {
    const named = item as { name?: unknown; [k: string]: unknown } | null;
    if (!named || typeof named.name !== "string" || named.name === "") {
      throw new KubeConfigError(`kubeconfig ${file}: ${list}[${i}].name must be a non-empty string`);
    }
    const body = named[inner] ?? {};
    if (typeof body !== "object" || Array.isArray(body)) {
      throw new KubeConfigError(`kubeconfig ${file}: ${list}[${named.name}].${inner} must be a mapping`);
    }
    if (!into.has(named.name)) into.set(named.name, { entry: body as Entry, file });
  });
}

function optionalString(entry: Entry, key: string, where: string, file: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new KubeConfigError(`kubeconfig ${file}: ${where}.${key} must be a string`);
  return value;
}

/** Relative paths in a kubeconfig are relative to the file's own directory (kubectl's rule). */
function fileField(entry: Entry, key: string, where: string, file: string): string | undefined {
  const value = optionalString(entry, key, where, file);
  return value === undefined ? undefined : path.resolve(path.dirname(file), value);
}

function parseCluster(name: string, entry: Entry, file: string): KubeCluster {
  const where = `clusters[${name}].cluster`;
  const server = optionalString(entry, "server", where, file);
  if (!server) throw new KubeConfigError(`kubeconfig ${file}: ${where}.server is required`);
  if ("proxy-url" in entry) {
    throw new KubeConfigError(`kubeconfig ${file}: ${where}.proxy-url is not supported; reach the API server directly`);
  }
  const skip = entry["insecure-skip-tls-verify"];
  if (skip !== undefined && skip !== null && typeof skip !== "boolean") {
    throw new KubeConfigError(`kubeconfig ${file}: ${where}.insecure-skip-tls-verify must be true or false`);
  }
  const caData = optionalString(entry, "certificate-authority-data", where, file);
  const caFile = fileField(entry, "certificate-authority", where, file);
  // Verification is off only when the file says so in as many words, and never together with a CA
  // (client-go refuses that combination too: one of the two settings is a mistake).
  if (skip === true && (caData || caFile)) {
    throw new KubeConfigError(
      `kubeconfig ${file}: ${where} sets both insecure-skip-tls-verify and a certificate authority; remove insecure-skip-tls-verify`,
    );
  }
  const tlsServerName = optionalString(entry, "tls-server-name", where, file);
  return {
    name,
    server,
    skipTLSVerify: skip === true,
    ...(caData ? { caData } : {}),
    ...(caFile ? { caFile } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
  };
}

function parseUser(name: string, entry: Entry, file: string): KubeUser {
  const where = `users[${name}].user`;
  for (const plugin of ["exec", "auth-provider"]) {
    if (entry[plugin] !== undefined && entry[plugin] !== null) {
      throw new KubeConfigError(
        `kubeconfig ${file}: ${where}.${plugin} (a credential plugin) is not supported; use a token, tokenFile or a client certificate`,
      );
    }
  }
  for (const unsupported of ["as", "as-groups", "as-uid", "as-user-extra"]) {
    if (entry[unsupported] !== undefined) {
      throw new KubeConfigError(`kubeconfig ${file}: ${where}.${unsupported} (impersonation) is not supported`);
    }
  }
  const user: {
    -readonly [K in keyof KubeUser]: KubeUser[K];
  } = { name };
  const set = (key: keyof KubeUser, value: string | undefined) => {
    if (value !== undefined) (user as Record<string, unknown>)[key] = value;
  };
  set("token", optionalString(entry, "token", where, file));
  set("tokenFile", fileField(entry, "tokenFile", where, file));
  set("certData", optionalString(entry, "client-certificate-data", where, file));
  set("certFile", fileField(entry, "client-certificate", where, file));
  set("keyData", optionalString(entry, "client-key-data", where, file));
  set("keyFile", fileField(entry, "client-key", where, file));
  set("username", optionalString(entry, "username", where, file));
  set("password", optionalString(entry, "password", where, file));
  const hasCert = Boolean(user.certData || user.certFile);
  const hasKey = Boolean(user.keyData || user.keyFile);
  if (hasCert !== hasKey) {
    throw new KubeConfigError(
      `kubeconfig ${file}: ${where} has a client ${hasCert ? "certificate without a key" : "key without a certificate"}; set both client-certificate(-data) and client-key(-data)`,
    );
  }
  return user;
}
