import type { ComponentConfig } from "../config/component-config.js";
import type { Actuator, ActuatorContext, ActuatorResult } from "../extension/actuator.js";
import { ExtensionError } from "../extension/errors.js";
import { isFencedError } from "../runtime/fence.js";
import type { KubeClient } from "../kube/client.js";
import { Secrets } from "../kube/resources.js";
import { scopeKubeClient } from "../kube/scoped.js";
import { createMetroCluster, type MetroCluster, type OntapClient, type OntapRequestEvent, scopeOntapClient, type Svm } from "../ontap/index.js";
import {
  isManagedResourceHealthy,
  MANAGED_RESOURCE_NAMES,
  type ManagedResourcePlan,
  MR_TRIDENT_CRDS,
  renderTridentCrdsPlan,
  renderTridentManagedResources,
  SHOOT_WEBHOOK_MR_NAME,
  TRIDENT_MANAGED_RESOURCE_NAMES,
} from "../trident/index.js";
// The shoot webhook's configuration is a ManagedResource like Trident's, rendered next to the server it points
// at; webhook/ depends on trident/ (names, the plan type), never the other way round.
import { renderShootWebhookConfiguration } from "../webhook/config.js";
import { codeForInfraError } from "./codes.js";
import { type CredentialsResult, ensureCredentials, readSeedSecrets } from "./credentials.js";
import { type CrdWaits, createCrdWaits } from "./crd-waits.js";
import { createClusterwideNetworkPolicyRule } from "./firewall.js";
import { decodeShootInputs } from "./inputs.js";
import { ensureLifs, type LifReport } from "./lifs.js";
import { planShoot, type ShootPlan } from "./plan.js";
import { createSvmJobTracker, ensureSvm } from "./svm.js";
import { teardownOntap } from "./teardown.js";
import { tridentCrdsToRelease } from "./release-crds.js";
import {
  type AbsentManagedResources,
  deployComponents,
  destroyComponents,
  type ManagedResourceComponent,
  type ManagedResourceCache,
} from "./trident.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { createCredentialVerifier } from "./verify-credentials.js";

/** Reported on every successful reconcile: whether the SVM user's stored password was proven, where, or why not. */
export const CREDENTIALS_CONDITION = "CredentialsVerified";

export type StepName = "svm" | "lifs" | "credentials" | "seed_secret_write" | "trident" | "webhook";

export interface ActuatorDeps {
  kube: KubeClient;
  /** One client per configured cluster; the SVM lookup across them is built per operation (scoped). */
  clients: ReadonlyMap<string, OntapClient>;
  config: ComponentConfig;
  /** Informer caches that spare a no-op reconcile its ManagedResource reads. */
  managedResourceCache?: ManagedResourceCache;
  /** The shoot webhook's address and CA, when this controller serves one. */
  shootWebhook?: { url: string; caBundle: string };
  onStep?: (step: StepName, outcome: "ok" | "requeue" | "failed") => void;
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
}

/** The clients one operation uses: every call carries its signal, every write passes the fence. */
interface ScopedIo {
  kube: KubeClient;
  clients: ReadonlyMap<string, OntapClient>;
  metro: MetroCluster;
}

