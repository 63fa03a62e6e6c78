import type { ComponentConfig } from "../config/component-config.js";
import type { ActuatorCondition } from "../extension/actuator.js";
import type { OntapRequestEvent, Svm } from "../ontap/index.js";
import { done, type StepResult } from "../runtime/result.js";
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
import type { CrdWaits } from "./crd-waits.js";
import { type CredentialsResult, ensureCredentials, readSeedSecrets, type SeedSecrets } from "./credentials.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { ensureLifs, type LifReport } from "./lifs.js";
import type { ShootPlan } from "./plan.js";
import type { OperationIo, Step, StepName, StepOutcome } from "./step.js";
import { ensureSvm, type SvmJobTracker, type SvmOnCluster } from "./svm.js";
import {
  type AbsentManagedResources,
  type DeployReport,
  deployComponents,
  type ManagedResourceCache,
  type ManagedResourceComponent,
} from "./trident.js";
import { createCredentialVerifier } from "./verify-credentials.js";

/** Reported on every successful reconcile: whether the SVM user's stored password was proven, where, or why not. */
export const CREDENTIALS_CONDITION = "CredentialsVerified";

/** What the ONTAP steps of one pass established. */
export interface OntapOutcome {
  cluster: string;
  svm: Svm;
  lifs: LifReport;
  /** When the ONTAP calls were made (ms since epoch). */
  at: number;
  creds: CredentialsResult;
}

/** What the reconcile steps share for the life of the actuator (one set per process). */
export interface ReconcileStepDeps {
  config: ComponentConfig;
  pollMs: number;
  svmJobs: SvmJobTracker;
  crdWaits: CrdWaits<OntapOutcome>;
  managedResourceCache?: ManagedResourceCache;
  absentManagedResources: AbsentManagedResources;
  /** Whether the firewall namespace exists (cached for a while), deciding the ClusterwideNetworkPolicy. */
  firewallNamespaceExists: () => Promise<boolean>;
  shootWebhook?: { url: string; caBundle: string };
  onStep?: (step: StepName, outcome: StepOutcome) => void;
  onOntapRequest?: (ev: OntapRequestEvent) => void;
  managementLifClients?: ManagementLifClients;
}

export interface SvmInput {
  plan: ShootPlan;
}
export interface LifsInput extends SvmOnCluster {
  plan: ShootPlan;
}
export interface CredentialsInput extends SvmOnCluster {
  plan: ShootPlan;
  /** The seed Secret, read beside the SVM lookup (see `readSeedSecretsEarly`). */
  seedSecrets: Promise<SeedSecrets> | undefined;
}
export interface TridentCrdsInput {
  namespace: string;
  releaseCrds: string[];
}
export interface TridentPlansInput {
  plan: ShootPlan;
  creds: CredentialsResult;
  releaseCrds: string[];
}
export interface TridentInput {
  namespace: string;
  plans: readonly ManagedResourcePlan[];
  /** Remembered while Trident waits for its CRDs, so the next pass continues from it. */
  ontap: OntapOutcome;
}
export interface WebhookInput {
  namespace: string;
}

