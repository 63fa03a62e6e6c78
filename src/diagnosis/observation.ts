import type { DesiredLif } from "../ontap-extension/plan.js";
import type { LoginAnswer, PasswordProof } from "../observation/observed.js";

/**
 * What `doctor` saw of one shoot, as plain data. It is built so that it cannot hold a secret: Secrets are
 * reduced to "which keys are set", and a password is only ever represented by what ONTAP answered when
 * the doctor authenticated with it. Everything the doctor prints is derived from this.
 */

/** A read that either answered or did not; `error` is the failure's message (never a request body). */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ExpectedState {
  svmName: string;
  username: string;
  secret: { namespace: string; name: string };
  legacySecret: { namespace: string; name: string };
  lifs: DesiredLif[];
  /** The ONTAP role the shoot's user should have (providerConfig `svmUserRole`, default vsadmin). */
  svmUserRole?: string;
  /** ManagedResources this controller's configuration deploys into the shoot namespace. */
  managedResources: string[];
}

export interface ExtensionFacts {
  name: string;
  class: string;
  generation?: number;
  observedGeneration?: number;
  deleting: boolean;
  /** `gardener.cloud/operation` while it is still set (the controller removes it when it picks the work up). */
  operationAnnotation?: string;
  lastOperation?: { type: string; state: string; description: string; progress?: number; lastUpdateTime?: string };
  lastError?: { description: string; codes: string[]; lastUpdateTime?: string };
  escalation?: { status: string; reason: string; message: string; lastTransitionTime?: string };
  /** `status.providerStatus.cluster`: where an earlier reconcile placed (or found) the SVM. */
  recordedCluster?: string;
  lastVerification?: string;
  /** `status.providerStatus.trident`: the Trident release the controller last deployed to the shoot. */
  trident?: { version: string; operatorImage?: string; selectedBy?: string };
}

export interface SvmFacts {
  uuid: string;
  name: string;
  state: string;
  nvmeEnabled?: boolean;
  subtype?: string;
  /** Only a MetroCluster sync-destination copy is visible on this cluster. */
  mirror: boolean;
}

/** One cluster's answer to "is the SVM here?": found, absent, or no answer (which is not absent). */
export type ClusterAnswer =
  | { cluster: string; kind: "found"; svm: SvmFacts }
  | { cluster: string; kind: "absent" }
  | { cluster: string; kind: "no-answer"; error: string };

export interface SecretFacts {
  found: boolean;
  username?: string;
  hasPassword: boolean;
  hasPendingPassword: boolean;
}

/** What ONTAP said when the doctor logged in with a stored password. */
export type AuthCheck = LoginAnswer;

export interface ManagedResourceFacts {
  name: string;
  found: boolean;
  healthy: boolean;
  /** Not healthy only because the resource manager has not caught up with it yet (unobserved, progressing). */
  progressing: boolean;
  /** Why not healthy, from the resource's conditions (or "healthy"). */
  reason: string;
}

export interface ShootObservation {
  namespace: string;
  observedAt: string;
  /** Absent: the namespace has no Extension of type ontap. */
  extension: Read<ExtensionFacts | undefined>;
  /** The plan derived from the Extension and its Cluster, or why it cannot be derived. */
  expected: Read<ExpectedState> | undefined;
  /** One entry per configured cluster, in configuration order. */
  clusters: ClusterAnswer[];
  /** The cluster whose SVM the following checks looked at (undefined: no SVM to look at). */
  inspectedCluster?: string;
  lifs?: Read<{ name: string; ipAddress: string; state?: string }[]>;
  account?: Read<{ found: boolean; role?: string; locked?: boolean }>;
  secret?: Read<SecretFacts>;
  legacySecret?: Read<SecretFacts>;
  password?: AuthCheck;
  pendingPassword?: AuthCheck;
  /** Which stored password authenticates, from the two answers above. */
  proof?: PasswordProof;
  managedResources?: Read<ManagedResourceFacts[]>;
}
