import type { KubeClient } from "../kube/client.js";
import { isNotFound } from "../kube/errors.js";
import { Extensions } from "../kube/resources.js";
import { DONE, type Requeue, type Result } from "../runtime/result.js";
import type { Actuator, ActuatorContext, ActuatorDone, ActuatorResult } from "./actuator.js";
import type { EscalationPolicy, WaitRecord } from "./escalation.js";
import type { StatusUpdater } from "./status-updater.js";
import { type Extension, FINALIZER, type LastOperationType, OPERATION_ANNOTATION } from "./types.js";
import type { Operation } from "./operation.js";

/**
 * One function per Gardener operation, like the generic reconciler's reconcile / delete / forceDelete /
 * migrate / restore: each runs its actuator call and, once that is done, writes what the contract asks of
 * that operation (status, the finalizer, the operation annotation). The gate, the Processing announcement and
 * failures stay in reconciler.ts.
 */

export interface ReconcilerObserver {
  onReconcile?(op: Operation, result: "succeeded" | "requeued" | "error" | "failed", seconds: number): void;
  onFailureCount?(namespace: string, name: string, failures: number, escalated: boolean): void;
  /** The Extension is gone (or lost its finalizer on delete): per-Extension series can go too. */
  onGone?(namespace: string, name: string): void;
  event?(extension: Extension, type: "Normal" | "Warning", reason: string, message: string): void;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

/** What one operation on one Extension works with. `ctx.extension` is always the newest one written. */
export interface OperationRun {
  actuator: Actuator;
  /** Scoped to this reconcile: its signal, the write fence. */
  kube: KubeClient;
  ctx: ActuatorContext;
  type: LastOperationType;
  status: StatusUpdater;
  escalation: EscalationPolicy;
  obs: ReconcilerObserver;
  /** The finalizer and Processing written (rejects with their error): awaited before the operation reports. */
  announced: Promise<void>;
}

export type OperationFn = (run: OperationRun) => Promise<Result>;

/**
 * An operation: its actuator call, and what the contract asks once that call is done. While the actuator
 * waits for something, status says what (Processing) and the queue comes back after `afterMs`.
 */
function operation(
  call: (actuator: Actuator, ctx: ActuatorContext) => Promise<ActuatorResult>,
  finish: (run: OperationRun, result: ActuatorDone) => Promise<void>,
): OperationFn {
  return async (run) => {
    const result = await call(run.actuator, run.ctx);
    await run.announced;
    if (result.kind === "requeue") return requeued(run, result);
    await finish(run, result);
    return DONE;
  };
}

export const reconcileOperation = operation(
  (actuator, ctx) => actuator.reconcile(ctx),
  async (run, result) => {
    await succeeded(run, result);
  },
);

/** A reconcile on a new seed after migrate; the annotation is consumed only once it succeeded. */
export const restoreOperation = operation(
  (actuator, ctx) => actuator.restore(ctx),
  async (run, result) => {
    const extension = await succeeded(run, result);
    await run.kube.mergePatch(Extensions, extension.metadata.namespace, extension.metadata.name, {
      metadata: { resourceVersion: extension.metadata.resourceVersion, annotations: { [OPERATION_ANNOTATION]: null } },
    });
  },
);

export const deleteOperation = operation((actuator, ctx) => actuator.delete(ctx), released);

export const forceDeleteOperation = operation((actuator, ctx) => actuator.forceDelete(ctx), released);

/** Succeeded in status, then every finalizer and the annotation go: the object moves to another seed. */
export const migrateOperation = operation(
  (actuator, ctx) => actuator.migrate(ctx),
  async (run, result) => {
    resetFailureGauges(run);
    const extension = await run.status.succeeded(run.ctx.extension, {
      type: run.type,
      description: result.description,
      observedGeneration: run.ctx.extension.metadata.generation,
      // gardenlet reads the objects named here after Migrate and re-creates them on the new seed before Restore.
      resources: result.resources,
    });
    await removeFinalizer(run.kube, extension, { removeAll: true, consumeAnnotation: true });
    run.obs.event?.(extension, "Normal", `${run.type}Succeeded`, result.description);
  },
);

/**
 * The actuator waits for something: status says what (and since when, `providerStatus.waiting`), and the queue
 * comes back after `afterMs`. A wait for the same thing that outlasts `escalation.waitingMs` escalates like
 * repeated failures do (condition, one Warning event, gauge); the next thing waited for, or success, resets it.
 */
async function requeued(run: OperationRun, result: Requeue): Promise<Requeue> {
  const extension = run.ctx.extension;
  // The wait is judged on the Extension the patch is built on: the cache can lag this process's own last write
  // (the previous look was a poll interval ago), and a stale copy would restart the clock or announce twice.
  let wait: WaitRecord | undefined;
  let basis: Extension | undefined;
  const written = await run.status.processing(extension, (current) => {
    basis = current;
    wait = run.escalation.recordWait(current, result.reason);
    return {
      type: run.type,
      // "shortly" for short waits, so a wait polled often (an SVM job) keeps one description and one write.
      description: `${result.reason}; checking again ${result.afterMs < 5_000 ? "shortly" : `in ${Math.round(result.afterMs / 1000)}s`}`,
      progress: 50,
      providerStatus: wait.field,
      escalation: wait.escalation,
    };
  });
  run.ctx.extension = written;
  const sent = written !== basis;
  if (wait?.announce && wait.escalation && sent) run.obs.event?.(written, "Warning", "Escalated", wait.escalation.message);
  if (wait && (wait.escalated || wait.escalation)) run.obs.onFailureCount?.(extension.metadata.namespace ?? "", extension.metadata.name, wait.failures, wait.escalated);
  return { kind: "requeue", afterMs: result.afterMs, reason: result.reason };
}

/** A reconcile's (or restore's) success: Succeeded, observedGeneration, the failure count and escalation reset. */
async function succeeded(run: OperationRun, result: ActuatorDone): Promise<Extension> {
  const extension = run.ctx.extension;
  const recovery = run.escalation.recovery(extension);
  resetFailureGauges(run);
  const clears = Object.keys(recovery.clearFailures).length > 0;
  return run.status.succeeded(extension, {
    type: run.type,
    description: result.description,
    progress: 100,
    observedGeneration: extension.metadata.generation,
    providerStatus: result.providerStatus || clears ? { ...(result.providerStatus ?? {}), ...recovery.clearFailures } : undefined,
    escalation: recovery.escalation,
    conditions: result.conditions,
    resources: result.resources,
  });
}

/** A delete's success: only the finalizer goes (last: once it is gone the object may vanish at any moment). */
async function released(run: OperationRun, result: ActuatorDone): Promise<void> {
  const extension = run.ctx.extension;
  resetFailureGauges(run);
  await removeFinalizer(run.kube, extension, { removeAll: false, consumeAnnotation: false });
  run.obs.event?.(extension, "Normal", `${run.type}Succeeded`, result.description);
  run.obs.onGone?.(extension.metadata.namespace ?? "", extension.metadata.name);
}

/** Status counted failures or an escalation: the gauges go back to zero with the success. */
function resetFailureGauges(run: OperationRun): void {
  const extension = run.ctx.extension;
  if (run.escalation.recovery(extension).hadFailures) run.obs.onFailureCount?.(extension.metadata.namespace ?? "", extension.metadata.name, 0, false);
}

async function removeFinalizer(
  kube: KubeClient,
  extension: Extension,
  opts: { removeAll: boolean; consumeAnnotation: boolean },
): Promise<void> {
  await kube
    .mergePatch(Extensions, extension.metadata.namespace, extension.metadata.name, {
      metadata: {
        resourceVersion: extension.metadata.resourceVersion,
        finalizers: opts.removeAll ? [] : (extension.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
        ...(opts.consumeAnnotation ? { annotations: { [OPERATION_ANNOTATION]: null } } : {}),
      },
    })
    .catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
}
