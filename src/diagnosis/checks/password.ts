import type { ExpectedState, ShootObservation } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** Whether the stored password (and a pendingPassword left by an interrupted rotation) authenticates on ONTAP. */
export function passwordRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const rows: DoctorRow[] = [];
  const check = "stored password";
  const expected = `authenticates as ${want.username}`;
  const password = obs.password;
  const pending = obs.pendingPassword;
  if (!password || password.result === "not-checked") {
    rows.push({ check, expected, actual: `not checked: ${password?.result === "not-checked" ? password.why : "no SVM"}`, status: "skip" });
  } else if (password.result === "no-answer") {
    rows.push({
      check,
      expected,
      actual: `unknown: ${password.error}`,
      status: "unknown",
      action: `ONTAP did not answer the login check (${password.error}); re-run doctor, and check ${obs.inspectedCluster} if it persists`,
    });
  } else if (password.result === "ok") {
    rows.push({ check, expected, actual: "authenticates", status: "ok" });
  } else if (pending?.result === "ok") {
    rows.push({
      check,
      expected,
      actual: "rejected; pendingPassword authenticates",
      status: "warn",
      action: `a password rotation was interrupted after ONTAP accepted the new password: ${reconcile}; the controller promotes pendingPassword`,
      repairable: true,
    });
  } else {
    rows.push({
      check,
      expected,
      actual: "rejected by ONTAP (drifted)",
      status: "fail",
      action: `the stored password does not authenticate (it was changed on ONTAP, or the user was re-created): ${reconcile}; the controller rotates it, storing the new password first`,
      repairable: true,
    });
  }
  if (pending && pending.result !== "not-checked") {
    const row: DoctorRow = { check: "pendingPassword", expected: "none (only during a rotation)", actual: "", status: "warn" };
    if (pending.result === "no-answer") {
      row.actual = `set; unknown: ${pending.error}`;
      row.status = "unknown";
    } else if (pending.result === "ok") {
      row.actual = password?.result === "ok" ? "set, and also authenticates" : "set, authenticates";
      row.action = `${reconcile}; the controller promotes the pending password`;
      row.repairable = true;
    } else {
      row.actual = "set, rejected (a rotation that never reached ONTAP)";
      row.action = `${reconcile}; the controller clears the stale pendingPassword (nothing is broken)`;
      row.repairable = true;
    }
    rows.push(row);
  }
  return rows;
}
