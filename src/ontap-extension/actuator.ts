import type { ComponentConfig } from "../config/component-config.js";
import type { Actuator, ActuatorContext, ActuatorResult } from "../extension/actuator.js";
import type { KubeClient } from "../kube/client.js";
import { scopeKubeClient } from "../kube/scoped.js";
import { createMetroCluster, type OntapClient, type OntapRequestEvent, scopeOntapClient } from "../ontap/index.js";
import { done, type StepResult } from "../runtime/result.js";
import { MR_TRIDENT_CRDS } from "../trident/index.js";
import { type CrdWaits, createCrdWaits } from "./crd-waits.js";
import type { DeletionWaits } from "./deletion-waits.js";
import { componentNamesInDestroyOrder } from "./components.js";
import { createDeleteSteps, deleteSeedSecret } from "./delete-steps.js";
import { createClusterwideNetworkPolicyRule } from "./firewall.js";
import { decodeShootInputs } from "./inputs.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { planShoot, planTeardown, type ShootPlan, type TeardownPlan } from "./plan.js";
import { createReconcileSteps, credentialsCondition, type OntapOutcome } from "./reconcile-steps.js";
import { tridentCrdsToRelease } from "./release-crds.js";
import { awaitedLater, type CountedName, type OperationIo, runStep, type StepName, type StepOutcome } from "./step.js";
import { createSvmJobTracker } from "./svm.js";
import { type AbsentManagedResources, destroyComponents, type ManagedResourceCache } from "./trident.js";

export { CREDENTIALS_CONDITION, type OntapOutcome } from "./reconcile-steps.js";
export type { CountedName, StepName } from "./step.js";

export interface ActuatorDeps {
  kube: KubeClient;
  /** One client per configured cluster; the SVM lookup across them is built per operation (scoped). */
  clients: ReadonlyMap<string, OntapClient>;
  config: ComponentConfig;
  /** Informer caches that spare a no-op reconcile its ManagedResource reads. */
  managedResourceCache?: ManagedResourceCache;
  /** The shoot webhook's address and CA, when this controller serves one. */
  shootWebhook?: { url: string; caBundle: string };
  onStep?: (name: CountedName, outcome: StepOutcome) => void;
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
 * The ONTAP storage actuator, each operation top-down. Reconcile: trident-crds written first (the resource
 * manager applies it while ONTAP is worked on), svm -> lifs -> credentials, Trident rendered, then Trident and
 * the webhook at once, then what status shows. Delete: the ManagedResources backward, ONTAP, the seed Secrets.
 * The steps are plain functions (reconcile-steps.ts, delete-steps.ts) whose shared parts are built here once;
 * `step(name, ...)` counts each one's outcome and names it in an unexpected error.
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
  const deleteSteps = createDeleteSteps({
    svmDeletionPolicy: deps.config.svmDeletionPolicy,
    pollMs,
    ...(deps.deletionWaits ? { deletionWaits: deps.deletionWaits } : {}),
    gone: { absent, ...(deps.managedResourceCache ? { cache: deps.managedResourceCache } : {}) },
  });
  const step = <T>(name: StepName, run: () => Promise<StepResult<T>>) => runStep(name, run, deps.onStep);

  /** The dependencies of one operation, built once: scoped clients, the key, events. */
  function operationIo(ctx: ActuatorContext): OperationIo {
    const scope = { signal: ctx.signal, ...(deps.fence ? { beforeWrite: deps.fence } : {}), ...(ctx.writable ? { writesAfter: ctx.writable } : {}) };
    const clients = new Map([...deps.clients].map(([name, client]) => [name, scopeOntapClient(client, scope)]));
    return {
      ctx,
      kube: scopeKubeClient(deps.kube, scope),
      clients,
      metro: createMetroCluster([...clients.values()]),
      key: `${ctx.extension.metadata.namespace ?? ""}/${ctx.extension.metadata.name}`,
      event: (type, reason, message) => deps.event?.(ctx, type, reason, message),
    };
  }

