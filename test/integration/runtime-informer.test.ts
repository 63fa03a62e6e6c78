import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { Extensions } from "../../src/kube/resources.js";
import { extensionChangePredicate } from "../../src/extension/predicate.js";
import { createController } from "../../src/runtime/controller.js";
import { createInformer } from "../../src/runtime/informer.js";
import { type FaultProxy, startFaultProxy } from "../../src/testenv/index.js";
import { eventually, freshNamespace, loadKubeConfig, testEnv } from "../support/kube-test-helpers.js";

interface Extension {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec: { type: string; providerConfig?: Record<string, unknown> };
  status?: Record<string, unknown>;
}

const extension = (ns: string, name: string, type = "ontap"): Extension => ({
  metadata: { name, namespace: ns },
  spec: { type },
});

describe("informer against kube-apiserver", () => {
  let kc: KubeConfig;
  let kube: KubeClient;
  let proxy: FaultProxy;
  let dir: string;
  let proxied: KubeClient;

  beforeAll(async () => {
    kc = loadKubeConfig();
    kube = createKubeClient(kc);
    const env = testEnv();
    proxy = await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token });
    dir = await mkdtemp(path.join(os.tmpdir(), "runtime-inf-"));
    const pkc = new KubeConfig();
    pkc.loadFromFile(proxy.kubeconfigFor(dir));
    proxied = createKubeClient(pkc, { timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await proxy?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("sees adds, updates and deletes, filtered to its namespace and to spec.type ontap", async () => {
    const ns = await freshNamespace(kc, { prefix: "inf" });
    const other = await freshNamespace(kc, { prefix: "inf" });
    await kube.create(Extensions, extension(ns, "pre-existing"));
    const informer = createInformer<Extension>(kube, Extensions, {
      namespace: ns,
      filter: (e) => e.spec.type === "ontap",
    });
    const log: string[] = [];
    informer.onAdd((e) => log.push(`add ${e.metadata.name}`));
    informer.onUpdate((a, b) => log.push(`update ${b.metadata.name} ${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`));
    informer.onDelete((e) => log.push(`delete ${e.metadata.name}`));
    const ac = new AbortController();
    try {
      await informer.start(ac.signal);
      expect(informer.hasSynced()).toBe(true);
      expect(log).toEqual(["add pre-existing"]);
      const created = await kube.create<Extension>(Extensions, extension(ns, "a"));
      await kube.create(Extensions, extension(ns, "dns", "dns"));
      await kube.create(Extensions, extension(other, "elsewhere"));
      const updated = await kube.update<Extension>(Extensions, { ...created, spec: { type: "ontap", providerConfig: { x: 1 } } });
      await kube.delete(Extensions, ns, "pre-existing");
      await eventually(() => expect(log).toHaveLength(4));
      expect(log).toEqual([
        "add pre-existing",
        "add a",
        `update a ${created.metadata.resourceVersion}->${updated.metadata.resourceVersion}`,
        "delete pre-existing",
      ]);
      expect(informer.get(ns, "a")?.spec.providerConfig).toEqual({ x: 1 });
      expect(informer.get(ns, "dns")).toBeUndefined();
      expect(informer.list().map((e) => e.metadata.name)).toEqual(["a"]);
    } finally {
      ac.abort();
      await informer.stopped();
    }
  });

  it("relists after its watch is answered 410 Gone, catching up on changes it missed", async () => {
    const ns = await freshNamespace(kc, { prefix: "inf" });
    await kube.create(Extensions, extension(ns, "a"));
    await kube.create(Extensions, extension(ns, "b"));
    const informer = createInformer<Extension>(proxied, Extensions, {
      namespace: ns,
      watchTimeoutSeconds: 1,
      backoff: { baseMs: 50, capMs: 200 },
    });
    const log: string[] = [];
    informer.onAdd((e) => log.push(`add ${e.metadata.name}`));
    informer.onDelete((e) => log.push(`delete ${e.metadata.name}`));
    const ac = new AbortController();
    const listKey = `GET /apis/extensions.gardener.cloud/v1alpha1/namespaces/{ns}/extensions`;
    try {
      await informer.start(ac.signal);
      const listsBefore = proxy.calls()[listKey] ?? 0;
      // From now on every watch of this namespace is refused as expired; the changes below happen while
      // the informer cannot watch, so only a relist can bring them in.
      const rule = proxy.rules.add({
        method: "GET",
        path: `/namespaces/${ns}/extensions$`,
        action: { type: "error", status: 410, message: "too old resource version" },
      });
      await kube.delete(Extensions, ns, "a");
      await kube.create(Extensions, extension(ns, "c"));
      // A refused list is retried too; after the first relist attempt, let the calls through.
      await eventually(() => expect(proxy.rules.list().find((r) => r.id === rule.id)?.hits ?? 0).toBeGreaterThan(1), { timeoutMs: 15_000 });
      proxy.rules.remove(rule.id);
      await eventually(() => expect(informer.list().map((e) => e.metadata.name).sort()).toEqual(["b", "c"]), { timeoutMs: 15_000 });
      expect(log).toEqual(expect.arrayContaining(["add a", "add b", "delete a", "add c"]));
      expect(log.filter((l) => l === "add b")).toHaveLength(1);
      expect(proxy.calls()[listKey] ?? 0).toBeGreaterThan(listsBefore);
    } finally {
      ac.abort();
      await informer.stopped();
    }
  });

  it("reconnects after its watch connection is reset, without relisting and without losing events", async () => {
    const ns = await freshNamespace(kc, { prefix: "inf" });
    const informer = createInformer<Extension>(proxied, Extensions, {
      namespace: ns,
      watchTimeoutSeconds: 1,
      backoff: { baseMs: 50, capMs: 200 },
    });
    const names: string[] = [];
    informer.onAdd((e) => names.push(e.metadata.name));
    const ac = new AbortController();
    const listKey = `GET /apis/extensions.gardener.cloud/v1alpha1/namespaces/{ns}/extensions`;
    try {
      await informer.start(ac.signal);
      const lists = proxy.calls()[listKey] ?? 0;
      const rule = proxy.rules.add({ method: "GET", path: `/namespaces/${ns}/extensions$`, count: 2, action: { type: "reset" } });
      await kube.create(Extensions, extension(ns, "x"));
      await eventually(() => expect(proxy.rules.list().find((r) => r.id === rule.id)?.hits).toBe(2), { timeoutMs: 15_000 });
      await kube.create(Extensions, extension(ns, "y"));
      await eventually(() => expect(names.sort()).toEqual(["x", "y"]), { timeoutMs: 15_000 });
      expect(proxy.calls()[listKey] ?? 0).toBe(lists);
    } finally {
      ac.abort();
      await informer.stopped();
    }
  });

  it("a controller with the Extension predicate reacts to the operation annotation, spec changes and deletion, not to status writes", async () => {
    const ns = await freshNamespace(kc, { prefix: "inf" });
    const informer = createInformer<Extension>(kube, Extensions, { namespace: ns });
    const reconciled: string[] = [];
    const controller = createController<Extension>({
      name: "ext",
      informer,
      predicate: extensionChangePredicate,
      reconcile: async (key) => {
        const e = informer.get(ns, key.split("/")[1]!);
        reconciled.push(e ? `gen${e.metadata.generation}${e.metadata.deletionTimestamp ? " deleting" : ""}` : "gone");
        return { kind: "done" };
      },
    });
    const ac = new AbortController();
    const stop = new AbortController();
    await informer.start(ac.signal);
    const running = controller.run(stop.signal);
    try {
      const created = await kube.create<Extension>(Extensions, { ...extension(ns, "e"), metadata: { name: "e", namespace: ns, finalizers: ["extensions.gardener.cloud/ontap"] } });
      await eventually(() => expect(reconciled).toEqual(["gen1"]));
      const withStatus = await kube.updateStatus<Extension>(Extensions, { ...created, status: { observedGeneration: 1 } });
      await new Promise((r) => setTimeout(r, 500));
      expect(reconciled).toEqual(["gen1"]);
      const annotated = await kube.mergePatch<Extension>(Extensions, ns, "e", { metadata: { annotations: { "gardener.cloud/operation": "reconcile" } } });
      expect(annotated.metadata.resourceVersion).not.toBe(withStatus.metadata.resourceVersion);
      await eventually(() => expect(reconciled).toEqual(["gen1", "gen1"]));
      await kube.mergePatch(Extensions, ns, "e", { metadata: { annotations: { "gardener.cloud/operation": null } } });
      await kube.mergePatch(Extensions, ns, "e", { spec: { providerConfig: { a: 1 } } });
      await eventually(() => expect(reconciled).toEqual(["gen1", "gen1", "gen2"]));
      await kube.delete(Extensions, ns, "e");
      // kube-apiserver bumps metadata.generation when it sets the deletion timestamp.
      await eventually(() => expect(reconciled).toEqual(["gen1", "gen1", "gen2", "gen3 deleting"]));
      await kube.mergePatch(Extensions, ns, "e", { metadata: { finalizers: null } });
      await eventually(() => expect(reconciled.at(-1)).toBe("gone"));
    } finally {
      stop.abort();
      await running;
      ac.abort();
      await informer.stopped();
    }
  });
});
