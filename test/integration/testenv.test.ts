import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { expectApiError, freshNamespace, loadKubeConfig, uniqueName } from "../support/kube-test-helpers.js";
import { startTestEnv } from "../../src/testenv/index.js";
import { countAuditedRequests } from "../../bench/at-rest.js";

const EXT = { group: "extensions.gardener.cloud", version: "v1alpha1" } as const;
const RES = { group: "resources.gardener.cloud", version: "v1alpha1" } as const;

interface Obj {
  metadata: { name: string; resourceVersion?: string; generation?: number };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

function extension(name: string, providerConfig: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name },
    spec: { type: "ontap", providerConfig },
  };
}

function succeededStatus(description: string, observedGeneration: number): Record<string, unknown> {
  return {
    observedGeneration,
    lastOperation: {
      type: "Reconcile",
      state: "Succeeded",
      description,
      progress: 100,
      lastUpdateTime: new Date().toISOString(),
    },
  };
}

describe("test environment: a real kube-apiserver with the Gardener CRDs", () => {
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;

  beforeAll(() => {
    kc = loadKubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
  });

  it("has the three CRDs Established", async () => {
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const established = crds.items
      .filter((crd) => crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"))
      .map((crd) => crd.metadata?.name)
      .sort();
    expect(established).toEqual([
      "clusters.extensions.gardener.cloud",
      "extensions.extensions.gardener.cloud",
      "managedresources.resources.gardener.cloud",
    ]);
  });

  it("serves Extension, Cluster and ManagedResource objects that can be created and read back", async () => {
    const namespace = await freshNamespace(kc, { prefix: "crds" });
    await custom.createNamespacedCustomObject({
      ...EXT,
      namespace,
      plural: "extensions",
      body: extension("ontap", { svmIpRange: "10.1.0.0/24" }),
    });
    const clusterName = `shoot--${uniqueName("p")}--s`;
    await custom.createClusterCustomObject({
      ...EXT,
      plural: "clusters",
      body: {
        apiVersion: "extensions.gardener.cloud/v1alpha1",
        kind: "Cluster",
        metadata: { name: clusterName },
        spec: {
          cloudProfile: { apiVersion: "core.gardener.cloud/v1beta1", kind: "CloudProfile" },
          seed: { apiVersion: "core.gardener.cloud/v1beta1", kind: "Seed" },
          shoot: {
            apiVersion: "core.gardener.cloud/v1beta1",
            kind: "Shoot",
            metadata: { annotations: { "cluster.metal-stack.io/project": "p-1" } },
          },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      ...RES,
      namespace,
      plural: "managedresources",
      body: {
        apiVersion: "resources.gardener.cloud/v1alpha1",
        kind: "ManagedResource",
        metadata: { name: "trident-crds", labels: { origin: "ontap" } },
        spec: { secretRefs: [{ name: "managedresource-trident-crds" }], keepObjects: false },
      },
    });

    const ext = (await custom.getNamespacedCustomObject({
      ...EXT,
      namespace,
      plural: "extensions",
      name: "ontap",
    })) as Obj;
    const cluster = (await custom.getClusterCustomObject({ ...EXT, plural: "clusters", name: clusterName })) as Obj;
    const mr = (await custom.getNamespacedCustomObject({
      ...RES,
      namespace,
      plural: "managedresources",
      name: "trident-crds",
    })) as Obj;
    expect(ext.spec).toEqual({ type: "ontap", providerConfig: { svmIpRange: "10.1.0.0/24" } });
    // preserve-unknown-fields keeps the raw Shoot, which the controller reads the project id from.
    expect(cluster.spec.shoot).toMatchObject({ metadata: { annotations: { "cluster.metal-stack.io/project": "p-1" } } });
    expect(mr.spec.secretRefs).toEqual([{ name: "managedresource-trident-crds" }]);
    await custom.deleteClusterCustomObject({ ...EXT, plural: "clusters", name: clusterName });
  });

  it("rejects an Extension that violates the CRD schema (spec.type is required)", async () => {
    const namespace = await freshNamespace(kc, { prefix: "schema" });
    const body = { ...extension("bad"), spec: { providerConfig: {} } };
    const status = await expectApiError(() =>
      custom.createNamespacedCustomObject({ ...EXT, namespace, plural: "extensions", body }),
    );
    expect(status).toBe(422);
  });

  it("answers 409 Conflict to an update carrying a stale resourceVersion", async () => {
    const namespace = await freshNamespace(kc, { prefix: "conflict" });
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "cm" }, data: { a: "1" } },
    });
    const stale = created.metadata?.resourceVersion;
    const first = await core.replaceNamespacedConfigMap({
      namespace,
      name: "cm",
      body: { metadata: { name: "cm", resourceVersion: stale }, data: { a: "2" } },
    });
    expect(first.metadata?.resourceVersion).not.toBe(stale);
    const status = await expectApiError(() =>
      core.replaceNamespacedConfigMap({
        namespace,
        name: "cm",
        body: { metadata: { name: "cm", resourceVersion: stale }, data: { a: "3" } },
      }),
    );
    expect(status).toBe(409);
    const current = await core.readNamespacedConfigMap({ namespace, name: "cm" });
    expect(current.data).toEqual({ a: "2" });
  });

  it("a status update through the status subresource changes neither spec nor generation", async () => {
    const namespace = await freshNamespace(kc, { prefix: "status" });
    const created = (await custom.createNamespacedCustomObject({
      ...EXT,
      namespace,
      plural: "extensions",
      body: extension("ontap", { v: 1 }),
    })) as Obj;
    expect(created.metadata.generation).toBe(1);

    // The body also tries to change spec: the status endpoint must drop that part.
    const updated = (await custom.replaceNamespacedCustomObjectStatus({
      ...EXT,
      namespace,
      plural: "extensions",
      name: "ontap",
      body: { ...created, spec: { type: "ontap", providerConfig: { v: 2 } }, status: succeededStatus("done", 1) },
    })) as Obj;
    expect(updated.metadata.generation).toBe(1);
    expect(updated.spec).toEqual({ type: "ontap", providerConfig: { v: 1 } });
    expect(updated.status).toMatchObject({ observedGeneration: 1, lastOperation: { state: "Succeeded" } });
    expect(updated.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
  });

  it("a spec update bumps generation and ignores the status it carries", async () => {
    const namespace = await freshNamespace(kc, { prefix: "spec" });
    const created = (await custom.createNamespacedCustomObject({
      ...EXT,
      namespace,
      plural: "extensions",
      body: extension("ontap", { v: 1 }),
    })) as Obj;
    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
      ...EXT,
      namespace,
      plural: "extensions",
      name: "ontap",
      body: { ...created, status: succeededStatus("first", 1) },
    })) as Obj;

    const updated = (await custom.replaceNamespacedCustomObject({
      ...EXT,
      namespace,
      plural: "extensions",
      name: "ontap",
      body: {
        ...withStatus,
        spec: { type: "ontap", providerConfig: { v: 2 } },
        status: succeededStatus("forged by a spec writer", 7),
      },
    })) as Obj;
    expect(updated.metadata.generation).toBe(2);
    expect(updated.spec.providerConfig).toEqual({ v: 2 });
    expect(updated.status).toMatchObject({ observedGeneration: 1, lastOperation: { description: "first" } });

    // A metadata-only change (an annotation, as Gardener's reconcile trigger) is not a spec change.
    const annotated = (await custom.replaceNamespacedCustomObject({
      ...EXT,
      namespace,
      plural: "extensions",
      name: "ontap",
      body: {
        ...updated,
        metadata: { ...updated.metadata, annotations: { "gardener.cloud/operation": "reconcile" } },
      },
    })) as Obj;
    expect(annotated.metadata.generation).toBe(2);
  });

  it("enforces RBAC: a ServiceAccount token is authenticated but may not read Secrets without a grant", async () => {
    const namespace = await freshNamespace(kc, { prefix: "rbac" });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "restricted" } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      namespace,
      name: "restricted",
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token;
    expect(token).toBeTruthy();

    const restricted = loadKubeConfig();
    restricted.loadFromOptions({
      clusters: restricted.clusters,
      contexts: [{ name: "restricted", cluster: restricted.clusters[0]!.name, user: "restricted" }],
      users: [{ name: "restricted", token }],
      currentContext: "restricted",
    });
    const status = await expectApiError(() =>
      restricted.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace }),
    );
    expect(status).toBe(403);
  });
});

