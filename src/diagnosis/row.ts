/** One line of a diagnosis: a check, what it should be, what it is, and what to do about it. */

/** ok: as expected; warn: works, but not as it should be; fail: broken; unknown: could not be told; skip: not checked. */
export type RowStatus = "ok" | "warn" | "fail" | "unknown" | "skip";

export interface DoctorRow {
  check: string;
  expected: string;
  actual: string;
  status: RowStatus;
  /** What an operator should do about this row (rows that are ok have none). */
  action?: string;
  /** A reconcile repairs this row by itself: while the controller is already retrying, its action is moot. */
  repairable?: boolean;
}

/** The command an operator runs to make the controller reconcile a shoot's Extension now. */
export function reconcileCommand(namespace: string, extensionName = "ontap"): string {
  return `kubectl annotate extension -n ${namespace} ${extensionName} gardener.cloud/operation=reconcile --overwrite`;
}
