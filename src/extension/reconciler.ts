import type { KubeClient } from "../kube/client.js";
import { Extensions } from "../kube/resources.js";
import { scopeKubeClient } from "../kube/scoped.js";
import { isFencedError } from "../runtime/fence.js";
import { DONE, type Result } from "../runtime/result.js";
import type { Actuator, ActuatorContext } from "./actuator.js";
import { classifyError } from "./errors.js";
import { createEscalationPolicy, type EscalationSettings } from "./escalation.js";
import { decideOperation, hasFinalizer, lastOperationTypeFor, type Operation } from "./operation.js";
import {
  deleteOperation,
  forceDeleteOperation,
  migrateOperation,
  type OperationRun,
  type ReconcilerObserver,
  reconcileOperation,
  restoreOperation,
} from "./operations.js";
import { createStatusUpdater } from "./status-updater.js";
import { type Cluster, type Extension, FINALIZER, OPERATION_ANNOTATION } from "./types.js";

export { FAILURES_FIELD } from "./escalation.js";
export type { ReconcilerObserver } from "./operations.js";

/**
 * Gardener's generic Extension reconciler: the contract (finalizer, operation annotation, order of
 * operations, status with optimistic concurrency, escalation) around an actuator that knows the storage.
 * One reconcile: gate (which operation, if any) -> finalizer and annotation -> Processing -> the operation
 * (operations.ts) -> on an error, Error/Failed with the failure counted (escalation.ts).
 */

export interface ExtensionReconcilerDeps {
  kube: KubeClient;
  actuator: Actuator;
  /** Read from the informer cache; a stale read is caught by the resourceVersion of every write. */
  getExtension(namespace: string, name: string): Extension | undefined;
  getCluster(name: string): Promise<Cluster | undefined>;
  escalation: EscalationSettings;
  observer?: ReconcilerObserver;
  now?: () => Date;
  /** The write fence, called immediately before every write of the Extension (see the actuator's). */
  fence?: () => void;
}

/** The decided operation, called by name so a reader (and go-to-definition) follows it into operations.ts. */
function runOperation(op: Exclude<Operation, "skip-failed-shoot" | "wait-for-state">, run: OperationRun): Promise<Result> {
  switch (op) {
    case "reconcile":
      return reconcileOperation(run);
    case "restore":
      return restoreOperation(run);
    case "delete":
      return deleteOperation(run);
    case "force-delete":
      return forceDeleteOperation(run);
    case "migrate":
      return migrateOperation(run);
  }
}

