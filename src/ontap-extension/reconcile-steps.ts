import { type ComponentConfig, loadImageVector } from "../config/component-config.js";
import type { ActuatorCondition } from "../extension/actuator.js";
import type { OntapRequestEvent, Svm } from "../ontap/index.js";
import type { ImageVector } from "../trident/image-vector.js";
import { done, type StepResult } from "../runtime/result.js";
import {
  isManagedResourceHealthy,
  type ManagedResourcePlan,
  MR_TRIDENT_CRDS,
  renderTridentCrdsPlan,
  renderTridentManagedResources,
  selectTrident,
  type TridentSelection,
} from "../trident/index.js";
// The shoot webhook's configuration is a ManagedResource like Trident's, rendered next to the server it points
// at; webhook/ depends on trident/ (names, the plan type), never the other way round.
import { renderShootWebhookConfiguration } from "../webhook/config.js";
import { componentsOf } from "./components.js";
import type { CrdWaits } from "./crd-waits.js";
import { ensureAccountRole, ensureSvmRole } from "./svm-user-role.js";
import { DEFAULT_SVM_USER_ROLE } from "./trident-role.js";
import { type CredentialsDeps, type CredentialsInHand, type CredentialsResult, establishCredentials, readSeedSecrets, type SeedSecrets } from "./credentials.js";
import type { ManagementLifClients } from "./lif-clients.js";
import { ensureLifs, type LifReport } from "./lifs.js";
import type { ShootPlan } from "./plan.js";
import type { CountedName, OperationIo, StepOutcome } from "./step.js";
import { createClusterAggregates } from "./svm-aggregates.js";
import { ensureSvm, type SvmJobTracker, type SvmOnCluster } from "./svm.js";
import {
  type AbsentManagedResources,
  type DeployReport,
  deployComponents,
  type ManagedResourceCache,
  type ManagedResourceComponent,
} from "./trident.js";
import { credentialVerifiers } from "./verifiers.js";

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
  onStep?: (name: CountedName, outcome: StepOutcome) => void;
  onOntapRequest?: (ev: OntapRequestEvent) => void;
  managementLifClients?: ManagementLifClients;
}

/**
 * The reconcile's steps as plain functions of one operation (`io`) and their inputs; what they share for the
 * life of the process is built here, once. The actuator (actuator.ts) calls them in order.
 */
