import { readFileSync, statSync } from "node:fs";
import type { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createSecureContext } from "node:tls";
import { type KubeCluster, KubeConfigError, type KubeConnectionConfig, type KubeUser } from "./kubeconfig.js";
import { nodeHttp } from "./node-http.js";

/** How requests to one API server are authenticated: headers per request, one TLS connection pool. */
export interface KubeCredentials {
  /** The API server URL without a trailing slash. */
  readonly server: string;
  /** Authorization headers for the next request (a token file is re-read when it has changed). */
  headers(): Record<string, string>;
  /** The connection pool: keep-alive, and for https the TLS settings (CA, client certificate, server name). */
  readonly agent: HttpAgent;
}

/**
 * A token file is looked at again at most this often: client-go re-reads the in-cluster token every
 * minute, and the kubelet rewrites it well before the old one expires (at 80% of its lifetime).
 */
const TOKEN_FILE_RECHECK_MS = 60_000;

/**
 * Credentials of the current context: bearer token (inline or a file), client certificate, or basic
 * auth, and TLS verified against the configured CA (the system's CAs without one). Verification is off
 * only when the kubeconfig sets insecure-skip-tls-verify, and plain http is allowed only then too.
 */
export function kubeCredentials(config: KubeConnectionConfig, now: () => number = Date.now): KubeCredentials {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new KubeConfigError("kubeconfig has no current cluster");
  assertServerWithoutCredentials(cluster.name, cluster.server);
  const server = cluster.server.replace(/\/+$/, "");
  if (server.startsWith("http:") && !cluster.skipTLSVerify) {
    throw new KubeConfigError(
      `kubeconfig cluster ${cluster.name}: the server URL is plain http; use https (or set insecure-skip-tls-verify: true for a test server)`,
    );
  }
  const user: KubeUser = config.getCurrentUser() ?? { name: "" };
  if (user.exec) {
    throw new KubeConfigError(`kubeconfig user ${user.name}: exec (a credential plugin) is not supported; use a token, tokenFile or a client certificate`);
  }
  const tokenFile = user.tokenFile ?? clientNodeTokenFile(user);
  if (user.authProvider && !tokenFile) {
    throw new KubeConfigError(`kubeconfig user ${user.name}: auth-provider (a credential plugin) is not supported; use a token, tokenFile or a client certificate`);
  }
  return {
    server,
    headers: authorizationHeaders(user, tokenFile, now),
    agent: server.startsWith("https:") ? tlsAgent(cluster, user) : new nodeHttp.Agent(KEEP_ALIVE),
  };
}

/** client-node expresses the in-cluster token as an auth-provider named tokenFile; tests may hand one in. */
function clientNodeTokenFile(user: KubeUser): string | undefined {
  const provider = user.authProvider as { name?: unknown; config?: { tokenFile?: unknown } } | undefined;
  return provider?.name === "tokenFile" && typeof provider.config?.tokenFile === "string" ? provider.config.tokenFile : undefined;
}

function authorizationHeaders(user: KubeUser, tokenFile: string | undefined, now: () => number): () => Record<string, string> {
  if (user.token) {
    const headers = { authorization: `Bearer ${user.token}` };
    return () => headers;
  }
  if (tokenFile) return tokenFileHeaders(user.name, tokenFile, now);
  if (user.username !== undefined && user.password !== undefined) {
    const headers = { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}` };
    return () => headers;
  }
  // Client certificate (in the agent) or anonymous.
  return () => ({});
}

/**
 * A token file read at start (a missing or empty one is an error then) and again when it has changed,
 * looked at no more than once a minute; a failed re-read keeps the last good token, as client-go does.
 */
function tokenFileHeaders(userName: string, file: string, now: () => number): () => Record<string, string> {
  const read = (): { token: string; mtimeMs: number } => {
    const mtimeMs = statSync(file).mtimeMs;
    const token = readFileSync(file, "utf8").trim();
    if (!token) throw new KubeConfigError(`kubeconfig user ${userName}: token file ${file} is empty`);
    return { token, mtimeMs };
  };
  let current: { token: string; mtimeMs: number };
  try {
    current = read();
  } catch (err) {
    if (err instanceof KubeConfigError) throw err;
    throw new KubeConfigError(`kubeconfig user ${userName}: token file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let headers = { authorization: `Bearer ${current.token}` };
  let checkedAt = now();
  return () => {
    if (now() - checkedAt >= TOKEN_FILE_RECHECK_MS) {
      checkedAt = now();
      try {
        if (statSync(file).mtimeMs !== current.mtimeMs) {
          current = read();
          headers = { authorization: `Bearer ${current.token}` };
        }
      } catch {
        // Mid-rotation or briefly unreadable: the last token is still valid for a while.
      }
    }
    return headers;
  };
}

function pem(what: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new KubeConfigError(`kubeconfig: ${what} file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/**
 * Connections are kept for the next request. TCP keep-alive probes start after 30 s, under the 60 s idle timeout
 * of common load balancers (client-go uses 30 s too); a connection idle for 4 s is closed by us (undici's
 * default, which this client used before), and earlier when the server announces a shorter `Keep-Alive`.
 * The idle timer is the socket's: on a request in flight (a quiet watch) it fires with nobody listening.
 */
const KEEP_ALIVE = { keepAlive: true, keepAliveMsecs: 30_000, timeout: 4_000 } as const;

function tlsAgent(cluster: KubeCluster, user: KubeUser): HttpsAgent {
  const ca = pem(`cluster ${cluster.name} certificate-authority`, cluster.caFile, cluster.caData);
  const cert = pem(`user ${user.name} client-certificate`, user.certFile, user.certData);
  const key = pem(`user ${user.name} client-key`, user.keyFile, user.keyData);
  const tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  return new HttpsAgent({
    ...KEEP_ALIVE,
    // Read once: without a shared context every new connection parses the CA, the certificate and the key again.
    secureContext: secureContextOf(cluster, user, tls),
    rejectUnauthorized: !cluster.skipTLSVerify,
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  });
}

function secureContextOf(cluster: KubeCluster, user: KubeUser, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }) {
  try {
    return createSecureContext(tls);
  } catch (err) {
    const what = tls.cert || tls.key ? `user ${user.name} client-certificate/client-key or cluster ${cluster.name} certificate-authority` : `cluster ${cluster.name} certificate-authority`;
    throw new KubeConfigError(`kubeconfig: ${what} cannot be used (${(err as { code?: string }).code ?? "invalid PEM"})`);
  }
}

/**
 * A server URL with `user:password@` would put the password into every error that names the URL (fetch
 * refuses such URLs, quoting them). Refused up front, without echoing the URL.
 */
export function assertServerWithoutCredentials(clusterName: string, server: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(`kubeconfig cluster ${clusterName}: server is not a valid URL`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new KubeConfigError(
      `kubeconfig cluster ${clusterName}: the server URL contains credentials; remove them from the URL and use a token, a client certificate or the user's username/password fields`,
    );
  }
}
