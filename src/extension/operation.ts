import { type Cluster, type Extension, FINALIZER, FORCE_DELETION_ANNOTATION, OPERATION_ANNOTATION, WAIT_FOR_STATE } from "./types.js";

export type Operation = "skip-failed-shoot" | "wait-for-state" | "migrate" | "delete" | "force-delete" | "restore" | "reconcile";

/**
 * Gardener's generic reconciler order: failed shoot, migrate, delete, restore, reconcile. Before all of them, an
 * Extension gardenlet re-created on a new seed and still annotated `wait-for-state` is left alone, as Gardener's
 * OperationAnnotationWrapper does: its Secret is not restored yet, and a reconcile now would rotate the password
 * that Trident in the shoot still holds.
 */
export function decideOperation(extension: Extension, cluster: Cluster | undefined): Operation {
  const annotation = extension.metadata.annotations?.[OPERATION_ANNOTATION];
  if (annotation === WAIT_FOR_STATE) return "wait-for-state";
  if (cluster?.spec.shoot?.status?.lastOperation?.state === "Failed" && !extension.metadata.deletionTimestamp) {
    return "skip-failed-shoot";
  }
  if (annotation === "migrate") return "migrate";
  if (extension.metadata.deletionTimestamp) {
    const force =
      extension.metadata.annotations?.[FORCE_DELETION_ANNOTATION] === "true" ||
      cluster?.spec.shoot?.metadata?.annotations?.[FORCE_DELETION_ANNOTATION] === "true";
    return force ? "force-delete" : "delete";
  }
  if (annotation === "restore") return "restore";
  return "reconcile";
}

/** The status's lastOperation.type for an operation: a first reconcile is a Create until it succeeds once. */
export function lastOperationTypeFor(op: Operation, extension: Extension) {
  switch (op) {
    case "migrate":
      return "Migrate" as const;
    case "delete":
    case "force-delete":
      return "Delete" as const;
    case "restore":
      return "Restore" as const;
    default: {
      const last = extension.status?.lastOperation;
      const everSucceeded = last !== undefined && !(last.type === "Create" && last.state !== "Succeeded");
      return everSucceeded ? ("Reconcile" as const) : ("Create" as const);
    }
  }
}

/** Whether the object needs our attention at all: a deletion without our finalizer is someone else's business. */
export function hasFinalizer(extension: Extension): boolean {
  return extension.metadata.finalizers?.includes(FINALIZER) ?? false;
}