export function createReconcileSteps(deps: ReconcileStepDeps) {
  const components = { pollMs: deps.pollMs, cache: deps.managedResourceCache, absent: deps.absentManagedResources };
  const verifierFor = credentialVerifiers(deps.config, {
    ...(deps.onOntapRequest ? { onRequest: deps.onOntapRequest } : {}),
    ...(deps.managementLifClients ? { lifClients: deps.managementLifClients } : {}),
  });
  const credentialsSettings: Pick<CredentialsDeps, "passwordRules" | "onSecretWrite"> = {
    ...(deps.config.passwordRules ? { passwordRules: deps.config.passwordRules } : {}),
    onSecretWrite: (outcome) => deps.onStep?.("seed_secret_write", outcome === "ok" ? "ok" : "failed"),
  };
  // Each cluster's aggregate list, shared by every shoot's SVM step for a while (svm-aggregates.ts).
  const listMaxAgeMs = deps.config.aggregateAssignment?.clusterListMaxAgeMs;
  const clusterAggregates = createClusterAggregates(listMaxAgeMs === undefined ? {} : { maxAgeMs: listMaxAgeMs });

  return {
    /** The SVM on whichever cluster holds it: used, waited for (its create job), or created. */
    svm(io: OperationIo, plan: ShootPlan): Promise<StepResult<SvmOnCluster>> {
      const recorded = io.ctx.extension.status?.providerStatus as { cluster?: string } | undefined;
      return ensureSvm(
        {
          metro: io.metro,
          clients: io.clients,
          jobs: deps.svmJobs,
          recordedCluster: recorded?.cluster,
          recordPlacement: (cluster) => io.ctx.recordProviderStatus({ cluster, svmName: plan.svmName }),
          pollMs: deps.pollMs,
          aggregates: clusterAggregates,
          event: io.event,
        },
        plan,
      );
    },

    /** The shoot's LIFs on the SVM: the missing ones created, existing ones never moved. */
    async lifs(io: OperationIo, plan: ShootPlan, { client, svm }: SvmOnCluster): Promise<StepResult<LifReport>> {
      const report = await ensureLifs(client, svm, plan);
      for (const name of report.created) io.event("Normal", "LifCreated", `created LIF ${name} on SVM ${svm.name}`);
      return done(report);
    },

    /**
     * The credentials step's observation, started before the SVM lookup so the two reads overlap (unless the
     * pass only looks at a running SVM job: then credentials are not reached and the read would be wasted).
     */
    readSeedSecretsBesideSvmLookup(io: OperationIo, plan: ShootPlan): Promise<SeedSecrets> | undefined {
      if (deps.svmJobs.pending.has(plan.svmName)) return undefined;
      const read = readSeedSecrets(io.kube, plan);
      // Awaited by the credentials step; if the pass ends earlier, its failure must not go unhandled.
      read.catch(() => undefined);
      return read;
    },

    /**
     * The shoot's SVM user with a password proven to authenticate (at the management LIF), stored in the seed
     * Secret. Answers once the password is on ONTAP and stored; a new one's proof and promotion may still run
     * (`proven`, after which the events say what was repaired).
     */
    async credentials(
      io: OperationIo,
      plan: ShootPlan,
      { cluster, client, svm }: SvmOnCluster,
      seedSecrets: Promise<SeedSecrets> | undefined,
    ): Promise<CredentialsInHand> {
      const verify = verifierFor(cluster, client, plan.inputs.managementLif);
      // The user's role exists before the user that needs it (svm-user-role.ts; one call each side).
      const role = plan.inputs.svmUserRole ?? DEFAULT_SVM_USER_ROLE;
      const roleOutcome = await ensureSvmRole(client, svm, role);
      if (roleOutcome === "created" || roleOutcome === "repaired") io.event("Normal", "SvmRoleEnsured", `role ${role} on SVM ${svm.name}: ${roleOutcome}`);
      const creds = await establishCredentials({ kube: io.kube, ontap: client, verify, accountRole: role, ...credentialsSettings }, plan, svm, seedSecrets);
      // Before the password is handed on: with the default role on a shoot that never chose another, no call.
      const recorded = (io.ctx.extension.status?.providerStatus as { svmUserRole?: string } | undefined)?.svmUserRole;
      if ((await ensureAccountRole(client, svm, creds.username, role, recorded)) !== "skipped" && recorded !== role) {
        await io.ctx.recordProviderStatus({ svmUserRole: role });
      }
      const proven = creds.proven.then((result) => {
        credentialsEvents(io, plan, result);
        return result;
      });
      proven.catch(() => undefined);
      return { ...creds, proven };
    },

    /** trident-crds: depends on nothing the ONTAP steps find; a no-op when its content hash is unchanged. */
    tridentCrds(io: OperationIo, namespace: string, releaseCrds: string[]): Promise<StepResult<DeployReport>> {
      const crds = { name: MR_TRIDENT_CRDS, plan: renderTridentCrdsPlan(releaseCrds) };
      return deployComponents(io.kube, namespace, [crds], components);
    },

    /**
     * Trident's ManagedResources rendered: observes whether the firewall namespace exists, chooses the shoot's
     * Trident release from its Kubernetes version and what runs (src/trident/selection.ts), then renders.
     */
    async renderTrident(
      plan: ShootPlan,
      creds: { username: string; password: string },
      releaseCrds: string[],
      shoot: TridentShootFacts = {},
    ): Promise<StepResult<{ plans: ManagedResourcePlan[]; selection: TridentSelection }>> {
      const firewallNamespaceExists = await deps.firewallNamespaceExists();
      const selection = selectTrident({
        vector: deps.config.imageVector ?? defaultImageVector(),
        ...shoot,
        ...(deps.config.tridentOperatorImage ? { configuredOperatorImage: deps.config.tridentOperatorImage } : {}),
      });
      const plans = renderTridentManagedResources({
          svmName: plan.svmName,
          managementLif: plan.inputs.managementLif,
          dataLifs: plan.inputs.dataLifs,
          credentialsSecretName: plan.shootSecretName,
          username: creds.username,
          password: creds.password,
          firewallNamespaceExists,
          operatorImage: selection.operatorImage,
          operatorImageEnv: selection.operatorEnv,
          shoot: { project: plan.inputs.gardenerProject, name: plan.inputs.shootName },
          ...(plan.inputs.storage ? { storage: plan.inputs.storage } : {}),
          orchestrator: deps.config.tridentOrchestrator,
          releaseCrds,
        });
      return done({ plans, selection });
    },

    /** Trident's components, the CRDs healthy before the rest (else a requeue: see `waitForTridentCrds`). */
    trident(io: OperationIo, namespace: string, plans: readonly ManagedResourcePlan[]): Promise<StepResult<DeployReport>> {
      return deployComponents(io.kube, namespace, rendered("trident", plans), components);
    },

    /**
     * Trident's step requeued (its CRDs not healthy yet): the ONTAP outcome is kept for the pass that continues
     * when they are, so that pass does not repeat the ONTAP calls.
     */
    waitForTridentCrds<R extends { kind: "requeue"; afterMs: number }>(io: OperationIo, namespace: string, result: R, ontap: OntapOutcome): R {
      deps.crdWaits.remember(io.key, io.ctx.extension.metadata.generation, ontap);
      // Turned healthy after the look above but before it was remembered: the watch did not requeue it.
      if (isManagedResourceHealthy(deps.managedResourceCache?.managedResource(namespace, MR_TRIDENT_CRDS)).healthy) return { ...result, afterMs: 0 };
      return result;
    },

    /**
     * The shoot webhook's ManagedResource. Without a webhook configured, one left by the Go extension is
     * destroyed, never left pointing at a Service that no longer exists.
     */
    webhook(io: OperationIo, namespace: string): Promise<StepResult<DeployReport>> {
      const plans = deps.shootWebhook ? [renderShootWebhookConfiguration(deps.shootWebhook)] : [];
      return deployComponents(io.kube, namespace, rendered("webhook", plans), components);
    },
  };
}

