import type { KubeClient } from "../kube/client.js";
import { Extensions } from "../kube/resources.js";
import { scopeKubeClient } from "../kube/scoped.js";
import type { ReconcileResult } from "../runtime/controller.js";
import { isFencedError } from "../runtime/fence.js";
import type { Actuator, ActuatorContext, ActuatorResult } from "./actuator.js";
import { classifyError } from "./errors.js";
import { decideOperation, hasFinalizer, lastOperationTypeFor, type Operation } from "./operation.js";
import { buildStatusPatch, ESCALATION_CONDITION, type StatusUpdate, statusPatchIsNoop } from "./status.js";
import { type Cluster, type Extension, FINALIZER, type LastOperationType, OPERATION_ANNOTATION } from "./types.js";

/**
 * Gardener's generic Extension reconciler: the contract (finalizer, operation annotation, order of
 * operations, status with optimistic concurrency, escalation) around an actuator that knows the storage.
 */

export interface EscalationPolicy {
  consecutiveFailures: number;
  afterMs: number;
}

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

export interface ExtensionReconcilerDeps {
  kube: KubeClient;
  actuator: Actuator;
  /** Read from the informer cache; a stale read is caught by the resourceVersion of every write. */
  getExtension(namespace: string, name: string): Extension | undefined;
  getCluster(name: string): Promise<Cluster | undefined>;
  escalation: EscalationPolicy;
  observer?: ReconcilerObserver;
  now?: () => Date;
  /** The write fence, called immediately before every write of the Extension (see the actuator's). */
  fence?: () => void;
}

interface FailureRecord {
  count: number;
  since: number;
  escalated: boolean;
  /** Escalated before this failure: the Warning event went out then (once per escalation, not per failure). */
  announced: boolean;
}

/**
 * The consecutive failures, kept in `status.providerStatus.failures` (this controller's own status field)
 * rather than in memory, so a restart or a new leader continues the count and the escalation clock
 * instead of starting over (and never escalating a shoot that fails on every leader for an hour).
 */
export const FAILURES_FIELD = "failures";

interface StoredFailures {
  count?: number;
  since?: string;
}

function storedFailures(extension: Extension): StoredFailures | undefined {
  const value = (extension.status?.providerStatus as Record<string, unknown> | undefined)?.[FAILURES_FIELD];
  return value && typeof value === "object" ? (value as StoredFailures) : undefined;
}

function isEscalated(extension: Extension): boolean {
  return extension.status?.conditions?.some((c) => c.type === ESCALATION_CONDITION && c.status === "True") ?? false;
}

const STATUS_CONFLICT_RETRIES = 5;

