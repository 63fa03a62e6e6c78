import { codesForInfraErrors, ExtensionError } from "../extension/errors.js";
import { goneFromHome, knownHome, type MetroCluster, type OntapClient, type SvmLookup } from "../ontap/index.js";
import { done, requeue, type StepResult } from "../runtime/result.js";
import { BUILTIN_SVM_ACCOUNTS, ownerOfComment, type TeardownPlan } from "./plan.js";

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
export async function teardownOntap(deps: TeardownDeps, plan: Pick<TeardownPlan, "svmName" | "username" | "owner" | "recordedCluster">): Promise<StepResult<string>> {
  const found = await deps.metro.findSvm(plan.svmName);
  // A silent cluster does not block the delete of an SVM whose recorded home answers with it.
  const home = knownHome(found, plan.recordedCluster);
  const lookup: SvmLookup = home ? { kind: "found", ...home } : goneFromHome(found, plan.recordedCluster) ? { kind: "absent" } : found;
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

  // This shoot's users: its own name, and any account whose comment names this shoot (a legacy-named user it
  // adopted). An account of the shoot name that another shoot owns, or that nobody claimed, is left alone.
  const accounts = await client.listAccounts(svm.uuid);
  const ours = accounts.filter((a) => a.name === plan.username || ownerOfComment(a.comment) === plan.owner).map((a) => a.name);
  for (const name of ours) await client.deleteAccount(svm.uuid, name);
  const removed = ours.length > 0 ? `user ${ours.join(", ")} removed` : `no user of ${plan.owner} found`;
  if (deps.policy === "Retain") return done(`${removed}; SVM ${svm.name} retained (svmDeletionPolicy Retain)`);

  // Listed again after the deletes: a sibling's user created meanwhile (on another seed) must keep the SVM.
  const remaining = ours.length > 0 ? await client.listAccounts(svm.uuid) : accounts;
  const others = remaining.map((a) => a.name).filter((name) => !BUILTIN_SVM_ACCOUNTS.has(name) && !ours.includes(name));
  if (others.length > 0) {
    return done(`${removed}; SVM ${svm.name} kept for ${others.length} other shoot user(s)`);
  }
  const volumes = await client.countDataVolumes(svm.uuid);
  if (volumes > 0) return done(`${removed}; SVM ${svm.name} kept: it holds ${volumes} data volume(s)`);

  for (const lif of await client.listInterfaces(svm.uuid)) await client.deleteInterface(lif.uuid);
  const deleted = await client.deleteSvm(svm.uuid);
  if (deleted.job) return requeue(deps.pollMs, `SVM ${svm.name} is being deleted (job ${deleted.job.uuid})`);
  return done(`${removed}; the LIFs and SVM ${svm.name} removed`);
}