/** The ONTAP storage actuator: plan -> svm -> lifs -> credentials -> trident -> webhook; and teardown. */
export function createOntapActuator(deps: ActuatorDeps): Actuator {
  const pollMs = deps.pollMs ?? 2000;
  const now = deps.now ?? (() => new Date());
  const renderClusterwideNetworkPolicy = createClusterwideNetworkPolicyRule(deps.kube, deps.config.clusterwideNetworkPolicy);
  const absentManagedResources: AbsentManagedResources = new Set();
  const svmJobs = createSvmJobTracker();
  const waitingForCrds = deps.crdWaits ?? createCrdWaits<OntapOutcome>();

  function scoped(ctx: ActuatorContext): ScopedIo {
    const scope = { signal: ctx.signal, ...(deps.fence ? { beforeWrite: deps.fence } : {}) };
    const clients = new Map([...deps.clients].map(([name, client]) => [name, scopeOntapClient(client, scope)]));
    return { kube: scopeKubeClient(deps.kube, scope), clients, metro: createMetroCluster([...clients.values()]) };
  }

  async function step<T>(name: StepName, run: () => Promise<T>): Promise<T> {
    try {
      const value = await run();
      const isRequeue = (value as { kind?: string } | undefined)?.kind === "requeue";
      deps.onStep?.(name, isRequeue ? "requeue" : "ok");
      return value;
    } catch (err) {
      deps.onStep?.(name, "failed");
      if (err instanceof ExtensionError || isFencedError(err)) throw err;
      throw new ExtensionError(
        `step ${name} failed: ${(err as Error | undefined)?.message ?? String(err)}; will retry`,
        [codeForInfraError(err)],
        true,
        { cause: err },
      );
    }
  }

  async function reconcile(ctx: ActuatorContext): Promise<ActuatorResult> {
    const plan = planShoot(decodeShootInputs(ctx.extension, ctx.cluster));
    const io = scoped(ctx);
    const key = extensionKey(ctx);
    const namespace = plan.inputs.shootNamespace;
    const components = { pollMs, cache: deps.managedResourceCache, absent: absentManagedResources };
    const releaseCrds = tridentCrdsToRelease(deps.managedResourceCache?.managedResource(namespace, MR_TRIDENT_CRDS));
    // trident-crds depends on nothing the ONTAP steps find, and the rest of Trident waits until it is healthy:
    // written first, the resource manager applies it while the ONTAP steps run (a no-op when unchanged).
    const crdsWritten = step("trident", () =>
      deployComponents(io.kube, namespace, [{ name: MR_TRIDENT_CRDS, plan: renderTridentCrdsPlan(releaseCrds) }], components),
    );
    // Awaited below; a failure meanwhile must not surface as an unhandled rejection.
    crdsWritten.catch(() => undefined);
    // The pass after a wait for trident-crds continues from what the pass before established on ONTAP.
    const ontap = waitingForCrds.take(key, ctx.extension.metadata.generation) ?? (await ensureOntap(ctx, plan, io));
    await crdsWritten;
    if (ontap.kind === "requeue") return ontap;
    const { cluster, svm, lifs, creds } = ontap;

    const plans = renderTridentManagedResources({
      svmName: plan.svmName,
      managementLif: plan.inputs.managementLif,
      dataLifs: plan.inputs.dataLifs,
      credentialsSecretName: plan.shootSecretName,
      username: creds.username,
      password: creds.password,
      firewallNamespaceExists: await step("trident", renderClusterwideNetworkPolicy),
      operatorImage: deps.config.tridentOperatorImage,
      orchestrator: deps.config.tridentOrchestrator,
      releaseCrds,
    });
    // Trident's components (the CRDs healthy before the rest) and the shoot webhook do not depend on each
    // other: both are written at once. Without a webhook configured, a webhook ManagedResource left by the Go
    // extension is destroyed, never left pointing at a Service that no longer exists.
    const webhookPlan = deps.shootWebhook ? renderShootWebhookConfiguration(deps.shootWebhook) : undefined;
    const [trident, webhook] = await Promise.all([
      step("trident", () => deployComponents(io.kube, namespace, tridentComponents(plans), components)),
      step("webhook", () => deployComponents(io.kube, namespace, [{ name: SHOOT_WEBHOOK_MR_NAME, plan: webhookPlan }], components)),
    ]);
    if (trident.kind === "requeue") {
      waitingForCrds.remember(key, ctx.extension.metadata.generation, ontap);
      // Turned healthy after the look above but before it was remembered: the watch did not requeue it.
      const crds = deps.managedResourceCache?.managedResource(namespace, MR_TRIDENT_CRDS);
      if (crds && isManagedResourceHealthy(crds as never).healthy) return { ...trident, afterMs: 0 };
      return trident;
    }
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
        lastVerification: new Date(ontap.at).toISOString(),
      },
    };
  }

  /** The ONTAP part of a reconcile: the SVM, its LIFs, the shoot user's proven credentials. */
  async function ensureOntap(ctx: ActuatorContext, plan: ShootPlan, io: ScopedIo): Promise<OntapOutcome | { kind: "requeue"; afterMs: number; reason: string }> {
    const recorded = ctx.extension.status?.providerStatus as { cluster?: string } | undefined;
    // The seed Secret is read while the SVM is looked up (unless the pass only looks at a running SVM job).
    const seedSecrets = svmJobs.pending.has(plan.svmName) ? undefined : readSeedSecrets(io.kube, plan);
    seedSecrets?.catch(() => undefined);
    const svmStep = await step("svm", () =>
      ensureSvm(
        {
          metro: io.metro,
          clients: io.clients,
          jobs: svmJobs,
          recordedCluster: recorded?.cluster,
          recordPlacement: (cluster) => ctx.recordProviderStatus({ cluster, svmName: plan.svmName }),
          pollMs,
        },
        plan,
      ),
    );
    if (svmStep.kind === "requeue") return svmStep;
    const { cluster, client, svm } = svmStep.value;

    const lifs = await step("lifs", () => ensureLifs(client, svm, plan));
    for (const name of lifs.created) deps.event?.(ctx, "Normal", "LifCreated", `created LIF ${name} on SVM ${svm.name}`);

    const clusterSettings = deps.config.clusters.find((c) => c.name === cluster);
    const verify = createCredentialVerifier({
      cluster: clusterSettings ?? { name: cluster, insecureSkipTlsVerify: false },
      clusterClient: client,
      managementLif: plan.inputs.managementLif,
      ...(deps.config.credentialsVerification ? { settings: deps.config.credentialsVerification } : {}),
      ...(deps.onOntapRequest ? { onRequest: deps.onOntapRequest } : {}),
      ...(deps.managementLifClients ? { lifClients: deps.managementLifClients } : {}),
    });
    const creds = await step("credentials", () =>
      ensureCredentials(
        {
          kube: io.kube,
          ontap: client,
          verify,
          ...(deps.config.passwordRules ? { passwordRules: deps.config.passwordRules } : {}),
          onSecretWrite: (outcome) => deps.onStep?.("seed_secret_write", outcome === "ok" ? "ok" : "failed"),
        },
        plan,
        svm,
        seedSecrets,
      ),
    );
    if (creds.outcome === "unverified") {
      deps.event?.(ctx, "Warning", "CredentialsUnverified", credentialsCondition(creds, plan.inputs.managementLif).message);
    } else if (creds.outcome !== "verified") {
      deps.event?.(ctx, "Normal", "CredentialsRepaired", `SVM user ${creds.username}: ${creds.outcome}`);
    }
    return { kind: "ok", cluster, svm, lifs, creds, at: now().getTime() };
  }

  /** ManagedResources first (backward, each gone before the next, the webhook last), then ONTAP, then the Secret. */
  async function remove(ctx: ActuatorContext): Promise<ActuatorResult> {
    waitingForCrds.forget(extensionKey(ctx));
    const plan = planShootForTeardown(ctx);
    const io = scoped(ctx);
    const namespace = ctx.extension.metadata.namespace ?? "";
    const tridentLeft = await step("trident", () => destroyComponents(io.kube, namespace, tridentNamesInDestroyOrder(), { wait: true }));
    if (tridentLeft.length > 0) return { kind: "requeue", afterMs: pollMs, reason: `waiting for ManagedResource ${tridentLeft.join(", ")} to be deleted` };
    const webhookLeft = await step("webhook", () => destroyComponents(io.kube, namespace, [SHOOT_WEBHOOK_MR_NAME], { wait: true }));
    if (webhookLeft.length > 0) return { kind: "requeue", afterMs: pollMs, reason: `waiting for ManagedResource ${SHOOT_WEBHOOK_MR_NAME} to be deleted` };
    if (!plan) return deleteSeedSecrets(io.kube, undefined, namespace, "no valid inputs; removed seed-side state only");

    const teardown = await step("svm", () =>
      teardownOntap({ metro: io.metro, clients: io.clients, policy: deps.config.svmDeletionPolicy, pollMs }, plan),
    );
    if (teardown.kind === "requeue") return teardown;
    return deleteSeedSecrets(io.kube, plan, namespace, teardown.value);
  }

  async function deleteSeedSecrets(
    kube: KubeClient,
    plan: ShootPlan | undefined,
    namespace: string,
    description: string,
  ): Promise<ActuatorResult> {
    await step("seed_secret_write", async () => {
      await kube.delete(Secrets, plan?.secret.namespace ?? namespace, plan?.secret.name ?? "ontap-svm-credentials");
      if (plan) await kube.delete(Secrets, plan.legacySecret.namespace, plan.legacySecret.name);
    });
    return { kind: "done", description };
  }

  /** Delete must work even when the inputs went bad after creation: then only seed-side state is removed. */
  function planShootForTeardown(ctx: ActuatorContext): ShootPlan | undefined {
    try {
      return planShoot(decodeShootInputs(ctx.extension, ctx.cluster));
    } catch {
      return undefined;
    }
  }

  return {
    reconcile,
    restore: reconcile,
    delete: remove,
    // Force-delete is the operator saying ONTAP cannot be reached or must not be waited for: only seed-side
    // state goes; the SVM user stays on ONTAP and is visible to `doctor`. It issues every delete and does not
    // wait for the resource manager: Gardener force-deletes when the shoot's control plane may be unable to
    // finish anything, so waiting could block the deletion forever.
    async forceDelete(ctx) {
      const { kube } = scoped(ctx);
      const namespace = ctx.extension.metadata.namespace ?? "";
      await destroyComponents(kube, namespace, [...tridentNamesInDestroyOrder(), SHOOT_WEBHOOK_MR_NAME], { wait: false });
      return deleteSeedSecrets(kube, planShootForTeardown(ctx), namespace, "force-deleted: seed-side state removed, ONTAP left as is");
    },
    // Migrate releases seed-side state only, keeping the shoot's objects (keepObjects) and ONTAP untouched, and
    // is done only once every ManagedResource is gone (else the old seed's resource manager could still act on
    // them while the new seed restores). Restore on the new seed rebuilds it, the credentials step re-creating
    // the Secret.
    async migrate(ctx) {
      const { kube } = scoped(ctx);
      const namespace = ctx.extension.metadata.namespace ?? "";
      const left = await destroyComponents(kube, namespace, [...tridentNamesInDestroyOrder(), SHOOT_WEBHOOK_MR_NAME], {
        keepObjects: true,
        wait: true,
      });
      if (left.length > 0) {
        return { kind: "requeue", afterMs: pollMs, reason: `migrate: waiting for ManagedResource ${left.join(", ")} to be deleted (objects kept in the shoot)` };
      }
      const plan = planShootForTeardown(ctx);
      await kube.delete(Secrets, plan?.secret.namespace ?? namespace, plan?.secret.name ?? "ontap-svm-credentials");
      return { kind: "done", description: "migrated: seed-side state released, shoot objects and ONTAP kept" };
    },
  };
}

