import type { ComponentConfig } from "../config/component-config.js";
import type { OntapClient, OntapRequestEvent } from "../ontap/index.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { createCredentialVerifier, type VerifyCredentials } from "./verify-credentials.js";

/**
 * Where a stored password is proven, with one set of settings for whoever asks: the actuator's credentials
 * step, `doctor` and the health check all authenticate as the shoot's user at its SVM management LIF, with
 * the cluster's CA and the configured `credentialsVerification`, so their answers cannot disagree.
 */
export type VerifierFor = (cluster: string, clusterClient: OntapClient, managementLif: string) => VerifyCredentials;

export function credentialVerifiers(
  config: Partial<Pick<ComponentConfig, "clusters" | "credentialsVerification">>,
  opts: { onRequest?: (ev: OntapRequestEvent) => void; lifClients?: ManagementLifClients } = {},
): VerifierFor {
  const clusters = new Map((config.clusters ?? []).map((c) => [c.name, c]));
  const shared = {
    ...(config.credentialsVerification ? { settings: config.credentialsVerification } : {}),
    ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
    ...(opts.lifClients ? { lifClients: opts.lifClients } : {}),
  };
  return (cluster, clusterClient, managementLif) =>
    createCredentialVerifier({
      cluster: clusters.get(cluster) ?? { name: cluster, insecureSkipTlsVerify: false },
      clusterClient,
      managementLif,
      ...shared,
    });
}
