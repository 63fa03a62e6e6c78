import { parse as parseYaml } from "yaml";
import type { Cluster, Extension } from "../extension/types.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import type { KubeConnectionConfig } from "../kube/config.js";
import { isAlreadyExists } from "../kube/errors.js";
import type { KubeObject } from "../kube/objects.js";
import { Secrets } from "../kube/resources.js";
import { SHOOT_HEALTH_ACCESS_SECRET, SHOOT_HEALTH_SERVICE_ACCOUNT, SHOOT_SYSTEM_NAMESPACE } from "../trident/names.js";

/**
 * How the storage health check reaches a shoot's API server, the way Gardener hands the shoot to extensions:
 * - gardenlet keeps a `generic-token-kubeconfig-<hash>` Secret in the shoot namespace (named by the Cluster's
 *   annotation below) with the shoot API server's address and CA, and no credentials of its own;
 * - the extension writes an access Secret `shoot-access-<name>` (token-requestor labels, the ServiceAccount's name
 *   and namespace as annotations), and the shoot's gardener-resource-manager creates that ServiceAccount in the
 *   shoot and keeps a short-lived token for it in the Secret's `token` key;
 * - what the ServiceAccount may do in the shoot comes with the extension's own ManagedResources (a Role in
 *   `trident-backends`, src/trident/render.ts).
 * A shoot whose Cluster names no generic kubeconfig (no Gardener of this century, or a test world without
 * shoots) is not read at all; the ONTAP-side checks still run.
 */
export const GENERIC_TOKEN_KUBECONFIG_ANNOTATION = "generic-token-kubeconfig.secret.gardener.cloud/name";
const TOKEN_REQUESTOR_LABELS = { "resources.gardener.cloud/purpose": "token-requestor", "resources.gardener.cloud/class": "shoot" };
const SERVICE_ACCOUNT_NAME_ANNOTATION = "serviceaccount.resources.gardener.cloud/name";
const SERVICE_ACCOUNT_NAMESPACE_ANNOTATION = "serviceaccount.resources.gardener.cloud/namespace";

export type ShootConnection =
  | { kind: "connected"; kube: KubeClient }
  /** Gardener gave no way to the shoot: the shoot-side checks are left out. */
  | { kind: "not-offered" }
  /** On its way (the token not issued yet): not a failure. */
  | { kind: "pending"; reason: string }
  /** Gardener's part is broken: the shoot-side checks could not run. */
  | { kind: "failed"; reason: string };

export interface ShootAccess {
  connect(ext: Extension): Promise<ShootConnection>;
  /** Drops the client of a shoot whose Extension is gone. */
  forget(namespace: string): void;
}

export interface ShootAccessOptions {
  seed: KubeClient;
  /** The Cluster of a shoot namespace (the controller's cache). */
  clusterOf(namespace: string): Cluster | undefined;
  timeoutMs?: number;
}

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export function createShootAccess(opts: ShootAccessOptions): ShootAccess {
  // One client per shoot, replaced when the address, CA or token changes (the token requestor renews it).
  const clients = new Map<string, { key: string; kube: KubeClient }>();
  return {
    async connect(ext) {
      const namespace = ext.metadata.namespace ?? "";
      const generic = opts.clusterOf(namespace)?.metadata.annotations?.[GENERIC_TOKEN_KUBECONFIG_ANNOTATION];
      if (!generic) return { kind: "not-offered" };
      const [token, kubeconfig] = await Promise.all([accessToken(opts.seed, ext), opts.seed.get<Secret>(Secrets, namespace, generic)]);
      if (!kubeconfig) {
        return { kind: "failed", reason: `the Secret ${generic} the Cluster's annotation ${GENERIC_TOKEN_KUBECONFIG_ANNOTATION} names is missing in ${namespace}` };
      }
      if (token === undefined) {
        return { kind: "pending", reason: `waiting for gardener-resource-manager to issue the token of ${SHOOT_HEALTH_ACCESS_SECRET}` };
      }
      const target = shootTarget(kubeconfig, namespace);
      if (typeof target === "string") return { kind: "failed", reason: `the Secret ${generic}: ${target}` };
      const key = `${target.server}\n${target.caData}\n${token}`;
      let client = clients.get(namespace);
      if (client?.key !== key) {
        const config: KubeConnectionConfig = {
          getCurrentCluster: () => ({ name: namespace, server: target.server, caData: target.caData, skipTLSVerify: false }),
          getCurrentUser: () => ({ name: SHOOT_HEALTH_SERVICE_ACCOUNT, token }),
        };
        client = { key, kube: createKubeClient(config, { timeoutMs: opts.timeoutMs ?? 5_000, userAgent: "gardener-extension-ontap/health" }) };
        clients.set(namespace, client);
      }
      return { kind: "connected", kube: client.kube };
    },
    forget(namespace) {
      clients.delete(namespace);
    },
  };
}

