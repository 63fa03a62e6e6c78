import { clusterRows } from "./checks/clusters.js";
import { statusRows } from "./checks/extension-status.js";
import { lifRows } from "./checks/lifs.js";
import { managedResourceRows } from "./checks/managed-resources.js";
import { userRow } from "./checks/ontap-user.js";
import { passwordRows } from "./checks/password.js";
import { secretRows } from "./checks/seed-secret.js";
import { svmRow } from "./checks/svm.js";
import type { ShootObservation } from "./observation.js";
import { type DoctorRow, type RowStatus, reconcileCommand } from "./row.js";

/**
 * The pure half of `doctor`: observation -> rows (expected against actual) -> verdict and next action.
 * Rows are ordered by dependency (inputs, clusters, SVM, LIFs, user, Secret, password, Trident, status), so
 * the first row that needs an action names the thing to fix first.
 */

export type Verdict = "healthy" | "degraded" | "broken" | "unknown";

export interface ShootDiagnosis {
  namespace: string;
  verdict: Verdict;
  /** The single next step: the action of the first failing row, else the first unknown one, else the first warning. */
  nextAction: string;
  /** Every distinct action, in the order of the rows. */
  actions: string[];
  rows: DoctorRow[];
}

export function diagnose(obs: ShootObservation): ShootDiagnosis {
  const rows = rowsFor(obs);
  const ext = obs.extension.ok ? obs.extension.value : undefined;
  const failingWith = ext?.lastOperation?.state === "Error" ? ext.lastError?.description : undefined;
  return { namespace: obs.namespace, ...verdictFor(rows, { failingWith }) };
}

/**
 * `failingWith`: the controller is already retrying and fails with this error. Then triggering a reconcile
 * for a row it would repair is no advice: the error's cause is the thing to fix.
 */
export function verdictFor(rows: readonly DoctorRow[], context: { failingWith?: string } = {}): Omit<ShootDiagnosis, "namespace"> {
  const has = (status: RowStatus) => rows.some((r) => r.status === status);
  const verdict: Verdict = has("fail") ? "broken" : has("unknown") ? "unknown" : has("warn") ? "degraded" : "healthy";
  const first = (status: RowStatus) => rows.find((r) => r.status === status && r.action);
  const row = first("fail") ?? first("unknown") ?? first("warn");
  let nextAction = row?.action ?? "nothing to do: every check matches";
  if (row?.repairable && context.failingWith) {
    const pending = rows.filter((r) => r.repairable && r.status !== "ok").map((r) => r.check);
    nextAction = `the controller is retrying and fails with: ${context.failingWith}; fix that cause: it then repairs ${summarizeChecks(pending)} by itself`;
  }
  const actions = [...new Set([nextAction, ...rows.flatMap((r) => (r.status !== "ok" && r.action ? [r.action] : []))])].filter(
    (a) => a !== "nothing to do: every check matches",
  );
  return { verdict, nextAction, actions, rows: [...rows] };
}

export function rowsFor(obs: ShootObservation): DoctorRow[] {
  const ns = obs.namespace;
  if (!obs.extension.ok) {
    return [
      {
        check: "Extension",
        expected: "readable",
        actual: `cannot be read: ${obs.extension.error}`,
        status: "unknown",
        action: `the seed's API server did not answer the doctor (${obs.extension.error}): check --kubeconfig and its permissions (get/list Extensions, Clusters, Secrets, ManagedResources)`,
      },
    ];
  }
  const ext = obs.extension.value;
  if (!ext) {
    return [
      {
        check: "Extension",
        expected: "type ontap",
        actual: "none in this namespace",
        status: "fail",
        action: `${ns} has no Extension of type ontap: the shoot does not enable the extension (Shoot spec.extensions), or Gardener has not created it yet`,
      },
    ];
  }
  const reconcile = reconcileCommand(ns, ext.name);
  const rows: DoctorRow[] = [];

  if (!obs.expected?.ok) {
    const error = obs.expected?.error ?? "not derived";
    rows.push({
      check: "inputs",
      expected: "valid providerConfig and project annotation",
      actual: error,
      status: "fail",
      action: `fix the shoot's input (${error}); the controller does not retry bad input until the Extension's spec changes`,
    });
    rows.push(...statusRows(ext, reconcile));
    return rows;
  }
  const want = obs.expected.value;
  rows.push({
    check: "inputs",
    expected: "valid providerConfig and project annotation",
    actual: `SVM ${want.svmName}, user ${want.username}, ${want.lifs.length} LIFs`,
    status: "ok",
  });
  rows.push(...clusterRows(obs.clusters));
  rows.push(svmRow(obs, want, ext, reconcile));
  rows.push(...lifRows(obs, want, reconcile));
  rows.push(userRow(obs, want, reconcile));
  rows.push(...secretRows(obs, want, reconcile));
  rows.push(...passwordRows(obs, want, reconcile));
  rows.push(...managedResourceRows(obs, want, reconcile));
  rows.push(...statusRows(ext, reconcile));
  return rows;
}

/** `LIF a, LIF b, ManagedResource x, ManagedResource y` -> `2 LIFs, 2 ManagedResources`; other checks as they are. */
export function summarizeChecks(checks: readonly string[]): string {
  const groups = new Map<string, number>();
  const single: string[] = [];
  for (const check of checks) {
    const group = ["ManagedResource", "LIF"].find((prefix) => check.startsWith(`${prefix} `));
    if (group) groups.set(group, (groups.get(group) ?? 0) + 1);
    else single.push(check);
  }
  const grouped = [...groups].map(([name, n]) => (n === 1 ? checks.find((c) => c.startsWith(`${name} `)) ?? name : `${n} ${name}s`));
  return [...single, ...grouped].join(", ");
}

/** The worst verdict of several shoots (for the exit code and the summary line). */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  const order: Verdict[] = ["broken", "unknown", "degraded", "healthy"];
  return order.find((v) => verdicts.includes(v)) ?? "healthy";
}
