import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { connectionError, invalidResponse, isOntapError, type OntapError, type RequestContext, redact, timeoutError } from "./errors.js";
import { type ClusterGate, createClusterGate } from "./gate.js";
import { abortReason } from "./retry.js";
import { type CertificatePins, createTlsConnect } from "./tls-connect.js";

/**
 * One HTTPS connection pool per cluster (node:https's agent, its connections opened by tls-connect.ts): keep-alive, TLS verified against the configured CA (or the system
 * store), basic auth, a per-request timeout. Knows nothing about ONTAP resources; answers every HTTP status
 * as a value and throws only when there is no answer (OntapError "connection" or "timeout"). Every attempt
 * passes the cluster's gate (gate.ts): a cap on concurrent requests and a circuit breaker. The timeout starts
 * once a request holds a slot, so time spent queued behind the cap is not mistaken for a slow cluster.
 */

export interface TransportConfig {
  name: string;
  url: string;
  username: string;
  password: string;
  caFile?: string;
  /** PEM; wins over caFile. */
  ca?: string;
  /** Explicit opt-out of certificate verification; logged once as a warning. */
  insecureSkipTlsVerify?: boolean;
  /** Trust the certificate seen at first contact and refuse a changed one (tls-connect.ts); wins over the system store. */
  pinCertificate?: boolean;
  /** Per request (each attempt), ms. Default 30 s. */
  timeoutMs?: number;
  /** Largest answer body read, bytes; a larger one fails with ONTAP_RESPONSE_TOO_LARGE. Default 4 MiB. */
  maxResponseBytes?: number;
}

export interface TransportOptions {
  logger?: TransportLogger;
  /**
   * The cluster's concurrency cap and circuit breaker. Share one gate between every transport that talks to
   * the same cluster (e.g. one to an SVM's management LIF), so the cap counts them together. Default: a gate
   * of its own with the default cap and breaker.
   */
  gate?: ClusterGate;
  /**
   * This transport talks to another address of the gate's cluster (an SVM management LIF): its requests share
   * the cap but do not move the breaker, and it sends no probe (see GatedRequest.countsForBreaker).
   */
  capOnly?: boolean;
  /** Where pinned certificates are kept (pinCertificate); default: the process's store, looked up at each connection (setProcessCertificatePins). */
  pins?: CertificatePins;
}

export interface TransportLogger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface Credentials {
  username: string;
  password: string;
}

export interface TransportRequest {
  method: HttpMethod;
  /** Path and query, e.g. `/api/svm/svms?name=p1`. */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Other credentials for this one request (an SVM user); default: the cluster's admin account. */
  credentials?: Credentials;
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown;
  /** The raw text when the body was not JSON (e.g. a proxy's HTML error page), for error messages. */
  text?: string;
}

