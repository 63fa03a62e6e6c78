import type { KubeClient } from "../kube/client.js";
import { CustomResourceDefinitions, type ResourceType, Secrets } from "../kube/resources.js";
import { TRIDENT_OPERATOR_CRD_NAMES } from "../trident/crds.js";
import {
  LABEL_MUTATED_BY_WEBHOOK,
  SHOOT_SYSTEM_NAMESPACE,
  TRIDENT_CONTROLLER_DEPLOYMENT,
  TRIDENT_NODE_DAEMONSET,
} from "../trident/names.js";
import { DaemonSets, Deployments } from "../testenv/trident-operator.js";
import type { Cell } from "./view.js";

/**
 * What arrived in each shoot, read from the shoot's own kube-apiserver (where gardener-resource-manager
 * applied the ManagedResources and the shoot webhook mutated Trident's objects): the demo's second table.
 * `observeShootCluster` does the reads; the rest is pure.
 */
export interface ShootClusterObservation {
  namespace: string;
  /** undefined: the shoot's API server did not answer. */
  seen?: {
    /** The operator's CRDs (ManagedResource trident-crds) that are Established. */
    operatorCrdsEstablished: number;
    backendConfigs: string[];
    /** StorageClasses provisioned by Trident. */
    storageClasses: string[];
    /** The Secret the backend references, compared with the seed Secret (never shown). */
    credentials: "matches-seed" | "differs" | "missing" | "no-backend";
    /** trident-node-linux and trident-controller: how many exist, how many the webhook mutated. */
    tridentWorkloads: { present: number; mutated: number };
  };
}

const TridentBackendConfigs: ResourceType = {
  group: "trident.netapp.io",
  version: "v1",
  plural: "tridentbackendconfigs",
  kind: "TridentBackendConfig",
  namespaced: true,
};
const StorageClasses: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", kind: "StorageClass", namespaced: false };
const TRIDENT_PROVISIONER = "csi.trident.netapp.io";
const SEED_SECRET = "ontap-svm-credentials";

interface Meta {
  metadata: { name: string; labels?: Record<string, string> };
}

export async function observeShootCluster(input: { shoot: KubeClient; seed: KubeClient; namespace: string }): Promise<ShootClusterObservation> {
  const { shoot, seed, namespace } = input;
  try {
    const crds = await Promise.all(
      TRIDENT_OPERATOR_CRD_NAMES.map((name) => shoot.get<{ status?: { conditions?: { type: string; status: string }[] } }>(CustomResourceDefinitions, undefined, name)),
    );
    // Absent until Trident's CRDs are installed: the list answers 404 then.
    const backends = await shoot
      .list<Meta & { spec?: { credentials?: { name?: string } } }>(TridentBackendConfigs, SHOOT_SYSTEM_NAMESPACE)
      .then((l) => l.items)
      .catch(() => []);
    const classes = (await shoot.list<Meta & { provisioner?: string }>(StorageClasses)).items.filter((c) => c.provisioner === TRIDENT_PROVISIONER);
    const credentialsName = backends[0]?.spec?.credentials?.name;
    let credentials: NonNullable<ShootClusterObservation["seen"]>["credentials"] = "no-backend";
    if (credentialsName) {
      const [inShoot, inSeed] = await Promise.all([
        shoot.get<{ data?: Record<string, string> }>(Secrets, SHOOT_SYSTEM_NAMESPACE, credentialsName),
        seed.get<{ data?: Record<string, string> }>(Secrets, namespace, SEED_SECRET),
      ]);
      credentials = !inShoot?.data?.password ? "missing" : inShoot.data.password === inSeed?.data?.password ? "matches-seed" : "differs";
    }
    const workloads = await Promise.all([
      shoot.get<Meta>(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET),
      shoot.get<Meta>(Deployments, SHOOT_SYSTEM_NAMESPACE, TRIDENT_CONTROLLER_DEPLOYMENT),
    ]);
    return {
      namespace,
      seen: {
        operatorCrdsEstablished: crds.filter((c) => c?.status?.conditions?.some((k) => k.type === "Established" && k.status === "True")).length,
        backendConfigs: backends.map((b) => b.metadata.name),
        storageClasses: classes.map((c) => c.metadata.name).sort(),
        credentials,
        tridentWorkloads: {
          present: workloads.filter(Boolean).length,
          mutated: workloads.filter((w) => w?.metadata.labels?.[LABEL_MUTATED_BY_WEBHOOK] === "true").length,
        },
      },
    };
  } catch {
    return { namespace };
  }
}

export const SHOOT_MATRIX_HEADER = ["SHOOT", "OPERATOR CRDS", "BACKEND", "STORAGECLASSES", "CREDENTIALS", "WEBHOOK"];

const cell = (text: string, tone: Cell["tone"] = "plain"): Cell => ({ text, tone });

/** One row of the second table; every cell says what the shoot's API server holds. */
export function shootClusterCells(obs: ShootClusterObservation): Cell[] {
  const s = obs.seen;
  if (!s) return [cell(obs.namespace), ...SHOOT_MATRIX_HEADER.slice(1).map(() => cell("?", "bad"))];
  const expected = TRIDENT_OPERATOR_CRD_NAMES.length;
  const credentials = {
    "matches-seed": cell("= seed Secret", "good"),
    differs: cell("stale", "busy"),
    missing: cell("missing", "busy"),
    "no-backend": cell("-", "busy"),
  }[s.credentials];
  const { present, mutated } = s.tridentWorkloads;
  return [
    cell(obs.namespace),
    cell(`${s.operatorCrdsEstablished}/${expected} Established`, s.operatorCrdsEstablished === expected ? "good" : "busy"),
    s.backendConfigs.length > 0 ? cell(s.backendConfigs.join(","), "good") : cell("-", "busy"),
    s.storageClasses.length > 0 ? cell(s.storageClasses.join(","), "good") : cell("-", "busy"),
    credentials,
    present === 0 ? cell("-", "busy") : cell(`${mutated}/${present} mutated`, mutated === present && present === 2 ? "good" : "busy"),
  ];
}

/** True when everything the demo expects has arrived in the shoot. */
export function shootClusterComplete(obs: ShootClusterObservation | undefined): boolean {
  const s = obs?.seen;
  return (
    s !== undefined &&
    s.operatorCrdsEstablished === TRIDENT_OPERATOR_CRD_NAMES.length &&
    s.backendConfigs.length > 0 &&
    s.storageClasses.length > 0 &&
    s.credentials === "matches-seed" &&
    s.tridentWorkloads.present === 2 &&
    s.tridentWorkloads.mutated === 2
  );
}
