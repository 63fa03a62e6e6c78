import type { DoctorRow } from "../diagnosis/row.js";
import type { Extension } from "../extension/types.js";
import { isNotFound } from "../kube/errors.js";
import type { KubeObject } from "../kube/objects.js";
import type { ResourceType } from "../kube/resources.js";
import { backendConfigName, LABEL_MUTATED_BY_WEBHOOK, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET } from "../trident/names.js";
import { INIT_CONTAINER_NAME } from "../webhook/mutate.js";
import type { ShootAccess, ShootConnection } from "./shoot-access.js";

/**
 * The shoot side of the storage health check: what Trident itself says about the backend this extension
 * configured (TridentBackendConfig `status`), and whether Trident's node DaemonSet carries the shoot webhook's
 * mutation (under failurePolicy Ignore a webhook that did not answer lets it in unmutated: no nvme-tcp module
 * loader, not node-critical). Reads only, with the health check's own ServiceAccount in the shoot
 * (shoot-access.ts). `shootTridentRows` is the pure half: rows in the doctor's shape, which evaluate.ts folds
 * into `StorageHealthy`.
 */
export const TridentBackendConfigs: ResourceType = {
  group: "trident.netapp.io",
  version: "v1",
  plural: "tridentbackendconfigs",
  kind: "TridentBackendConfig",
  namespaced: true,
};
const DaemonSets: ResourceType = { group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true };

interface TridentBackendConfig extends KubeObject {
  status?: { phase?: string; lastOperationStatus?: string; message?: string; backendInfo?: { backendName?: string } };
}
interface DaemonSet extends KubeObject {
  spec?: { template?: { spec?: { initContainers?: { name?: string }[] } } };
}

type Read<T> = { ok: true; value: T | undefined } | { ok: false; error: string };

export type ShootTridentObservation =
  | { kind: "not-offered" }
  | { kind: "pending"; reason: string }
  | { kind: "failed"; reason: string }
  | { kind: "read"; backendConfig: string; backend: Read<TridentBackendConfig>; nodeDaemonSet: Read<DaemonSet> };

/** The backend's name in the shoot is known once the SVM was recorded in the Extension's providerStatus. */
function svmOf(ext: Extension): string | undefined {
  const svm = (ext.status?.providerStatus as { svmName?: unknown } | undefined)?.svmName;
  return typeof svm === "string" && svm !== "" ? svm : undefined;
}

export async function observeShootTrident(access: ShootAccess, ext: Extension): Promise<ShootTridentObservation> {
  const svm = svmOf(ext);
  if (!svm) return { kind: "not-offered" };
  let connection: ShootConnection;
  try {
    connection = await access.connect(ext);
  } catch (err) {
    return { kind: "failed", reason: `the seed could not be read: ${(err as Error).message}` };
  }
  if (connection.kind !== "connected") return connection;
  const backendConfig = backendConfigName(svm);
  const [backend, nodeDaemonSet] = await Promise.all([
    read(() => connection.kube.get<TridentBackendConfig>(TridentBackendConfigs, SHOOT_SYSTEM_NAMESPACE, backendConfig)),
    read(() => connection.kube.get<DaemonSet>(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET)),
  ]);
  return { kind: "read", backendConfig, backend, nodeDaemonSet };
}

async function read<T>(get: () => Promise<T | undefined>): Promise<Read<T>> {
  try {
    return { ok: true, value: await get() };
  } catch (err) {
    // A 404 of the resource type: Trident's operator has not installed its CRDs yet.
    if (isNotFound(err)) return { ok: true, value: undefined };
    return { ok: false, error: (err as Error).message };
  }
}

const BACKEND_CHECK = "Trident backend";
const DAEMONSET_CHECK = "Trident node DaemonSet";

