import type { KubeClient } from "../kube/client.js";
import { ManagedResources, Secrets } from "../kube/resources.js";
import {
  CONTENT_HASH_ANNOTATION,
  isManagedResourceHealthy,
  MANAGED_RESOURCE_ORIGIN,
  type ManagedResourcePlan,
  toManagedResourceObjects,
} from "../trident/index.js";
import { ok, requeue, type StepResult } from "./result.js";


interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
}

export interface DeployReport {
  written: string[];
  unchanged: string[];
}

/**
 * Writes the ManagedResources in order, each only when its content hash changed. The first plan (the CRDs)
 * must be healthy before the rest are written: Trident's objects are useless, and fail, without their types.
 */
/**
 * Informer caches of this controller's ManagedResources and (metadata only) their Secrets. A cache hit with
 * the right hash on both is enough to skip a write; anything else is confirmed by a direct read first, so a
 * stale or cold cache costs a request, never a wrong write.
 */
export interface ManagedResourceCache {
  managedResource(namespace: string, name: string): KubeObject | undefined;
  secretMetadata(namespace: string, name: string): KubeObject | undefined;
}

export async function deployManagedResources(
  kube: KubeClient,
  namespace: string,
  plans: ManagedResourcePlan[],
  opts: { waitHealthy: ReadonlySet<string>; pollMs: number; cache?: ManagedResourceCache },
): Promise<StepResult<DeployReport>> {
  const report: DeployReport = { written: [], unchanged: [] };
  for (const plan of plans) {
    const mr = await applyManagedResource(kube, namespace, plan, report, opts.cache);
    if (opts.waitHealthy.has(plan.name)) {
      const health = isManagedResourceHealthy(mr);
      if (!health.healthy) {
        return requeue(opts.pollMs, `ManagedResource ${plan.name} is not healthy yet (${health.reason})`);
      }
    }
  }
  return ok(report);
}

async function applyManagedResource(
  kube: KubeClient,
  namespace: string,
  plan: ManagedResourcePlan,
  report: DeployReport,
  cache: ManagedResourceCache | undefined,
): Promise<object> {
  const { secret, managedResource, contentHash } = toManagedResourceObjects(plan, { namespace, origin: MANAGED_RESOURCE_ORIGIN });
  const typedSecret = secret as KubeObject;
  const typedMr = managedResource as KubeObject;
  const cachedMr = cache?.managedResource(namespace, typedMr.metadata.name);
  const cachedSecret = cache?.secretMetadata(namespace, typedSecret.metadata.name);
  if (
    cachedMr?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === contentHash &&
    cachedSecret?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === contentHash
  ) {
    report.unchanged.push(plan.name);
    return cachedMr;
  }
  // Both are checked: a ManagedResource whose Secret was lost is exactly the dependency never to assume.
  const [currentSecret, currentMr] = await Promise.all([
    kube.get<KubeObject>(Secrets, namespace, typedSecret.metadata.name),
    kube.get<KubeObject>(ManagedResources, namespace, typedMr.metadata.name),
  ]);
  const secretCurrent = currentSecret?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === contentHash;
  const mrCurrent = currentMr?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === contentHash;
  if (secretCurrent && mrCurrent && currentMr) {
    report.unchanged.push(plan.name);
    return currentMr;
  }
  if (!secretCurrent) await upsert(kube, Secrets, typedSecret, currentSecret);
  const written = mrCurrent && currentMr ? currentMr : await upsert(kube, ManagedResources, typedMr, currentMr);
  report.written.push(plan.name);
  return written;
}

async function upsert(
  kube: KubeClient,
  type: typeof Secrets | typeof ManagedResources,
  desired: KubeObject,
  current: KubeObject | undefined,
): Promise<KubeObject> {
  if (!current) return kube.create<KubeObject>(type, desired);
  // Keep what others own on the live object (status, other annotations), replace our content.
  const merged = {
    ...current,
    ...desired,
    metadata: {
      ...current.metadata,
      ...desired.metadata,
      annotations: { ...(current.metadata.annotations ?? {}), ...(desired.metadata.annotations ?? {}) },
      resourceVersion: current.metadata.resourceVersion,
    },
  };
  return kube.update<KubeObject>(type, merged);
}

/**
 * Deletes ManagedResources in the given order and reports the ones still present. Nothing waits: the
 * caller requeues until every one is gone (the resource manager removes shoot objects first).
 */
export async function deleteManagedResources(
  kube: KubeClient,
  namespace: string,
  names: string[],
  opts: { keepObjects?: boolean } = {},
): Promise<string[]> {
  const remaining: string[] = [];
  for (const name of names) {
    const mr = await kube.get<KubeObject & { spec?: { keepObjects?: boolean } }>(ManagedResources, namespace, name);
    if (mr) {
      if (opts.keepObjects && !mr.spec?.keepObjects) {
        await kube.mergePatch(ManagedResources, namespace, name, { spec: { keepObjects: true } });
      }
      await kube.delete(ManagedResources, namespace, name);
      const still = await kube.get<KubeObject>(ManagedResources, namespace, name);
      if (still) {
        remaining.push(name);
        continue;
      }
    }
    await kube.delete(Secrets, namespace, `managedresource-${name}`);
  }
  return remaining;
}
