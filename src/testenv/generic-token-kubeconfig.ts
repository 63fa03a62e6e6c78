import { readFile } from "node:fs/promises";
import { stringify as toYaml } from "yaml";
import type { KubeClient } from "../kube/client.js";
import { isAlreadyExists } from "../kube/errors.js";
import { Namespaces, Secrets } from "../kube/resources.js";
import { shootNamespaceObject } from "./gardener-objects.js";
import type { ShootEnv } from "./shoot.js";

/**
 * gardenlet's part of how an extension reaches a shoot: the `generic-token-kubeconfig-<hash>` Secret in the shoot
 * namespace (the shoot API server's address and CA, a token file path and no token) and the Cluster annotation that
 * names it. Gardener writes `https://kube-apiserver` (its Service in the shoot namespace); the test shoot's API
 * server listens on loopback, so its loopback address is written instead.
 */
export const GENERIC_TOKEN_KUBECONFIG_ANNOTATION = "generic-token-kubeconfig.secret.gardener.cloud/name";
/** Gardener's name carries a hash of the content; one fixed name is enough here. */
export const GENERIC_TOKEN_KUBECONFIG_SECRET = "generic-token-kubeconfig-a1b2c3d4";

/** The Cluster annotation gardenlet sets (merge into `clusterObject`'s metadata). */
export function genericTokenKubeconfigAnnotation(): Record<string, string> {
  return { [GENERIC_TOKEN_KUBECONFIG_ANNOTATION]: GENERIC_TOKEN_KUBECONFIG_SECRET };
}

/** Writes the Secret into the seed's shoot namespace (created when it does not exist yet, as gardenlet would have). */
export async function writeGenericTokenKubeconfig(seed: KubeClient, namespace: string, shoot: Pick<ShootEnv, "server" | "caFile">): Promise<void> {
  const ca = await readFile(shoot.caFile);
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": namespace,
    clusters: [{ name: namespace, cluster: { server: shoot.server, "certificate-authority-data": ca.toString("base64") } }],
    contexts: [{ name: namespace, context: { cluster: namespace, user: "extension" } }],
    users: [{ name: "extension", user: { tokenFile: "/var/run/secrets/gardener.cloud/shoot/generic-kubeconfig/token" } }],
  };
  const ignoreExisting = (err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  };
  await seed.create(Namespaces, shootNamespaceObject(namespace)).catch(ignoreExisting);
  await seed
    .create(Secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: GENERIC_TOKEN_KUBECONFIG_SECRET, namespace },
      type: "Opaque",
      data: { kubeconfig: Buffer.from(toYaml(kubeconfig)).toString("base64") },
    })
    .catch(ignoreExisting);
}