/** Pure: the shoot-side observation as rows (none when the shoot is not offered to this extension). */
export function shootTridentRows(obs: ShootTridentObservation): DoctorRow[] {
  switch (obs.kind) {
    case "not-offered":
      return [];
    case "pending":
      return [{ check: "shoot API server", expected: "readable", actual: obs.reason, status: "warn" }];
    case "failed":
      return [
        {
          check: "shoot API server",
          expected: "readable with the health check's ServiceAccount",
          actual: obs.reason,
          status: "unknown",
          action: "check gardenlet's generic-token-kubeconfig Secret and the shoot's gardener-resource-manager (token requestor)",
        },
      ];
    case "read":
      return [backendRow(obs.backendConfig, obs.backend), daemonSetRow(obs.nodeDaemonSet)];
  }
}

function backendRow(name: string, read: Read<TridentBackendConfig>): DoctorRow {
  const check = `${BACKEND_CHECK} ${SHOOT_SYSTEM_NAMESPACE}/${name}`;
  const expected = "phase Bound, lastOperationStatus Success";
  if (!read.ok) return { check, expected, actual: `could not be read in the shoot: ${read.error}`, status: "unknown" };
  const tbc = read.value;
  // Absent or without status: Trident (or its CRDs) not there yet; the ManagedResource rows say when that is wrong.
  if (!tbc) return { check, expected, actual: "not in the shoot yet", status: "warn" };
  const { phase, lastOperationStatus, message } = tbc.status ?? {};
  if (!phase && !lastOperationStatus) return { check, expected, actual: "Trident has not reported on it yet", status: "warn" };
  const said = `phase ${phase || "(none)"}, lastOperationStatus ${lastOperationStatus || "(none)"}${message ? `: ${message}` : ""}`;
  if (phase === "Bound" && lastOperationStatus !== "Failed") return { check, expected, actual: said, status: "ok" };
  if (lastOperationStatus === "Processing") return { check, expected, actual: said, status: "warn" };
  return {
    check,
    expected,
    actual: `Trident reports ${said}`,
    status: "fail",
    action:
      "Trident cannot use the SVM with the backend this extension configured: check Trident's message above and the controller's log " +
      `(kubectl -n ${SHOOT_SYSTEM_NAMESPACE} logs deploy/trident-controller -c trident-main); it clears when Trident binds the backend again`,
  };
}

function daemonSetRow(read: Read<DaemonSet>): DoctorRow {
  const check = `${DAEMONSET_CHECK} ${SHOOT_SYSTEM_NAMESPACE}/${TRIDENT_NODE_DAEMONSET}`;
  const expected = `mutated by the shoot webhook (label ${LABEL_MUTATED_BY_WEBHOOK}, init container ${INIT_CONTAINER_NAME})`;
  if (!read.ok) return { check, expected, actual: `could not be read in the shoot: ${read.error}`, status: "unknown" };
  const ds = read.value;
  if (!ds) return { check, expected, actual: "not created by Trident's operator yet", status: "skip" };
  const labelled = ds.metadata?.labels?.[LABEL_MUTATED_BY_WEBHOOK] === "true";
  const initContainer = (ds.spec?.template?.spec?.initContainers ?? []).some((c) => c.name === INIT_CONTAINER_NAME);
  if (labelled && initContainer) return { check, expected, actual: "mutated", status: "ok" };
  const missing = [labelled ? undefined : "the label", initContainer ? undefined : `the ${INIT_CONTAINER_NAME} init container`].filter(Boolean).join(" and ");
  return {
    check,
    expected,
    actual: `admitted without the shoot webhook's mutation (it lacks ${missing}): the webhook did not answer when it was written (failurePolicy Ignore), so nodes may lack the nvme-tcp module and Gardener does not treat it as node-critical`,
    status: "fail",
    action: `once the shoot webhook answers (SystemComponentsHealthy says so), have it admitted again: kubectl -n ${SHOOT_SYSTEM_NAMESPACE} rollout restart daemonset ${TRIDENT_NODE_DAEMONSET}`,
  };
}
