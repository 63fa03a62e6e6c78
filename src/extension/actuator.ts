import type { Result } from "../runtime/result.js";
import type { Cluster, Extension, NamedResourceReference } from "./types.js";

/** What the generic reconciler hands an actuator for one operation on one Extension. */
export interface ActuatorContext {
  extension: Extension;
  cluster: Cluster | undefined;
  signal: AbortSignal;
  /** Writes `status.providerStatus` fields at once (e.g. a placement recorded before a create). */
  recordProviderStatus(fields: Record<string, unknown>): Promise<void>;
  /**
   * Resolves once the Extension carries the finalizer (and the operation annotation is consumed); rejects if
   * that write failed. The actuator may read meanwhile but must make every write wait for it.
   */
  writable?: Promise<void>;
}

/** A condition an actuator reports on a successful operation (upserted by type into `status.conditions`). */
export interface ActuatorCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** What an operation established, for status: the description, provider status and conditions of a success. */
export interface ActuatorDone {
  description: string;
  providerStatus?: Record<string, unknown>;
  conditions?: ActuatorCondition[];
  /** `status.resources`: what gardenlet carries to a new seed on migration (never a secret's content itself). */
  resources?: NamedResourceReference[];
}

/** The shared result union (`runtime/result.ts`) with what status shows of a success. */
export type ActuatorResult = Result<ActuatorDone>;

/** Gardener's actuator shape: the lifecycle is explicit, never implied. Errors are thrown (see ExtensionError). */
export interface Actuator {
  reconcile(ctx: ActuatorContext): Promise<ActuatorResult>;
  delete(ctx: ActuatorContext): Promise<ActuatorResult>;
  forceDelete(ctx: ActuatorContext): Promise<ActuatorResult>;
  migrate(ctx: ActuatorContext): Promise<ActuatorResult>;
  restore(ctx: ActuatorContext): Promise<ActuatorResult>;
}
