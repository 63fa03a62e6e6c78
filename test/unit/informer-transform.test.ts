import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeClient, type KubeClient, type ListOptions } from "../../src/kube/client.js";
import { Clusters, Extensions } from "../../src/kube/resources.js";
import { createInformer } from "../../src/runtime/informer.js";
import { withoutManagedFields } from "../../src/runtime/transform.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";

/**
 * An informer keeps what its transform returns, from the list (page by page, before the next page is asked
 * for) and from the watch; by default everything but managedFields.
 */

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string; managedFields?: unknown[] };
  spec?: { type?: string; big?: string; keep?: string };
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const managed = [{ manager: "gardenlet", operation: "Update", fieldsV1: { "f:spec": { "f:big": {} } } }];

describe("informer transform", () => {
  it("drops managedFields by default, from the list and from watch events", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, { metadata: { name: "a", namespace: "ns", managedFields: managed }, spec: { type: "ontap" } });
    const inf = createInformer<Obj>(kube, Extensions, { backoff: { baseMs: 5, capMs: 20 } });
    const ac = new AbortController();
    await inf.start(ac.signal);
    expect(inf.get("ns", "a")?.metadata.managedFields).toBeUndefined();
    expect(inf.get("ns", "a")?.spec?.type).toBe("ontap");
    await kube.create(Extensions, { metadata: { name: "b", namespace: "ns", managedFields: managed }, spec: { type: "ontap" } });
    await until(() => inf.get("ns", "b") !== undefined);
    expect(inf.get("ns", "b")?.metadata.managedFields).toBeUndefined();
    ac.abort();
    await inf.stopped();
  });

  it("caches and hands to the filter and every handler the transformed object", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Clusters, { metadata: { name: "c1" }, spec: { big: "x".repeat(10_000), keep: "k1" } });
    const slim = (o: Obj): Obj => ({ metadata: o.metadata, spec: { keep: o.spec?.keep } });
    const filtered: Obj[] = [];
    const seen: Obj[] = [];
    const inf = createInformer<Obj>(kube, Clusters, {
      transform: slim,
      filter: (o) => {
        filtered.push(o);
        return true;
      },
      backoff: { baseMs: 5, capMs: 20 },
    });
    inf.onAdd((o) => seen.push(o));
    inf.onUpdate((_a, b) => seen.push(b));
    inf.onDelete((o) => seen.push(o));
    const ac = new AbortController();
    await inf.start(ac.signal);
    await kube.create(Clusters, { metadata: { name: "c2" }, spec: { big: "y".repeat(10_000), keep: "k2" } });
    const c1 = (await kube.get<Obj>(Clusters, undefined, "c1"))!;
    await kube.update(Clusters, { ...c1, spec: { ...c1.spec, keep: "k1b" } });
    await kube.delete(Clusters, undefined, "c2");
    await until(() => seen.length === 4);
    for (const o of [...seen, ...filtered, ...inf.list()]) expect(o.spec?.big, o.metadata.name).toBeUndefined();
    expect(inf.get(undefined, "c1")?.spec?.keep).toBe("k1b");
    ac.abort();
    await inf.stopped();
  });

  it("asks for pages of pageSize objects", async () => {
    const calls: ListOptions[] = [];
    const fake = createFakeKubeClient();
    const kube: KubeClient = {
      ...fake,
      list: (type, namespace, opts) => {
        calls.push(opts ?? {});
        return fake.list(type, namespace, opts);
      },
    };
    const inf = createInformer<Obj>(kube, Clusters, { pageSize: 25 });
    const ac = new AbortController();
    await inf.start(ac.signal);
    expect(calls[0]?.limit).toBe(25);
    expect(calls[0]?.transform).toBeTypeOf("function");
    ac.abort();
    await inf.stopped();
  });

  it("withoutManagedFields returns objects without the field untouched", () => {
    const plain = { metadata: { name: "x" } };
    expect(withoutManagedFields(plain)).toBe(plain);
    expect(withoutManagedFields({ metadata: { name: "x", managedFields: managed } })).toEqual({ metadata: { name: "x" } });
  });
});

describe("list pages over HTTP", () => {
  let server: Server;
  let kube: KubeClient;
  const events: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "", "http://x");
      const page = url.searchParams.get("continue") ?? "1";
      events.push(`request page ${page} limit ${url.searchParams.get("limit")}`);
      const items = [0, 1].map((i) => ({ metadata: { name: `p${page}-${i}` }, spec: { big: "z".repeat(50_000), keep: `${page}-${i}` } }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ metadata: { resourceVersion: `rv${page}`, ...(page === "3" ? {} : { continue: String(Number(page) + 1) }) }, items }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "admin", token: "t" }],
      contexts: [{ name: "fake", cluster: "fake", user: "admin" }],
      currentContext: "fake",
    });
    kube = createKubeClient(kc);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("transforms each page's items before asking for the next page", async () => {
    events.length = 0;
    const listed = await kube.list<Obj>(Clusters, undefined, {
      limit: 2,
      transform: (o) => {
        events.push(`transform ${o.metadata?.name}`);
        return { ...o, spec: { keep: (o as Obj).spec?.keep } } as never;
      },
    });
    expect(events).toEqual([
      "request page 1 limit 2",
      "transform p1-0",
      "transform p1-1",
      "request page 2 limit 2",
      "transform p2-0",
      "transform p2-1",
      "request page 3 limit 2",
      "transform p3-0",
      "transform p3-1",
    ]);
    expect(listed.items.map((o) => o.spec)).toEqual(["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"].map((keep) => ({ keep })));
    // The transform sees (and keeps) the type meta a list item lacks.
    expect(listed.items[0]).toMatchObject({ apiVersion: "extensions.gardener.cloud/v1alpha1", kind: "Cluster" });
    expect(listed.resourceVersion).toBe("rv3");
  });
});
