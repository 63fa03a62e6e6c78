import type { Cluster, Extension } from "./types.js";

/** What the generic reconciler hands an actuator for one operation on one Extension. */
export interface ActuatorContext {
  extension: Extension;
  cluster: Cluster | undefined;
  signal: AbortSignal;
  /** Writes `status.providerStatus` fields at once (e.g. a placement recorded before a create). */
  recordProviderStatus(fields: Record<string, unknown>): Promise<void>;
}

/** A condition an actuator reports on a successful operation (upserted by type into `status.conditions`). */
export interface ActuatorCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export type ActuatorResult =
  | { kind: "done"; description: string; providerStatus?: Record<string, unknown>; conditions?: ActuatorCondition[] }
  | { kind: "requeue"; afterMs: number; reason: string; providerStatus?: Record<string, unknown> };

/** Gardener's actuator shape: the lifecycle is explicit, never implied. Errors are thrown (see ExtensionError). */
export interface Actuator {
  reconcile(ctx: ActuatorContext): Promise<ActuatorResult>;
  delete(ctx: ActuatorContext): Promise<ActuatorResult>;
  forceDelete(ctx: ActuatorContext): Promise<ActuatorResult>;
  migrate(ctx: ActuatorContext): Promise<ActuatorResult>;
  restore(ctx: ActuatorContext): Promise<ActuatorResult>;
}
