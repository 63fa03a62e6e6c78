import type { Logger } from "pino";
import type { OntapClusterSettings } from "./config/component-config.js";
import type { OntapClient } from "./ontap/index.js";

export interface ClusterCheckResult {
  cluster: string;
  ok: boolean;
  /** One line for the log: what answered, or what failed and what to do about it. Never a credential. */
  message: string;
}

const TLS_TRUST_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_|ERR_SSL_/;

/**
 * Start-up connects to every configured cluster once (`GET /api/cluster`, as the Go extension does) and logs
 * the answer per cluster. A failure never stops the process: a cluster that is down at start-up may be back
 * before any shoot needs it, and the shoots on the other clusters must not wait for it. A certificate the
 * system CAs do not trust is the one failure a takeover is sure to meet (the Go extension never verified
 * TLS), so it says exactly what to add to that cluster's entry.
 */
export async function checkClustersAtStartup(
  clusters: readonly OntapClusterSettings[],
  clients: ReadonlyMap<string, OntapClient>,
  logger: Logger,
): Promise<ClusterCheckResult[]> {
  return Promise.all(
    clusters.map(async (settings, i): Promise<ClusterCheckResult> => {
      const client = clients.get(settings.name);
      const where = `ONTAP cluster ${settings.name} (clusters[${i}], ${settings.url})`;
      if (!client) return { cluster: settings.name, ok: false, message: `${where}: no client` };
      try {
        const info = await client.getCluster();
        const result = { cluster: settings.name, ok: true, message: `${where}: connected to ${info.name}${info.version ? ` (ONTAP ${info.version})` : ""}` };
        logger.info({ cluster: settings.name }, result.message);
        return result;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const detail = (err as Error).message;
        const untrusted = typeof code === "string" ? TLS_TRUST_CODES.test(code) : /TLS error/.test(detail);
        const message = untrusted
          ? `${where}: its TLS certificate is not trusted${typeof code === "string" ? ` (${code})` : ""}. ${
              settings.legacyFormat ? "The Go extension never verified it; this controller does. " : ""
            }Add to this cluster's entry either \`caFile: <path of the PEM of the CA that signed it>\` (a mounted Secret or ConfigMap) or \`insecureSkipTlsVerify: true\` (not verified; warned at every start)`
          : `${where}: not reachable at start-up: ${detail}; shoots on it fail and retry until it answers`;
        logger.warn({ cluster: settings.name }, message);
        return { cluster: settings.name, ok: false, message };
      }
    }),
  );
}