export function createReconcileSteps(deps: ReconcileStepDeps) {
  const components = { pollMs: deps.pollMs, cache: deps.managedResourceCache, absent: deps.absentManagedResources };

  /** The SVM on whichever cluster holds it: used, waited for (its create job), or created. */
  const svm: Step<SvmInput, SvmOnCluster> = {
    name: "svm",
    run: ({ plan }, io) => {
      const recorded = io.ctx.extension.status?.providerStatus as { cluster?: string } | undefined;
      return ensureSvm(
        {
          metro: io.metro,
          clients: io.clients,
          jobs: deps.svmJobs,
          recordedCluster: recorded?.cluster,
          recordPlacement: (cluster) => io.ctx.recordProviderStatus({ cluster, svmName: plan.svmName }),
          pollMs: deps.pollMs,
        },
        plan,
      );
    },
  };

  /** The shoot's LIFs on the SVM: the missing ones created, existing ones never moved. */
  const lifs: Step<LifsInput, LifReport> = {
    name: "lifs",
    async run({ plan, client, svm }, io) {
      const report = await ensureLifs(client, svm, plan);
      for (const name of report.created) io.event("Normal", "LifCreated", `created LIF ${name} on SVM ${svm.name}`);
      return done(report);
    },
  };

  /** The shoot's SVM user with a password proven to authenticate, stored in the seed Secret. */
  const credentials: Step<CredentialsInput, CredentialsResult> = {
    name: "credentials",
    async run({ plan, cluster, client, svm, seedSecrets }, io) {
      const verify = createCredentialVerifier({
        cluster: deps.config.clusters.find((c) => c.name === cluster) ?? { name: cluster, insecureSkipTlsVerify: false },
        clusterClient: client,
        managementLif: plan.inputs.managementLif,
        ...(deps.config.credentialsVerification ? { settings: deps.config.credentialsVerification } : {}),
        ...(deps.onOntapRequest ? { onRequest: deps.onOntapRequest } : {}),
        ...(deps.managementLifClients ? { lifClients: deps.managementLifClients } : {}),
      });
      const creds = await ensureCredentials(
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
      );
      if (creds.outcome === "unverified") {
        io.event("Warning", "CredentialsUnverified", credentialsCondition(creds, plan.inputs.managementLif).message);
      } else if (creds.outcome !== "verified") {
        io.event("Normal", "CredentialsRepaired", `SVM user ${creds.username}: ${creds.outcome}`);
      }
      return done(creds);
    },
  };

  /**
   * The credentials step's observation, started before the SVM lookup so the two reads overlap (unless the
   * pass only looks at a running SVM job: then credentials are not reached and the read would be wasted).
   */
  function readSeedSecretsEarly(plan: ShootPlan, io: OperationIo): Promise<SeedSecrets> | undefined {
    if (deps.svmJobs.pending.has(plan.svmName)) return undefined;
    const read = readSeedSecrets(io.kube, plan);
    // Awaited by the credentials step; if the pass ends earlier, its failure must not go unhandled.
    read.catch(() => undefined);
    return read;
  }

  /** trident-crds: depends on nothing the ONTAP steps find; a no-op when its content hash is unchanged. */
  const tridentCrds: Step<TridentCrdsInput, DeployReport> = {
    name: "trident",
    run: ({ namespace, releaseCrds }, io) =>
      deployComponents(io.kube, namespace, [{ name: MR_TRIDENT_CRDS, plan: renderTridentCrdsPlan(releaseCrds) }], components),
  };

  /** Trident's ManagedResources rendered: observes whether the firewall namespace exists, then renders. */
  const tridentPlans: Step<TridentPlansInput, ManagedResourcePlan[]> = {
    name: "trident",
    async run({ plan, creds, releaseCrds }) {
      const firewallNamespaceExists = await deps.firewallNamespaceExists();
      return done(
        renderTridentManagedResources({
          svmName: plan.svmName,
          managementLif: plan.inputs.managementLif,
          dataLifs: plan.inputs.dataLifs,
          credentialsSecretName: plan.shootSecretName,
          username: creds.username,
          password: creds.password,
          firewallNamespaceExists,
          operatorImage: deps.config.tridentOperatorImage,
          orchestrator: deps.config.tridentOrchestrator,
          releaseCrds,
        }),
      );
    },
  };

  /** Trident's components, the CRDs healthy before the rest; while it waits for them, the ONTAP outcome is kept. */
  const trident: Step<TridentInput, DeployReport> = {
    name: "trident",
    async run({ namespace, plans, ontap }, io) {
      const result = await deployComponents(io.kube, namespace, tridentComponents(plans), components);
      if (result.kind !== "requeue") return result;
      deps.crdWaits.remember(io.key, io.ctx.extension.metadata.generation, ontap);
      // Turned healthy after the look above but before it was remembered: the watch did not requeue it.
      const crds = deps.managedResourceCache?.managedResource(namespace, MR_TRIDENT_CRDS);
      if (crds && isManagedResourceHealthy(crds as never).healthy) return { ...result, afterMs: 0 };
      return result;
    },
  };

  /**
   * The shoot webhook's ManagedResource. Without a webhook configured, one left by the Go extension is
   * destroyed, never left pointing at a Service that no longer exists.
   */
  const webhook: Step<WebhookInput, DeployReport> = {
    name: "webhook",
    run: ({ namespace }, io) => {
      const plan = deps.shootWebhook ? renderShootWebhookConfiguration(deps.shootWebhook) : undefined;
      return deployComponents(io.kube, namespace, [{ name: SHOOT_WEBHOOK_MR_NAME, plan }], components);
    },
  };

  return { svm, lifs, credentials, readSeedSecretsEarly, tridentCrds, tridentPlans, trident, webhook };
}

export type ReconcileSteps = ReturnType<typeof createReconcileSteps>;

/** The ONTAP part of a reconcile, in order: the SVM, its LIFs, the shoot user's proven credentials. */
export async function ensureOntap(
  steps: ReconcileSteps,
  plan: ShootPlan,
  io: OperationIo,
  now: () => Date,
): Promise<StepResult<OntapOutcome>> {
  const seedSecrets = steps.readSeedSecretsEarly(plan, io);
  const svm = await io.run(steps.svm, { plan });
  if (svm.kind === "requeue") return svm;
  const lifs = await io.run(steps.lifs, { plan, ...svm.value });
  if (lifs.kind === "requeue") return lifs;
  const creds = await io.run(steps.credentials, { plan, ...svm.value, seedSecrets });
  if (creds.kind === "requeue") return creds;
  const { cluster, svm: found } = svm.value;
  return done({ cluster, svm: found, lifs: lifs.value, creds: creds.value, at: now().getTime() });
}

export function credentialsCondition(creds: CredentialsResult, managementLif: string): ActuatorCondition {
  if (creds.verification.verified) {
    return {
      type: CREDENTIALS_CONDITION,
      status: "True",
      reason: creds.verification.at === "management LIF" ? "VerifiedAtManagementLif" : "VerifiedAtClusterInterface",
      message: `the password of SVM user ${creds.username} authenticates at the ${creds.verification.at}${creds.verification.at === "management LIF" ? ` ${managementLif}` : ""}`,
    };
  }
  return {
    type: CREDENTIALS_CONDITION,
    status: "Unknown",
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
