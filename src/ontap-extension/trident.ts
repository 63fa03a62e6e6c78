import type { KubeClient } from "../kube/client.js";
import { isAlreadyExists, isConflict } from "../kube/errors.js";
import { ManagedResources, Secrets } from "../kube/resources.js";
import {
  CONTENT_HASH_ANNOTATION,
  isManagedResourceHealthy,
  MANAGED_RESOURCE_ORIGIN,
  type ManagedResourceLike,
  type ManagedResourcePlan,
  managedResourceContentHash,
  managedResourceSecretName,
  toManagedResourceObjects,
} from "../trident/index.js";
import { done, requeue, type StepResult } from "../runtime/result.js";

interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
}

/** A ManagedResource as the informer caches it: its metadata, and the status its health is read from. */
export type CachedManagedResource = KubeObject & ManagedResourceLike;

/**
 * Informer caches of this controller's ManagedResources and (metadata only) their Secrets. A cache hit with
 * the right hash on both is enough to skip a write; anything else is confirmed by a direct read first, so a
 * stale or cold cache costs a request, never a wrong write.
 */
export interface ManagedResourceCache {
  managedResource(namespace: string, name: string): CachedManagedResource | undefined;
  secretMetadata(namespace: string, name: string): KubeObject | undefined;
  /** Both caches hold the whole list: a miss then means "probably absent" (a create is tried first). */
  synced?(): boolean;
}

/**
 * One ManagedResource as a component, like Gardener's `pkg/component` (`DeployWaiter`): deployed when
 * rendered, destroyed when not, optionally waited for before the next one.
 */
export interface ManagedResourceComponent {
  name: string;
  /** What to deploy; undefined means "not rendered this time", so whatever exists is destroyed. */
  plan?: ManagedResourcePlan;
  /** Deploy waits (by requeueing) until it is healthy before the next component is deployed. */
  waitHealthy?: boolean;
}

/**
 * ManagedResources (`<namespace>/<name>`) this process has seen absent by a direct read. The informer cache
 * holds only this controller's own ManagedResources, so a miss there cannot prove the Go extension's are gone;
 * one read per shoot and process does, and later no-op reconciles cost nothing for components not rendered.
 */
export type AbsentManagedResources = Set<string>;

export interface DeployReport {
  written: string[];
  unchanged: string[];
  /** Components not rendered whose ManagedResource was deleted (or is being deleted). */
  destroyed: string[];
}

/**
 * Walks the components forward: each rendered one is written only when its content hash changed (and waited
 * for when it must be healthy first: Trident's objects fail without their CRDs); each one not rendered is
 * destroyed with the keepObjects it was written with, and the reconcile requeues until it is gone, so
 * `Succeeded` means the shoot holds exactly what is rendered. The components between two that must be
 * healthy first do not depend on each other, so they are written at once (a new shoot waits for one round
 * of writes, not one per component).
 */
export async function deployComponents(
  kube: KubeClient,
  namespace: string,
  components: readonly ManagedResourceComponent[],
  opts: { pollMs: number; cache?: ManagedResourceCache; absent?: AbsentManagedResources },
): Promise<StepResult<DeployReport>> {
  const report: DeployReport = { written: [], unchanged: [], destroyed: [] };
  const stillDeleting: string[] = [];
  for (const batch of batchesUpToEachWait(components)) {
    const outcomes = await Promise.all(
      batch.map(async (component) => {
        if (component.plan) {
          // Written again: no longer known to be absent (a delete's passes skip what is).
          opts.absent?.delete(`${namespace}/${component.plan.name}`);
          return { component, mr: await applyManagedResource(kube, namespace, component.plan, report, opts.cache) };
        }
        await destroyNotRendered(kube, namespace, component.name, report, stillDeleting, opts);
        return { component, mr: undefined };
      }),
    );
    for (const { component, mr } of outcomes) {
      if (!component.waitHealthy || !mr) continue;
      let health = isManagedResourceHealthy(mr);
      // Unhealthy as the cache (or the write's answer) has it: the object itself decides before the rest waits,
      // so a cache that missed the resource manager's status write cannot hold the shoot's components back.
      if (!health.healthy) health = isManagedResourceHealthy(await kube.get<CachedManagedResource>(ManagedResources, namespace, component.name));
      if (!health.healthy) {
        return requeue(opts.pollMs, `ManagedResource ${component.name} is not healthy yet (${health.reason})`);
      }
    }
  }
  if (stillDeleting.length > 0) {
    return requeue(opts.pollMs, `waiting for ManagedResources no longer rendered to be deleted: ${stillDeleting.join(", ")}`);
  }
  return done(report);
}

/** The components in runs that end at each one that must be healthy before the next run is written. */
function batchesUpToEachWait(components: readonly ManagedResourceComponent[]): ManagedResourceComponent[][] {
  const batches: ManagedResourceComponent[][] = [[]];
  for (const component of components) {
    (batches.at(-1) as ManagedResourceComponent[]).push(component);
    if (component.waitHealthy && component.plan) batches.push([]);
  }
  return batches.filter((b) => b.length > 0);
}

