import type { OntapClient, Svm } from "../ontap/index.js";
import { DEFAULT_SVM_USER_ROLE, diffPrivileges, isEmptyDiff, privilegesOf, type SvmUserRole } from "./trident-role.js";

/**
 * The role the shoot's SVM user logs in with (providerConfig `svmUserRole`). The custom role is one per SVM,
 * shared by the project's shoots on it: it is made before the user that needs it, kept to exactly its tuples
 * (observed, then created or repaired tuple by tuple, so any lost write is finished by the next reconcile), and
 * never deleted by a shoot: a sibling shoot (on this seed or another) may use it at any moment, and it grants
 * nothing without an account. It goes with the SVM.
 */

export type RoleOutcome = "builtin" | "unchanged" | "created" | "repaired";

/** Ensures the SVM holds the chosen role with exactly its tuples; the built-in vsadmin needs no call. */
export async function ensureSvmRole(ontap: OntapClient, svm: Pick<Svm, "uuid">, role: SvmUserRole): Promise<RoleOutcome> {
  const want = privilegesOf(role);
  if (!want) return "builtin";
  const found = await ontap.getRole(svm.uuid, role);
  if (!found) {
    await ontap.createRole({ ownerUuid: svm.uuid, name: role, privileges: want });
    return "created";
  }
  const diff = diffPrivileges(want, found.privileges);
  if (isEmptyDiff(diff)) return "unchanged";
  // Added before any is removed: the role never holds less than both the old and the new set have in common.
  for (const p of diff.add) await ontap.addRolePrivilege(svm.uuid, role, p);
  for (const p of diff.change) await ontap.setRolePrivilegeAccess(svm.uuid, role, p);
  for (const path of diff.remove) await ontap.removeRolePrivilege(svm.uuid, role, path);
  return "repaired";
}

export type AccountRoleOutcome = "skipped" | "unchanged" | "assigned";

/**
 * Gives the user the chosen role. `recorded` is the role this controller last gave it (providerStatus
 * `svmUserRole`): a shoot that never chose anything but the default costs no request, so a taken-over fleet on
 * vsadmin sees no new call; any other case reads the account and PATCHes its role when it differs.
 */
export async function ensureAccountRole(
  ontap: OntapClient,
  svm: Pick<Svm, "uuid">,
  username: string,
  role: SvmUserRole,
  recorded: string | undefined,
): Promise<AccountRoleOutcome> {
  if (role === DEFAULT_SVM_USER_ROLE && (recorded === undefined || recorded === DEFAULT_SVM_USER_ROLE)) return "skipped";
  const account = await ontap.getAccount(svm.uuid, username);
  // The credentials step has just made or proven the account; gone meanwhile is the next reconcile's to repair.
  if (!account || account.role === role) return "unchanged";
  await ontap.setAccountRole(svm.uuid, username, role);
  return "assigned";
}
