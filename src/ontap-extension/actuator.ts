import type { ComponentConfig } from "../config/component-config.js";
import type { Actuator, ActuatorContext, ActuatorResult } from "../extension/actuator.js";
import type { KubeClient } from "../kube/client.js";
import { scopeKubeClient } from "../kube/scoped.js";
import { createMetroCluster, type OntapClient, type OntapRequestEvent, scopeOntapClient } from "../ontap/index.js";
import { done, type Requeue, type StepResult } from "../runtime/result.js";
import { Secrets } from "../kube/resources.js";
import {
  MR_TRIDENT_CRDS,
  MR_TRIDENT_INIT,
  managedResourceSecretName,
  type TridentSelection,
  tridentVersionInManagedResourceSecret,
} from "../trident/index.js";
import { type CrdWaits, createCrdWaits } from "./crd-waits.js";
import type { DeletionWaits } from "./deletion-waits.js";
import { componentNamesInDestroyOrder } from "./components.js";
import { createDeleteSteps, credentialsResource, credentialsToCarry } from "./delete-steps.js";
import { createClusterwideNetworkPolicyRule } from "./firewall.js";
import { decodeShootInputs } from "./inputs.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { planShoot, planTeardown, type ShootPlan, type TeardownPlan } from "./plan.js";
import { createReconcileSteps, credentialsCondition, type OntapOutcome, type TridentShootFacts } from "./reconcile-steps.js";
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
    if (ontap.kind === "requeue") {
      await crdsWritten;
      return ontap;
    }

    // The shoot's components are deployed with the password in hand while a new password is still proven and
    // promoted: it was stored before ONTAP saw it (secret first). Succeeded waits for both branches.
    const [established, deployed] = await bothSettled(
      ontap.value.established,
      crdsWritten.then(() => deployShootComponents(io, plan, ontap.value.credentials, releaseCrds)),
    );
    if (deployed.kind === "trident-requeued") return steps.waitForTridentCrds(io, namespace, deployed.result, established);
    if (deployed.kind === "requeue") return deployed;
    return reconciled(plan, established, deployed.value);
  }

  /**
   * The ONTAP part of a reconcile, in order: the SVM, its LIFs, the shoot user's credentials. Answers once the
   * password is on ONTAP and stored; `established` is the whole outcome once a new password's proof and
   * promotion (and the SVM's placement record) ended. The credentials step is counted then.
   */
  async function ontapSteps(io: OperationIo, plan: ShootPlan): Promise<StepResult<OntapInHand>> {
    const seedSecrets = steps.readSeedSecretsBesideSvmLookup(io, plan);
    const svm = await step("svm", () => steps.svm(io, plan));
    if (svm.kind === "requeue") return svm;
    const lifs = await step("lifs", () => steps.lifs(io, plan, svm.value));
    if (lifs.kind === "requeue") return lifs;
    const creds = awaitedLater(steps.credentials(io, plan, svm.value, seedSecrets));
    const proven = awaitedLater(step("credentials", async () => done(await (await creds).proven)).then(stepValue));
    // Failed before the password was in hand: `proven` rejects with the step's own error.
    const { username, password } = await creds.catch(() => proven);
    const { cluster, svm: found, recorded } = svm.value;
    const established = awaitedLater(
      Promise.all([proven, recorded]).then(([credentials]) => ({ cluster, svm: found, lifs: lifs.value, creds: credentials, at: now().getTime() })),
    );
    return done({ credentials: { username, password }, established });
  }

  /** The pass after one that stopped only to wait for trident-crds continues from what it established on ONTAP. */
  function continuationAfterCrdWait(io: OperationIo): StepResult<OntapInHand> | undefined {
    const remembered = crdWaits.take(io.key, io.ctx.extension.metadata.generation);
    return remembered ? done({ credentials: remembered.creds, established: Promise.resolve(remembered) }) : undefined;
  }

  /** Trident rendered for the shoot user, then Trident's components and the shoot webhook at once (they do not depend on each other). */
  async function deployShootComponents(
    io: OperationIo,
    plan: ShootPlan,
    credentials: { username: string; password: string },
    releaseCrds: string[],
  ): Promise<ShootComponentsDeployed> {
    const namespace = plan.inputs.shootNamespace;
    const rendered = await step("trident_render", async () =>
      steps.renderTrident(plan, credentials, releaseCrds, await tridentShootFacts(io.ctx, io.kube, namespace)),
    );
    if (rendered.kind === "requeue") return rendered;
    const [trident, webhook] = await Promise.all([
      step("trident", () => steps.trident(io, namespace, rendered.value.plans)),
      step("webhook", () => steps.webhook(io, namespace)),
    ]);
    if (trident.kind === "requeue") return { kind: "trident-requeued", result: trident };
    if (webhook.kind === "requeue") return webhook;
    return done(rendered.value.selection);
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
   * them while the new seed restores). The seed Secret is kept and named in `status.resources`, which gardenlet
   * carries to the new seed (delete-steps.ts `credentialsToCarry`); Restore there proves the restored password
   * and rotates nothing. Not steps either: errors reach status as they are.
   */
  async function migrate(ctx: ActuatorContext): Promise<ActuatorResult> {
    const { kube, key } = operationIo(ctx);
    const namespace = ctx.extension.metadata.namespace ?? "";
    deps.deletionWaits?.forget(key);
    const left = await destroyComponents(kube, namespace, componentNamesInDestroyOrder(), { keepObjects: true, wait: true });
    if (left.length > 0) {
      return deleteSteps.waitGone(key, namespace, left, `migrate: waiting for ManagedResource ${left.join(", ")} to be deleted (objects kept in the shoot)`);
    }
    const resources = await credentialsToCarry(kube, planShootForTeardown(ctx), namespace);
    return { kind: "done", description: "migrated: seed-side state released, shoot objects, ONTAP and the credentials Secret kept", resources };
  }

  return { reconcile, restore: reconcile, delete: remove, forceDelete, migrate };
}

