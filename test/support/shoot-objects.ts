import { parseAllDocuments } from "yaml";
import type { KubeClient } from "../../src/kube/client.js";
import { ManagedResources, type ResourceType, Secrets } from "../../src/kube/resources.js";

/** An object as a ManagedResource's Secret holds it, or as the shoot's API server returns it. */
export interface ShootObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; generation?: number; resourceVersion?: string };
  [key: string]: unknown;
}

export interface MrObject {
  metadata: { name: string; generation?: number; finalizers?: string[]; deletionTimestamp?: string };
  spec: { keepObjects?: boolean; secretRefs: { name: string }[] };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** The kube-client ResourceType of a rendered object (its plural by the usual rule, checked by the API server). */
export function typeOf(obj: { apiVersion: string; kind: string; metadata: { namespace?: string } }): ResourceType {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const lower = obj.kind.toLowerCase();
  const plural = lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
  return { group: group!, version: version!, plural, kind: obj.kind, namespaced: obj.metadata.namespace !== undefined };
}

/** Every object a ManagedResource's Secret holds, decoded from its YAML documents. */
export async function renderedObjects(seed: KubeClient, namespace: string, mr: MrObject): Promise<ShootObject[]> {
  const objects: ShootObject[] = [];
  for (const ref of mr.spec.secretRefs) {
    const secret = await seed.get<{ data?: Record<string, string> }>(Secrets, namespace, ref.name);
    for (const value of Object.values(secret?.data ?? {})) {
      for (const doc of parseAllDocuments(Buffer.from(value, "base64").toString("utf8"))) {
        const obj = doc.toJS() as ShootObject | null;
        if (obj) objects.push(obj);
      }
    }
  }
  return objects;
}

/** The objects of one ManagedResource of the seed, as its Secret holds them now. */
export async function objectsOf(seed: KubeClient, namespace: string, name: string): Promise<ShootObject[]> {
  const mr = await seed.get<MrObject>(ManagedResources, namespace, name);
  if (!mr) throw new Error(`ManagedResource ${namespace}/${name} does not exist`);
  return renderedObjects(seed, namespace, mr);
}

/** Whether the shoot's API server has the object. */
export async function inShoot(shoot: KubeClient, obj: ShootObject): Promise<boolean> {
  return (await shoot.get(typeOf(obj), obj.metadata.namespace, obj.metadata.name)) !== undefined;
}
