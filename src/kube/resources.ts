/** What the client needs to build a resource's URL; `group` is "" for the core API. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const Extensions: ResourceType = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "extensions",
  kind: "Extension",
  namespaced: true,
};

export const Clusters: ResourceType = {
  group: "extensions.gardener.cloud",
  version: "v1alpha1",
  plural: "clusters",
  kind: "Cluster",
  namespaced: false,
};

export const ManagedResources: ResourceType = {
  group: "resources.gardener.cloud",
  version: "v1alpha1",
  plural: "managedresources",
  kind: "ManagedResource",
  namespaced: true,
};

export const Secrets: ResourceType = { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true };

export const ConfigMaps: ResourceType = {
  group: "",
  version: "v1",
  plural: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
};

export const Namespaces: ResourceType = {
  group: "",
  version: "v1",
  plural: "namespaces",
  kind: "Namespace",
  namespaced: false,
};

export const Events: ResourceType = { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true };

export const Leases: ResourceType = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  kind: "Lease",
  namespaced: true,
};

export const CustomResourceDefinitions: ResourceType = {
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
};

/** `apiVersion` as written in objects: `v1` for the core group, `group/version` otherwise. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

/**
 * The path of a collection or of one object: `/api/v1/namespaces/ns/secrets/name`, or
 * `/apis/group/version/plural/name` for cluster-scoped types. Segments are URI-encoded.
 */
export function resourcePath(
  type: ResourceType,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  const root = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  let path = root;
  if (type.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${type.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