async function destroyNotRendered(
  kube: KubeClient,
  namespace: string,
  name: string,
  report: DeployReport,
  stillDeleting: string[],
  opts: { cache?: ManagedResourceCache; absent?: AbsentManagedResources },
): Promise<void> {
  const key = `${namespace}/${name}`;
  // Confirmed gone once by this process and not in the cache of our own since: nothing to read.
  if (opts.absent?.has(key) && opts.cache?.managedResource(namespace, name) === undefined) return;
  const outcome = await destroyManagedResource(kube, namespace, name, {});
  if (outcome === "absent") {
    opts.absent?.add(key);
    return;
  }
  report.destroyed.push(name);
  if (outcome === "deleting") stillDeleting.push(name);
}

async function applyManagedResource(
  kube: KubeClient,
  namespace: string,
  plan: ManagedResourcePlan,
  report: DeployReport,
  cache: ManagedResourceCache | undefined,
): Promise<object> {
  const target = { namespace, origin: MANAGED_RESOURCE_ORIGIN };
  const cachedMr = cache?.managedResource(namespace, plan.name);
  const cachedSecret = cache?.secretMetadata(namespace, managedResourceSecretName(plan.name));
  // The common case, a no-op, without serializing the plan.
  const knownHash = cachedMr && cachedSecret ? managedResourceContentHash(plan, target) : undefined;
  if (
    knownHash !== undefined &&
    cachedMr?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === knownHash &&
    cachedSecret?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === knownHash
  ) {
    report.unchanged.push(plan.name);
    return cachedMr;
  }
  const { secret, managedResource, contentHash } = toManagedResourceObjects(plan, target);
  const typedSecret = secret as KubeObject;
  const typedMr = managedResource as KubeObject;
  // Absent from a synced cache (a new shoot): create both at once; the API server refuses a create of
  // anything that exists after all (not ours, or not in the cache yet), and then the reads below decide.
  if (!cachedMr && !cachedSecret && cache?.synced?.()) {
    const created = await createBoth(kube, typedSecret, typedMr);
    if (created) {
      report.written.push(plan.name);
      return created;
    }
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
  // Taken over from the Go extension: its immutable hash-suffixed Secrets are no longer referenced. They
  // hold manifests (and, for trident-svm-secret, the password), so they go now rather than whenever a
  // garbage collector gets to them.
  for (const superseded of referencedSecrets(plan.name, currentMr as ManagedResourceObject | undefined)) {
    if (superseded !== typedSecret.metadata.name) await kube.delete(Secrets, namespace, superseded);
  }
  report.written.push(plan.name);
  return written;
}

/** Secret, then ManagedResource (the resource manager reads the Secret it names); undefined if either exists. */
async function createBoth(kube: KubeClient, secret: KubeObject, mr: KubeObject): Promise<KubeObject | undefined> {
  try {
    await kube.create<KubeObject>(Secrets, secret);
    return await kube.create<KubeObject>(ManagedResources, mr);
  } catch (err) {
    if (isAlreadyExists(err)) return undefined;
    throw err;
  }
}

function withoutGcReferences(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([key]) => !key.startsWith(GC_REFERENCE_PREFIX)));
}

/**
 * How many times one write is tried when it meets a Conflict. The resource manager writes the
 * ManagedResource's status whenever its Secret changes (and adds its finalizer once), so an update made right
 * after the Secret's can find the object changed since it was read. That says "read again", not "back off": as a
 * reconcile error it cost the backoff (2 s, doubling), and a few in a row outlasted a minute (measured: the
 * leadership chaos row "rotate" on the real gardener-resource-manager, still on Conflict after 60 s).
 */
const CONFLICT_ATTEMPTS = 3;

/** Creates, or updates on top of the live object; a Conflict (or a create that finds it there) reads it again. */
async function upsert(
  kube: KubeClient,
  type: typeof Secrets | typeof ManagedResources,
  desired: KubeObject,
  current: KubeObject | undefined,
): Promise<KubeObject> {
  let live = current;
  for (let attempt = 1; ; attempt++) {
    try {
      return live ? await kube.update<KubeObject>(type, mergedOnto(live, desired)) : await kube.create<KubeObject>(type, desired);
    } catch (err) {
      const stale = live ? isConflict(err) : isAlreadyExists(err);
      if (!stale || attempt >= CONFLICT_ATTEMPTS) throw err;
      live = await kube.get<KubeObject>(type, desired.metadata.namespace, desired.metadata.name);
    }
  }
}

