import type { Logger } from "pino";
import { type OntapClusterSettings, tlsTrustOf, VERIFY_TLS_HINT } from "./config/component-config.js";
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
        const pinChanged = code === "ERR_TLS_PINNED_CERTIFICATE_CHANGED";
        const message = pinChanged
          ? `${where}: ${detail}`
          : untrusted
            ? `${where}: its TLS certificate is not trusted${typeof code === "string" ? ` (${code})` : ""}. ${
                settings.legacyFormat
                  ? `To verify it, ${VERIFY_TLS_HINT}`
                  : "Add to this cluster's entry either `caFile: <path of the PEM of the CA that signed it>` (a mounted Secret or ConfigMap), `pinCertificate: true` (trusted at first contact) or `insecureSkipTlsVerify: true` (not verified; warned at every start)"
              }`
            : `${where}: not reachable at start-up: ${detail}; shoots on it fail and retry until it answers`;
        logger.warn({ cluster: settings.name }, message);
        return { cluster: settings.name, ok: false, message };
      }
    }),
  );
}

export interface TlsTrustSinks {
  logger: Pick<Logger, "warn" | "info">;
  /** The per-cluster gauge `ontap_tls_unverified`. */
  setUnverified(cluster: string, unverified: boolean): void;
  /** A Warning event (on the controller's pod); absent where there is no pod to put it on. */
  warn?(reason: string, message: string): void;
}

/**
 * Says once per start how each cluster's certificate is trusted: an unverified one loudly (a warning in the
 * log, the gauge at 1, a Warning event), with what to add to the cluster's entry to verify it. A Go extension
 * entry without a CA is unverified because the Go extension never verified TLS and the takeover must not break
 * what worked; this is where an operator learns that it is so.
 */
export function reportTlsTrust(clusters: readonly OntapClusterSettings[], sinks: TlsTrustSinks): void {
  clusters.forEach((settings, i) => {
    const trust = tlsTrustOf(settings);
    sinks.setUnverified(settings.name, trust.kind === "unverified");
    if (trust.kind !== "unverified") {
      sinks.logger.info({ cluster: settings.name, tls: trust.kind }, `ONTAP cluster ${settings.name}: TLS certificate ${TRUST_WORDS[trust.kind]}`);
      return;
    }
    const message =
      trust.why === "go-extension-default"
        ? `ONTAP cluster ${settings.name} (clusters[${i}], ${settings.url}): TLS certificate NOT verified, as the Go extension never verified it; to verify it, ${VERIFY_TLS_HINT}`
        : `ONTAP cluster ${settings.name} (clusters[${i}], ${settings.url}): TLS certificate NOT verified (insecureSkipTlsVerify: true)`;
    sinks.logger.warn({ cluster: settings.name, tls: "unverified", why: trust.why }, message);
    sinks.warn?.("OntapTlsUnverified", message);
  });
}

const TRUST_WORDS = { ca: "verified against the configured CA", system: "verified against the system CAs", pinned: "pinned at first contact" } as const;
