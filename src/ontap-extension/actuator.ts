import type { ComponentConfig } from "../config/component-config.js";
import type { Actuator, ActuatorContext, ActuatorResult } from "../extension/actuator.js";
import type { KubeClient } from "../kube/client.js";
import { scopeKubeClient } from "../kube/scoped.js";
import { createMetroCluster, type OntapClient, type OntapRequestEvent, scopeOntapClient } from "../ontap/index.js";
import { done } from "../runtime/result.js";
import { MR_TRIDENT_CRDS } from "../trident/index.js";
import { type CrdWaits, createCrdWaits } from "./crd-waits.js";
import type { DeletionWaits } from "./deletion-waits.js";
import { createDeleteSteps, deleteSeedSecret, managedResourcesInDestroyOrder } from "./delete-steps.js";
import { createClusterwideNetworkPolicyRule } from "./firewall.js";
import { decodeShootInputs } from "./inputs.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { planShoot, planTeardown, type TeardownPlan } from "./plan.js";
import { createReconcileSteps, credentialsCondition, ensureOntap, type OntapOutcome } from "./reconcile-steps.js";
import { tridentCrdsToRelease } from "./release-crds.js";
import { type OperationIo, runStep, type StepName, type StepOutcome } from "./step.js";
import { createSvmJobTracker } from "./svm.js";
import { type AbsentManagedResources, destroyComponents, type ManagedResourceCache } from "./trident.js";

export { CREDENTIALS_CONDITION, type OntapOutcome } from "./reconcile-steps.js";
export type { StepName } from "./step.js";

export interface ActuatorDeps {
  kube: KubeClient;
  /** One client per configured cluster; the SVM lookup across them is built per operation (scoped). */
  clients: ReadonlyMap<string, OntapClient>;
  config: ComponentConfig;
  /** Informer caches that spare a no-op reconcile its ManagedResource reads. */
  managedResourceCache?: ManagedResourceCache;
  /** The shoot webhook's address and CA, when this controller serves one. */
  shootWebhook?: { url: string; caBundle: string };
  onStep?: (step: StepName, outcome: StepOutcome) => void;
  event?: (ctx: ActuatorContext, type: "Normal" | "Warning", reason: string, message: string) => void;
  pollMs?: number;
  now?: () => Date;
  /**
   * The write fence, called immediately before every ONTAP and seed write (the manager's `checkWrite`):
   * throws when this process stopped leading, so no write is sent after the term ended.
   */
  fence?: () => void;
  /** Every ONTAP request outside the cluster clients (the credential check at an SVM management LIF), for metrics. */
  onOntapRequest?: (ev: OntapRequestEvent) => void;
  /** Pools to the SVM management LIFs under the clusters' gates, kept between reconciles; default: one per check. */
  managementLifClients?: ManagementLifClients;
  /** Who waits for trident-crds (shared with the controller's ManagedResource watch); default: its own. */
  crdWaits?: CrdWaits<OntapOutcome>;
  /** Who waits for a ManagedResource to be gone (shared with the same watch); without it only the poll wakes them. */
  deletionWaits?: DeletionWaits;
}

/** How long a reconcile that waits for something not ready yet (an SVM job, healthy CRDs) waits by default (`run --poll-seconds`). */
export const DEFAULT_POLL_MS = 2000;

/**
 * The ONTAP storage actuator. Reconcile: trident-crds (beside) svm -> lifs -> credentials, then the Trident
 * plans, then Trident and the webhook at once. Delete: Trident backward, the webhook, ONTAP, the seed Secrets.
 * Every step has one shape (step.ts); the steps live in reconcile-steps.ts and delete-steps.ts.
 */