/** Our content on the live object; what others own there (status, other annotations) is kept. */
function mergedOnto(live: KubeObject, desired: KubeObject): KubeObject {
  return {
    ...live,
    ...desired,
    metadata: {
      ...live.metadata,
      ...desired.metadata,
      annotations: {
        ...withoutGcReferences(live.metadata.annotations),
        ...(desired.metadata.annotations ?? {}),
      },
      resourceVersion: live.metadata.resourceVersion,
    },
  };
}

/**
 * Destroys ManagedResources in the given order (the caller passes the reverse of deployment). With `wait`,
 * it stops at the first one still being deleted (the resource manager removes its shoot objects first) and
 * reports it, so each is gone before the one before it in deployment order is touched; without `wait` it
 * issues every delete and reports what is still there. Nothing sleeps: the caller requeues.
 *
 * With `gone`, one confirmed gone by a direct read in this process (and not in the cache of our own since) is
 * not read again: a delete on the real resource manager takes a pass per ManagedResource, and each pass
 * re-read every one already gone and its Secret (28 of a fault-free delete's 81 calls).
 */
export async function destroyComponents(
  kube: KubeClient,
  namespace: string,
  names: readonly string[],
  opts: { keepObjects?: boolean; wait: boolean; gone?: { absent: AbsentManagedResources; cache?: ManagedResourceCache } },
): Promise<string[]> {
  const remaining: string[] = [];
  for (const name of names) {
    const key = `${namespace}/${name}`;
    if (opts.gone?.absent.has(key) && opts.gone.cache?.managedResource(namespace, name) === undefined) continue;
    const outcome = await destroyManagedResource(kube, namespace, name, { keepObjects: opts.keepObjects });
    if (outcome !== "deleting") {
      opts.gone?.absent.add(key);
      continue;
    }
    remaining.push(name);
    if (opts.wait) return remaining;
  }
  return remaining;
}

type DestroyOutcome = "absent" | "deleted" | "deleting";

/**
 * Deletes one ManagedResource (switching it to keepObjects first when asked) and every Secret it references:
 * ours (`managedresource-<name>`) and the Go extension's immutable hash-suffixed ones, which hold manifests
 * and, for `trident-svm-secret`, the password.
 *
 * The Secrets go first, as Gardener's own `managedresources.Delete` (pkg/utils/managedresources) does: their
 * names are only known from the ManagedResource's spec.secretRefs, so once the resource manager has removed
 * its finalizer and the ManagedResource is gone, a hash-suffixed Secret not yet deleted can no longer be
 * found by name, and nothing in a shoot namespace collects it (the resource manager's garbage collector works
 * on its target cluster, and only after 10 minutes). Deleting them first loses nothing: the resource manager
 * (v1.149.3, managedresource.Reconciler.delete) deletes a ManagedResource's objects from its
 * status.resources and never reads its Secrets, and it holds no finalizer on Secrets (its secret controller
 * was removed in v1.93). An interrupted call leaves the ManagedResource, which still names them, for the
 * next one.
 */
async function destroyManagedResource(
  kube: KubeClient,
  namespace: string,
  name: string,
  opts: { keepObjects?: boolean },
): Promise<DestroyOutcome> {
  const mr = await kube.get<ManagedResourceObject>(ManagedResources, namespace, name);
  if (mr && opts.keepObjects && !mr.spec?.keepObjects) {
    await kube.mergePatch(ManagedResources, namespace, name, { spec: { keepObjects: true } });
  }
  let deletedSecret = false;
  for (const secretName of new Set([managedResourceSecretName(name), ...referencedSecrets(name, mr)])) {
    // Read first: a reconcile that finds nothing to delete sends no write.
    if (!(await kube.get<KubeObject>(Secrets, namespace, secretName))) continue;
    await kube.delete(Secrets, namespace, secretName);
    deletedSecret = true;
  }
  if (mr) {
    if (!mr.metadata.deletionTimestamp) await kube.delete(ManagedResources, namespace, name);
    if (await kube.get<KubeObject>(ManagedResources, namespace, name)) return "deleting";
  }
  return mr || deletedSecret ? "deleted" : "absent";
}

interface ManagedResourceObject extends KubeObject {
  metadata: KubeObject["metadata"] & { deletionTimestamp?: string };
  spec?: { keepObjects?: boolean; secretRefs?: { name: string }[] };
}

/**
 * The data Secrets a ManagedResource references that belong to it by name: ours, or Gardener's helper's
 * `managedresource-<name>-<hash>` (the Go extension's). Never another component's or a foreign Secret.
 */
function referencedSecrets(name: string, mr: ManagedResourceObject | undefined): string[] {
  const own = managedResourceSecretName(name);
  return (mr?.spec?.secretRefs ?? []).map((ref) => ref.name).filter((ref) => ref === own || ref.startsWith(`${own}-`));
}

/** Annotations Gardener's helper puts on a ManagedResource for its garbage collector, naming old Secrets. */
const GC_REFERENCE_PREFIX = "reference.resources.gardener.cloud/";