describe("test environment lifecycle", () => {
  it("a second start in the same directory stops the processes a crashed first run left behind", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "testenv-restart-"));
    try {
      // The first environment is abandoned without stop(), as a crashed run would leave it.
      const crashed = await startTestEnv({ dir });
      const crashedPids = ["etcd", "kube-apiserver"].map((n) => Number(readFileSync(path.join(dir, `${n}.pid`), "utf8")));
      expect(crashedPids.every(isRunning)).toBe(true);
      await loadKubeConfig(crashed.kubeconfigPath)
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: "leftover" } } });

      const env = await startTestEnv({ dir });
      try {
        expect(crashedPids.some(isRunning)).toBe(false);
        expect(env.server).not.toBe(crashed.server);
        const core = loadKubeConfig(env.kubeconfigPath).makeApiClient(CoreV1Api);
        // A fresh etcd: nothing the crashed run stored is there.
        expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).not.toContain("leftover");
      } finally {
        await env.stop();
      }
      expect(existsSync(path.join(dir, "etcd-data"))).toBe(false);
      expect(existsSync(path.join(dir, "kube-apiserver.pid"))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("test environment: an audited user (startTestEnv's audit, the benchmark's count at the server)", () => {
  it("logs each request of the audited user once, and nobody else's; stop removes the log", async () => {
    const env = await startTestEnv({ audit: { users: ["controller"] } });
    try {
      expect(env.auditedKubeconfigs?.controller).toBeDefined();
      const asController = loadKubeConfig(env.auditedKubeconfigs?.controller as string).makeApiClient(CoreV1Api);
      const asAdmin = loadKubeConfig(env.kubeconfigPath).makeApiClient(CoreV1Api);
      const name = uniqueName("audited");
      await asController.createNamespace({ body: { metadata: { name } } });
      await asController.readNamespace({ name });
      await asAdmin.readNamespace({ name });
      await asAdmin.listNamespace();
      // Blocking mode: the events are in the file before the responses came back.
      const counted = countAuditedRequests(readFileSync(env.auditLogPath as string, "utf8"), "controller");
      expect(Object.fromEntries(counted)).toEqual({ "create namespaces": 1, "get namespaces": 1 });
      expect(countAuditedRequests(readFileSync(env.auditLogPath as string, "utf8"), "admin").size).toBe(0);
    } finally {
      await env.stop();
    }
    expect(existsSync(env.auditLogPath as string)).toBe(false);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
