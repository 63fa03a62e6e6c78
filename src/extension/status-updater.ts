import type { KubeClient } from "../kube/client.js";
import { isConflict } from "../kube/errors.js";
import { Extensions } from "../kube/resources.js";
import { requestAwaitsStatus } from "./request.js";
import { buildStatusPatch, type StatusUpdate, statusPatchIsNoop } from "./status.js";
import type { Condition, Extension, LastOperationState } from "./types.js";

/** The two calls status writing needs: a merge patch (of the status subresource) and a re-read on conflict. */
export type StatusClient = Pick<KubeClient, "mergePatch" | "get">;

export type OperationStatus = Omit<StatusUpdate, "state">;
/**
 * What to write, or how to derive it from the Extension the patch is built on (the newest one read after a
 * conflict): for fields that depend on what status already says, such as how long a wait has lasted.
 */
export type OperationStatusFrom = OperationStatus | ((current: Extension) => OperationStatus);

/**
 * Writes an Extension's status, like Gardener's `StatusUpdater`: each call merge-patches the status
 * subresource with the object's resourceVersion, re-reads and re-applies only our fields on a conflict, sends
 * nothing when only timestamps would change (unless gardenlet requested the operation after the last
 * lastUpdateTime: then the lastOperation is written so its time answers the request, see request.ts), and
 * answers the Extension as written (the next write starts from its resourceVersion).
 */
export interface StatusUpdater {
  /**
   * lastOperation Processing. `skipIfSettled`: the announcement at the start of an operation, skipped when
   * a periodic re-check finds the Extension settled or when it already says Processing for this operation.
   */
  processing(extension: Extension, update: OperationStatusFrom, opts?: { skipIfSettled?: boolean }): Promise<Extension>;
  succeeded(extension: Extension, update: OperationStatus): Promise<Extension>;
  /** Error (retried) or Failed (not retried until the spec changes), with lastError. */
  error(extension: Extension, state: Extract<LastOperationState, "Error" | "Failed">, update: OperationStatus): Promise<Extension>;
  /** `status.providerStatus` fields merged in at once (an actuator's, e.g. a placement before a create). */
  providerStatus(extension: Extension, fields: Record<string, unknown>): Promise<Extension>;
  /**
   * `status.conditions` as `next` makes them from the current ones (the health check's), or nothing sent when
   * it answers undefined. `next` decides alone what is a change: a condition refreshed only in its
   * lastUpdateTime is written (gardenlet calls health conditions outdated when that stops moving).
   */
  conditions(extension: Extension, next: (current: readonly Condition[]) => Condition[] | undefined): Promise<Extension>;
}

const STATUS_CONFLICT_RETRIES = 5;

export function createStatusUpdater(kube: StatusClient, now: () => Date = () => new Date()): StatusUpdater {
  function write(extension: Extension, update: StatusUpdate): Promise<Extension> {
    return writeStatus(kube, extension, (current) => buildStatusPatch(current, update, now()));
  }
  return {
    processing(extension, update, opts = {}) {
      if (typeof update === "function") {
        return writeStatus(kube, extension, (current) => buildStatusPatch(current, { ...update(current), state: "Processing" }, now()));
      }
      if (opts.skipIfSettled && (isSettled(extension, update) || isStillProcessing(extension, update))) return Promise.resolve(extension);
      return write(extension, { ...update, state: "Processing" });
    },
    succeeded: (extension, update) => write(extension, { ...update, state: "Succeeded" }),
    error: (extension, state, update) => write(extension, { ...update, state }),
    providerStatus: (extension, fields) =>
      writeStatus(kube, extension, (current) => ({ providerStatus: { ...(current.status?.providerStatus ?? {}), ...fields } })),
    conditions: (extension, next) =>
      writeStatus(kube, extension, (current) => {
        const conditions = next(current.status?.conditions ?? []);
        return conditions === undefined ? undefined : { conditions };
      }, true),
  };
}

/** A periodic re-check of a settled Extension need not announce Processing: it writes only on change. */
function isSettled(extension: Extension, update: OperationStatus): boolean {
  const last = extension.status?.lastOperation;
  return (
    last?.state === "Succeeded" &&
    extension.status?.observedGeneration === extension.metadata.generation &&
    !extension.metadata.deletionTimestamp &&
    (last.type === "Reconcile" || last.type === "Create") &&
    (update.type === "Reconcile" || update.type === "Create")
  );
}

/**
 * A requeued operation (an SVM job, the CRDs) already says Processing, with what it waits for: rewriting it
 * to "in progress" and back would cost two writes per look.
 */
function isStillProcessing(extension: Extension, update: OperationStatus): boolean {
  const last = extension.status?.lastOperation;
  return last?.state === "Processing" && last.type === update.type;
}

/** A lastOperation write that moves lastUpdateTime past a request gardenlet waits on is never skipped. */
function answersRequest(current: Extension, patch: Record<string, unknown>): boolean {
  return patch.lastOperation !== undefined && requestAwaitsStatus(current);
}

/**
 * Merge-patches status with the object's resourceVersion; on conflict re-reads and re-applies our fields only.
 * Answers the object the last patch was built on when nothing was sent (the same reference `makePatch` got).
 */
async function writeStatus(
  kube: StatusClient,
  extension: Extension,
  makePatch: (current: Extension) => Record<string, unknown> | undefined,
  /** `makePatch` has decided what is a change (undefined: none); its patch is sent as it is. */
  decided = false,
): Promise<Extension> {
  let current = extension;
  for (let attempt = 0; ; attempt++) {
    const patch = makePatch(current);
    if (patch === undefined) return current;
    if (!decided && statusPatchIsNoop(current, patch) && !answersRequest(current, patch)) return current;
    try {
      return await kube.mergePatch<Extension>(
        Extensions,
        current.metadata.namespace,
        current.metadata.name,
        { metadata: { resourceVersion: current.metadata.resourceVersion }, status: patch },
        { subresource: "status" },
      );
    } catch (err) {
      if (!isConflict(err) || attempt >= STATUS_CONFLICT_RETRIES) throw err;
      const fresh = await kube.get<Extension>(Extensions, current.metadata.namespace, current.metadata.name);
      if (!fresh) throw err;
      current = fresh;
    }
  }
}
