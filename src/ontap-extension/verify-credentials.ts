import { readFileSync } from "node:fs";
import type { CredentialsVerificationSettings, OntapClusterSettings } from "../config/component-config.js";
import { createOntapClient, type OntapClient, type OntapRequestEvent } from "../ontap/index.js";
import type { ManagementLifClients } from "./lif-clients.js";

/**
 * Proving a stored SVM-user password where it counts: at the SVM's management LIF, the `managementLIF` Trident is
 * given, with basic auth as that user. A 401 there is the only "wrong"; no answer (not routable from the seed, a
 * timeout, a TLS or 5xx failure) is "unknown", which never justifies a rotation. For landscapes where SVM accounts
 * may log in on the cluster management interface, an unknown LIF can fall back to a check there.
 */

export type Verdict =
  | { result: "ok"; at: VerifiedAt }
  | { result: "wrong"; at: VerifiedAt }
  | { result: "unknown"; reason: string };

export type VerifiedAt = "management LIF" | "cluster management interface";

export type VerifyCredentials = (name: string, password: string) => Promise<Verdict>;

export const DEFAULT_VERIFICATION: CredentialsVerificationSettings = {
  fallbackToClusterEndpoint: false,
  timeoutSeconds: 10,
  managementLifUrls: {},
};

export interface VerifierOptions {
  /** The cluster the SVM lives on: its CA and TLS settings apply to its SVMs' LIFs too. */
  cluster: Pick<OntapClusterSettings, "name" | "caFile" | "ca" | "pinCertificate" | "insecureSkipTlsVerify">;
  /** The cluster's admin client, for the optional fallback. */
  clusterClient: OntapClient;
  managementLif: string;
  settings?: CredentialsVerificationSettings;
  readFile?: (path: string) => string;
  /** Counted like the cluster clients' requests; `cluster` is the SVM's cluster. */
  onRequest?: (ev: OntapRequestEvent) => void;
  /**
   * Pools kept between checks, under the cluster's gate (the controller's); without them each check builds a
   * client of its own and closes it (the doctor, one-off tools).
   */
  lifClients?: ManagementLifClients;
}

/** The https URL a management LIF is reached at: a test/lab override, or the address itself on 443. */
export function managementLifUrl(
  address: string,
  settings: CredentialsVerificationSettings,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): string {
  const fixed = settings.managementLifUrls[address];
  if (fixed) return fixed;
  if (settings.managementLifUrlsFile) {
    let map: Record<string, unknown> = {};
    try {
      map = JSON.parse(readFile(settings.managementLifUrlsFile)) as Record<string, unknown>;
    } catch {
      // An unreadable map is no override; the address itself is tried, and fails as unreachable if it is not.
    }
    const fromFile = map[address];
    if (typeof fromFile === "string" && fromFile.startsWith("https://")) return fromFile;
  }
  return address.includes(":") ? `https://[${address}]` : `https://${address}`;
}

export function createCredentialVerifier(opts: VerifierOptions): VerifyCredentials {
  const settings = opts.settings ?? DEFAULT_VERIFICATION;
  return async (name, password) => {
    const atLif = await verifyAtLif(opts, settings, name, password);
    if (atLif.result !== "unknown" || !settings.fallbackToClusterEndpoint) return atLif;
    const answer = await opts.clusterClient.authenticateAs({ name, password });
    if (answer.result === "ok") return { result: "ok", at: "cluster management interface" };
    if (answer.result === "wrong-password") return { result: "wrong", at: "cluster management interface" };
    return { result: "unknown", reason: `${atLif.reason}; the fallback on the cluster management interface failed too: ${answer.error.message}` };
  };
}

async function verifyAtLif(
  opts: VerifierOptions,
  settings: CredentialsVerificationSettings,
  name: string,
  password: string,
): Promise<Verdict> {
  const url = managementLifUrl(opts.managementLif, settings, opts.readFile);
  const where = `management LIF ${opts.managementLif}${url.includes(opts.managementLif) ? "" : ` (at ${url})`}`;
  let client: OntapClient;
  const timeoutMs = settings.timeoutSeconds * 1000;
  try {
    client = opts.lifClients
      ? opts.lifClients.clientFor(opts.cluster, url, timeoutMs)
      : createOntapClient(
          {
            name: `${opts.cluster.name} ${where}`,
            url,
            username: name,
            password,
            ...(opts.cluster.caFile ? { caFile: opts.cluster.caFile } : {}),
            // The cluster's way to trust a certificate holds at its LIFs too (a pin is kept per address).
            ...(opts.cluster.ca ? { ca: opts.cluster.ca } : {}),
            ...(opts.cluster.pinCertificate ? { pinCertificate: true } : {}),
            insecureSkipTlsVerify: opts.cluster.insecureSkipTlsVerify,
            timeoutMs,
          },
          {
            // One quick retry: an unreachable LIF must not hold a reconcile for minutes.
            retry: { maxAttempts: 2, maxElapsedMs: timeoutMs },
            // The cluster's own client already warned once about insecureSkipTlsVerify.
            logger: { warn: () => {} },
            ...(opts.onRequest ? { onRequest: (ev: OntapRequestEvent) => opts.onRequest?.({ ...ev, cluster: opts.cluster.name }) } : {}),
          },
        );
  } catch (err) {
    return { result: "unknown", reason: `cannot reach the ${where}: ${(err as Error).message}` };
  }
  try {
    const answer = await client.authenticateAs({ name, password });
    if (answer.result === "ok") return { result: "ok", at: "management LIF" };
    if (answer.result === "wrong-password") return { result: "wrong", at: "management LIF" };
    return { result: "unknown", reason: `no answer from the ${where}: ${answer.error.message}` };
  } finally {
    if (!opts.lifClients) await client.close();
  }
}
