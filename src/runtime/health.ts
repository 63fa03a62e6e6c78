import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../log.js";

// CommonJS on purpose: an ESM import of node:http reads its lazy WebSocket getters, which load Node's bundled
// undici and web streams (about 5 MiB of resident memory); see kube/node-http.ts.
const { createServer } = createRequire(import.meta.url)("node:http") as typeof import("node:http");

export interface Check {
  ok: boolean;
  /** Why not, for a human reading the probe's body. */
  reasons?: string[];
}

export interface HealthServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** Liveness; default always ok while the event loop answers. */
  healthz?: () => Check;
  /** Readiness; omit to serve no /readyz. */
  readyz?: () => Check;
  /** Serve `/metrics` from this registry. */
  registry?: Registry;
  logger?: Logger;
}

export interface HealthServer {
  /** Listens and resolves the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
  port(): number | undefined;
}

/** A tiny HTTP server for probes and Prometheus; no framework, it answers three GETs. */
export function createHealthServer(opts: HealthServerOptions): HealthServer {
  let server: Server | undefined;
  let boundPort: number | undefined;

  function respondCheck(res: ServerResponse, check: Check): void {
    res.writeHead(check.ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
    res.end(check.ok ? "ok\n" : `not ok: ${(check.reasons ?? []).join("; ")}\n`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      respondCheck(res, opts.healthz?.() ?? { ok: true });
      return;
    }
    if (path === "/readyz" && opts.readyz) {
      respondCheck(res, opts.readyz());
      return;
    }
    if (path === "/metrics" && opts.registry) {
      const body = await opts.registry.metrics();
      res.writeHead(200, { "content-type": opts.registry.contentType });
      res.end(body);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
  }

  return {
    start() {
      if (server) return Promise.resolve(boundPort as number);
      const s = createServer((req, res) => {
        handle(req, res).catch((err) => {
          opts.logger?.error({ err }, "health endpoint failed");
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      });
      // Probes are short; do not let idle keep-alive sockets delay a graceful stop.
      s.keepAliveTimeout = 1_000;
      server = s;
      return new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(opts.port, opts.host ?? "0.0.0.0", () => {
          s.off("error", reject);
          boundPort = (s.address() as AddressInfo).port;
          resolve(boundPort);
        });
      });
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    port: () => boundPort,
  };
}
