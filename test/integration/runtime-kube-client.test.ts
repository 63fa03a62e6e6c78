import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeClient, type KubeClient, type KubeRequestEvent } from "../../src/kube/client.js";
import { KubeError } from "../../src/kube/errors.js";
import { Extensions, Secrets } from "../../src/kube/resources.js";
import { type FaultProxy, startFaultProxy } from "../../src/testenv/index.js";
import { freshNamespace, loadKubeConfig, testEnv } from "../support/kube-test-helpers.js";

interface Secret {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; uid?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

interface Extension {
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; annotations?: Record<string, string> };
  spec: { type: string; providerConfig?: Record<string, unknown> };
  status?: Record<string, unknown>;
}

const PASSWORD = "Sup3r-s3cret-value-that-must-not-leak";

async function rejection(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KubeError);
    return err as KubeError;
  }
  throw new Error("expected a rejection");
}

describe("KubeClient against kube-apiserver", () => {
  let kc: KubeConfig;
  let kube: KubeClient;
  let events: KubeRequestEvent[];

  beforeAll(() => {
    kc = loadKubeConfig();
    events = [];
    kube = createKubeClient(kc, { onRequest: (ev) => events.push(ev) });
  });

  it("creates, gets, lists by label, updates and deletes a Secret", async () => {
    const ns = await freshNamespace(kc, { prefix: "kc" });
    const created = await kube.create<Secret>(Secrets, {
      metadata: { name: "creds", namespace: ns, labels: { app: "ontap" } },
      stringData: { username: "u", password: PASSWORD },
    });
    expect(created.metadata.uid).toBeTruthy();
    expect(created.data?.["password"]).toBe(Buffer.from(PASSWORD).toString("base64"));
    const got = await kube.get<Secret>(Secrets, ns, "creds");
    expect(got?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    await kube.create<Secret>(Secrets, { metadata: { name: "other", namespace: ns } });
    const listed = await kube.list<Secret>(Secrets, ns, { labelSelector: "app=ontap" });
    expect(listed.items.map((s) => s.metadata.name)).toEqual(["creds"]);
    expect(listed.items[0]).toMatchObject({ apiVersion: "v1", kind: "Secret" });
    expect(Number(listed.resourceVersion)).toBeGreaterThan(0);
    const updated = await kube.update<Secret>(Secrets, { ...got!, data: { username: Buffer.from("v").toString("base64") } });
    expect(updated.data).toEqual({ username: "dg==" });
    expect(await kube.delete(Secrets, ns, "creds")).toBe(true);
    expect(await kube.delete(Secrets, ns, "creds")).toBe(false);
    expect(await kube.get(Secrets, ns, "creds")).toBeUndefined();
    const verbs = events.filter((e) => e.resource === "secrets").map((e) => `${e.verb} ${e.code}`);
    expect(verbs).toEqual(expect.arrayContaining(["create 201", "get 200", "list 200", "update 200", "delete 200", "delete 404", "get 404"]));
  });

  it("reports AlreadyExists, Conflict and NotFound with their reasons and without the Secret's content", async () => {
    const ns = await freshNamespace(kc, { prefix: "kc" });
    const secret: Secret = { metadata: { name: "creds", namespace: ns }, stringData: { password: PASSWORD } };
    const first = await kube.create<Secret>(Secrets, secret);
    const exists = await rejection(kube.create(Secrets, secret));
    expect(exists).toMatchObject({ reason: "AlreadyExists", status: 409, transient: false, verb: "create", resource: "secrets" });
    await kube.update<Secret>(Secrets, { ...first, data: {} });
    const conflict = await rejection(kube.update<Secret>(Secrets, { ...first, stringData: { password: PASSWORD } }));
    expect(conflict).toMatchObject({ reason: "Conflict", status: 409 });
    const missing = await rejection(kube.update<Secret>(Secrets, { metadata: { name: "nope", namespace: ns } }));
    expect(missing).toMatchObject({ reason: "NotFound", status: 404 });
    const patchMissing = await rejection(kube.mergePatch(Secrets, ns, "nope", { data: {} }));
    expect(patchMissing.reason).toBe("NotFound");
    for (const err of [exists, conflict, missing]) {
      expect(err.message).not.toContain(PASSWORD);
      expect(JSON.stringify(err)).not.toContain(PASSWORD);
    }
  });

  it("reports Invalid without echoing the rejected Secret content", async () => {
    const ns = await freshNamespace(kc, { prefix: "kc" });
    const err = await rejection(
      kube.create<Secret>(Secrets, { metadata: { name: "creds", namespace: ns }, stringData: { "not a valid key!": PASSWORD } }),
    );
    expect(err.reason).toBe("Invalid");
    expect(err.status).toBe(422);
    expect(err.message).toContain("creds");
    expect(err.message).not.toContain(PASSWORD);
  });

  it("updates Extension status through the subresource without bumping generation, and merge-patches annotations", async () => {
    const ns = await freshNamespace(kc, { prefix: "kc" });
    const ext = await kube.create<Extension>(Extensions, {
      metadata: { name: "ontap", namespace: ns, annotations: { "gardener.cloud/operation": "reconcile" } },
      spec: { type: "ontap" },
    });
    expect(ext.metadata.generation).toBe(1);
    const withStatus = await kube.updateStatus<Extension>(Extensions, {
      ...ext,
      status: { observedGeneration: 1, lastOperation: { type: "Reconcile", state: "Processing", description: "x", progress: 0, lastUpdateTime: new Date().toISOString() } },
    });
    expect(withStatus.metadata.generation).toBe(1);
    expect(withStatus.status).toMatchObject({ observedGeneration: 1 });
    const patched = await kube.mergePatch<Extension>(Extensions, ns, "ontap", {
      metadata: { annotations: { "gardener.cloud/operation": null }, resourceVersion: withStatus.metadata.resourceVersion },
    });
    expect(patched.metadata.annotations?.["gardener.cloud/operation"]).toBeUndefined();
    // A merge patch carrying a stale resourceVersion is refused: optimistic concurrency for patches.
    const stale = await rejection(
      kube.mergePatch(Extensions, ns, "ontap", { metadata: { resourceVersion: ext.metadata.resourceVersion }, spec: { type: "x" } }),
    );
    expect(stale.reason).toBe("Conflict");
    const statusPatched = await kube.mergePatch<Extension>(Extensions, ns, "ontap", { status: { observedGeneration: 7 } }, { subresource: "status" });
    expect(statusPatched.status).toMatchObject({ observedGeneration: 7 });
    const specChanged = await kube.update<Extension>(Extensions, { ...statusPatched, spec: { type: "ontap", providerConfig: { a: 1 } } });
    expect(specChanged.metadata.generation).toBe(2);
  });

  it("watches from a list's resourceVersion, and answers Gone for a resourceVersion that is too old", async () => {
    const ns = await freshNamespace(kc, { prefix: "kc" });
    const { resourceVersion } = await kube.list(Secrets, ns);
    const ac = new AbortController();
    const seen: string[] = [];
    const watching = kube.watch(Secrets, ns, { resourceVersion, signal: ac.signal }, (ev) => {
      if (ev.type !== "BOOKMARK") seen.push(`${ev.type} ${ev.object.metadata.name}`);
      if (seen.length === 2) ac.abort();
    });
    await kube.create<Secret>(Secrets, { metadata: { name: "a", namespace: ns } });
    await kube.delete(Secrets, ns, "a");
    await watching;
    expect(seen).toEqual(["ADDED a", "DELETED a"]);

    // The watch cache of a CRD starts at its first use; an older resourceVersion is answered 410 Gone
    // (while the cache initializes, 429: the client reports it as transient TooManyRequests).
    let gone: KubeError;
    do {
      gone = await rejection(
        kube.watch(Extensions, ns, { resourceVersion: "1", signal: AbortSignal.timeout(10_000) }, () => {}),
      );
      if (gone.reason === "TooManyRequests") await new Promise((r) => setTimeout(r, 200));
    } while (gone.reason === "TooManyRequests");
    expect(gone.reason).toBe("Gone");
  });
});

describe("KubeClient through the fault proxy", () => {
  let proxy: FaultProxy;
  let dir: string;
  let kube: KubeClient;
  let adminKc: KubeConfig;
  let events: KubeRequestEvent[];

  beforeAll(async () => {
    const env = testEnv();
    proxy = await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token });
    dir = await mkdtemp(path.join(os.tmpdir(), "runtime-kc-"));
    const kc = new KubeConfig();
    kc.loadFromFile(proxy.kubeconfigFor(dir));
    events = [];
    kube = createKubeClient(kc, { onRequest: (ev) => events.push(ev), timeoutMs: 2_000 });
    adminKc = loadKubeConfig();
  });

  afterAll(async () => {
    await proxy?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("maps an injected Status 500 to a transient ServerError and a connection reset to Transport", async () => {
    const ns = await freshNamespace(adminKc, { prefix: "kcp" });
    proxy.rules.add({ method: "POST", path: `/namespaces/${ns}/secrets$`, count: 1, action: { type: "error", status: 500 } });
    const err = await rejection(kube.create<Secret>(Secrets, { metadata: { name: "s", namespace: ns }, stringData: { password: PASSWORD } }));
    expect(err).toMatchObject({ reason: "ServerError", status: 500, transient: true });
    proxy.rules.add({ method: "GET", path: `/namespaces/${ns}/secrets/s$`, count: 1, action: { type: "reset" } });
    const reset = await rejection(kube.get(Secrets, ns, "s"));
    expect(reset).toMatchObject({ reason: "Transport", transient: true });
    expect(events.at(-1)).toMatchObject({ verb: "get", resource: "secrets", code: "error" });
    // The rules were one-shot: the same calls now go through.
    await kube.create<Secret>(Secrets, { metadata: { name: "s", namespace: ns }, stringData: { password: PASSWORD } });
    expect(await kube.get(Secrets, ns, "s")).toBeDefined();
  });

  it("a create whose response was lost reports an error, yet the object exists; the retry sees AlreadyExists", async () => {
    const ns = await freshNamespace(adminKc, { prefix: "kcp" });
    proxy.rules.add({ method: "POST", path: `/namespaces/${ns}/secrets$`, count: 1, action: { type: "applyThenFail", status: 503 } });
    const secret: Secret = { metadata: { name: "s", namespace: ns }, stringData: { password: PASSWORD } };
    const lost = await rejection(kube.create(Secrets, secret));
    expect(lost).toMatchObject({ reason: "ServerError", status: 503, transient: true });
    expect(lost.message).not.toContain(PASSWORD);
    const retry = await rejection(kube.create(Secrets, secret));
    expect(retry.reason).toBe("AlreadyExists");
  });

  it("a hanging request times out as a transient Timeout", async () => {
    const ns = await freshNamespace(adminKc, { prefix: "kcp" });
    proxy.rules.add({ method: "GET", path: `/namespaces/${ns}/secrets/h$`, count: 1, action: { type: "hang" } });
    const err = await rejection(kube.get(Secrets, ns, "h"));
    expect(err).toMatchObject({ reason: "Timeout", transient: true });
  });
});
