import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ApiException, CoreV1Api, type KubeConfig, Watch } from "@kubernetes/client-node";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FaultProxy, pathTemplate, reasonFor, startFaultProxy, statusBody } from "../../src/testenv/index.js";
import {
  deleteIgnoringNotFound,
  eventually,
  expectApiError,
  freshNamespace,
  loadKubeConfig,
  statusOf,
  testEnv,
} from "../support/kube-test-helpers.js";

describe("fault proxy: pure parts", () => {
  it("turns resource paths into templates with {ns} and {name} and keeps other paths", () => {
    expect(pathTemplate("/api/v1/namespaces/a/secrets")).toBe("/api/v1/namespaces/{ns}/secrets");
    expect(pathTemplate("/api/v1/namespaces/a/secrets/x")).toBe("/api/v1/namespaces/{ns}/secrets/{name}");
    expect(pathTemplate("/api/v1/namespaces/a")).toBe("/api/v1/namespaces/{name}");
    expect(pathTemplate("/api/v1/namespaces")).toBe("/api/v1/namespaces");
    expect(pathTemplate("/api/v1/namespaces/a/status")).toBe("/api/v1/namespaces/{ns}/status");
    expect(pathTemplate("/apis/extensions.gardener.cloud/v1alpha1/namespaces/s/extensions/e/status")).toBe(
      "/apis/extensions.gardener.cloud/v1alpha1/namespaces/{ns}/extensions/{name}/status",
    );
    expect(pathTemplate("/apis/extensions.gardener.cloud/v1alpha1/clusters/shoot--p--s")).toBe(
      "/apis/extensions.gardener.cloud/v1alpha1/clusters/{name}",
    );
    expect(pathTemplate("/readyz")).toBe("/readyz");
    expect(pathTemplate("/apis")).toBe("/apis");
  });

  it("answers errors with a Kubernetes Status whose reason follows the code unless one is given", () => {
    expect(reasonFor(409)).toBe("Conflict");
    expect(reasonFor(429)).toBe("TooManyRequests");
    expect(reasonFor(500)).toBe("InternalError");
    expect(reasonFor(599)).toBe("InternalError");
    expect(reasonFor(418)).toBe("BadRequest");
    expect(statusBody(409, "m", "AlreadyExists")).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "m",
      reason: "AlreadyExists",
      code: 409,
    });
    expect(statusBody(429, "slow down")).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 1 } });
  });
});

