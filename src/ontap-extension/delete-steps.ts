import type { KubeClient } from "../kube/client.js";
import { Secrets } from "../kube/resources.js";
import { done, requeue } from "../runtime/result.js";
import { SHOOT_WEBHOOK_MR_NAME, TRIDENT_MANAGED_RESOURCE_NAMES } from "../trident/index.js";
import type { DeletionWaits } from "./deletion-waits.js";
import type { TeardownPlan } from "./plan.js";
import type { Step } from "./step.js";
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

export interface NamespaceInput {
  namespace: string;
}
export interface SeedSecretsInput {
  /** Undefined when the inputs went bad after creation: then the Secret under its default name goes. */
  plan: TeardownPlan | undefined;
  namespace: string;
}

/** The Secret name the credentials step writes when no plan can be made (inputs gone bad). */
const DEFAULT_SECRET_NAME = "ontap-svm-credentials";

export function createDeleteSteps(deps: DeleteStepDeps) {
  /** Requeue until the first of `left` is gone: its delete event wakes the reconcile, the poll is the fallback. */
  const waitGone = (key: string, namespace: string, left: string[], reason: string) => {
    deps.deletionWaits?.wait(key, namespace, left[0] as string);
    return requeue(deps.pollMs, reason);
  };
  /** Trident's ManagedResources, backward (the operator and backends before their CRDs), each gone before done. */
  const destroyTrident: Step<NamespaceInput, void> = {
    name: "trident",
    async run({ namespace }, io) {
      const left = await destroyComponents(io.kube, namespace, tridentNamesInDestroyOrder(), { wait: true, ...(deps.gone ? { gone: deps.gone } : {}) });
      if (left.length > 0) return waitGone(io.key, namespace, left, `waiting for ManagedResource ${left.join(", ")} to be deleted`);
      return done(undefined);
    },
  };

  /** The shoot webhook's ManagedResource, after Trident's (the webhook mutates Trident's pods while they exist). */
  const destroyWebhook: Step<NamespaceInput, void> = {
    name: "webhook",
    async run({ namespace }, io) {
      const left = await destroyComponents(io.kube, namespace, [SHOOT_WEBHOOK_MR_NAME], { wait: true, ...(deps.gone ? { gone: deps.gone } : {}) });
      if (left.length > 0) return waitGone(io.key, namespace, left, `waiting for ManagedResource ${SHOOT_WEBHOOK_MR_NAME} to be deleted`);
      return done(undefined);
    },
  };

  /** This shoot's user on ONTAP, and the SVM when nobody else uses it (teardown.ts); answers what it removed. */
  const teardown: Step<TeardownPlan, string> = {
    name: "svm",
    run: (plan, io) => teardownOntap({ metro: io.metro, clients: io.clients, policy: deps.svmDeletionPolicy, pollMs: deps.pollMs }, plan),
  };

  /** The seed Secrets (the current one and the Go extension's legacy one). */
  const seedSecrets: Step<SeedSecretsInput, void> = {
    name: "seed_secret_write",
    async run({ plan, namespace }, io) {
      await deleteSeedSecret(io.kube, plan, namespace);
      if (plan) await io.kube.delete(Secrets, plan.legacySecret.namespace, plan.legacySecret.name);
      return done(undefined);
    },
  };

  return { destroyTrident, destroyWebhook, teardown, seedSecrets, waitGone };
}

/** The current seed Secret only (migrate keeps the legacy one where it is). */
export async function deleteSeedSecret(kube: KubeClient, plan: TeardownPlan | undefined, namespace: string): Promise<void> {
  await kube.delete(Secrets, plan?.secret.namespace ?? namespace, plan?.secret.name ?? DEFAULT_SECRET_NAME);
}

/** Every ManagedResource in the order a teardown removes them: Trident's backward, then the webhook's. */
export function managedResourcesInDestroyOrder(): string[] {
  return [...tridentNamesInDestroyOrder(), SHOOT_WEBHOOK_MR_NAME];
}

function tridentNamesInDestroyOrder(): string[] {
  // Reverse of creation: the operator and backends go before their CRDs.
  return [...TRIDENT_MANAGED_RESOURCE_NAMES].reverse();
}
