import type { NamedResourceReference } from "../extension/types.js";
import type { KubeClient } from "../kube/client.js";
import { Secrets } from "../kube/resources.js";
import { done, requeue, type Requeue, type StepResult } from "../runtime/result.js";
import { componentNamesInDestroyOrder } from "./components.js";
import type { DeletionWaits } from "./deletion-waits.js";
import type { TeardownPlan } from "./plan.js";
import type { OperationIo } from "./step.js";
import { deleteGoSecret, takeoverForbiddenMessage } from "./go-secrets.js";
import { teardownOntap } from "./teardown.js";
import { type AbsentManagedResources, destroyComponents, type ManagedResourceCache } from "./trident.js";

/** What the delete steps share for the life of the actuator. */
export interface DeleteStepDeps {
  svmDeletionPolicy: "DeleteWhenUnused" | "Retain";
  pollMs: number;
  /** Where a step that waits for a ManagedResource to be gone says so, for the watch to wake it. */
  deletionWaits?: DeletionWaits;
  /** ManagedResources confirmed gone (shared with the reconcile steps) and the cache that says one is back. */
  gone?: { absent: AbsentManagedResources; cache?: ManagedResourceCache };
}

/** The Secret name the credentials step writes when no plan can be made (inputs gone bad). */
const DEFAULT_SECRET_NAME = "ontap-svm-credentials";

/**
 * The delete's steps as plain functions of one operation (`io`); what they share for the life of the process
 * is built here, once. The actuator (actuator.ts) calls them in order.
 */
export function createDeleteSteps(deps: DeleteStepDeps) {
  const gone = deps.gone ? { gone: deps.gone } : {};
  const waitGone = (key: string, namespace: string, left: string[], reason: string): Requeue => {
    deps.deletionWaits?.wait(key, namespace, left[0] as string);
    return requeue(deps.pollMs, reason);
  };

  return {
    /** Requeue until the first of `left` is gone: its delete event wakes the reconcile, the poll is the fallback. */
    waitGone,

    /**
     * Every ManagedResource backward, each gone before the next is touched: Trident's (the operator and
     * backends before their CRDs), then the shoot webhook's (it mutates Trident's pods while they exist).
     */
    async destroyComponents(io: OperationIo, namespace: string): Promise<StepResult<void>> {
      const left = await destroyComponents(io.kube, namespace, componentNamesInDestroyOrder(), { wait: true, ...gone });
      if (left.length > 0) return waitGone(io.key, namespace, left, `waiting for ManagedResource ${left.join(", ")} to be deleted`);
      return done(undefined);
    },

    /** This shoot's user on ONTAP, and the SVM when nobody else uses it (teardown.ts); answers what it removed. */
    teardownOntap(io: OperationIo, plan: TeardownPlan): Promise<StepResult<string>> {
      return teardownOntap({ metro: io.metro, clients: io.clients, policy: deps.svmDeletionPolicy, pollMs: deps.pollMs }, plan);
    },

    /** The seed Secrets (the current one and the Go extension's legacy one). */
    async deleteSeedSecrets(io: OperationIo, plan: TeardownPlan | undefined, namespace: string): Promise<StepResult<void>> {
      await deleteSeedSecret(io.kube, plan, namespace);
      // A leftover of the Go extension; without the chart's takeover grant (403) there is none this controller may remove.
      if (plan && !(await deleteGoSecret(io.kube, plan.legacySecret))) io.event("Normal", "TakeoverSkipped", takeoverForbiddenMessage(plan.legacySecret));
      return done(undefined);
    },
  };
}

/** The current seed Secret only. */
async function deleteSeedSecret(kube: KubeClient, plan: TeardownPlan | undefined, namespace: string): Promise<void> {
  await kube.delete(Secrets, plan?.secret.namespace ?? namespace, plan?.secret.name ?? DEFAULT_SECRET_NAME);
}

/** The name under which `status.resources` lists the seed Secret. */
export const CREDENTIALS_RESOURCE = "svm-credentials";

/** The `status.resources` entry of the seed Secret `name` (in the shoot namespace, where gardenlet looks). */
export function credentialsResource(name: string): NamedResourceReference {
  return { name: CREDENTIALS_RESOURCE, resourceRef: { apiVersion: "v1", kind: "Secret", name } };
}

/**
 * What migrate hands gardenlet: the seed Secret, kept (not deleted) and referenced in `status.resources`.
 * gardenlet reads it after Migrate into the ShootState and re-creates it in the shoot namespace of the new seed
 * before Restore, so Restore proves the password Trident in the shoot holds instead of rotating it away; the old
 * seed's copy goes with its shoot namespace. The legacy Secret in kube-system stays where it is (a takeover).
 * None left to carry: an empty list, so no reference to a missing object is persisted.
 */
export async function credentialsToCarry(kube: KubeClient, plan: TeardownPlan | undefined, namespace: string): Promise<NamedResourceReference[]> {
  const name = plan?.secret.name ?? DEFAULT_SECRET_NAME;
  const secret = await kube.get(Secrets, plan?.secret.namespace ?? namespace, name);
  return secret ? [credentialsResource(name)] : [];
}
