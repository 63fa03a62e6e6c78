import type { ExtensionFacts } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** The Extension's own status: lastOperation for the current generation, lastError, and the escalation condition. */
export function statusRows(ext: ExtensionFacts, reconcile: string): DoctorRow[] {
  const rows: DoctorRow[] = [];
  const op = ext.lastOperation;
  const generation = ext.generation ?? 0;
  const expected = `Succeeded for generation ${generation}`;
  if (ext.deleting) {
    rows.push({
      check: "lastOperation",
      expected: "not being deleted",
      actual: `being deleted: ${op ? `${op.type} ${op.state}: ${op.description}` : "no status yet"}`,
      status: "warn",
      action: "the Extension is being deleted: the controller removes the ManagedResources, the ONTAP user and the seed Secret, and the SVM once unused",
    });
  } else if (!op) {
    rows.push({
      check: "lastOperation",
      expected,
      actual: "none yet",
      status: "warn",
      action: "the controller has not picked the Extension up yet: check that it runs and that its extension class matches",
    });
  } else {
    const actual = `${op.type} ${op.state}${ext.observedGeneration !== undefined ? ` (generation ${ext.observedGeneration})` : ""}: ${op.description}`;
    if (op.state === "Succeeded" && (ext.observedGeneration ?? 0) >= generation) {
      rows.push({ check: "lastOperation", expected, actual, status: "ok" });
    } else if (op.state === "Succeeded") {
      rows.push({
        check: "lastOperation",
        expected,
        actual,
        status: "warn",
        action: "the current spec is not reconciled yet: re-run doctor in a minute; if it stays, check that the controller runs",
      });
    } else if (op.state === "Failed") {
      rows.push({
        check: "lastOperation",
        expected,
        actual,
        status: "fail",
        action: "the last operation failed and is not retried until the Extension's spec changes: fix the cause in lastError",
      });
    } else if (op.state === "Processing") {
      rows.push({ check: "lastOperation", expected, actual, status: "warn", action: "a reconcile is in progress: re-run doctor in a minute" });
    } else {
      rows.push({
        check: "lastOperation",
        expected,
        actual,
        status: "warn",
        action: `the last reconcile ended in ${op.state} and the controller retries with backoff; if the rows above look right, ${reconcile} to confirm`,
      });
    }
  }
  if (ext.trident) {
    // Which Trident the shoot runs (issue 23): chosen from the shoot's Kubernetes version, never downgraded.
    const t = ext.trident;
    const detail = [t.operatorImage ? `operator ${t.operatorImage}` : undefined, t.selectedBy ? `selected by ${t.selectedBy}` : undefined].filter(Boolean).join(", ");
    rows.push({ check: "Trident", expected: "the release deployed to the shoot", actual: `${t.version}${detail ? ` (${detail})` : ""}`, status: "ok" });
  }
    if (ext.lastError) {
    const codes = ext.lastError.codes.length > 0 ? `[${ext.lastError.codes.join(", ")}] ` : "";
    rows.push({ check: "lastError", expected: "none", actual: `${codes}${ext.lastError.description}`, status: "warn" });
  }
  const esc = ext.escalation;
  if (esc?.status === "True") {
    rows.push({
      check: "ReconcileEscalated",
      expected: "False",
      actual: `True since ${esc.lastTransitionTime ?? "?"}: ${esc.message}`,
      status: "fail",
      action: `the controller escalated (${esc.message}): fix the cause named in ${esc.reason.startsWith("Waiting") ? "it (what the reconcile waits for)" : "lastError"}, then ${reconcile}`,
    });
  } else {
    rows.push({ check: "ReconcileEscalated", expected: "False", actual: esc ? `${esc.status} (${esc.reason})` : "not set", status: "ok" });
  }
  return rows;
}