/** The access Secret's token; the Secret is written (owned by the Extension, so it goes with it) when missing. */
async function accessToken(seed: KubeClient, ext: Extension): Promise<string | undefined> {
  const namespace = ext.metadata.namespace ?? "";
  const secret = await seed.get<Secret>(Secrets, namespace, SHOOT_HEALTH_ACCESS_SECRET);
  if (!secret) {
    await seed.create(Secrets, accessSecret(ext)).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
    return undefined;
  }
  const token = secret.data?.["token"];
  return token ? Buffer.from(token, "base64").toString("utf8") : undefined;
}

/** The token requestor's access Secret for the health check's ServiceAccount (Gardener's `NewShootAccessSecret`). */
export function accessSecret(ext: Extension): Secret {
  const uid = ext.metadata.uid;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: SHOOT_HEALTH_ACCESS_SECRET,
      namespace: ext.metadata.namespace,
      labels: { ...TOKEN_REQUESTOR_LABELS },
      annotations: {
        [SERVICE_ACCOUNT_NAME_ANNOTATION]: SHOOT_HEALTH_SERVICE_ACCOUNT,
        [SERVICE_ACCOUNT_NAMESPACE_ANNOTATION]: SHOOT_SYSTEM_NAMESPACE,
      },
      ...(uid
        ? { ownerReferences: [{ apiVersion: "extensions.gardener.cloud/v1alpha1", kind: "Extension", name: ext.metadata.name, uid }] }
        : {}),
    },
    type: "Opaque",
  } as Secret;
}

/**
 * The API server address and CA of the generic kubeconfig. Gardener writes `https://kube-apiserver`, the Service
 * in the shoot namespace; from the extension's namespace that is `kube-apiserver.<shoot namespace>.svc` (a name
 * on the API server's certificate, reached under the chart's `to-all-shoots-kube-apiserver-tcp-443` label).
 */
export function shootTarget(secret: Secret, namespace: string): { server: string; caData: string } | string {
  const raw = secret.data?.["kubeconfig"];
  if (!raw) return "it has no kubeconfig";
  let config: {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string; "certificate-authority-data"?: string } }[];
  };
  try {
    config = parseYaml(Buffer.from(raw, "base64").toString("utf8")) ?? {};
  } catch (err) {
    return `its kubeconfig is not YAML (${(err as Error).message.split("\n")[0]})`;
  }
  const context = config.contexts?.find((c) => c.name === config["current-context"]);
  const cluster = config.clusters?.find((c) => c.name === context?.context?.cluster) ?? config.clusters?.[0];
  const server = cluster?.cluster?.server;
  const caData = cluster?.cluster?.["certificate-authority-data"];
  if (!server || !caData) return "its kubeconfig has no cluster with a server and certificate-authority-data";
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return `its kubeconfig's server ${JSON.stringify(server)} is not a URL`;
  }
  if (url.protocol !== "https:") return `its kubeconfig's server ${server} is not https`;
  if (!url.hostname.includes(".") && !url.hostname.includes(":")) url.hostname = `${url.hostname}.${namespace}.svc`;
  return { server: url.origin, caData };
}
