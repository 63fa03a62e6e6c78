import { randomBytes } from "node:crypto";
import type { OntapClusterSettings } from "../config/component-config.js";
import { type ClusterGate, createOntapClient, type OntapClient, type OntapRequestEvent } from "../ontap/index.js";

/**
 * Connection pools to SVM management LIFs, one per cluster and LIF URL, kept between reconciles: the password
 * proof of every reconcile then reuses a warm TLS connection instead of building a pool, a TLS context and a
 * handshake each time. Each pool's requests pass the gate of the SVM's cluster (the LIF is served by the same
 * ONTAP nodes, so the per-cluster cap counts them), without moving its breaker: a LIF the seed cannot route to
 * says nothing about the cluster's management interface. Pools idle for IDLE_CLOSE_MS are closed.
 */
export interface ManagementLifClients {
  /** A client for `url` on `cluster`; every call names its own user (there is no default one). */
  clientFor(cluster: Pick<OntapClusterSettings, "name" | "caFile" | "ca" | "pinCertificate" | "insecureSkipTlsVerify">, url: string, timeoutMs: number): OntapClient;
  /** How many pools are open (for tests and metrics). */
  size(): number;
  close(): Promise<void>;
}

export const IDLE_CLOSE_MS = 5 * 60_000;

export function createManagementLifClients(opts: {
  gates: ReadonlyMap<string, ClusterGate>;
  onRequest?: (ev: OntapRequestEvent) => void;
  now?: () => number;
}): ManagementLifClients {
  const now = opts.now ?? Date.now;
  const pools = new Map<string, { client: OntapClient; lastUsed: number }>();
  // Never sent: authenticateAs names the SVM user on every request. Random, so redaction of it scrubs nothing else.
  const unusedDefault = { username: "no-default-user", password: randomBytes(18).toString("base64url") };

  function closeIdle(at: number): void {
    for (const [key, entry] of pools) {
      if (at - entry.lastUsed < IDLE_CLOSE_MS) continue;
      pools.delete(key);
      void entry.client.close().catch(() => undefined);
    }
  }

  return {
    clientFor(cluster, url, timeoutMs) {
      const at = now();
      closeIdle(at);
      const key = `${cluster.name} ${url} ${timeoutMs}`;
      const existing = pools.get(key);
      if (existing) {
        existing.lastUsed = at;
        return existing.client;
      }
      const gate = opts.gates.get(cluster.name);
      const client = createOntapClient(
        {
          name: `${cluster.name} management LIF ${url}`,
          url,
          ...unusedDefault,
          ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
          // The cluster's way to trust a certificate holds at its LIFs too (a pin is kept per address).
          ...(cluster.ca ? { ca: cluster.ca } : {}),
          ...(cluster.pinCertificate ? { pinCertificate: true } : {}),
          insecureSkipTlsVerify: cluster.insecureSkipTlsVerify,
          timeoutMs,
        },
        {
          // One quick retry: an unreachable LIF must not hold a reconcile for minutes.
          retry: { maxAttempts: 2, maxElapsedMs: timeoutMs },
          // The cluster's own client already warned once about insecureSkipTlsVerify.
          logger: { warn: () => {} },
          ...(gate ? { gate, capOnly: true } : {}),
          ...(opts.onRequest ? { onRequest: (ev: OntapRequestEvent) => opts.onRequest?.({ ...ev, cluster: cluster.name }) } : {}),
        },
      );
      pools.set(key, { client, lastUsed: at });
      return client;
    },
    size: () => pools.size,
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((e) => e.client.close().catch(() => undefined)));
    },
  };
}
