import type { ExpectedState, ShootObservation } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** The shoot's ManagedResources (Trident and its CRDs), as gardener-resource-manager reports them. */
export function managedResourceRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const mrs = obs.managedResources;
  if (!mrs) return [];
  if (!mrs.ok) {
    return [
      {
        check: "ManagedResources",
        expected: want.managedResources.join(", "),
        actual: `unknown: ${mrs.error}`,
        status: "unknown",
        action: `listing ManagedResources failed (${mrs.error}): check the doctor's permissions (list managedresources.resources.gardener.cloud)`,
      },
    ];
  }
  return mrs.value.map((mr) => {
    const check = `ManagedResource ${mr.name}`;
    if (!mr.found) {
      return {
        check,
        expected: "healthy",
        actual: "missing",
        status: "fail" as const,
        action: `${reconcile}; the controller re-creates the missing ManagedResources`,
        repairable: true,
      };
    }
    if (!mr.healthy && mr.progressing) {
      return {
        check,
        expected: "healthy",
        actual: mr.reason,
        status: "warn" as const,
        action: `gardener-resource-manager has not finished applying ManagedResource ${mr.name}: re-run doctor in a minute; if it stays, check gardener-resource-manager (kubectl describe managedresource -n ${obs.namespace} ${mr.name})`,
      };
    }
    if (!mr.healthy) {
      return {
        check,
        expected: "healthy",
        actual: mr.reason,
        status: "fail" as const,
        action: `ManagedResource ${mr.name} is not healthy: look at gardener-resource-manager's view (kubectl describe managedresource -n ${obs.namespace} ${mr.name})`,
      };
    }
    return { check, expected: "healthy", actual: "healthy", status: "ok" as const };
  });
}