export function createExtensionReconciler(deps: ExtensionReconcilerDeps) {
  const now = deps.now ?? (() => new Date());
  const obs = deps.observer ?? {};
  const escalation = createEscalationPolicy(deps.escalation, now);

  async function reconcile(key: string, signal: AbortSignal): Promise<Result> {
    const kube = scopeKubeClient(deps.kube, { signal, ...(deps.fence ? { beforeWrite: deps.fence } : {}) });
    const [namespace = "", name = ""] = key.split("/");
    const extension = deps.getExtension(namespace, name);
    if (!extension) {
      obs.onGone?.(namespace, name);
      return DONE;
    }
    const cluster = await deps.getCluster(namespace);
    const op = decideOperation(extension, cluster);
    if (op === "skip-failed-shoot") {
      obs.log?.info({ extension: key }, "shoot is marked failed; skipping");
      return DONE;
    }
    if (op === "wait-for-state") {
      // gardenlet annotates `restore` once the state is back; that new annotation value wakes this key again.
      obs.log?.info({ extension: key }, "waiting for gardenlet to restore the state (annotation wait-for-state); nothing to do yet");
      return DONE;
    }
    if ((op === "delete" || op === "force-delete") && !hasFinalizer(extension)) return DONE;

    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    const status = createStatusUpdater(kube, now);
    const type = lastOperationTypeFor(op, extension);
    // The finalizer (and the annotation) first, then Processing, each from the newest resourceVersion. The
    // operation starts meanwhile: its reads (the SVM lookup, the seed Secret) overlap these two writes, and
    // each of its writes waits for the finalizer (ctx.writable), so nothing is created that a delete could miss.
    // Its status writes wait for Processing (`announced`), so they chain on its resourceVersion.
    const prepared = prepare(kube, extension, op).then((written) => {
      ctx.extension = written;
    });
    const announced = prepared.then(async () => {
      ctx.extension = await status.processing(ctx.extension, { type, description: `${type} in progress`, progress: 10 }, { skipIfSettled: true });
    });
    // Awaited by the operation (and below on a failure); never an unhandled rejection meanwhile.
    announced.catch(() => undefined);
    const ctx: ActuatorContext = {
      extension,
      cluster,
      signal,
      writable: prepared,
      recordProviderStatus: async (fields) => {
        await announced;
        // Later writes in this reconcile start from the newest resourceVersion, not a conflict.
        ctx.extension = await status.providerStatus(ctx.extension, fields);
      },
    };
    const run: OperationRun = { actuator: deps.actuator, kube, ctx, type, status, escalation, obs, announced };
    try {
      // Inside the try: a failed finalizer, annotation or Processing write is an error like any other, shown in
      // status (the operation awaits `announced` before it reports).
      const result = await runOperation(op, run);
      obs.onReconcile?.(op, result.kind === "requeue" ? "requeued" : "succeeded", seconds());
      return result;
    } catch (err) {
      if (signal.aborted || isFencedError(err)) {
        // The term ended (or the process stops): not a failure of this Extension, and nothing may be written;
        // whoever leads next reconciles it.
        obs.log?.info({ extension: key, operation: op }, "reconcile stopped: this process no longer leads or is stopping");
        throw err;
      }
      // The failure is written from the newest Extension: after the finalizer and Processing writes settled.
      await announced.catch(() => undefined);
      const retriable = await recordFailure(run, op, key, err);
      obs.onReconcile?.(op, retriable ? "error" : "failed", seconds());
      if (retriable) throw err;
      return DONE;
    }
  }

  /**
   * Finalizer first (so nothing is created that a delete could miss), then consume the operation annotation.
   * Migrate and restore keep their annotation until they are done, so an operation that requeues or
   * crashes is resumed as what it was, not as a plain reconcile.
   */
  async function prepare(kube: KubeClient, extension: Extension, op: Operation): Promise<Extension> {
    const needsFinalizer = (op === "reconcile" || op === "restore") && !hasFinalizer(extension);
    const consumeAnnotation = OPERATION_ANNOTATION in (extension.metadata.annotations ?? {}) && op === "reconcile";
    if (!needsFinalizer && !consumeAnnotation) return extension;
    const metadata: Record<string, unknown> = { resourceVersion: extension.metadata.resourceVersion };
    if (needsFinalizer) metadata.finalizers = [...(extension.metadata.finalizers ?? []), FINALIZER];
    if (consumeAnnotation) metadata.annotations = { [OPERATION_ANNOTATION]: null };
    return kube.mergePatch<Extension>(Extensions, extension.metadata.namespace, extension.metadata.name, {
      metadata,
    });
  }

  /** Error (retriable) or Failed in status, the failure counted, the escalation announced once; answers retriable. */
  async function recordFailure(run: OperationRun, op: Operation, key: string, err: unknown): Promise<boolean> {
    const { ctx, type } = run;
    const extension = ctx.extension;
    const { codes, retriable, message } = classifyError(err);
    const record = escalation.recordFailure(extension);
    const description = retriable ? message : `${message} (not retried until the spec changes)`;
    obs.log?.warn({ extension: key, operation: op, codes, failures: record.count, err: message }, "operation failed");
    obs.event?.(extension, "Warning", `${type}Failed`, description);
    const escalated = escalation.escalationFor(record);
    try {
      await run.status.error(extension, retriable ? "Error" : "Failed", {
        type,
        description,
        error: { description, codes },
        escalation: escalated,
        providerStatus: escalation.failuresField(record),
      });
    } catch (statusErr) {
      obs.log?.error({ extension: key, err: (statusErr as Error).message }, "could not record the failure in status");
    }
    if (escalated && !record.announced) obs.event?.(extension, "Warning", "Escalated", escalated.message);
    // A failure leaves the condition as it was: escalated by an earlier wait (or failures) it stays so.
    obs.onFailureCount?.(extension.metadata.namespace ?? "", extension.metadata.name, record.count, record.escalated || record.announced);
    return retriable;
  }

  return { reconcile };
}
