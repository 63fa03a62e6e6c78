import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { type FaultRule, FaultRuleSet } from "../faults/rules.js";
import { renderKubeconfig } from "./apiserver.js";
import { generateServingCert } from "./ca.js";

/**
 * A reverse proxy between a Kubernetes client and kube-apiserver that injects faults at the wire, with the
 * rule language of src/faults/rules.ts. It serves HTTPS on 127.0.0.1 with a certificate of its own CA
 * (clients verify TLS exactly as against kube-apiserver; @kubernetes/client-node refuses plain http
 * without skipTLSVerify) and forwards over HTTPS to the real server, verifying it with the target's CA.
 *
 * A request without an Authorization header is sent with the admin token; one with its own header keeps it,
 * so a controller can run under a restricted identity through the proxy.
 *
 * Call counts are keyed `VERB template`, VERB being the HTTP method (`WATCH` for `GET ...?watch=true`) and
 * the template the path with namespace and object names replaced: `POST /api/v1/namespaces/{ns}/secrets`.
 */
export interface FaultProxy {
  /** https://127.0.0.1:PORT: point a kubeconfig here instead of at kube-apiserver. */
  url: string;
  /** PEM file of the CA that signed the proxy's serving certificate. */
  caFile: string;
  /** http://127.0.0.1:PORT of the admin API (faults, calls, reset). */
  adminUrl: string;
  /**
   * Writes DIR/kubeconfig-fault-proxy pointing at the proxy (trusting its CA) and returns its path. Without
   * a token the proxy adds the admin token; with one, requests run as that identity.
   */
  kubeconfigFor(dir: string, opts?: { token?: string }): string;
  rules: FaultRuleSet;
  calls(): Record<string, number>;
  /** Every request in order, with its query and the status answered (0 while a watch is still open). */
  requests(): ProxiedRequest[];
  stop(): Promise<void>;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  status: number;
}

export interface FaultProxyOptions {
  /** https://host:port of kube-apiserver. */
  target: string;
  /** PEM file of the CA that signed kube-apiserver's certificate. */
  caFile?: string;
  /** Bearer token added to requests that carry no Authorization header. */
  token?: string;
  /** Seed for probabilistic rules. */
  seed?: number;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** The `reason` kube-apiserver puts in a Status for each code (k8s.io/apimachinery StatusReason). */
const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export function reasonFor(status: number): string {
  return REASONS[status] ?? (status >= 500 ? "InternalError" : "BadRequest");
}

/** A Kubernetes `Status` failure body; `reason` overrides the one derived from the code (e.g. AlreadyExists). */
export function statusBody(status: number, message: string, reason?: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: reason ?? reasonFor(status),
    code: status,
  };
  if (status === 429) body.details = { retryAfterSeconds: 1 };
  return body;
}

/**
 * `/api/v1/namespaces/ns1/secrets/x` -> `/api/v1/namespaces/{ns}/secrets/{name}`. Paths that are not
 * resource paths (/readyz, /openapi/v3, discovery) stay as they are.
 */
export function pathTemplate(pathname: string): string {
  const segments = pathname.split("/").filter((s) => s.length > 0);
  let prefixLength: number;
  if (segments[0] === "api" && segments.length >= 2) prefixLength = 2;
  else if (segments[0] === "apis" && segments.length >= 3) prefixLength = 3;
  else return pathname;
  const out = segments.slice(0, prefixLength);
  let rest = segments.slice(prefixLength);
  if (rest[0] === "namespaces" && rest.length >= 3) {
    out.push("namespaces", "{ns}");
    rest = rest.slice(2);
  }
  if (rest.length >= 1) out.push(rest[0]!);
  if (rest.length >= 2) out.push("{name}");
  out.push(...rest.slice(2));
  return `/${out.join("/")}`;
}

