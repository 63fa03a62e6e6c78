import { codesForInfraErrors, ExtensionError } from "../extension/errors.js";
import type { MetroCluster, OntapClient } from "../ontap/index.js";
import { done, requeue, type StepResult } from "../runtime/result.js";
import type { ShootPlan } from "./plan.js";

/** The account ONTAP creates with every SVM; it is not a shoot's user. */
const BUILTIN_SVM_ACCOUNTS = new Set(["vsadmin"]);

export interface TeardownDeps {
  metro: MetroCluster;
  clients: ReadonlyMap<string, OntapClient>;
  policy: "DeleteWhenUnused" | "Retain";
  pollMs: number;
}

/**
 * Removes this shoot's user; removes the SVM (LIFs first) only when ONTAP shows no other shoot's user and
 * no data volume on it. ONTAP is asked, not the seed: shoots of one project may live on other seeds.
 */
export async function teardownOntap(deps: TeardownDeps, plan: ShootPlan): Promise<StepResult<string>> {
  const lookup = await deps.metro.findSvm(plan.svmName);
  if (lookup.kind === "unknown") {
    throw new ExtensionError(
      `cannot tell where SVM ${plan.svmName} is: ${lookup.errors.map((e) => `cluster ${e.cluster}: ${e.error.message}`).join("; ")}; will retry`,
      codesForInfraErrors(lookup.errors.map((e) => e.error)),
      true,
    );
  }
  if (lookup.kind === "several") {
    throw new ExtensionError(
      `SVM ${plan.svmName} exists on several clusters (${lookup.found.map((f) => f.cluster).join(", ")}); resolve on ONTAP before deleting`,
      ["ERR_INFRA_DEPENDENCIES"],
      true,
    );
  }
  if (lookup.kind === "absent") return done(`SVM ${plan.svmName} is absent; nothing left on ONTAP`);

  const client = deps.clients.get(lookup.cluster);
  if (!client) throw new ExtensionError(`ONTAP cluster ${lookup.cluster} is not configured`, ["ERR_CONFIGURATION_PROBLEM"], false);
  const { svm } = lookup;
  if (svm.state === "deleting") return requeue(deps.pollMs, `SVM ${svm.name} is being deleted`);

  await client.deleteAccount(svm.uuid, plan.username);
  if (deps.policy === "Retain") return done(`user ${plan.username} removed; SVM ${svm.name} retained (svmDeletionPolicy Retain)`);

  const others = (await client.listAccounts(svm.uuid))
    .map((a) => a.name)
    .filter((name) => !BUILTIN_SVM_ACCOUNTS.has(name) && name !== plan.username);
  if (others.length > 0) {
    return done(`user ${plan.username} removed; SVM ${svm.name} kept for ${others.length} other shoot user(s)`);
  }
  const volumes = await client.countDataVolumes(svm.uuid);
  if (volumes > 0) return done(`user ${plan.username} removed; SVM ${svm.name} kept: it holds ${volumes} data volume(s)`);

  for (const lif of await client.listInterfaces(svm.uuid)) await client.deleteInterface(lif.uuid);
  const deleted = await client.deleteSvm(svm.uuid);
  if (deleted.job) return requeue(deps.pollMs, `SVM ${svm.name} is being deleted (job ${deleted.job.uuid})`);
  return done(`user ${plan.username}, the LIFs and SVM ${svm.name} removed`);
}
