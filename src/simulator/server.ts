import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { adminRoutes } from "./admin.js";
import { type AuthScope, authenticate } from "./auth.js";
import type { SimCluster } from "./cluster.js";
import { Codes, forbidden, SimError } from "./errors.js";
import { restRoutes } from "./handlers/index.js";
import { enforceRole } from "./rest-roles.js";
import type { LifEndpoints, LifTarget } from "./lif-endpoints.js";
import { bodyShape, parseJsonBody, readBody, type SimResponse } from "./http.js";
import { type RouteMatch, Router } from "./routes.js";

const ADMIN_PREFIX = "/__sim";
const rest = new Router(restRoutes);
const admin = new Router(adminRoutes);

/**
 * One HTTPS listener per simulated cluster. The request pipeline for REST paths is: count the call,
 * added latency, fault rules, authentication, routing, handler. `/__sim/` paths skip counting,
 * latency and faults.
 */
export class ClusterServer {
  private readonly server: Server;

  /** The SVM management LIF listeners of the whole simulator; kept in step with every change a request makes. */
  lifs: LifEndpoints | undefined;

  constructor(
    private readonly sim: SimCluster,
    tls: { key: Buffer; cert: Buffer },
  ) {
    this.server = createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res, undefined).catch((error) => send(res, errorResponse(error)));
    });
    // A client that breaks off a handshake must not bring the simulator down.
    this.server.on("tlsClientError", () => {});
  }

  listen(port = 0, host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    this.sim.shutdown();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Hung requests and idle keep-alive connections would otherwise hold close() open forever.
      this.server.closeAllConnections();
    });
  }

  /** A request that reached one SVM's management LIF: the same pipeline, authenticated for that SVM only. */
  handleLif(req: IncomingMessage, res: ServerResponse, target: LifTarget, address: string): void {
    this.handle(req, res, { svmUuid: target.svmUuid, address }).catch((error) => send(res, errorResponse(error)));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, lif: { svmUuid: string; address: string } | undefined): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "https://simulator.invalid");
    const raw = await readBody(req);
    const scope: AuthScope = lif
      ? { endpoint: "lif", svmUuid: lif.svmUuid }
      : { endpoint: "cluster", svmAccounts: this.sim.options.svmLoginOnCluster };
    if (!lif && (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`))) {
      const response = await this.dispatch(req, admin.match(method, url.pathname), url, raw, true, scope);
      await this.lifs?.sync();
      send(res, response);
      return;
    }
    const match = rest.match(method, url.pathname);
    this.sim.countCall(`${method} ${match.kind === "none" ? url.pathname : templateOf(match)}`, {
      query: url.search.replace(/^\?/, ""),
      username: basicUsername(req.headers.authorization),
      bodyFields: bodyShape(raw),
      ...(lif ? { endpoint: `lif ${lif.address}` } : {}),
    });
    // In flight from arrival until the answer is handed to the socket (res.end) or the client goes (a reset,
    // a hang). Not until "finish": under load that fires after the client may already have sent its next
    // request, which would count one request twice.
    const ended = this.sim.requestStarted();
    res.once("close", ended);
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      ended();
      return end(...args);
    }) as ServerResponse["end"];
    if (this.sim.options.latencyMs > 0) await sleep(this.sim.options.latencyMs);
    const fault = this.sim.faults.decideRest(method, url.pathname);
    switch (fault?.type) {
      case "error":
        send(res, {
          status: fault.status,
          body: new SimError(fault.status, fault.code ?? String(fault.status), fault.message ?? "Simulated fault.").toBody(),
        });
        return;
      case "delay":
        await sleep(fault.ms);
        break;
      case "reset":
        resetSocket(req);
        return;
      case "hang":
        this.sim.hanging.add(res);
        res.once("close", () => this.sim.hanging.delete(res));
        return;
      case "applyThenFail": {
        await this.dispatch(req, match, url, raw, false, scope);
        await this.lifs?.sync();
        const status = fault.status ?? 500;
        const lost = new SimError(
          status,
          Codes.mightBeInconsistent,
          "The operation might have left the configuration in an inconsistent state. Check the configuration.",
        );
        send(res, { status, body: lost.toBody() });
        return;
      }
    }
    const response = await this.dispatch(req, match, url, raw, false, scope);
    // A management LIF created by this request listens before the answer leaves, so a client that verifies
    // credentials right after creating it finds it.
    await this.lifs?.sync();
    if (this.sim.recording) {
      this.sim.recordExchange({
        method,
        path: url.pathname,
        query: url.search.replace(/^\?/, ""),
        template: match.kind === "none" ? url.pathname : templateOf(match),
        endpoint: lif ? `lif ${lif.address}` : "cluster",
        ...(raw.length > 0 ? { body: safeJson(raw) } : {}),
        status: response.status,
        ...(response.body !== undefined ? { response: response.body } : {}),
      });
    }
    send(res, response);
  }

  /** Authentication, routing and the handler; every failure becomes an ONTAP error response. */
  private async dispatch(
    req: IncomingMessage,
    match: RouteMatch,
    url: URL,
    raw: Buffer,
    adminOnly: boolean,
    scope: AuthScope,
  ): Promise<SimResponse> {
    try {
      const identity = authenticate(this.sim.state, req.headers.authorization, scope);
      if (adminOnly && identity.kind !== "cluster") throw forbidden();
      if (match.kind === "none") throw new SimError(404, Codes.apiNotFound, "API not found");
      if (!adminOnly) enforceRole(this.sim.state, identity, (req.method ?? "GET").toUpperCase(), templateOf(match));
      if (match.kind === "wrongMethod") {
        throw new SimError(405, Codes.apiNotFound, `The method ${req.method} is not allowed on ${match.template}.`);
      }
      return await match.route.handler({
        sim: this.sim,
        method: match.route.method,
        path: url.pathname,
        params: match.params,
        query: url.searchParams,
        body: parseJsonBody(raw),
        identity,
      });
    } catch (error) {
      return errorResponse(error);
    }
  }
}

function safeJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return raw.toString("utf8").slice(0, 200);
  }
}

function templateOf(match: Exclude<RouteMatch, { kind: "none" }>): string {
  return match.kind === "found" ? match.route.template : match.template;
}

function basicUsername(header: string | undefined): string {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match) return "";
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? "" : decoded.slice(0, colon);
}

function resetSocket(req: IncomingMessage): void {
  try {
    req.socket.resetAndDestroy();
  } catch {
    req.socket.destroy();
  }
}

export function errorResponse(error: unknown): SimResponse {
  if (error instanceof SimError) {
    const headers: Record<string, string> = error.status === 401 ? { "WWW-Authenticate": 'Basic realm="ONTAP"' } : {};
    return { status: error.status, body: error.toBody(), headers };
  }
  const internal = new SimError(500, Codes.svmInternalError, `Internal error in the simulator: ${(error as Error)?.message ?? error}`);
  return { status: 500, body: internal.toBody() };
}

function send(res: ServerResponse, response: SimResponse): void {
  if (res.headersSent || res.destroyed) return;
  const payload = response.body === undefined ? "" : JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...response.headers,
    "Content-Type": "application/hal+json",
    "Content-Length": Buffer.byteLength(payload),
  });
  res.end(payload);
}
