import { describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { ManagedResources, Secrets } from "../../src/kube/resources.js";
import { deployComponents, destroyComponents, type ManagedResourceComponent } from "../../src/ontap-extension/trident.js";
import {
  CONTENT_HASH_ANNOTATION,
  MANAGED_RESOURCE_ORIGIN,
  managedResourceContentHash,
  renderTridentManagedResources,
  toManagedResourceObjects,
} from "../../src/trident/index.js";

/**
 * Writing Trident's ManagedResources: what a new shoot waits for (the CRDs first, then everything else at once)
 * and what a no-op costs (no serialization when the content hash is known).
 */

const NS = "shoot--p1--s1";

function plans() {
  return renderTridentManagedResources({
    svmName: "p1",
    managementLif: "10.0.0.10",
    dataLifs: ["10.0.0.11"],
    credentialsSecretName: "ontap-svm-credentials",
    username: "s1",
    password: "Passw0rd-for-a-test",
    firewallNamespaceExists: true,
  });
}

function components(): ManagedResourceComponent[] {
  return plans().map((plan, i) => ({ name: plan.name, plan, waitHealthy: i === 0 }));
}

/** Counts the creates in flight at once; each takes 20 ms, as a real API server takes some. */
function withSlowCreates(kube: KubeClient) {
  let inFlight = 0;
  let peak = 0;
  const slow = {
    ...kube,
    async create(type: never, obj: never) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 20));
        return await kube.create(type, obj);
      } finally {
        inFlight--;
      }
    },
  } as KubeClient;
  return { kube: slow, peak: () => peak };
}

/** What the resource manager writes once it applied trident-crds. */
async function markCrdsHealthy(kube: KubeClient): Promise<void> {
  const crds = await kube.get<{ metadata: { generation: number } }>(ManagedResources, NS, "trident-crds");
  const condition = (type: string, status: string) => ({ type, status, reason: "r", message: "m" });
  await kube.mergePatch(
    ManagedResources,
    NS,
    "trident-crds",
    { status: { observedGeneration: crds?.metadata.generation, conditions: [condition("ResourcesApplied", "True"), condition("ResourcesHealthy", "True")] } },
    { subresource: "status" },
  );
}

