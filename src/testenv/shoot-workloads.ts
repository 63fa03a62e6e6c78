import type { KubeClient } from "../kube/client.js";
import type { ResourceType } from "../kube/resources.js";
import { startPollingLoop } from "./polling-loop.js";

/**
 * The shoot of the test world is a bare kube-apiserver: no kube-controller-manager, no scheduler, no kubelet
 * (none can run pods here). Two of their jobs decide what gardener-resource-manager reports, so this plays
 * them, in the open and for workloads only:
 *
 * 1. Rollout status. A Deployment's status is written by the deployment controller from what kubelets
 *    report; without it gardener-resource-manager's health check calls every Deployment unhealthy forever,
 *    and its progressing check also counts the Deployment's Pods (exactly `replicas` must exist). This writes
 *    the status a finished rollout has (every desired replica updated, ready and available) for Deployments
 *    and StatefulSets, creates the Deployment's Pods (unscheduled, owned by the Deployment, reported Running),
 *    and for DaemonSets writes the status of a cluster without nodes (nothing scheduled).
 *    `holdBack` keeps named objects unrolled, so a test can show an unhealthy workload.
 * 2. Foreground deletion. gardener-resource-manager deletes `apps` objects with propagationPolicy Foreground;
 *    kube-apiserver then adds the `foregroundDeletion` finalizer, which only the garbage collector removes
 *    once no dependents are left. Nothing here creates dependents (no ReplicaSets, no Pods), so the garbage
 *    collector would remove it at once; this does the same, and nothing else.
 */
export interface ShootWorkloads {
  /** `namespace/name` of workloads whose rollout is not reported (they stay unhealthy). */
  holdBack: Set<string>;
  stop(): Promise<void>;
}

const Deployments: ResourceType = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true };
const StatefulSets: ResourceType = { group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet", namespaced: true };
const DaemonSets: ResourceType = { group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true };
const Pods: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };

interface Workload {
  metadata: { name: string; namespace: string; uid?: string; generation?: number; deletionTimestamp?: string; finalizers?: string[] };
  spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> } };
  status?: Record<string, unknown> & { observedGeneration?: number };
}

const FOREGROUND = "foregroundDeletion";

export function startShootWorkloads(shoot: KubeClient, opts: { intervalMs?: number } = {}): ShootWorkloads {
  const holdBack = new Set<string>();
  const interval = opts.intervalMs ?? 250;
  const round = async (type: ResourceType) => {
    const { items } = await shoot.list<Workload>(type);
    for (const w of items) {
      const { namespace, name } = w.metadata;
      if (w.metadata.deletionTimestamp) {
        const finalizers = w.metadata.finalizers ?? [];
        // Dependents first, as the garbage collector does with foreground deletion (unscheduled Pods go at once).
        if (type === Deployments) for (const pod of podNames(w)) await shoot.delete(Pods, namespace, pod).catch(() => undefined);
        if (finalizers.includes(FOREGROUND)) {
          await shoot
            .mergePatch(type, namespace, name, { metadata: { finalizers: finalizers.filter((f) => f !== FOREGROUND) } })
            .catch(() => undefined);
        }
        continue;
      }
      if (type === Deployments) await ensurePods(shoot, w);
      if (holdBack.has(`${namespace}/${name}`)) continue;
      const status = rolledOutStatus(type, w);
      if (alreadyRolledOut(w.status, status)) continue;
      await shoot.mergePatch(type, namespace, name, { status }, { subresource: "status" }).catch(() => undefined);
    }
  };

  // Each kind on its own: a failed round of one kind does not hold back the others.
  const loop = startPollingLoop(async () => {
    for (const type of [Deployments, StatefulSets, DaemonSets]) await round(type).catch(() => undefined);
  }, interval);

  return { holdBack, stop: loop.stop };
}

function podNames(w: Workload): string[] {
  return Array.from({ length: w.spec?.replicas ?? 1 }, (_, i) => `${w.metadata.name}-standin-${i}`);
}

/** The Deployment's Pods as its ReplicaSet would create them; reported Running and Ready as a kubelet would. */
async function ensurePods(shoot: KubeClient, w: Workload): Promise<void> {
  const { namespace } = w.metadata;
  for (const name of podNames(w)) {
    if (await shoot.get(Pods, namespace, name)) continue;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const pod = await shoot.create<{ metadata: Record<string, unknown> & { name: string } } & Record<string, unknown>>(Pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace,
        labels: w.spec?.template?.metadata?.labels ?? {},
        ownerReferences: w.metadata.uid ? [{ apiVersion: "apps/v1", kind: "Deployment", name: w.metadata.name, uid: w.metadata.uid, controller: true }] : [],
      },
      spec: w.spec?.template?.spec ?? {},
    });
    await shoot.mergePatch(
      Pods,
      namespace,
      pod.metadata.name,
      { status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } },
      { subresource: "status" },
    );
  }
}

/** Every count and the generation as a finished rollout reports them (conditions aside): nothing to write. */
function alreadyRolledOut(current: Workload["status"], desired: Record<string, unknown>): boolean {
  if (!current) return false;
  return Object.entries(desired).every(([key, value]) => key === "conditions" || current[key] === value) &&
    (desired.conditions === undefined ||
      ((current.conditions as { type: string; status: string }[] | undefined) ?? []).some((c) => c.type === "Available" && c.status === "True"));
}

function rolledOutStatus(type: ResourceType, w: Workload): Record<string, unknown> & { observedGeneration?: number } {
  const observedGeneration = w.metadata.generation;
  if (type === DaemonSets) {
    // No nodes: nothing is desired, so nothing is missing.
    return {
      observedGeneration,
      currentNumberScheduled: 0,
      desiredNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      updatedNumberScheduled: 0,
      numberAvailable: 0,
    };
  }
  const replicas = w.spec?.replicas ?? 1;
  if (type === StatefulSets) {
    return { observedGeneration, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas };
  }
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    observedGeneration,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "reported by the test world's workload stand-in", lastTransitionTime: now, lastUpdateTime: now },
      { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: "reported by the test world's workload stand-in", lastTransitionTime: now, lastUpdateTime: now },
    ],
  };
}
