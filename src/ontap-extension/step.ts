import type { ActuatorContext } from "../extension/actuator.js";
import { codeForInfraError, ExtensionError } from "../extension/errors.js";
import type { KubeClient } from "../kube/client.js";
import type { MetroCluster, OntapClient } from "../ontap/index.js";
import { isFencedError } from "../runtime/fence.js";
import type { StepResult } from "../runtime/result.js";

/** The label of `step_outcomes_total` and the name in a wrapped error (metrics/index.ts lists the same). */
export type StepName = "svm" | "lifs" | "credentials" | "seed_secret_write" | "trident" | "webhook";

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
  /** Runs a step: its outcome counted, an unexpected error turned into a retriable ExtensionError naming it. */
  run<In, Out>(step: Step<In, Out>, input: In): Promise<StepResult<Out>>;
}

/**
 * The one shape of every actuator step: it observes what exists, acts only where that differs from what it
 * wants, emits the events of what it did, and answers done (with what it established) or requeue (what it
 * waits for). Errors are thrown.
 */
export interface Step<In, Out> {
  name: StepName;
  run(input: In, io: OperationIo): Promise<StepResult<Out>>;
}

/** The runner behind `OperationIo.run`. */
export async function runStep<In, Out>(
  step: Step<In, Out>,
  input: In,
  io: OperationIo,
  onStep?: (step: StepName, outcome: StepOutcome) => void,
): Promise<StepResult<Out>> {
  try {
    const result = await step.run(input, io);
    onStep?.(step.name, result.kind === "requeue" ? "requeue" : "ok");
    return result;
  } catch (err) {
    onStep?.(step.name, "failed");
    if (err instanceof ExtensionError || isFencedError(err)) throw err;
    throw new ExtensionError(
      `step ${step.name} failed: ${(err as Error | undefined)?.message ?? String(err)}; will retry`,
      [codeForInfraError(err)],
      true,
      { cause: err },
    );
  }
}