describe("deploying Trident's ManagedResources", () => {
  it("writes the CRDs alone until they are healthy, then every other component at once", async () => {
    const fake = createFakeKubeClient();
    const { kube, peak } = withSlowCreates(fake);
    const first = await deployComponents(kube, NS, components(), { pollMs: 1000 });
    expect(first).toMatchObject({ kind: "requeue", reason: expect.stringContaining("trident-crds is not healthy yet") });
    expect(fake.objects(ManagedResources).map((m) => m.metadata.name)).toEqual(["trident-crds"]);

    await markCrdsHealthy(fake);
    const second = await deployComponents(kube, NS, components(), { pollMs: 1000 });
    expect(second.kind).toBe("done");
    expect(fake.objects(ManagedResources).map((m) => m.metadata.name).sort()).toEqual(plans().map((p) => p.name).sort());
    // Four components after the CRDs: their Secrets (then their ManagedResources) were created together.
    expect(peak()).toBeGreaterThanOrEqual(4);
  });

  it("goes on when the cache still holds the CRDs unhealthy but the ManagedResource itself is healthy (a missed status write)", async () => {
    const fake = createFakeKubeClient();
    await deployComponents(fake, NS, components(), { pollMs: 1000 });
    // The cache as it was right after the create: the content hash matches, no status yet.
    const stale = JSON.parse(JSON.stringify(await fake.get(ManagedResources, NS, "trident-crds")));
    const staleSecret = JSON.parse(JSON.stringify(await fake.get(Secrets, NS, "managedresource-trident-crds")));
    const staleCache = {
      managedResource: (_ns: string, name: string) => (name === "trident-crds" ? stale : undefined),
      secretMetadata: (_ns: string, name: string) => (name === "managedresource-trident-crds" ? staleSecret : undefined),
      synced: () => true,
    };
    await markCrdsHealthy(fake);
    const result = await deployComponents(fake, NS, components(), { pollMs: 1000, cache: staleCache });
    expect(result.kind).toBe("done");
    expect(fake.objects(ManagedResources).map((m) => m.metadata.name).sort()).toEqual(plans().map((p) => p.name).sort());
  });

  it("creates without reading first when a synced cache has neither object, and falls back to the reads when one exists", async () => {
    const fake = createFakeKubeClient();
    const emptyCache = { managedResource: () => undefined, secretMetadata: () => undefined, synced: () => true };
    const [crds, backends] = components();
    await deployComponents(fake, NS, [{ ...crds!, waitHealthy: false }], { pollMs: 1000, cache: emptyCache });
    expect(fake.requests).toEqual(["create secrets", "create managedresources"]);

    // Someone else's ManagedResource of that name (the Go extension's, not in our cache): replaced, never a failure.
    await fake.create(ManagedResources, { apiVersion: "resources.gardener.cloud/v1alpha1", kind: "ManagedResource", metadata: { name: "trident-backends", namespace: NS }, spec: { secretRefs: [] } });
    fake.requests.length = 0;
    const result = await deployComponents(fake, NS, [{ ...backends!, waitHealthy: false }], { pollMs: 1000, cache: emptyCache });
    expect(result.kind).toBe("done");
    expect(fake.requests).toEqual(["create secrets", "create managedresources", "get secrets", "get managedresources", "update managedresources"]);
    const live = await fake.get<{ metadata: { annotations?: Record<string, string> } }>(ManagedResources, NS, "trident-backends");
    expect(live?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toBe(
      toManagedResourceObjects(backends!.plan!, { namespace: NS, origin: MANAGED_RESOURCE_ORIGIN }).contentHash,
    );
  });

  describe("when the resource manager writes the ManagedResource between our read and our update", () => {
    /** Before each of the first `times` updates of a ManagedResource, writes its status as the resource manager does. */
    function resourceManagerWritesFirst(fake: ReturnType<typeof createFakeKubeClient>, times: number) {
      let left = times;
      return {
        ...fake,
        async update(type: never, obj: never) {
          const o = obj as { kind?: string; metadata: { name: string } };
          if (o.kind === "ManagedResource" && left > 0) {
            left--;
            await fake.mergePatch(ManagedResources, NS, o.metadata.name, { status: { conditions: [{ type: "ResourcesApplied", status: "Progressing", reason: "r", message: "m" }] } }, { subresource: "status" });
          }
          return fake.update(type, obj);
        },
      } as KubeClient;
    }
    const withPassword = (password: string) =>
      renderTridentManagedResources({ ...{ svmName: "p1", managementLif: "10.0.0.10", dataLifs: ["10.0.0.11"], credentialsSecretName: "ontap-svm-credentials", username: "s1", firewallNamespaceExists: true }, password })
        .filter((p) => p.name === "trident-svm-secret")
        .map((plan) => ({ name: plan.name, plan }));

    it("reads it again and updates on top of it, keeping its status: a Conflict is no reconcile error", async () => {
      const fake = createFakeKubeClient();
      await deployComponents(fake, NS, withPassword("Passw0rd-before-rotation"), { pollMs: 1000 });
      fake.requests.length = 0;
      const result = await deployComponents(resourceManagerWritesFirst(fake, 1), NS, withPassword("Passw0rd-after-rotation"), { pollMs: 1000 });
      expect(result.kind).toBe("done");
      expect(fake.requests.filter((r) => r.endsWith("managedresources"))).toEqual(["get managedresources", "update managedresources", "get managedresources", "update managedresources"]);
      const live = await fake.get<{ metadata: { annotations?: Record<string, string> }; status?: { conditions?: { status: string }[] } }>(ManagedResources, NS, "trident-svm-secret");
      const [after] = withPassword("Passw0rd-after-rotation");
      expect(live?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toBe(toManagedResourceObjects(after!.plan, { namespace: NS, origin: MANAGED_RESOURCE_ORIGIN }).contentHash);
      expect(live?.status?.conditions?.[0]?.status).toBe("Progressing");
    });

    it("gives up after three Conflicts in a row, so a real fight still ends in the reconcile's backoff", async () => {
      const fake = createFakeKubeClient();
      await deployComponents(fake, NS, withPassword("Passw0rd-before-rotation"), { pollMs: 1000 });
      fake.requests.length = 0;
      await expect(deployComponents(resourceManagerWritesFirst(fake, 3), NS, withPassword("Passw0rd-after-rotation"), { pollMs: 1000 })).rejects.toMatchObject({
        reason: "Conflict",
      });
      expect(fake.requests.filter((r) => r === "update managedresources")).toHaveLength(3);
    });
  });
});

describe("the content hash of a plan", () => {
  it("is the one the serialized objects carry, and changes with any content (a new password)", () => {
    const target = { namespace: NS, origin: MANAGED_RESOURCE_ORIGIN };
    for (const plan of plans()) {
      expect(managedResourceContentHash(plan, target)).toBe(toManagedResourceObjects(plan, target).contentHash);
    }
    const before = plans().find((p) => p.name === "trident-svm-secret")!;
    const rotated = renderTridentManagedResources({
      svmName: "p1",
      managementLif: "10.0.0.10",
      dataLifs: ["10.0.0.11"],
      credentialsSecretName: "ontap-svm-credentials",
      username: "s1",
      password: "Another-Passw0rd-now",
      firewallNamespaceExists: true,
    }).find((p) => p.name === "trident-svm-secret")!;
    expect(managedResourceContentHash(rotated, target)).not.toBe(managedResourceContentHash(before, target));
    expect(managedResourceContentHash(rotated, target)).toBe(toManagedResourceObjects(rotated, target).contentHash);
  });
});

describe("destroying a ManagedResource", () => {
  const GRM_FINALIZER = "resources.gardener.cloud/gardener-resource-manager";
  const hashed = "managedresource-extension-ontap-shoot-3f2a9c1e";

  /** What the Go extension leaves: its hash-suffixed Secret, and the ManagedResource behind the resource manager's finalizer. */
  async function goWebhookManagedResource(fake: ReturnType<typeof createFakeKubeClient>) {
    await fake.create(Secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: hashed, namespace: NS, labels: { "resources.gardener.cloud/garbage-collectable-reference": "true" } }, immutable: true, data: {} });
    await fake.create(ManagedResources, {
      apiVersion: "resources.gardener.cloud/v1alpha1",
      kind: "ManagedResource",
      metadata: { name: "extension-ontap-shoot", namespace: NS, finalizers: [GRM_FINALIZER] },
      spec: { secretRefs: [{ name: hashed }] },
    });
  }
  const secretNames = (fake: ReturnType<typeof createFakeKubeClient>) => fake.objects(Secrets).map((x) => x.metadata.name);

  it("deletes the Secrets it references before the ManagedResource, so none is left once the resource manager lets go of it", async () => {
    const fake = createFakeKubeClient();
    await goWebhookManagedResource(fake);
    // The resource manager still deletes the shoot objects: the ManagedResource stays, its Secret is already gone.
    expect(await destroyComponents(fake, NS, ["extension-ontap-shoot"], { wait: true })).toEqual(["extension-ontap-shoot"]);
    expect(secretNames(fake)).toEqual([]);
    // It lets go (finalizer removed, the ManagedResource is gone): the next pass finds nothing left, and the
    // Secret's name, known only from the ManagedResource, was not needed any more.
    await fake.mergePatch(ManagedResources, NS, "extension-ontap-shoot", { metadata: { finalizers: [] } });
    expect(await fake.get(ManagedResources, NS, "extension-ontap-shoot")).toBeUndefined();
    expect(await destroyComponents(fake, NS, ["extension-ontap-shoot"], { wait: true })).toEqual([]);
    expect(secretNames(fake)).toEqual([]);
  });

  it("does not read again what a pass of this process found gone, unless its own cache shows it back", async () => {
    const fake = createFakeKubeClient();
    await goWebhookManagedResource(fake);
    await fake.create(ManagedResources, { apiVersion: "resources.gardener.cloud/v1alpha1", kind: "ManagedResource", metadata: { name: "trident-init", namespace: NS, finalizers: [GRM_FINALIZER] }, spec: {} });
    const cached = new Set<string>();
    const gone = { absent: new Set<string>(), cache: { managedResource: (ns: string, name: string) => (cached.has(`${ns}/${name}`) ? { metadata: { name } } : undefined), secretMetadata: () => undefined } };
    const order = ["extension-ontap-shoot", "trident-init"];
    expect(await destroyComponents(fake, NS, order, { wait: true, gone })).toEqual(["extension-ontap-shoot"]);
    await fake.mergePatch(ManagedResources, NS, "extension-ontap-shoot", { metadata: { finalizers: [] } });
    // The next pass confirms it gone and moves on to the next one, which the resource manager still holds.
    expect(await destroyComponents(fake, NS, order, { wait: true, gone })).toEqual(["trident-init"]);
    fake.requests.length = 0;
    expect(await destroyComponents(fake, NS, order, { wait: true, gone })).toEqual(["trident-init"]);
    // trident-init's reads only (it, its Secret, it again after the delete that is under way): none of the first's.
    expect(fake.requests).toEqual(["get managedresources", "get secrets", "get managedresources"]);
    // Back in the cache (written again): read, and deleted again.
    await fake.create(ManagedResources, { apiVersion: "resources.gardener.cloud/v1alpha1", kind: "ManagedResource", metadata: { name: "extension-ontap-shoot", namespace: NS }, spec: {} });
    cached.add(`${NS}/extension-ontap-shoot`);
    await destroyComponents(fake, NS, order, { wait: true, gone });
    expect(await fake.get(ManagedResources, NS, "extension-ontap-shoot")).toBeUndefined();
  });

  it("switches to keepObjects before anything is deleted (migrate)", async () => {
    const fake = createFakeKubeClient();
    await goWebhookManagedResource(fake);
    fake.requests.length = 0;
    await destroyComponents(fake, NS, ["extension-ontap-shoot"], { keepObjects: true, wait: true });
    expect(fake.requests[0]).toBe("get managedresources");
    expect(fake.requests[1]).toMatch(/^patch managedresources/);
    const live = await fake.get<{ spec: { keepObjects?: boolean } }>(ManagedResources, NS, "extension-ontap-shoot");
    expect(live?.spec.keepObjects).toBe(true);
    expect(secretNames(fake)).toEqual([]);
  });
});
