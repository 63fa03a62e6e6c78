import type { ExpectedState, ShootObservation } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** The seed Secret holding the ONTAP user's credentials, and the Go extension's legacy copy that should be gone. */
export function secretRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const rows: DoctorRow[] = [];
  const name = `${want.secret.namespace}/${want.secret.name}`;
  const check = `seed Secret ${name}`;
  const expected = `username ${want.username} + password`;
  const secret = obs.secret;
  const legacy = obs.legacySecret?.ok ? obs.legacySecret.value : undefined;
  if (!secret?.ok) {
    const error = secret && !secret.ok ? secret.error : "not read";
    rows.push({
      check,
      expected,
      actual: `unknown: ${error}`,
      status: "unknown",
      action: `the seed Secret could not be read (${error}): check the doctor's permissions (get Secrets)`,
    });
  } else if (!secret.value.found) {
    const adopt = legacy?.found && legacy.hasPassword;
    rows.push({
      check,
      expected,
      actual: "missing",
      status: "fail",
      action: adopt
        ? `the seed Secret is missing: ${reconcile}; the controller adopts the Go extension's Secret ${want.legacySecret.namespace}/${want.legacySecret.name} if its password still works, else rotates the password`
        : `the seed Secret is missing: ${reconcile}; the controller re-creates it and rotates the password`,
      repairable: true,
    });
  } else {
    const s = secret.value;
    const parts = [`username ${s.username ?? "(none)"}`, s.hasPassword ? "password set" : "NO password"];
    if (s.hasPendingPassword) parts.push("pendingPassword set");
    const actual = parts.join(", ");
    if (s.username !== want.username || !s.hasPassword) {
      rows.push({
        check,
        expected,
        actual,
        status: "fail",
        action: `the seed Secret is ${s.hasPassword ? "for another user" : "empty"}: ${reconcile}; the controller rotates the password and rewrites it`,
        repairable: true,
      });
    } else {
      rows.push({ check, expected, actual, status: "ok" });
    }
  }

  const legacyName = `${want.legacySecret.namespace}/${want.legacySecret.name}`;
  if (obs.legacySecret && !obs.legacySecret.ok) {
    rows.push({ check: `legacy Secret ${legacyName}`, expected: "absent", actual: `unknown: ${obs.legacySecret.error}`, status: "unknown" });
  } else if (legacy?.found) {
    const seedPresent = secret?.ok && secret.value.found;
    rows.push({
      check: `legacy Secret ${legacyName}`,
      expected: "absent (the Go extension's copy, adopted once)",
      actual: "present",
      status: "warn",
      action: seedPresent
        ? `the Go extension's Secret is no longer used: delete it (kubectl delete secret -n ${want.legacySecret.namespace} ${want.legacySecret.name})`
        : `${reconcile}; the controller adopts the Go extension's Secret when its password works, then removes it`,
    });
  }
  return rows;
}
