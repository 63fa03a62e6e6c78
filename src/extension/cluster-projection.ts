import type { Cluster } from "./types.js";

/**
 * What the controller keeps of a Gardener `Cluster`. gardenlet writes the whole CloudProfile, Seed and Shoot
 * into it; on a metal-stack seed the CloudProfile alone is tens to hundreds of KiB (every machine type, OS
 * build and firewall release), so a cache of a thousand whole Clusters is hundreds of MiB of heap, and the
 * process died at start with "JavaScript heap out of memory" before reconciling anything. The cache keeps:
 *
 * - the Cluster's own metadata (name, uid, resourceVersion, labels, annotations, deletion);
 * - of the Shoot, what a reconcile reads or may read to tell shoots and their state apart: metadata (name,
 *   namespace, uid, labels, annotations: the metal-stack project `cluster.metal-stack.io/project`, Gardener's
 *   force-deletion annotation), `spec.kubernetes.version`, `spec.purpose`, `spec.hibernation.enabled`,
 *   `spec.region`, `spec.seedName`, the CloudProfile's name, `spec.networking`'s type and ranges,
 *   `spec.provider.type`, and `status` (lastOperation: the skip-failed-shoot rule; hibernated, technicalID,
 *   uid, seedName, clusterIdentity);
 * - of the Seed and the CloudProfile, their name and provider type.
 *
 * Everything else (machine types, images, workers, conditions, provider configs) is dropped, and so is
 * `kubectl.kubernetes.io/last-applied-configuration`, a copy of the whole object. A reconcile that needs
 * another field adds it here (test/unit/cluster-projection.test.ts lists what is kept). Idempotent, so
 * the same projection is applied to a Cluster read from the server when the cache does not have it yet.
 */
export function projectCluster(cluster: Cluster): Cluster {
  const raw = cluster as unknown as Obj;
  const spec = obj(raw.spec);
  const shoot = obj(spec.shoot);
  const seed = obj(spec.seed);
  const cloudProfile = obj(spec.cloudProfile);
  const shootSpec = obj(shoot.spec);
  const projected = {
    ...typeMeta(raw),
    metadata: projectMeta(obj(raw.metadata)),
    spec: compact({
      shoot: spec.shoot === undefined ? undefined : compact({
        ...typeMeta(shoot),
        metadata: projectMeta(obj(shoot.metadata)),
        spec: shoot.spec === undefined ? undefined : compact({
          kubernetes: pick(obj(shootSpec.kubernetes), ["version"]),
          purpose: shootSpec.purpose,
          hibernation: pick(obj(shootSpec.hibernation), ["enabled"]),
          region: shootSpec.region,
          seedName: shootSpec.seedName,
          cloudProfileName: shootSpec.cloudProfileName,
          cloudProfile: pick(obj(shootSpec.cloudProfile), ["kind", "name"]),
          networking: pick(obj(shootSpec.networking), ["type", "nodes", "pods", "services", "ipFamilies"]),
          provider: pick(obj(shootSpec.provider), ["type"]),
        }),
        status: shoot.status === undefined ? undefined : pick(obj(shoot.status), ["lastOperation", "hibernated", "technicalID", "uid", "seedName", "clusterIdentity", "observedGeneration"]),
      }),
      seed: spec.seed === undefined ? undefined : projectNamedProvider(seed, (s) => pick(obj(obj(s.spec).provider), ["type", "region"])),
      cloudProfile: spec.cloudProfile === undefined ? undefined : projectNamedProvider(cloudProfile, (c) => obj(c.spec).type),
    }) ?? {},
  };
  return projected as unknown as Cluster;
}

/**
 * The Cluster informer's list page: a 500-object page (the default) of 150 KiB Clusters is 75 MB of JSON read
 * whole before a single one is projected; 25 keeps a page under 4 MB for Clusters up to 150 KiB.
 */
export const CLUSTER_LIST_PAGE_SIZE = 25;

/** An annotation that holds a copy of the whole object (set by `kubectl apply`): never read, often large. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : {};
}

/** The object without its undefined fields; undefined when nothing is left. */
function compact(value: Obj): Obj | undefined {
  const out: Obj = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

function pick(value: Obj, keys: readonly string[]): Obj | undefined {
  return compact(Object.fromEntries(keys.map((k) => [k, value[k]])));
}

function typeMeta(value: Obj): Obj {
  return compact({ apiVersion: value.apiVersion, kind: value.kind }) ?? {};
}

function projectMeta(meta: Obj): Obj {
  const annotations = obj(meta.annotations);
  const { [LAST_APPLIED_ANNOTATION]: _copy, ...keptAnnotations } = annotations as Record<string, unknown>;
  return (
    compact({
      ...pick(meta, ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "labels", "finalizers", "ownerReferences"]),
      annotations: meta.annotations === undefined ? undefined : keptAnnotations,
    }) ?? {}
  );
}

function projectNamedProvider(value: Obj, providerOf: (v: Obj) => unknown): Obj | undefined {
  const meta = obj(value.metadata);
  const provider = providerOf(value);
  return compact({
    ...typeMeta(value),
    metadata: pick(meta, ["name", "uid"]),
    spec: provider === undefined ? undefined : typeof provider === "string" ? { type: provider } : { provider },
  });
}