export function createExtensionReconciler(deps: ExtensionReconcilerDeps) {
  const now = deps.now ?? (() => new Date());
  const obs = deps.observer ?? {};

  async function reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const kube = scopeKubeClient(deps.kube, { signal, ...(deps.fence ? { beforeWrite: deps.fence } : {}) });
    const [namespace = "", name = ""] = key.split("/");
    let extension = deps.getExtension(namespace, name);
    if (!extension) {
      obs.onGone?.(namespace, name);
      return { kind: "done" };
    }
    const cluster = await deps.getCluster(namespace);
    const op = decideOperation(extension, cluster);
    if (op === "skip-failed-shoot") {
      obs.log?.info({ extension: key }, "shoot is marked failed; skipping");
      return { kind: "done" };
    }
    if ((op === "delete" || op === "force-delete") && !hasFinalizer(extension)) return { kind: "done" };

    const started = Date.now();
    const type = lastOperationTypeFor(op, extension);

    const ctx: ActuatorContext = {
      extension,
      cluster,
      signal,
      recordProviderStatus: async (fields) => {
        extension = await writeStatus(kube, extension as Extension, (current) => ({
          providerStatus: { ...(current.status?.providerStatus ?? {}), ...fields },
        }));
        // Later writes in this reconcile start from the newest resourceVersion, not a conflict.
        ctx.extension = extension;
      },
    };
    const seconds = () => (Date.now() - started) / 1000;
    try {
      // Inside the try: a failed finalizer or annotation write is an error like any other, shown in status.
      extension = await prepare(kube, extension, op);
      extension = await writeOperationStatus(kube, extension, { type, state: "Processing", description: `${type} in progress`, progress: 10 }, true);
      ctx.extension = extension;
      const result = await runOperation(op, ctx);
      extension = ctx.extension;
      if (result.kind === "requeue") {
        extension = await writeOperationStatus(kube, extension, {
          type,
          state: "Processing",
          // "shortly" for short waits, so a wait polled often (an SVM job) keeps one description and one write.
          description: `${result.reason}; checking again ${result.afterMs < 5_000 ? "shortly" : `in ${Math.round(result.afterMs / 1000)}s`}`,
          progress: 50,
          providerStatus: result.providerStatus,
        });
        obs.onReconcile?.(op, "requeued", seconds());
        return { kind: "requeue", afterMs: result.afterMs, reason: result.reason };
      }
      await finish(kube, extension, op, type, result);
      obs.onReconcile?.(op, "succeeded", seconds());
      return { kind: "done" };
    } catch (err) {
      if (signal.aborted || isFencedError(err)) {
        // The term ended (or the process stops): not a failure of this Extension, and nothing may be written;
        // whoever leads next reconciles it.
        obs.log?.info({ extension: key, operation: op }, "reconcile stopped: this process no longer leads or is stopping");
        throw err;
      }
      const { codes, retriable, message } = classifyError(err);
      const record = recordFailure(extension);
      const state = retriable ? "Error" : "Failed";
      const description = retriable ? message : `${message} (not retried until the spec changes)`;
      obs.log?.warn({ extension: key, operation: op, codes, failures: record.count, err: message }, "operation failed");
      obs.event?.(extension, "Warning", `${type}Failed`, description);
      try {
        await writeOperationStatus(kube, extension, {
          type,
          state,
          description,
          error: { description, codes },
          escalation: escalationFor(record),
          providerStatus: { [FAILURES_FIELD]: { count: record.count, since: new Date(record.since).toISOString() } },
        });
      } catch (statusErr) {
        obs.log?.error({ extension: key, err: (statusErr as Error).message }, "could not record the failure in status");
      }
      const escalation = escalationFor(record);
      if (escalation && !record.announced) {
        obs.event?.(extension, "Warning", "Escalated", escalation.message);
      }
      obs.onFailureCount?.(namespace, name, record.count, record.escalated);
      obs.onReconcile?.(op, retriable ? "error" : "failed", seconds());
      if (retriable) throw err;
      return { kind: "done" };
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

  function runOperation(op: Operation, ctx: ActuatorContext): Promise<ActuatorResult> {
    switch (op) {
      case "delete":
        return deps.actuator.delete(ctx);
      case "force-delete":
        return deps.actuator.forceDelete(ctx);
      case "migrate":
        return deps.actuator.migrate(ctx);
      case "restore":
        return deps.actuator.restore(ctx);
      default:
        return deps.actuator.reconcile(ctx);
    }
  }

  async function finish(kube: KubeClient, extension: Extension, op: Operation, type: LastOperationType, result: Extract<ActuatorResult, { kind: "done" }>) {
    const previous = storedFailures(extension);
    const wasEscalated = isEscalated(extension);
    const clearFailures = previous ? { [FAILURES_FIELD]: null } : {};
    if (previous || wasEscalated) obs.onFailureCount?.(extension.metadata.namespace ?? "", extension.metadata.name, 0, false);
    if (op === "delete" || op === "force-delete" || op === "migrate") {
      if (op === "migrate") {
        extension = await writeOperationStatus(kube, extension, {
          type,
          state: "Succeeded",
          description: result.description,
          observedGeneration: extension.metadata.generation,
        });
      }
      // The finalizer goes last: once it is gone the object may vanish at any moment.
      const annotations = op === "migrate" ? { [OPERATION_ANNOTATION]: null } : undefined;
      await kube.mergePatch(Extensions, extension.metadata.namespace, extension.metadata.name, {
        metadata: {
          resourceVersion: extension.metadata.resourceVersion,
          finalizers: (extension.metadata.finalizers ?? []).filter((f) => op === "migrate" ? false : f !== FINALIZER),
          ...(annotations ? { annotations } : {}),
        },
      }).catch((err) => {
        if ((err as { reason?: string }).reason === "NotFound") return undefined;
        throw err;
      });
      obs.event?.(extension, "Normal", `${type}Succeeded`, result.description);
      if (op !== "migrate") obs.onGone?.(extension.metadata.namespace ?? "", extension.metadata.name);
      return;
    }
    extension = await writeOperationStatus(kube, extension, {
      type,
      state: "Succeeded",
      description: result.description,
      progress: 100,
      observedGeneration: extension.metadata.generation,
      providerStatus: result.providerStatus || previous ? { ...(result.providerStatus ?? {}), ...clearFailures } : undefined,
      escalation: wasEscalated ? { escalated: false, reason: "Recovered", message: "the last reconcile succeeded" } : undefined,
      conditions: result.conditions,
    });
    if (op === "restore") {
      await kube.mergePatch(Extensions, extension.metadata.namespace, extension.metadata.name, {
        metadata: { resourceVersion: extension.metadata.resourceVersion, annotations: { [OPERATION_ANNOTATION]: null } },
      });
    }
  }

  /** This failure added to the ones status already counts (from whichever process wrote them). */
  function recordFailure(extension: Extension): FailureRecord {
    const stored = storedFailures(extension);
    const storedSince = stored?.since ? Date.parse(stored.since) : Number.NaN;
    const since = Number.isFinite(storedSince) ? storedSince : now().getTime();
    const count = (typeof stored?.count === "number" && stored.count > 0 ? stored.count : 0) + 1;
    const escalated = count >= deps.escalation.consecutiveFailures || now().getTime() - since >= deps.escalation.afterMs;
    return { count, since, escalated, announced: isEscalated(extension) };
  }

  function escalationFor(record: FailureRecord): StatusUpdate["escalation"] {
    if (!record.escalated) return undefined;
    const seconds = Math.round((now().getTime() - record.since) / 1000);
    const span = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
    return {
      escalated: true,
      reason: "RepeatedFailures",
      message: `${record.count} consecutive failures over ${span} without success; an operator should look (gardener-extension-ontap doctor)`,
    };
  }

  function writeOperationStatus(
    kube: KubeClient,
    extension: Extension,
    update: StatusUpdate,
    skipIfSettled = false,
  ): Promise<Extension> {
    // A periodic re-check of a settled Extension need not announce Processing: it writes only on change.
    if (skipIfSettled) {
      const last = extension.status?.lastOperation;
      const settled =
        last?.state === "Succeeded" &&
        extension.status?.observedGeneration === extension.metadata.generation &&
        !extension.metadata.deletionTimestamp &&
        (last.type === "Reconcile" || last.type === "Create") &&
        (update.type === "Reconcile" || update.type === "Create");
      // A requeued operation (an SVM job, the CRDs) already says Processing, with what it waits for: rewriting
      // it to "in progress" and back would cost two writes per look.
      const stillProcessing = last?.state === "Processing" && last.type === update.type && update.state === "Processing";
      if (settled || stillProcessing) return Promise.resolve(extension);
    }
    return writeStatus(kube, extension, (current) => buildStatusPatch(current, update, now()));
  }

  /** Merge-patches status with the object's resourceVersion; on conflict re-reads and re-applies our fields only. */
  async function writeStatus(
    kube: KubeClient,
    extension: Extension,
    makePatch: (current: Extension) => Record<string, unknown>): Promise<Extension> {
    let current = extension;
    for (let attempt = 0; ; attempt++) {
      const patch = makePatch(current);
      if (statusPatchIsNoop(current, patch)) return current;
      try {
        return await kube.mergePatch<Extension>(
          Extensions,
          current.metadata.namespace,
          current.metadata.name,
          { metadata: { resourceVersion: current.metadata.resourceVersion }, status: patch },
          { subresource: "status" },
        );
      } catch (err) {
        if ((err as { reason?: string }).reason !== "Conflict" || attempt >= STATUS_CONFLICT_RETRIES) throw err;
        const fresh = await kube.get<Extension>(Extensions, current.metadata.namespace, current.metadata.name);
        if (!fresh) throw err;
        current = fresh;
      }
    }
  }

  return { reconcile };
}