export function isWatch(url: URL): boolean {
  const watch = url.searchParams.get("watch");
  return watch === "true" || watch === "1";
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const pkiDir = await mkdtemp(path.join(os.tmpdir(), "fault-proxy-pki-"));
  const serving = await generateServingCert(pkiDir, "fault-proxy");
  const ca = opts.caFile ? readFileSync(opts.caFile, "utf8") : undefined;
  // Keep-alive to kube-apiserver; watches hold a socket each, so no small cap on sockets.
  const agent = new https.Agent({ keepAlive: true, ca });
  const rules = new FaultRuleSet(opts.seed ?? 1);
  let counts = new Map<string, number>();
  let requestLog: ProxiedRequest[] = [];

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    onResponse?: (upstream: IncomingMessage) => void,
  ): void => {
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(key)) headers[key] = value;
    }
    if (!headers.authorization && opts.token) headers.authorization = `Bearer ${opts.token}`;
    const upstreamReq = https.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    upstreamReq.on("response", (upstream) => {
      if (onResponse) return onResponse(upstream);
      res.writeHead(upstream.statusCode ?? 502, filterHeaders(upstream.headers));
      // Watches: send headers now and every chunk as it comes; pipe does not buffer.
      res.flushHeaders();
      upstream.pipe(res);
      upstream.on("error", () => res.destroy());
    });
    upstreamReq.on("error", (error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendStatus(res, 502, `fault proxy: kube-apiserver unreachable: ${error.message}`, "ServiceUnavailable");
    });
    // The client went away (e.g. a watch closed): drop the upstream request too.
    res.on("close", () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  };

  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://proxy");
    const method = (req.method ?? "GET").toUpperCase();
    const verb = method === "GET" && isWatch(url) ? "WATCH" : method;
    const key = `${verb} ${pathTemplate(url.pathname)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const entry: ProxiedRequest = { method, url: req.url ?? "/", status: 0 };
    requestLog.push(entry);
    res.on("close", () => {
      entry.status = res.headersSent ? res.statusCode : 0;
    });

    const rule = rules.decide({ method, path: url.pathname });
    if (!rule) return forward(req, res);
    const action = rule.action;
    switch (action.type) {
      case "error":
        req.resume();
        return sendStatus(
          res,
          action.status,
          action.message ?? `fault proxy: injected error (rule ${rule.id})`,
          action.code,
        );
      case "delay": {
        const timer = setTimeout(() => forward(req, res), action.ms);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "reset":
        req.socket.destroy();
        return;
      case "hang":
        // Never answer; the socket closes when the client gives up or the proxy stops.
        req.resume();
        return;
      case "applyThenFail": {
        const status = action.status ?? 500;
        return forward(req, res, (upstream) => {
          // Let kube-apiserver finish (the change is applied), then lose its answer.
          upstream.resume();
          upstream.on("end", () =>
            sendStatus(res, status, `fault proxy: request applied, response discarded (rule ${rule.id})`),
          );
        });
      }
    }
  });
  server.keepAliveTimeout = 30_000;
  // Watches run for minutes; the default request timeout would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  const admin = http.createServer((req, res) => {
    handleAdmin(req, res, rules, () => counts, () => {
      counts = new Map();
      requestLog = [];
    }).catch((error: unknown) => {
      sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  const [port, adminPort] = await Promise.all([listen(server), listen(admin)]);
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    caFile: serving.caCert,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    rules,
    calls: () => Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b))),
    requests: () => [...requestLog],
    kubeconfigFor(dir: string, kubeconfigOpts: { token?: string } = {}): string {
      const file = path.join(dir, "kubeconfig-fault-proxy");
      // Synchronous: callers load it on the next line. Owner-only: it may hold a token.
      const kubeconfig = renderKubeconfig({
        server: url,
        token: kubeconfigOpts.token,
        caPem: serving.caCertPem,
        name: "fault-proxy",
      });
      writeFileSync(file, kubeconfig, { mode: 0o600 });
      return file;
    },
    async stop() {
      await Promise.all([closeServer(server), closeServer(admin)]);
      agent.destroy();
      await rm(pkiDir, { recursive: true, force: true });
    },
  };
}

const Id = z.string().regex(/^\d+$/);

async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  rules: FaultRuleSet,
  counts: () => Map<string, number>,
  resetCounts: () => void,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://admin");
  const method = req.method ?? "GET";
  const route = url.pathname.replace(/\/+$/, "");
  if (route === "/faults" && method === "POST") {
    const body = await readJson(req);
    try {
      const rule: FaultRule = rules.add(body);
      return sendJson(res, 201, rule);
    } catch (error) {
      if (error instanceof z.ZodError) {
        return sendJson(res, 400, { error: "invalid fault rule", issues: error.issues });
      }
      throw error;
    }
  }
  if (route === "/faults" && method === "GET") return sendJson(res, 200, rules.list());
  if (route === "/faults" && method === "DELETE") {
    rules.clear();
    return sendJson(res, 200, { removed: "all" });
  }
  const one = /^\/faults\/([^/]+)$/.exec(route);
  if (one && method === "DELETE") {
    const id = Id.safeParse(one[1]);
    if (id.success && rules.remove(id.data)) return sendJson(res, 200, { removed: id.data });
    return sendJson(res, 404, { error: `no fault rule ${one[1]}` });
  }
  if (route === "/calls" && method === "GET") {
    return sendJson(res, 200, Object.fromEntries([...counts().entries()].sort(([a], [b]) => a.localeCompare(b))));
  }
  if (route === "/reset" && method === "POST") {
    rules.clear();
    resetCounts();
    return sendJson(res, 200, { reset: true });
  }
  return sendJson(res, 404, { error: `no route ${method} ${url.pathname}` });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

function filterHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
  }
  return out;
}

function sendStatus(res: ServerResponse, status: number, message: string, reason?: string): void {
  const headers: Record<string, string> = {};
  if (status === 429) headers["retry-after"] = "1";
  sendJson(res, status, statusBody(status, message, reason), headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Watches and hung requests would keep close() waiting forever.
    server.closeAllConnections();
  });
}
