import type { ActuatorContext } from "../extension/actuator.js";
import { codeForInfraError, ExtensionError } from "../extension/errors.js";
import type { KubeClient } from "../kube/client.js";
import type { MetroCluster, OntapClient } from "../ontap/index.js";
import { isFencedError } from "../runtime/fence.js";
import type { StepResult } from "../runtime/result.js";

/**
 * Every step of every operation, one name each: the label of `step_outcomes_total` and the name in a wrapped
 * error (metrics/index.ts lists the same). Reconcile: svm, lifs, credentials, trident_crds (written beside the
 * ONTAP steps), trident_render, trident, webhook. Delete: components_destroy, ontap_teardown,
 * seed_secrets_delete.
 */
export type StepName =
  | "svm"
  | "lifs"
  | "credentials"
  | "trident_crds"
  | "trident_render"
  | "trident"
  | "webhook"
  | "components_destroy"
  | "ontap_teardown"
  | "seed_secrets_delete";

/** What `step_outcomes_total` counts: the steps, and every write of the seed Secret inside `credentials`. */
export type CountedName = StepName | "seed_secret_write";

export type StepOutcome = "ok" | "requeue" | "failed";

/**
 * What one operation on one Extension works with, built once when the operation starts: clients scoped to
 * it (every call carries its signal, every write passes the fence), where it lives, and how it reports.
 */
export interface OperationIo {
  ctx: ActuatorContext;
  kube: KubeClient;
  /** One client per configured cluster, scoped like `kube`. */
  clients: ReadonlyMap<string, OntapClient>;
  /** The SVM lookup across `clients`. */
  metro: MetroCluster;
  /** `namespace/name` of the Extension. */
  key: string;
  /** An event on the Extension. */
  event(type: "Normal" | "Warning", reason: string, message: string): void;
}

/**
 * Runs one step: its outcome counted under `name`, an unexpected error turned into a retriable ExtensionError
 * naming it (an ExtensionError or a fenced write passes as it is). A step observes what exists, acts only
 * where that differs from what it wants, and answers done (with what it established) or requeue (what it
 * waits for); errors are thrown.
 */
export async function runStep<T>(
  name: StepName,
  run: () => Promise<StepResult<T>>,
  onStep?: (name: CountedName, outcome: StepOutcome) => void,
): Promise<StepResult<T>> {
  try {
    const result = await run();
    onStep?.(name, result.kind === "requeue" ? "requeue" : "ok");
    return result;
  } catch (err) {
    onStep?.(name, "failed");
    if (err instanceof ExtensionError || isFencedError(err)) throw err;
    throw new ExtensionError(
      `step ${name} failed: ${(err as Error | undefined)?.message ?? String(err)}; will retry`,
      [codeForInfraError(err)],
      true,
      { cause: err },
    );
  }
}

/** A step's promise started ahead of where it is awaited: a failure meanwhile must not surface as an unhandled rejection. */
export function awaitedLater<T>(started: Promise<T>): Promise<T> {
  started.catch(() => undefined);
  return started;
}