  async function reconcile(ctx: ActuatorContext): Promise<ActuatorResult> {
    const plan = planShoot(decodeShootInputs(ctx.extension, ctx.cluster));
    const io = operationIo(ctx);
    const namespace = plan.inputs.shootNamespace;
    const releaseCrds = tridentCrdsToRelease(deps.managedResourceCache?.managedResource(namespace, MR_TRIDENT_CRDS));
    // The rest of Trident waits until trident-crds is healthy: written first, the resource manager applies it
    // while the ONTAP steps run.
    const crdsWritten = awaitedLater(step("trident_crds", () => steps.tridentCrds(io, namespace, releaseCrds)));
    const ontap = continuationAfterCrdWait(io) ?? (await ontapSteps(io, plan));
    await crdsWritten;
    if (ontap.kind === "requeue") return ontap;

    const plans = await step("trident_render", () => steps.renderTrident(plan, ontap.value.creds, releaseCrds));
    if (plans.kind === "requeue") return plans;
    // Trident's components and the shoot webhook do not depend on each other: both are written at once.
    const [trident, webhook] = await Promise.all([
      step("trident", () => steps.trident(io, namespace, plans.value, ontap.value)),
      step("webhook", () => steps.webhook(io, namespace)),
    ]);
    if (trident.kind === "requeue") return trident;
    if (webhook.kind === "requeue") return webhook;
    return reconciled(plan, ontap.value);
  }

  /** The ONTAP part of a reconcile, in order: the SVM, its LIFs, the shoot user's proven credentials. */
  async function ontapSteps(io: OperationIo, plan: ShootPlan): Promise<StepResult<OntapOutcome>> {
    const seedSecrets = steps.readSeedSecretsBesideSvmLookup(io, plan);
    const svm = await step("svm", () => steps.svm(io, plan));
    if (svm.kind === "requeue") return svm;
    const lifs = await step("lifs", () => steps.lifs(io, plan, svm.value));
    if (lifs.kind === "requeue") return lifs;
    const creds = await step("credentials", () => steps.credentials(io, plan, svm.value, seedSecrets));
    if (creds.kind === "requeue") return creds;
    return done({ cluster: svm.value.cluster, svm: svm.value.svm, lifs: lifs.value, creds: creds.value, at: now().getTime() });
  }

  /** The pass after one that stopped only to wait for trident-crds continues from what it established on ONTAP. */
  function continuationAfterCrdWait(io: OperationIo): StepResult<OntapOutcome> | undefined {
    const remembered = crdWaits.take(io.key, io.ctx.extension.metadata.generation);
    return remembered ? done(remembered) : undefined;
  }

  /** ManagedResources first (backward, each gone before the next, the webhook last), then ONTAP, then the Secret. */
  async function remove(ctx: ActuatorContext): Promise<ActuatorResult> {
    const io = operationIo(ctx);
    crdWaits.forget(io.key);
    deps.deletionWaits?.forget(io.key);
    const plan = planShootForTeardown(ctx);
    const namespace = ctx.extension.metadata.namespace ?? "";
    const components = await step("components_destroy", () => deleteSteps.destroyComponents(io, namespace));
    if (components.kind === "requeue") return components;
    if (!plan) {
      await step("seed_secrets_delete", () => deleteSteps.deleteSeedSecrets(io, plan, namespace));
      return { kind: "done", description: "no valid inputs; removed seed-side state only" };
    }
    const ontap = await step("ontap_teardown", () => deleteSteps.teardownOntap(io, plan));
    if (ontap.kind === "requeue") return ontap;
    await step("seed_secrets_delete", () => deleteSteps.deleteSeedSecrets(io, plan, namespace));
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
    await destroyComponents(io.kube, namespace, componentNamesInDestroyOrder(), { wait: false });
    await step("seed_secrets_delete", () => deleteSteps.deleteSeedSecrets(io, planShootForTeardown(ctx), namespace));
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
    const left = await destroyComponents(kube, namespace, componentNamesInDestroyOrder(), { keepObjects: true, wait: true });
    if (left.length > 0) {
      return deleteSteps.waitGone(key, namespace, left, `migrate: waiting for ManagedResource ${left.join(", ")} to be deleted (objects kept in the shoot)`);
    }
    await deleteSeedSecret(kube, planShootForTeardown(ctx), namespace);
    return { kind: "done", description: "migrated: seed-side state released, shoot objects and ONTAP kept" };
  }

  return { reconcile, restore: reconcile, delete: remove, forceDelete, migrate };
}

/** What status shows of a reconcile that established everything. */
function reconciled(plan: ShootPlan, { cluster, svm, lifs, creds, at }: OntapOutcome): ActuatorResult {
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

/** Delete must work even when the inputs went bad after creation: it goes by what the status recorded (plan.ts). */
function planShootForTeardown(ctx: ActuatorContext): TeardownPlan | undefined {
  return planTeardown(ctx.extension, ctx.cluster);
}
