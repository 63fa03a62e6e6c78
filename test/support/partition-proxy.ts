import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { Agent, request } from "undici";

/**
 * metal-stack's partition proxy as metal-roles deploys it (control-plane/roles/gardener-partition-proxy,
 * metal-roles#559): per seed an nginx with one `server` per proxied service, `listen 443 ssl`, `server_name
 * <ingress_domain>` (e.g. `ontap.fra-equ01.proxy.metal-stack.dev`), its own certificate for that name, and
 * `proxy_pass https://<upstream>` to the ONTAP cluster's management address. A TLS-terminating reverse proxy,
 * not an HTTP CONNECT proxy: the client speaks HTTPS to the name, nginx opens its own HTTPS connection upstream
 * with its defaults (upstream certificate not verified, `Host: $proxy_host`, the request's method, path, query,
 * body and Authorization passed on). nginx itself cannot run here; this stand-in does what that configuration
 * does, on loopback, and records what arrived.
 */
export interface PartitionProxy {
  port: number;
  /** What arrived: the TLS server name the client asked for (SNI), its Host header, method and path. */
  requests(): Array<{ servername: string | false; host: string | undefined; method: string; path: string; status: number }>;
  close(): Promise<void>;
}

export async function startPartitionProxy(opts: { serverName: string; certPem: string; keyPem: string; upstream: string }): Promise<PartitionProxy> {
  const upstream = new URL(opts.upstream);
  // nginx's default `proxy_ssl_verify off`: the upstream ONTAP certificate is not checked by the proxy.
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const seen: ReturnType<PartitionProxy["requests"]> = [];
  const server: Server = createServer({ cert: opts.certPem, key: opts.keyPem }, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const entry = { servername: (req.socket as TLSSocket).servername ?? false, host: req.headers.host, method: req.method ?? "GET", path: req.url ?? "/", status: 502 };
    seen.push(entry);
    if (entry.servername !== opts.serverName) {
      // Not this server's name: nginx would answer from its default server, never from ONTAP.
      res.writeHead(421).end();
      entry.status = 421;
      return;
    }
    const headers: Record<string, string> = { host: upstream.host };
    for (const name of ["authorization", "content-type", "accept"]) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    try {
      const answer = await request(new URL(entry.path, upstream), {
        method: entry.method as "GET",
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        dispatcher: agent,
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      entry.status = answer.statusCode;
      const type = answer.headers["content-type"];
      res.writeHead(answer.statusCode, { ...(typeof type === "string" ? { "content-type": type } : {}), "content-length": body.length });
      res.end(body);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests: () => seen.map((r) => ({ ...r })),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