export function createOntapActuator(deps: ActuatorDeps): Actuator {
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS;
  const now = deps.now ?? (() => new Date());
  const crdWaits = deps.crdWaits ?? createCrdWaits<OntapOutcome>();
  const absent: AbsentManagedResources = new Set();
  const steps = createReconcileSteps({
    config: deps.config,
    pollMs,
    svmJobs: createSvmJobTracker(),
    crdWaits,
    ...(deps.managedResourceCache ? { managedResourceCache: deps.managedResourceCache } : {}),
    absentManagedResources: absent,
    firewallNamespaceExists: createClusterwideNetworkPolicyRule(deps.kube, deps.config.clusterwideNetworkPolicy),
    ...(deps.shootWebhook ? { shootWebhook: deps.shootWebhook } : {}),
    ...(deps.onStep ? { onStep: deps.onStep } : {}),
    ...(deps.onOntapRequest ? { onOntapRequest: deps.onOntapRequest } : {}),
    ...(deps.managementLifClients ? { managementLifClients: deps.managementLifClients } : {}),
  });
  const teardown = createDeleteSteps({
    svmDeletionPolicy: deps.config.svmDeletionPolicy,
    pollMs,
    ...(deps.deletionWaits ? { deletionWaits: deps.deletionWaits } : {}),
    gone: { absent, ...(deps.managedResourceCache ? { cache: deps.managedResourceCache } : {}) },
  });

  /** The dependencies of one operation, built once: scoped clients, the key, events, the step runner. */
  function operationIo(ctx: ActuatorContext): OperationIo {
    const scope = { signal: ctx.signal, ...(deps.fence ? { beforeWrite: deps.fence } : {}), ...(ctx.writable ? { writesAfter: ctx.writable } : {}) };
    const clients = new Map([...deps.clients].map(([name, client]) => [name, scopeOntapClient(client, scope)]));
    const io: OperationIo = {
      ctx,
      kube: scopeKubeClient(deps.kube, scope),
      clients,
      metro: createMetroCluster([...clients.values()]),
      key: `${ctx.extension.metadata.namespace ?? ""}/${ctx.extension.metadata.name}`,
      event: (type, reason, message) => deps.event?.(ctx, type, reason, message),
      run: (step, input) => runStep(step, input, io, deps.onStep),
    };
    return io;
  }

  async function reconcile(ctx: ActuatorContext): Promise<ActuatorResult> {
    const plan = planShoot(decodeShootInputs(ctx.extension, ctx.cluster));
    const io = operationIo(ctx);
    const namespace = plan.inputs.shootNamespace;
    const releaseCrds = tridentCrdsToRelease(deps.managedResourceCache?.managedResource(namespace, MR_TRIDENT_CRDS));
    // The rest of Trident waits until trident-crds is healthy: written first, the resource manager applies it
    // while the ONTAP steps run.
    const crdsWritten = io.run(steps.tridentCrds, { namespace, releaseCrds });
    // Awaited below; a failure meanwhile must not surface as an unhandled rejection.
    crdsWritten.catch(() => undefined);
    // The pass after a wait for trident-crds continues from what the pass before established on ONTAP.
    const remembered = crdWaits.take(io.key, ctx.extension.metadata.generation);
    const ontap = remembered ? done(remembered) : await ensureOntap(steps, plan, io, now);
    await crdsWritten;
    if (ontap.kind === "requeue") return ontap;
    const { cluster, svm, lifs, creds, at } = ontap.value;

    const plans = await io.run(steps.tridentPlans, { plan, creds, releaseCrds });
    if (plans.kind === "requeue") return plans;
    // Trident's components and the shoot webhook do not depend on each other: both are written at once.
    const [trident, webhook] = await Promise.all([
      io.run(steps.trident, { namespace, plans: plans.value, ontap: ontap.value }),
      io.run(steps.webhook, { namespace }),
    ]);
    if (trident.kind === "requeue") return trident;
    if (webhook.kind === "requeue") return webhook;

    const userState = creds.verification.verified ? "verified" : "not verified (management LIF unreachable)";
    return {
      kind: "done",
      description: `SVM ${svm.name} on ${cluster} with ${plan.lifs.length} LIFs, user ${creds.username} ${userState}, Trident deployed`,
      conditions: [credentialsCondition(creds, plan.inputs.managementLif)],
      providerStatus: {
        cluster,
        svmName: svm.name,
        svmUuid: svm.uuid,
        lifs: lifs.lifs,
        user: creds.username,
        secretRef: { namespace: plan.secret.namespace, name: plan.secret.name },
        lastVerification: new Date(at).toISOString(),
      },
    };
  }

  /** ManagedResources first (backward, each gone before the next, the webhook last), then ONTAP, then the Secret. */
  async function remove(ctx: ActuatorContext): Promise<ActuatorResult> {
    const io = operationIo(ctx);
    crdWaits.forget(io.key);
    deps.deletionWaits?.forget(io.key);
    const plan = planShootForTeardown(ctx);
    const namespace = ctx.extension.metadata.namespace ?? "";
    const trident = await io.run(teardown.destroyTrident, { namespace });
    if (trident.kind === "requeue") return trident;
    const webhook = await io.run(teardown.destroyWebhook, { namespace });
    if (webhook.kind === "requeue") return webhook;
    if (!plan) {
      await io.run(teardown.seedSecrets, { plan, namespace });
      return { kind: "done", description: "no valid inputs; removed seed-side state only" };
    }
    const ontap = await io.run(teardown.teardown, plan);
    if (ontap.kind === "requeue") return ontap;
    await io.run(teardown.seedSecrets, { plan, namespace });
    return { kind: "done", description: ontap.value };
  }

  /**
   * Force-delete is the operator saying ONTAP cannot be reached or must not be waited for: only seed-side
   * state goes; the SVM user stays on ONTAP and is visible to `doctor`. It issues every delete and does not
   * wait for the resource manager: Gardener force-deletes when the shoot's control plane may be unable to
   * finish anything, so waiting could block the deletion forever. The ManagedResource deletes are not a step:
   * their errors reach status as they are.
   */
  async function forceDelete(ctx: ActuatorContext): Promise<ActuatorResult> {
    const io = operationIo(ctx);
    const namespace = ctx.extension.metadata.namespace ?? "";
    await destroyComponents(io.kube, namespace, managedResourcesInDestroyOrder(), { wait: false });
    await io.run(teardown.seedSecrets, { plan: planShootForTeardown(ctx), namespace });
    return { kind: "done", description: "force-deleted: seed-side state removed, ONTAP left as is" };
  }

  /**
   * Migrate releases seed-side state only, keeping the shoot's objects (keepObjects) and ONTAP untouched, and
   * is done only once every ManagedResource is gone (else the old seed's resource manager could still act on
   * them while the new seed restores). Restore on the new seed rebuilds it, the credentials step re-creating
   * the Secret. Not steps either: errors reach status as they are.
   */
  async function migrate(ctx: ActuatorContext): Promise<ActuatorResult> {
    const { kube, key } = operationIo(ctx);
    const namespace = ctx.extension.metadata.namespace ?? "";
    deps.deletionWaits?.forget(key);
    const left = await destroyComponents(kube, namespace, managedResourcesInDestroyOrder(), { keepObjects: true, wait: true });
    if (left.length > 0) {
      return teardown.waitGone(key, namespace, left, `migrate: waiting for ManagedResource ${left.join(", ")} to be deleted (objects kept in the shoot)`);
    }
    await deleteSeedSecret(kube, planShootForTeardown(ctx), namespace);
    return { kind: "done", description: "migrated: seed-side state released, shoot objects and ONTAP kept" };
  }

  return { reconcile, restore: reconcile, delete: remove, forceDelete, migrate };
}

/** Delete must work even when the inputs went bad after creation: it goes by what the status recorded (plan.ts). */
function planShootForTeardown(ctx: ActuatorContext): TeardownPlan | undefined {
  return planTeardown(ctx.extension, ctx.cluster);
}
