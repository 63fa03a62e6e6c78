import type { Extension } from "../extension/types.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import type { KubeConnectionConfig } from "../kube/config.js";
import { isAlreadyExists } from "../kube/errors.js";
import type { KubeObject } from "../kube/objects.js";
import { Secrets } from "../kube/resources.js";
import { SHOOT_HEALTH_ACCESS_SECRET, SHOOT_HEALTH_SERVICE_ACCOUNT, SHOOT_SYSTEM_NAMESPACE } from "../trident/names.js";

/**
 * How the storage health check reaches a shoot's API server, the way Gardener hands shoots to the components
 * of a shoot namespace:
 * - the extension writes an access Secret `shoot-access-<name>` (token-requestor labels, the ServiceAccount's name
 *   and namespace as annotations, and `inject-ca-bundle`); the shoot's gardener-resource-manager creates that
 *   ServiceAccount in the shoot and keeps a short-lived token and the shoot's CA bundle in the Secret
 *   (`token`, `bundle.crt`);
 * - what the ServiceAccount may do in the shoot comes with the extension's own ManagedResources (a Role in
 *   `trident-backends`, src/trident/render.ts);
 * - the address is the shoot API server's Service in the shoot namespace, `kube-apiserver` (the address of
 *   gardenlet's generic-token-kubeconfig), reached from the extension's namespace as
 *   `kube-apiserver.<shoot namespace>.svc` (on the API server's certificate; the chart's pod label
 *   `to-all-shoots-kube-apiserver-tcp-443` opens the way). gardenlet's `generic-token-kubeconfig-<hash>` Secret
 *   says the same, but its name changes with every CA rotation and the chart grants Secrets only by name.
 * A test or lab gives the address itself (`serverOf`); where it gives none the shoot is not read.
 *
 * The access Secrets are read from a cache (`secrets`: the controller's informer on this one name, see
 * process-assembly.ts), not with a GET per shoot and round: at 1,000 shoots and a 30 s interval those GETs were
 * 33 requests per second at rest. A token the requestor issues or renews arrives by the watch, so the next
 * round uses it, as the GET did.
 */
const TOKEN_REQUESTOR_LABELS = { "resources.gardener.cloud/purpose": "token-requestor", "resources.gardener.cloud/class": "shoot" };
const SERVICE_ACCOUNT_NAME_ANNOTATION = "serviceaccount.resources.gardener.cloud/name";
const SERVICE_ACCOUNT_NAMESPACE_ANNOTATION = "serviceaccount.resources.gardener.cloud/namespace";
const INJECT_CA_BUNDLE_ANNOTATION = "serviceaccount.resources.gardener.cloud/inject-ca-bundle";

/** Gardener's shoot API server Service, as seen from another namespace of the seed. */
export function defaultShootApiServer(namespace: string): string {
  return `https://kube-apiserver.${namespace}.svc`;
}

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
  /**
   * The shoot API server's URL for a shoot namespace; undefined: do not read that shoot. Default
   * {@link defaultShootApiServer}; tests and labs whose shoots listen elsewhere give their own.
   */
  serverOf?: (namespace: string) => string | undefined;
  timeoutMs?: number;
  /** The access Secrets as cached (only this name, every shoot namespace); without it, or before it has listed, a GET. */
  secrets?: AccessSecretCache;
}

export interface AccessSecret extends KubeObject {
  data?: Record<string, string>;
}
type Secret = AccessSecret;

export interface AccessSecretCache {
  hasSynced(): boolean;
  get(namespace: string, name: string): AccessSecret | undefined;
}

/** The two keys of the access Secret that are read; the cache keeps nothing else of its content. */
const ACCESS_KEYS = ["token", "bundle.crt"] as const;

/**
 * What the cache keeps of an access Secret: its identity and the token and CA bundle (a few KiB per shoot;
 * labels, annotations, managedFields and any other key are dropped). Idempotent, as an informer transform must be.
 */
export function accessSecretProjection(secret: AccessSecret): AccessSecret {
  const { name, namespace, resourceVersion, uid } = secret.metadata ?? {};
  const data: Record<string, string> = {};
  for (const key of ACCESS_KEYS) {
    const value = secret.data?.[key];
    if (value !== undefined) data[key] = value;
  }
  return { metadata: { name, namespace, resourceVersion, uid }, data } as AccessSecret;
}

export function createShootAccess(opts: ShootAccessOptions): ShootAccess {
  // One client per shoot, replaced when the address, CA or token changes (the token requestor renews it).
  const clients = new Map<string, { key: string; kube: KubeClient }>();
  return {
    async connect(ext) {
      const namespace = ext.metadata.namespace ?? "";
      const server = (opts.serverOf ?? defaultShootApiServer)(namespace);
      if (!server) return { kind: "not-offered" };
      const access = await accessData(opts.seed, ext, opts.secrets);
      if (!access) {
        return { kind: "pending", reason: `waiting for the shoot's gardener-resource-manager to issue the token of ${SHOOT_HEALTH_ACCESS_SECRET}` };
      }
      const key = `${server}\n${access.caBundle}\n${access.token}`;
      let client = clients.get(namespace);
      if (client?.key !== key) {
        const caData = Buffer.from(access.caBundle, "utf8").toString("base64");
        const config: KubeConnectionConfig = {
          getCurrentCluster: () => ({ name: namespace, server, caData, skipTLSVerify: false }),
          getCurrentUser: () => ({ name: SHOOT_HEALTH_SERVICE_ACCOUNT, token: access.token }),
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

/**
 * The token and CA bundle the token requestor keeps in the access Secret; the Secret is written (owned by the
 * Extension, so it goes with it) when missing.
 */
async function accessData(seed: KubeClient, ext: Extension, cache: AccessSecretCache | undefined): Promise<{ token: string; caBundle: string } | undefined> {
  const namespace = ext.metadata.namespace ?? "";
  const secret = cache?.hasSynced()
    ? cache.get(namespace, SHOOT_HEALTH_ACCESS_SECRET)
    : await seed.get<Secret>(Secrets, namespace, SHOOT_HEALTH_ACCESS_SECRET);
  if (!secret) {
    await seed.create(Secrets, accessSecret(ext)).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
    return undefined;
  }
  const token = secret.data?.["token"];
  const caBundle = secret.data?.["bundle.crt"];
  if (!token || !caBundle) return undefined;
  return { token: Buffer.from(token, "base64").toString("utf8"), caBundle: Buffer.from(caBundle, "base64").toString("utf8") };
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
        [INJECT_CA_BUNDLE_ANNOTATION]: "true",
      },
      ...(uid
        ? { ownerReferences: [{ apiVersion: "extensions.gardener.cloud/v1alpha1", kind: "Extension", name: ext.metadata.name, uid }] }
        : {}),
    },
    type: "Opaque",
  } as Secret;
}