/** The ONTAP steps' answer: the credentials to hand on now, and the whole outcome once their proof ended. */
interface OntapInHand {
  credentials: { username: string; password: string };
  established: Promise<OntapOutcome>;
}

/** Deploying the shoot's components: done with the Trident chosen, or a requeue (Trident's own: its CRDs may not be healthy yet). */
type ShootComponentsDeployed = StepResult<TridentSelection> | { kind: "trident-requeued"; result: Requeue };

/** The value of a step that never requeues (the credentials step). */
function stepValue<T>(result: StepResult<T>): T {
  if (result.kind === "requeue") throw new Error(`unexpected requeue: ${result.reason}`);
  return result.value;
}

/**
 * Both branches settled (none is left running when the reconcile returns), then their values, or the first
 * rejection in argument order.
 */
async function bothSettled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === "rejected") throw ra.reason;
  if (rb.status === "rejected") throw rb.reason;
  return [ra.value, rb.value];
}

/** What status shows of a reconcile that established everything. */
function reconciled(plan: ShootPlan, { cluster, svm, lifs, creds, at }: OntapOutcome, trident: TridentSelection): ActuatorResult {
  const userState = creds.verification.verified ? "verified" : "not verified (management LIF unreachable)";
  return {
    kind: "done",
    description: `SVM ${svm.name} on ${cluster} with ${plan.lifs.length} LIFs, user ${creds.username} ${userState}, Trident ${trident.release.version} deployed`,
    conditions: [credentialsCondition(creds, plan.inputs.managementLif)],
    providerStatus: {
      cluster,
      svmName: svm.name,
      svmUuid: svm.uuid,
      lifs: lifs.lifs,
      user: creds.username,
      secretRef: { namespace: plan.secret.namespace, name: plan.secret.name },
      lastVerification: new Date(at).toISOString(),
      // Which Trident the shoot runs; read back as the release never to go below (selection.ts).
      trident: { version: trident.release.version, operatorImage: trident.operatorImage, selectedBy: trident.reason },
    },
    // A reference, never the password: gardenlet carries the Secret itself to a new seed on migration.
    resources: [credentialsResource(plan.secret.name)],
  };
}

/**
 * The shoot's Kubernetes version (its Cluster) and the Trident that runs in it: what the status recorded, else
 * (a shoot taken over from the Go extension, a status lost) what the live `trident-init` Secret deploys, read
 * once; after the first success the status has it, so a no-op reconcile reads nothing more.
 */
async function tridentShootFacts(ctx: ActuatorContext, kube: KubeClient, namespace: string): Promise<TridentShootFacts> {
  const version = (ctx.cluster?.spec?.shoot as { spec?: { kubernetes?: { version?: unknown } } } | undefined)?.spec?.kubernetes?.version;
  const recorded = (ctx.extension.status?.providerStatus as { trident?: { version?: unknown } } | undefined)?.trident?.version;
  const running =
    typeof recorded === "string"
      ? recorded
      : tridentVersionInManagedResourceSecret(await kube.get(Secrets, namespace, managedResourceSecretName(MR_TRIDENT_INIT)));
  return {
    ...(typeof version === "string" ? { kubernetesVersion: version } : {}),
    ...(running !== undefined ? { runningVersion: running } : {}),
  };
}

/** Delete must work even when the inputs went bad after creation: it goes by what the status recorded (plan.ts). */
function planShootForTeardown(ctx: ActuatorContext): TeardownPlan | undefined {
  return planTeardown(ctx.extension, ctx.cluster);
}
