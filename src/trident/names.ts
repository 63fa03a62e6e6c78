/**
 * Every name the Trident deployment puts into the seed or the shoot, in one place. The values match the Go
 * extension (metal-stack/gardener-extension-ontap) so this implementation can take over a shoot it left
 * behind without orphaning or duplicating objects.
 */

/** ManagedResources in the shoot namespace on the seed (their order: `SHOOT_COMPONENTS` in ontap-extension/components.ts). */
export const MR_TRIDENT_CRDS = "trident-crds";
export const MR_TRIDENT_BACKENDS = "trident-backends";
export const MR_TRIDENT_SVM_SECRET = "trident-svm-secret";
export const MR_TRIDENT_CWNP = "trident-cwnp";
export const MR_TRIDENT_INIT = "trident-init";
/** The shoot webhook's ManagedResource (Gardener's convention `extension-<name>-shoot`); deleted last. */
export const MR_SHOOT_WEBHOOK = "extension-ontap-shoot";

/** The same names by role, for callers that address one ManagedResource. */
export const MANAGED_RESOURCE_NAMES = {
  crds: MR_TRIDENT_CRDS,
  backends: MR_TRIDENT_BACKENDS,
  svmSecret: MR_TRIDENT_SVM_SECRET,
  cwnp: MR_TRIDENT_CWNP,
  init: MR_TRIDENT_INIT,
  shootWebhook: MR_SHOOT_WEBHOOK,
} as const;
export const SHOOT_WEBHOOK_MR_NAME = MR_SHOOT_WEBHOOK;

/** Value of the `origin` label on every ManagedResource this extension writes (never `gardener`). */
export const MANAGED_RESOURCE_ORIGIN = "gardener-extension-ontap";

/** Gardener's helper names a ManagedResource's Secret like this; kept so the Go extension's Secrets are reused. */
export function managedResourceSecretName(managedResourceName: string): string {
  return `managedresource-${managedResourceName}`;
}

/** Annotation on the ManagedResource and its Secret: sha256 of everything rendered into them. */
export const CONTENT_HASH_ANNOTATION = "ontap.extensions.gardener.cloud/content-hash";

/** Shoot-side namespaces. */
export const SHOOT_SYSTEM_NAMESPACE = "kube-system";
export const FIREWALL_NAMESPACE = "firewall";

/**
 * The Secret in the shoot's kube-system that Trident's backend reads the SVM user's credentials from:
 * `<svm>-<project>--<shoot>-credentials`, the Go extension's name since Oct 2025 (the TridentBackendConfig
 * points at it, so a takeover that renamed it would make Trident re-read its backend for nothing).
 */
export function shootCredentialsSecretName(svmName: string, gardenerProject: string, shootName: string): string {
  return `${svmName}-${gardenerProject}--${shootName}-credentials`;
}

/** TridentBackendConfig object name, and the backend name Trident shows for it. */
export function backendConfigName(svmName: string): string {
  return `ontap-${svmName}-backend`;
}
export function backendName(svmName: string): string {
  return `ontap-${svmName}`;
}

export const STORAGE_CLASS_GOLD = "ontap-gold";
export const STORAGE_CLASS_ENCRYPTED = "ontap-encrypted";
/** The StorageClasses `trident-backends` renders, one of which the providerConfig may make the shoot's default. */
export const STORAGE_CLASS_NAMES = [STORAGE_CLASS_GOLD, STORAGE_CLASS_ENCRYPTED] as const;
/** Kubernetes' annotation for the default StorageClass. */
export const DEFAULT_STORAGE_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
/** The VolumeSnapshotClass Trident's own configurator creates (operator/controllers/configurator, 25.06). */
export const VOLUME_SNAPSHOT_CLASS = "netapp-snapshot-class";
/** How ONTAP volumes are named: Trident's own `trident_pvc_<uuid>`, or after shoot, namespace and PVC. */
export const VOLUME_NAMINGS = ["Trident", "ShootAndClaim"] as const;
/** Secret the user puts next to a PVC of `ontap-encrypted`, holding the LUKS passphrase. */
export const LUKS_SECRET_NAME = "storage-encryption-key";
export const CWNP_NAME = "allow-to-ontap";

export const TRIDENT_CSI_DRIVER = "csi.trident.netapp.io";
export const TRIDENT_OPERATOR_NAME = "trident-operator";
export const TRIDENT_ORCHESTRATOR_NAME = "trident";
/** Objects the Trident operator creates in the shoot and the shoot webhook mutates. */
export const TRIDENT_NODE_DAEMONSET = "trident-node-linux";
export const TRIDENT_CONTROLLER_DEPLOYMENT = "trident-controller";
/** `app` label values Trident sets on those two objects (used by the webhook's objectSelector). */
export const TRIDENT_NODE_APP_LABEL = "node.csi.trident.netapp.io";
export const TRIDENT_CONTROLLER_APP_LABEL = "controller.csi.trident.netapp.io";

/**
 * The Go extension at HEAD runs 25.06.3; the default is never older, so a takeover never downgrades the
 * operator of a live shoot. 26.06.x is supported as a configured image (see `tridentRelease`).
 */
export const DEFAULT_TRIDENT_OPERATOR_IMAGE = "docker.io/netapp/trident-operator:25.06.3";
/** The oldest operator release this controller renders for (the Go extension's). */
export const MINIMUM_TRIDENT_OPERATOR_VERSION = "25.06.3";

/** The NetworkPolicy the Go extension puts next to Trident's controller (ingress and egress in 10/8). */
export const TRIDENT_CONTROLLER_NETWORK_POLICY = "allow-to-trident-controller";

/** Labels Gardener and this extension read on shoot objects. */
export const LABEL_NO_CLEANUP = "shoot.gardener.cloud/no-cleanup";
export const LABEL_MUTATED_BY_WEBHOOK = "ontap.extensions.gardener.cloud/mutated-by-webhook";

/**
 * The identity the storage health check reads the shoot with (Gardener's token requestor: the controller writes
 * the access Secret `shoot-access-<name>` into the shoot namespace, the shoot's gardener-resource-manager creates
 * the ServiceAccount in the shoot's kube-system and keeps a token in the Secret). The Role `trident-backends`
 * renders lets it read the shoot's TridentBackendConfigs and Trident's node DaemonSet, nothing else.
 */
export const SHOOT_HEALTH_SERVICE_ACCOUNT = "extension-ontap-health";
export const SHOOT_HEALTH_ACCESS_SECRET = `shoot-access-${SHOOT_HEALTH_SERVICE_ACCOUNT}`;
export const SHOOT_HEALTH_ROLE = "gardener.cloud:extension-ontap:health";
