import type { ClusterAnswer, ExpectedState, ExtensionFacts, ShootObservation } from "../observation.js";
import type { DoctorRow } from "../row.js";

/**
 * The project's SVM: exactly one copy on the clusters that answered, running, NVMe enabled, where providerStatus
 * records it. A copy on two clusters is never resolved by the controller, so it is a row to act on.
 */
export function svmRow(obs: ShootObservation, want: ExpectedState, ext: ExtensionFacts, reconcile: string): DoctorRow {
  const check = `SVM ${want.svmName}`;
  const recorded = ext.recordedCluster;
  const expected = `on ${recorded ?? "one cluster"}, running, NVMe enabled`;
  const found = obs.clusters.flatMap((c) => (c.kind === "found" ? [c] : []));
  const silent = obs.clusters.filter((c) => c.kind === "no-answer").map((c) => c.cluster);
  const own = found.filter((c) => !c.svm.mirror);

  if (own.length > 1) {
    const where = own.map((c) => `${c.cluster} (${c.svm.state}, uuid ${c.svm.uuid})`).join(" and ");
    return {
      check,
      expected,
      actual: `on ${own.length} clusters: ${where}`,
      status: "fail",
      action: `SVM ${want.svmName} exists on ${own.map((c) => c.cluster).join(" and ")}: the controller refuses to pick one. Delete the wrong copy on ONTAP (the one without this project's users, LIFs and volumes${recorded ? `; providerStatus records ${recorded}` : ""}), then ${reconcile}`,
    };
  }
  const copy = own[0] ?? found[0];
  if (!copy) {
    if (silent.length > 0) {
      return {
        check,
        expected,
        actual: `unknown: absent on ${answered(obs.clusters)}, ${silent.join(", ")} did not answer`,
        status: "unknown",
        action: `cannot tell whether SVM ${want.svmName} exists while ${silent.join(", ")} does not answer; fix that cluster's reachability first`,
      };
    }
    return {
      check,
      expected,
      actual: `absent on every cluster (${answered(obs.clusters)})`,
      status: "fail",
      action: `SVM ${want.svmName} does not exist: ${reconcile}; the controller creates it${recorded ? ` on ${recorded}` : " on the cluster with the fewest volumes"}, with its LIFs, user and seed Secret`,
      repairable: true,
    };
  }
  const svm = copy.svm;
  const state = `${svm.state}, NVMe ${svm.nvmeEnabled === false ? "disabled" : svm.nvmeEnabled ? "enabled" : "not reported"}`;
  const mirror = svm.mirror ? ` as MetroCluster mirror ${svm.name} (${svm.subtype ?? "sync_destination"})` : "";
  const unknownElsewhere = silent.length > 0 ? `; ${silent.join(", ")} did not answer` : "";
  const actual = `on ${copy.cluster}${mirror}: ${state}${unknownElsewhere}`;
  if (svm.state === "initializing" || svm.state === "starting") {
    return { check, expected, actual, status: "warn", action: `SVM ${want.svmName} is ${svm.state}: wait; the controller re-checks it and continues` };
  }
  if (svm.state !== "running") {
    return {
      check,
      expected,
      actual,
      status: "fail",
      action: `SVM ${want.svmName} on ${copy.cluster} is ${svm.state}: start it on ONTAP (vserver start -vserver ${want.svmName}); the controller never recreates an SVM that exists, its data may live there`,
    };
  }
  if (svm.nvmeEnabled === false) {
    return {
      check,
      expected,
      actual,
      status: "fail",
      action: `enable the NVMe service of SVM ${want.svmName} on ${copy.cluster} (vserver nvme create -vserver ${want.svmName}), then ${reconcile}`,
    };
  }
  if (silent.length > 0) {
    return {
      check,
      expected,
      actual,
      status: "unknown",
      action: `SVM ${want.svmName} is on ${copy.cluster}, but ${silent.join(", ")} did not answer: a second copy there cannot be ruled out; fix that cluster's reachability`,
    };
  }
  if (recorded && recorded !== copy.cluster) {
    return {
      check,
      expected,
      actual: `${actual} (providerStatus records ${recorded})`,
      status: "warn",
      action: `SVM ${want.svmName} is on ${copy.cluster}, not on ${recorded} as recorded in providerStatus (a MetroCluster switchover, or the SVM was moved): ${reconcile} to record where it is`,
      repairable: true,
    };
  }
  if (svm.mirror) {
    return {
      check,
      expected,
      actual,
      status: "warn",
      action: `only the MetroCluster mirror of SVM ${want.svmName} is visible (${copy.cluster}): check the MetroCluster state (switchover in progress?)`,
    };
  }
  return { check, expected, actual, status: "ok" };
}

function answered(clusters: readonly ClusterAnswer[]): string {
  return clusters.filter((c) => c.kind !== "no-answer").map((c) => c.cluster).join(", ") || "no cluster";
}