/** What the ONTAP steps of one pass established. */
export interface OntapOutcome {
  kind: "ok";
  cluster: string;
  svm: Svm;
  lifs: LifReport;
  /** When the ONTAP calls were made (ms since epoch). */
  at: number;
  creds: CredentialsResult;
}

function extensionKey(ctx: ActuatorContext): string {
  return `${ctx.extension.metadata.namespace ?? ""}/${ctx.extension.metadata.name}`;
}

function credentialsCondition(creds: CredentialsResult, managementLif: string) {
  if (creds.verification.verified) {
    return {
      type: CREDENTIALS_CONDITION,
      status: "True" as const,
      reason: creds.verification.at === "management LIF" ? "VerifiedAtManagementLif" : "VerifiedAtClusterInterface",
      message: `the password of SVM user ${creds.username} authenticates at the ${creds.verification.at}${creds.verification.at === "management LIF" ? ` ${managementLif}` : ""}`,
    };
  }
  return {
    type: CREDENTIALS_CONDITION,
    status: "Unknown" as const,
    reason: "ManagementLifUnreachable",
    message: `the stored password of SVM user ${creds.username} could not be verified: ${creds.verification.reason}; it is kept and Trident uses it (no rotation while it cannot be checked)`,
  };
}

/** Trident's ManagedResources as components, in deployment order; the CRDs must be healthy before the rest. */
function tridentComponents(plans: readonly ManagedResourcePlan[]): ManagedResourceComponent[] {
  return TRIDENT_MANAGED_RESOURCE_NAMES.map((name) => ({
    name,
    plan: plans.find((p) => p.name === name),
    waitHealthy: name === MANAGED_RESOURCE_NAMES.crds,
  }));
}

function tridentNamesInDestroyOrder(): string[] {
  // Reverse of creation: the operator and backends go before their CRDs.
  return [...TRIDENT_MANAGED_RESOURCE_NAMES].reverse();
}