export type ReconcileSteps = ReturnType<typeof createReconcileSteps>;

/** What the Trident selection reads of the shoot: its Kubernetes version and the Trident recorded as running. */
export interface TridentShootFacts {
  kubernetesVersion?: string;
  runningVersion?: string;
}

let defaultVector: ImageVector | undefined;
/** charts/images.yaml alone, for configurations built by hand (tests); read once. */
function defaultImageVector(): ImageVector {
  defaultVector ??= loadImageVector("");
  return defaultVector;
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

/** What the credentials step tells about the user once its password is proven (or known unverifiable). */
function credentialsEvents(io: OperationIo, plan: ShootPlan, creds: CredentialsResult): void {
  if (creds.outcome !== "verified" && creds.outcome !== "unverified") {
    io.event("Normal", "CredentialsRepaired", `SVM user ${creds.username}: ${creds.outcome}`);
  }
  if (creds.takeoverSkipped) io.event("Normal", "TakeoverSkipped", creds.takeoverSkipped);
  // Also after a create or rotation whose proof could not be made (a LIF behind a proxy the seed cannot reach).
  if (!creds.verification.verified) {
    io.event("Warning", "CredentialsUnverified", credentialsCondition(creds, plan.inputs.managementLif).message);
  }
}

/** One step's components with what was rendered for each (none: whatever exists is destroyed). */
function rendered(part: "trident" | "webhook", plans: readonly ManagedResourcePlan[]): ManagedResourceComponent[] {
  return componentsOf(part).map(({ name, waitHealthy }) => ({ name, plan: plans.find((p) => p.name === name), ...(waitHealthy ? { waitHealthy } : {}) }));
}
