import type { ExpectedState, ShootObservation } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** The SVM's LIFs against the shoot's providerConfig: present, at the address asked for, up; other LIFs left alone. */
export function lifRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const expectedOf = (ip: string, policy: string) => `${ip} (${policy})`;
  if (!obs.lifs) {
    return want.lifs.map((lif) => ({
      check: `LIF ${lif.name}`,
      expected: expectedOf(lif.ipAddress, lif.servicePolicy),
      actual: "not checked: no SVM to look at",
      status: "skip" as const,
    }));
  }
  if (!obs.lifs.ok) {
    const error = obs.lifs.error;
    return want.lifs.map((lif) => ({
      check: `LIF ${lif.name}`,
      expected: expectedOf(lif.ipAddress, lif.servicePolicy),
      actual: `unknown: ${error}`,
      status: "unknown" as const,
      action: `listing the LIFs on ${obs.inspectedCluster} failed (${error}); re-run doctor, and check the cluster if it persists`,
    }));
  }
  const have = new Map(obs.lifs.value.map((l) => [l.name, l.ipAddress]));
  const stateOf = new Map(obs.lifs.value.map((l) => [l.name, l.state]));
  const rows: DoctorRow[] = want.lifs.map((lif) => {
    const expected = expectedOf(lif.ipAddress, lif.servicePolicy);
    // A LIF an earlier version of this controller named `datalif<i>` counts, as the controller uses it too.
    const actual = have.get(lif.name) ?? (lif.formerName !== undefined ? have.get(lif.formerName) : undefined);
    if (actual === undefined) {
      return {
        check: `LIF ${lif.name}`,
        expected,
        actual: "missing",
        status: "fail",
        action: `${reconcile}; the controller creates missing LIFs`,
        repairable: true,
      };
    }
    if (actual !== lif.ipAddress) {
      // Not repairable by a reconcile: a LIF in use is never moved (it carries the project's NVMe/TCP paths).
      return {
        check: `LIF ${lif.name}`,
        expected,
        actual: `${actual} (differs from this shoot's providerConfig)`,
        status: "fail",
        action: `set this shoot's providerConfig address for ${lif.name} to ${actual} (the address the project's shared SVM uses), or move the LIF on ONTAP first; the controller never moves a LIF in use`,
        repairable: false,
      };
    }
    if (stateOf.get(lif.name) === "down") {
      return {
        check: `LIF ${lif.name}`,
        expected: `${expected}, up`,
        actual: `${actual}, down`,
        status: "fail",
        action: `LIF ${lif.name} on ${obs.inspectedCluster} is down: check its home port and node (network interface show -vserver ${want.svmName}); the controller never changes a LIF's state under live I/O`,
      };
    }
    return { check: `LIF ${lif.name}`, expected, actual, status: "ok" };
  });
  const foreign = obs.lifs.value.filter((l) => !want.lifs.some((w) => w.name === l.name || (w.formerName === l.name && !have.has(w.name))));
  if (foreign.length > 0) {
    rows.push({
      check: "other LIFs",
      expected: "left alone",
      actual: foreign.map((l) => `${l.name} ${l.ipAddress}`).join(", "),
      status: "ok",
    });
  }
  return rows;
}