describe("fault proxy in front of the real kube-apiserver", () => {
  let proxy: FaultProxy;
  let tmp: string;
  let admin: KubeConfig;
  let viaProxy: KubeConfig;

  beforeAll(async () => {
    const env = testEnv();
    proxy = await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token });
    tmp = await mkdtemp(path.join(os.tmpdir(), "fault-proxy-test-"));
    admin = loadKubeConfig();
    viaProxy = loadKubeConfig(proxy.kubeconfigFor(tmp));
  });

  afterAll(async () => {
    await proxy?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  beforeEach(async () => {
    const res = await fetch(`${proxy.adminUrl}/reset`, { method: "POST" });
    expect(res.status).toBe(200);
  });

  const secret = (name: string) => ({ metadata: { name }, stringData: { k: "v" } });
  const secretExists = async (namespace: string, name: string): Promise<boolean> => {
    try {
      await admin.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  };

  it("forwards requests unchanged when no rule matches and counts them per verb and path template", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-pass" });
    const core = viaProxy.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace, body: secret("a") });
    const read = await core.readNamespacedSecret({ namespace, name: "a" });
    expect(Buffer.from(read.data?.k ?? "", "base64").toString()).toBe("v");
    expect(proxy.calls()).toMatchObject({
      "POST /api/v1/namespaces/{ns}/secrets": 1,
      "GET /api/v1/namespaces/{ns}/secrets/{name}": 1,
    });
    const overHttp = (await (await fetch(`${proxy.adminUrl}/calls`)).json()) as Record<string, number>;
    expect(overHttp).toEqual(proxy.calls());
  });

  it("makes `create Secret X` fail before it is applied: the client gets the Status, the Secret does not exist", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-before" });
    const res = await fetch(`${proxy.adminUrl}/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        method: "POST",
        path: `^/api/v1/namespaces/${namespace}/secrets$`,
        nth: 1,
        action: { type: "error", status: 500 },
      }),
    });
    expect(res.status).toBe(201);

    const core = viaProxy.makeApiClient(CoreV1Api);
    const error = await core.createNamespacedSecret({ namespace, body: secret("x") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(500);
    expect(JSON.parse(String((error as ApiException<unknown>).body))).toMatchObject({
      kind: "Status",
      reason: "InternalError",
      code: 500,
    });
    expect(await secretExists(namespace, "x")).toBe(false);

    // nth without count fires once: the retry goes through.
    await core.createNamespacedSecret({ namespace, body: secret("x") });
    expect(await secretExists(namespace, "x")).toBe(true);
  });

  it("makes `create Secret X` fail after it is applied (applyThenFail): the client gets an error, yet the Secret exists", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-after" });
    proxy.rules.add({
      method: "POST",
      path: `^/api/v1/namespaces/${namespace}/secrets$`,
      nth: 1,
      action: { type: "applyThenFail", status: 504 },
    });
    const core = viaProxy.makeApiClient(CoreV1Api);
    const status = await expectApiError(() => core.createNamespacedSecret({ namespace, body: secret("x") }));
    expect(status).toBe(504);
    expect(await secretExists(namespace, "x")).toBe(true);
    // The caller's retry now meets the object it did not know it had created.
    expect(await expectApiError(() => core.createNamespacedSecret({ namespace, body: secret("x") }))).toBe(409);
  });

  it("answers 409 Conflict and 429 TooManyRequests as Kubernetes Status errors with the given reason", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-codes" });
    proxy.rules.add({
      method: "PUT",
      path: "/secrets/",
      count: 1,
      action: { type: "error", status: 409, message: "the object has been modified" },
    });
    proxy.rules.add({ method: "GET", path: "/secrets/", count: 1, action: { type: "error", status: 429 } });
    const core = viaProxy.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedSecret({ namespace, body: secret("c") });
    const conflict = await core.replaceNamespacedSecret({ namespace, name: "c", body: created }).catch((e) => e);
    expect((conflict as ApiException<string>).code).toBe(409);
    expect(JSON.parse((conflict as ApiException<string>).body)).toMatchObject({
      reason: "Conflict",
      message: "the object has been modified",
    });
    expect(await expectApiError(() => core.readNamespacedSecret({ namespace, name: "c" }))).toBe(429);
  });

  it("delays a request and then forwards it", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-delay" });
    proxy.rules.add({ method: "POST", path: `/namespaces/${namespace}/secrets$`, action: { type: "delay", ms: 400 } });
    const started = Date.now();
    await viaProxy.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace, body: secret("d") });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(await secretExists(namespace, "d")).toBe(true);
  });

  it("resets the connection: the client sees a network error and nothing is applied", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-reset" });
    proxy.rules.add({ method: "POST", path: `/namespaces/${namespace}/secrets$`, action: { type: "reset" } });
    const error = await viaProxy
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({ namespace, body: secret("r") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApiException);
    expect(await secretExists(namespace, "r")).toBe(false);
  });

  it("hangs a request until the client gives up, without forwarding it", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-hang" });
    proxy.rules.add({ method: "POST", path: `/namespaces/${namespace}/secrets$`, action: { type: "hang" } });
    const dispatcher = new Agent({ connect: { ca: await readFile(proxy.caFile, "utf8") } });
    const started = Date.now();
    const error = await undiciFetch(`${proxy.url}/api/v1/namespaces/${namespace}/secrets`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(secret("h")),
      signal: AbortSignal.timeout(500),
      dispatcher,
    }).catch((e: unknown) => e);
    await dispatcher.close();
    expect((error as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(await secretExists(namespace, "h")).toBe(false);
  });

  it("passes a watch stream through: events arrive while the stream stays open", async () => {
    const namespace = await freshNamespace(admin, { prefix: "fp-watch" });
    const events: string[] = [];
    const watch = new Watch(viaProxy);
    const request = await watch.watch(
      `/api/v1/namespaces/${namespace}/secrets`,
      {},
      (type: string, obj: { metadata?: { name?: string } }) => events.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    try {
      const core = admin.makeApiClient(CoreV1Api);
      await core.createNamespacedSecret({ namespace, body: secret("w1") });
      await eventually(() => expect(events).toContain("ADDED w1"));
      // A second event on the same stream proves the proxy streams instead of buffering until the end.
      await deleteIgnoringNotFound(() => core.deleteNamespacedSecret({ namespace, name: "w1" }));
      await eventually(() => expect(events).toContain("DELETED w1"));
    } finally {
      request.abort();
    }
    expect(proxy.calls()["WATCH /api/v1/namespaces/{ns}/secrets"]).toBe(1);
  });

  it("manages rules over the admin API: list, delete one, reject an invalid one", async () => {
    const post = (body: unknown) =>
      fetch(`${proxy.adminUrl}/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const created = (await (await post({ path: "^/x$", action: { type: "reset" } })).json()) as { id: string };
    await post({ path: "^/y$", action: { type: "hang" } });
    const listed = (await (await fetch(`${proxy.adminUrl}/faults`)).json()) as { id: string; path: string }[];
    expect(listed.map((r) => r.path)).toEqual(["^/x$", "^/y$"]);

    expect((await fetch(`${proxy.adminUrl}/faults/${created.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await fetch(`${proxy.adminUrl}/faults/${created.id}`, { method: "DELETE" })).status).toBe(404);
    expect(proxy.rules.list().map((r) => r.path)).toEqual(["^/y$"]);

    const invalid = await post({ path: "(", action: { type: "error", status: 200 } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toMatch(/path|status/);

    expect((await fetch(`${proxy.adminUrl}/faults`, { method: "DELETE" })).status).toBe(200);
    expect(proxy.rules.list()).toEqual([]);
  });
});
