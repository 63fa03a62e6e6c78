import type { ExpectedState, ShootObservation } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** The shoot's ONTAP user on its SVM: present and unlocked. */
export function userRow(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow {
  const check = `ONTAP user ${want.username}`;
  const role = want.svmUserRole ?? "vsadmin";
  const expected = `${role} on ${want.svmName}, unlocked`;
  if (!obs.account) return { check, expected, actual: "not checked: no SVM to look at", status: "skip" };
  if (!obs.account.ok) {
    return {
      check,
      expected,
      actual: `unknown: ${obs.account.error}`,
      status: "unknown",
      action: `reading the ONTAP user failed (${obs.account.error}); re-run doctor, and check ${obs.inspectedCluster} if it persists`,
    };
  }
  const account = obs.account.value;
  if (!account.found) {
    return {
      check,
      expected,
      actual: "missing",
      status: "fail",
      action: `${reconcile}; the controller creates the ONTAP user with a new password, stored in the seed Secret before ONTAP sees it`,
      repairable: true,
    };
  }
  const actual = `present (${account.role ?? "role not reported"}${account.locked ? ", LOCKED" : ""})`;
  if (account.locked) {
    return {
      check,
      expected,
      actual,
      status: "fail",
      action: `unlock ONTAP user ${want.username} on SVM ${want.svmName} (security login unlock -vserver ${want.svmName} -user-or-group-name ${want.username}); the controller does not unlock users`,
    };
  }
  if (account.role !== undefined && account.role !== role) {
    return { check, expected, actual, status: "fail", action: `${reconcile}; the controller sets the user's role (providerConfig svmUserRole)`, repairable: true };
  }
  return { check, expected, actual, status: "ok" };
}
