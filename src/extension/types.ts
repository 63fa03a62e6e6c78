import type { ObjectMeta as KubeObjectMeta } from "../kube/objects.js";

/** The subset of Gardener's `extensions.gardener.cloud/v1alpha1` types this controller reads and writes. */

export const OPERATION_ANNOTATION = "gardener.cloud/operation";
/** When gardenlet requested the operation (RFC 3339 with nanoseconds); its readiness check compares it to lastUpdateTime. */
export const TIMESTAMP_ANNOTATION = "gardener.cloud/timestamp";
export const FORCE_DELETION_ANNOTATION = "confirmation.gardener.cloud/force-deletion";
export const FINALIZER = "extensions.gardener.cloud/ontap";
/**
 * gardenlet's operation annotation on an Extension it re-creates on a new seed before it has restored
 * `status.resources` and the objects they name: nothing may act on it yet (Gardener's OperationAnnotationWrapper).
 */
export const WAIT_FOR_STATE = "wait-for-state";

export type LastOperationType = "Create" | "Reconcile" | "Delete" | "Migrate" | "Restore";
export type LastOperationState = "Processing" | "Succeeded" | "Error" | "Failed" | "Aborted";

export const GARDENER_ERROR_CODES = [
  "ERR_INFRA_UNAUTHENTICATED",
  "ERR_INFRA_UNAUTHORIZED",
  "ERR_INFRA_QUOTA_EXCEEDED",
  "ERR_INFRA_RATE_LIMITS_EXCEEDED",
  "ERR_INFRA_DEPENDENCIES",
  "ERR_INFRA_RESOURCES_DEPLETED",
  "ERR_CONFIGURATION_PROBLEM",
  "ERR_RETRYABLE_CONFIGURATION_PROBLEM",
  "ERR_RETRYABLE_INFRA_DEPENDENCIES",
  "ERR_CLEANUP_CLUSTER_RESOURCES",
  "ERR_PROBLEMATIC_WEBHOOK",
] as const;
export type GardenerErrorCode = (typeof GARDENER_ERROR_CODES)[number];

export interface LastOperation {
  type: LastOperationType;
  state: LastOperationState;
  description: string;
  progress: number;
  lastUpdateTime: string;
}

export interface LastError {
  description: string;
  codes?: GardenerErrorCode[];
  taskID?: string;
  lastUpdateTime: string;
}

export interface Condition {
  type: string;
  /** Progressing: Gardener's fourth status, used by health checks while something is still rolling out. */
  status: "True" | "False" | "Unknown" | "Progressing";
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastUpdateTime: string;
  /** Gardener error codes (ERR_INFRA_*), on health conditions. */
  codes?: string[];
}

/** The one metadata type (kube/objects.ts), with the name every object the contract handles has. */
export type ObjectMeta = KubeObjectMeta & { name: string };

export interface Extension {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: { type: string; class?: string; providerConfig?: unknown };
  status?: {
    observedGeneration?: number;
    lastOperation?: LastOperation;
    lastError?: LastError;
    conditions?: Condition[];
    providerStatus?: Record<string, unknown>;
    resources?: NamedResourceReference[];
  };
}

/**
 * An object of the shoot namespace the extension needs back after a control-plane migration: gardenlet copies
 * each one named in `status.resources` into the ShootState after Migrate and re-creates it on the new seed
 * before Restore (Gardener's `NamedResourceReference`).
 */
export interface NamedResourceReference {
  name: string;
  resourceRef: { apiVersion?: string; kind: string; name: string };
}

export interface Cluster {
  metadata: ObjectMeta;
  spec: {
    shoot?: {
      metadata?: { name?: string; annotations?: Record<string, string> };
      status?: { lastOperation?: { state?: string; type?: string } };
    };
    seed?: unknown;
    cloudProfile?: unknown;
  };
}
