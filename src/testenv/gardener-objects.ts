/**
 * What Gardener creates for a shoot before its Extension: the shoot namespace on the seed and the
 * cluster-scoped `Cluster` carrying the raw Shoot (with metal-stack's project annotation). Used by the
 * demo and the tests so every story starts from the same objects.
 */
export const PROJECT_ANNOTATION = "cluster.metal-stack.io/project";

export interface ShootIdentity {
  /** `shoot--<project>--<shoot>` */
  namespace: string;
  shootName: string;
  /** Gardener project name. */
  project: string;
  /** Annotations of the Shoot; normally `{ [PROJECT_ANNOTATION]: projectId }`. */
  shootAnnotations: Record<string, string>;
}

export function shootNamespaceObject(namespace: string) {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } };
}

export function clusterObject(shoot: ShootIdentity) {
  return {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Cluster",
    metadata: { name: shoot.namespace },
    spec: {
      cloudProfile: { apiVersion: "core.gardener.cloud/v1beta1", kind: "CloudProfile" },
      seed: { apiVersion: "core.gardener.cloud/v1beta1", kind: "Seed" },
      shoot: {
        apiVersion: "core.gardener.cloud/v1beta1",
        kind: "Shoot",
        metadata: { name: shoot.shootName, namespace: `garden-${shoot.project}`, annotations: { ...shoot.shootAnnotations } },
      },
    },
  };
}
