import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.js";
import { KubeError } from "../../src/kube/errors.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Extensions } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { createInformer } from "../../src/runtime/informer.js";

interface Ext {
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: { type: string; n?: number };
}

const ext = (name: string, type = "ontap", n = 0): Ext => ({
  metadata: { name, namespace: "ns" },
  spec: { type, n },
});

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function recordingInformer(kube: ReturnType<typeof createFakeKubeClient>, opts = {}) {
  const inf = createInformer<Ext>(kube, Extensions, { backoff: { baseMs: 5, capMs: 20 }, ...opts });
  const log: string[] = [];
  inf.onAdd((o) => log.push(`add ${o.metadata.name}`));
  inf.onUpdate((a, b) => log.push(`${a === b ? "resync" : "update"} ${b.metadata.name} ${b.spec.n}`));
  inf.onDelete((o) => log.push(`delete ${o.metadata.name}`));
  return { inf, log };
}

describe("informer", () => {
  it("lists into the cache, then sees adds, updates and deletes through the watch", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, ext("a"));
    const { inf, log } = recordingInformer(kube);
    const ac = new AbortController();
    expect(inf.hasSynced()).toBe(false);
    await inf.start(ac.signal);
    expect(inf.hasSynced()).toBe(true);
    expect(inf.get("ns", "a")?.spec.type).toBe("ontap");
    await kube.create(Extensions, ext("b"));
    const b = (await kube.get<Ext>(Extensions, "ns", "b"))!;
    await kube.update(Extensions, { ...b, spec: { ...b.spec, n: 1 } });
    await kube.delete(Extensions, "ns", "a");
    await until(() => log.length === 4);
    expect(log).toEqual(["add a", "add b", "update b 1", "delete a"]);
    expect(inf.list().map((o) => o.metadata.name)).toEqual(["b"]);
    expect(inf.get("ns", "b")?.spec.n).toBe(1);
    ac.abort();
    await inf.stopped();
  });

  it("relists after 410 Gone and emits only the differences", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, ext("a"));
    await kube.create(Extensions, ext("b"));
    const { inf, log } = recordingInformer(kube);
    const ac = new AbortController();
    await inf.start(ac.signal);
    // While the watch is down, the world changes and history is compacted: the resume must fail with 410.
    kube.closeWatches();
    kube.compact();
    await kube.delete(Extensions, "ns", "a");
    await kube.create(Extensions, ext("c"));
    kube.compact();
    await until(() => log.includes("add c") && log.includes("delete a"));
    expect(kube.requests.filter((r) => r === "list extensions")).toHaveLength(2);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(["b", "c"]);
    expect(log.filter((l) => l.includes(" b"))).toEqual(["add b"]);
    ac.abort();
    await inf.stopped();
  });

  it("resumes a cleanly ended watch from the last resourceVersion without relisting", async () => {
    const kube = createFakeKubeClient();
    const { inf, log } = recordingInformer(kube);
    const ac = new AbortController();
    await inf.start(ac.signal);
    await kube.create(Extensions, ext("a"));
    await until(() => log.length === 1);
    kube.closeWatches();
    await kube.create(Extensions, ext("b"));
    await until(() => log.length === 2);
    expect(log).toEqual(["add a", "add b"]);
    expect(kube.requests.filter((r) => r === "list extensions")).toHaveLength(1);
    ac.abort();
    await inf.stopped();
  });

  it("retries a failing list with backoff and syncs once it works", async () => {
    const kube = createFakeKubeClient();
    kube.inject({ verb: "list", reason: "ServerError", times: 3 });
    const { inf } = recordingInformer(kube);
    const ac = new AbortController();
    await inf.start(ac.signal);
    expect(inf.hasSynced()).toBe(true);
    expect(kube.requests.filter((r) => r === "list extensions")).toHaveLength(4);
    ac.abort();
    await inf.stopped();
  });

  it("reconnects after a watch error without losing events", async () => {
    const kube = createFakeKubeClient();
    const { inf, log } = recordingInformer(kube);
    const ac = new AbortController();
    await inf.start(ac.signal);
    kube.inject({ verb: "watch", reason: "Transport", times: 2 });
    kube.closeWatches();
    await kube.create(Extensions, ext("a"));
    await until(() => log.length === 1);
    expect(log).toEqual(["add a"]);
    ac.abort();
    await inf.stopped();
  });

  it("starts the backoff afresh when a watch that worked breaks, whatever failed before it", async () => {
    // The fake's watches end only cleanly; this one can also be cut mid-stream, as a restarting API server or a
    // load balancer does (undici: "other side closed").
    const kube = createFakeKubeClient();
    const cuts: (() => void)[] = [];
    const cutting: KubeClient = {
      ...kube,
      watch(type, namespace, opts, onEvent) {
        const own = new AbortController();
        const inner = kube.watch(type, namespace, { ...opts, signal: AbortSignal.any([opts.signal, own.signal]) }, onEvent);
        return new Promise<void>((resolve, reject) => {
          inner.then(resolve, reject);
          cuts.push(() => {
            own.abort();
            reject(new KubeError({ reason: "Transport", verb: "watch", resource: "extensions", serverMessage: "UND_ERR_SOCKET" }));
          });
        });
      },
    };
    const records: { msg: string; failures?: number; retryInMs?: number }[] = [];
    const logger = createLogger({
      level: "debug",
      stream: new Writable({
        write(chunk, _enc, done) {
          records.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    });
    // Four failed watches in a row first (the API server away for a while): the backoff has grown to 8 ms.
    kube.inject({ verb: "watch", reason: "Transport", times: 4 });
    const inf = createInformer<Ext>(cutting, Extensions, { backoff: { baseMs: 1, capMs: 60_000 }, logger });
    const seen: string[] = [];
    inf.onAdd((o) => seen.push(o.metadata.name));
    const ac = new AbortController();
    await inf.start(ac.signal);
    await kube.create(Extensions, ext("a"));
    await until(() => seen.includes("a") && cuts.length === 5);
    // The fifth watch works (it delivered "a"); then the stream is cut.
    cuts.at(-1)!();
    await kube.create(Extensions, ext("b"));
    await until(() => seen.includes("b"));
    const reconnects = records.filter((r) => r.msg === "watch failed; reconnecting");
    expect(reconnects.map((r) => r.failures)).toEqual([1, 2, 3, 4, 1]);
    // The first failure's wait (base 1 ms, jittered over its upper half), not the fifth's 8-16 ms.
    expect(reconnects.at(-1)!.retryInMs).toBeLessThanOrEqual(1);
    ac.abort();
    await inf.stopped();
  });

  it("treats objects failing the filter as absent, and deletes them from the cache when they stop passing", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, ext("other", "dns"));
    await kube.create(Extensions, ext("mine"));
    const { inf, log } = recordingInformer(kube, { filter: (o: Ext) => o.spec.type === "ontap" });
    const ac = new AbortController();
    await inf.start(ac.signal);
    expect(inf.list().map((o) => o.metadata.name)).toEqual(["mine"]);
    const mine = (await kube.get<Ext>(Extensions, "ns", "mine"))!;
    await kube.update(Extensions, { ...mine, spec: { type: "dns" } });
    await until(() => log.length === 2);
    expect(log).toEqual(["add mine", "delete mine"]);
    expect(inf.get("ns", "mine")).toBeUndefined();
    ac.abort();
    await inf.stopped();
  });

  it("replays cached objects as same-reference updates on resync", async () => {
    const kube = createFakeKubeClient();
    await kube.create(Extensions, ext("a"));
    const { inf, log } = recordingInformer(kube, { resyncMs: 20 });
    const ac = new AbortController();
    await inf.start(ac.signal);
    await until(() => log.filter((l) => l.startsWith("resync")).length >= 2);
    ac.abort();
    await inf.stopped();
  });

  it("a throwing handler does not stop the others or the informer", async () => {
    const kube = createFakeKubeClient();
    const inf = createInformer<Ext>(kube, Extensions);
    const seen: string[] = [];
    inf.onAdd(() => {
      throw new Error("bug");
    });
    inf.onAdd((o) => seen.push(o.metadata.name));
    const ac = new AbortController();
    await inf.start(ac.signal);
    await kube.create(Extensions, ext("a"));
    await kube.create(Extensions, ext("b"));
    await until(() => seen.length === 2);
    ac.abort();
    await inf.stopped();
  });

  it("start resolves without syncing when aborted first", async () => {
    const kube = createFakeKubeClient();
    kube.inject({ verb: "list", reason: "Forbidden", times: 1000 });
    const inf = createInformer<Ext>(kube, Extensions, { backoff: { baseMs: 5, capMs: 10 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await inf.start(ac.signal);
    expect(inf.hasSynced()).toBe(false);
    await inf.stopped();
  });
});
