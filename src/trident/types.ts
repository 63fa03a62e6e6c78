import type { TridentOrchestratorSettings } from "./orchestrator.js";

/** The providerConfig's choices for the shoot's storage objects; every default is what the Go extension rendered. */
export interface TridentStorageOptions {
  /** The StorageClass marked as the shoot's default; none without it (the Go extension marked none). */
  defaultStorageClass?: "ontap-gold" | "ontap-encrypted";
  /** Render the VolumeSnapshotClass `netapp-snapshot-class` (needs the shoot's snapshot.storage.k8s.io CRDs). */
  volumeSnapshotClass: boolean;
  /** `ShootAndClaim`: the backend's `defaults.nameTemplate` names volumes `<project>_<shoot>_<namespace>_<pvc>_<uuid part>`. */
  volumeNaming: "Trident" | "ShootAndClaim";
}

/** What the renderers need to know about one shoot; everything else is derived from it. */
export interface TridentFacts {
  /** ONTAP SVM of the shoot's project (`p` + project id without dashes). */
  svmName: string;
  /** IP of the SVM's management LIF. */
  managementLif: string;
  /** IPs of the SVM's NVMe/TCP data LIFs. */
  dataLifs: string[];
  /** Name of the credentials Secret in the shoot's kube-system (`shootCredentialsSecretName`). */
  credentialsSecretName: string;
  /** The shoot's SVM-scoped ONTAP user. */
  username: string;
  password: string;
  /** The shoot's Gardener project and name, for the volume name template. */
  shoot?: { project: string; name: string };
  /** Omitted: the Go extension's objects. */
  storage?: TridentStorageOptions;
  /** Whether to render `trident-cwnp` (Go's rule: the seed has a `firewall` namespace; configuration may override). */
  firewallNamespaceExists: boolean;
  /** Defaults to DEFAULT_TRIDENT_OPERATOR_IMAGE; its tag decides the release-specific rendering. */
  operatorImage?: string;
  /** Operator env naming the images that differ from the release's own (`selectTrident`'s `operatorEnv`). */
  operatorImageEnv?: readonly { name: string; value: string }[];
  /** Overrides of the Go extension's TridentOrchestrator settings. */
  orchestrator?: Partial<TridentOrchestratorSettings>;
  /**
   * CRDs an earlier version of this controller put into `trident-crds` that Trident's installer owns: rendered
   * once more with `resources.gardener.cloud/mode: Ignore`, so gardener-resource-manager releases them from the
   * ManagedResource without deleting them (deleting a CRD deletes every object of its kind), then dropped.
   */
  releaseCrds?: readonly string[];
}

/** The content of one ManagedResource before it is serialized into its Secret. */
export interface ManagedResourcePlan {
  name: string;
  keepObjects: boolean;
  objects: object[];
}

export type TridentErrorCode = "ERR_CONFIGURATION_PROBLEM";

/** Invalid input to a renderer. Never transient: rendering the same input again fails the same way. */
export class TridentRenderError extends Error {
  readonly code: TridentErrorCode;
  readonly transient = false;

  constructor(message: string, code: TridentErrorCode = "ERR_CONFIGURATION_PROBLEM", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TridentRenderError";
    this.code = code;
  }
}