export interface Transport {
  readonly cluster: string;
  readonly origin: string;
  readonly timeoutMs: number;
  /** Strings that must never show up in an error message for requests sent with the default credentials. */
  readonly secrets: readonly string[];
  readonly gate: ClusterGate;
  send(req: TransportRequest, ctx: RequestContext): Promise<TransportResponse>;
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * The largest ONTAP answer read. Every call of the client is filtered (one SVM, its LIFs, one account) or
 * small by nature (a cluster's aggregates and nodes): the largest legitimate answer is a list of every SVM of
 * a cluster, under 1 MiB for ONTAP's 1,024 SVMs per cluster at the fields asked for. An answer read whole is
 * held about three times over (its bytes, its text, its parse), and eight are read at once per cluster: five
 * 30 MiB answers under the old 64 MiB cap ended the process with "JavaScript heap out of memory".
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** The code of the error for an answer over the cap. */
export const RESPONSE_TOO_LARGE = "ONTAP_RESPONSE_TOO_LARGE";

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}`;
}

/** The password and the header value built from it: both must be scrubbed from anything we report. */
export function secretsOf(credentials: Credentials): string[] {
  return [credentials.password, basicAuthorization(credentials).slice("Basic ".length)];
}

/** Parses and checks the cluster URL. Credentials in the URL are refused so they cannot end up in a log. */
export function parseClusterUrl(name: string, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL itself is not echoed: it may be where someone put the password.
    throw new TypeError(`ONTAP ${name}: url is not a valid URL`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new TypeError(`ONTAP ${name}: url must not contain credentials; use username and password`);
  }
  if (parsed.protocol !== "https:") {
    throw new TypeError(`ONTAP ${name}: url must use https (got ${parsed.protocol})`);
  }
  return parsed;
}

/** The CA bundle to verify against: the PEM string wins over the file; neither means the system store. */
export function loadCa(cfg: Pick<TransportConfig, "name" | "ca" | "caFile">): string | undefined {
  if (cfg.ca !== undefined && cfg.ca.trim() !== "") return cfg.ca;
  if (cfg.caFile === undefined || cfg.caFile === "") return undefined;
  try {
    return readFileSync(cfg.caFile, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code ?? "unknown";
    throw new Error(`ONTAP ${cfg.name}: cannot read caFile ${cfg.caFile} (${code})`, { cause: err });
  }
}

export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mime = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return mime === "application/json" || mime === "application/hal+json" || mime.endsWith("+json");
}

export function createTransport(cfg: TransportConfig, options: TransportOptions | TransportLogger = {}): Transport {
  const opts: TransportOptions = "warn" in options ? { logger: options as TransportLogger } : (options as TransportOptions);
  const logger = opts.logger;
  const url = parseClusterUrl(cfg.name, cfg.url);
  const ca = loadCa(cfg);
  const timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`ONTAP ${cfg.name}: timeoutMs must be positive`);
  const maxResponseBytes = cfg.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!(maxResponseBytes > 0)) throw new RangeError(`ONTAP ${cfg.name}: maxResponseBytes must be positive`);
  const insecure = cfg.insecureSkipTlsVerify === true;
  if (insecure) {
    const msg = "TLS certificate verification is disabled for this ONTAP cluster (insecureSkipTlsVerify)";
    if (logger) logger.warn({ cluster: cfg.name, url: url.origin }, msg);
    else process.emitWarning(`ONTAP ${cfg.name}: ${msg}`, { code: "ONTAP_INSECURE_TLS" });
  }
  const adminCredentials: Credentials = { username: cfg.username, password: cfg.password };
  const adminAuthorization = basicAuthorization(adminCredentials);
  const secrets = secretsOf(adminCredentials);

  const ownGate = opts.gate === undefined;
  const gate =
    opts.gate ??
    createClusterGate({ cluster: cfg.name, ...(logger ? { logger: { warn: (o, m) => logger.warn(o, m) } } : {}) });

  const connect = createTlsConnect({
    cluster: cfg.name,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || 443),
    mode: insecure ? "none" : cfg.pinCertificate ? "pin" : "verify",
    ...(ca !== undefined ? { ca } : {}),
    ...(opts.pins ? { pins: opts.pins } : {}),
    connectTimeoutMs: Math.min(timeoutMs, 10_000),
  });
  // HTTP/1.1, as ONTAP speaks. The gate holds requests beyond its cap, so the pool never needs more connections
  // than that. An idle connection is closed after 30 s, earlier when the server's `Keep-Alive` says so; the
  // AbortSignal below is the per-request deadline (the socket's idle timer only notifies, and nobody listens).
  const pool = new Agent({ keepAlive: true, maxSockets: gate.maxConcurrent, timeout: 30_000 });
  // Every connection through the trust mode of tls-connect.ts; the agent's own options are those of the URL.
  pool.createConnection = (_options, callback) => {
    connect((err, socket) => (err ? callback?.(err, undefined as never) : callback?.(null, socket as never)));
    return undefined as never;
  };

  function send(req: TransportRequest, ctx: RequestContext): Promise<TransportResponse> {
    return gate.run({ ctx, ...(req.signal ? { signal: req.signal } : {}), ...(opts.capOnly ? { countsForBreaker: false } : {}) }, () =>
      sendNow(req, ctx),
    );
  }

  // What an open breaker sends to learn that the cluster answers again: the cheapest admin read there is.
  if (!opts.capOnly) gate.setProbe(() =>
    sendNow(
      { method: "GET", path: "/api/cluster?fields=name" },
      { cluster: cfg.name, operation: "probe cluster", method: "GET", endpoint: "/api/cluster", secrets },
    ),
  );

  async function sendNow(req: TransportRequest, ctx: RequestContext): Promise<TransportResponse> {
    const timeoutSignal = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeoutSignal]) : timeoutSignal;
    const headers: Record<string, string> = {
      accept: "application/hal+json, application/json",
      authorization: req.credentials ? basicAuthorization(req.credentials) : adminAuthorization,
    };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers["content-type"] = "application/json";
    }
    const body = payload === undefined ? undefined : Buffer.from(payload, "utf8");
    if (body) headers["content-length"] = String(body.length);
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const sent = httpsRequest(url.origin, { agent: pool, method: req.method, path: req.path, headers, signal }, resolve);
        sent.on("error", reject);
        sent.end(body);
      });
      const status = res.statusCode ?? 0;
      const raw = await readCapped(res, maxResponseBytes, headerValue(res.headers["content-length"]));
      if (raw === undefined) throw responseTooLarge(ctx, status, maxResponseBytes);
      const contentType = headerValue(res.headers["content-type"]);
      if (raw.trim() === "") return { status, body: undefined };
      if (isJsonContentType(contentType)) {
        try {
          return { status, body: JSON.parse(raw) };
        } catch {
          // No cause: a SyntaxError quotes a slice of the body, and a slice can hold part of a secret.
          throw invalidResponse(ctx, `${status} body is not valid JSON`);
        }
      }
      // Redacted before it is cut: a cut through a secret would leave a part that no longer matches.
      return { status, body: undefined, text: redact(raw, ctx.secrets).slice(0, 500) };
    } catch (err) {
      if (isOntapError(err)) throw err;
      if (req.signal?.aborted) throw abortReason(req.signal);
      if (timeoutSignal.aborted) throw timeoutError(ctx, timeoutMs, err);
      throw connectionError(ctx, err);
    }
  }

  return {
    cluster: cfg.name,
    origin: url.origin,
    timeoutMs,
    secrets,
    gate,
    send,
    async close() {
      if (ownGate) gate.close();
      pool.destroy();
    },
  };
}

/**
 * The body as text, or undefined (the rest discarded, the connection closed) once it is longer than `cap`
 * bytes: a declared length over the cap is refused before a byte is read.
 */
async function readCapped(body: IncomingMessage, cap: number, declaredLength: string | undefined): Promise<string | undefined> {
  if (declaredLength !== undefined && Number(declaredLength) > cap) {
    body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > cap) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

function responseTooLarge(ctx: RequestContext, status: number, cap: number): OntapError {
  const why = `the ${status} answer is larger than ${formatBytes(cap)}, the most this client reads of one answer (maxResponseBytes); nothing of it was used`;
  return invalidResponse(ctx, why, undefined, RESPONSE_TOO_LARGE);
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
