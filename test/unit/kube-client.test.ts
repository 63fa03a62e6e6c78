import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKubeClient, type KubeRequestEvent, type WatchEvent } from "../../src/kube/client.js";
import { KubeError } from "../../src/kube/errors.js";
import { Extensions, Namespaces, Secrets } from "../../src/kube/resources.js";

/**
 * A scripted HTTP server standing in for kube-apiserver (and for the fault proxy's misbehaviour): each
 * test installs a handler and inspects the requests it saw.
 */
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let server: Server;
let handler: Handler;
let seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }>;
let kc: KubeConfig;

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }));
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "admin", token: "test-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "admin" }],
    currentContext: "fake",
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  handler = (_req, _body, res) => status(res, 500, "InternalError", "no handler");
});

function client(timeoutMs = 5_000) {
  const events: KubeRequestEvent[] = [];
  const kube = createKubeClient(kc, { onRequest: (ev) => events.push(ev), timeoutMs, userAgent: "ontap-test/1" });
  return { kube, events };
}

async function rejection(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KubeError);
    return err as KubeError;
  }
  throw new Error("expected a rejection");
}

const secret = {
  metadata: { name: "creds", namespace: "ns1" },
  stringData: { password: "hunter2-very-secret" },
};

describe("kube client over HTTP", () => {
  it("gets an object with the kubeconfig's token and user agent, and reports the request", async () => {
    handler = (_req, _b, res) => json(res, 200, { apiVersion: "v1", kind: "Secret", metadata: { name: "creds" } });
    const { kube, events } = client();
    const got = await kube.get<{ metadata: { name: string } }>(Secrets, "ns1", "creds");
    expect(got?.metadata.name).toBe("creds");
    expect(seen[0]?.url).toBe("/api/v1/namespaces/ns1/secrets/creds");
    expect(seen[0]?.headers["authorization"]).toBe("Bearer test-token");
    expect(seen[0]?.headers["user-agent"]).toBe("ontap-test/1");
    expect(events).toMatchObject([{ verb: "get", resource: "secrets", code: 200 }]);
  });

  it("get returns undefined on NotFound and still reports the 404", async () => {
    handler = (_req, _b, res) => status(res, 404, "NotFound", 'secrets "x" not found');
    const { kube, events } = client();
    expect(await kube.get(Secrets, "ns1", "x")).toBeUndefined();
    expect(events[0]?.code).toBe(404);
  });

  it("builds group, namespaced and cluster-scoped paths", async () => {
    handler = (_req, _b, res) => json(res, 200, {});
    const { kube } = client();
    await kube.get(Extensions, "shoot--p--s", "ontap");
    await kube.get(Namespaces, undefined, "kube-system");
    expect(seen.map((s) => s.url)).toEqual([
      "/apis/extensions.gardener.cloud/v1alpha1/namespaces/shoot--p--s/extensions/ontap",
      "/api/v1/namespaces/kube-system",
    ]);
  });

  it("maps a Status AlreadyExists on create and never quotes the request body", async () => {
    handler = (_req, body, res) =>
      status(res, 409, "AlreadyExists", `secrets "creds" already exists; you sent ${body}`.slice(0, 40));
    const { kube } = client();
    const err = await rejection(kube.create(Secrets, secret));
    expect(err.reason).toBe("AlreadyExists");
    expect(err.status).toBe(409);
    expect(err.transient).toBe(false);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ apiVersion: "v1", kind: "Secret" });
    expect(err.message).not.toContain("hunter2");
  });

  it("a non-Status error body (an echoing proxy) is not quoted, and a 5xx is transient", async () => {
    handler = (_req, body, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end(`<html>bad gateway for ${body}</html>`);
    };
    const { kube } = client();
    const err = await rejection(kube.create(Secrets, secret));
    expect(err.reason).toBe("ServerError");
    expect(err.transient).toBe(true);
    expect(err.message).not.toContain("hunter2");
    expect(JSON.stringify(err)).not.toContain("hunter2");
  });

  it("a connection reset is a transient Transport error reported with code 'error'", async () => {
    handler = (req) => req.socket.destroy();
    const { kube, events } = client();
    const err = await rejection(kube.update(Secrets, secret));
    expect(err.reason).toBe("Transport");
    expect(err.transient).toBe(true);
    expect(err.message).not.toContain("hunter2");
    expect(events[0]).toMatchObject({ verb: "update", resource: "secrets", code: "error" });
  });

  it("a hanging server yields a transient Timeout after timeoutMs", async () => {
    handler = () => {};
    const { kube } = client(150);
    const started = Date.now();
    const err = await rejection(kube.get(Secrets, "ns1", "creds"));
    expect(err.reason).toBe("Timeout");
    expect(err.transient).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("update sends a PUT with the object's resourceVersion and maps Conflict", async () => {
    handler = (_req, _b, res) => status(res, 409, "Conflict", "the object has been modified");
    const { kube } = client();
    const err = await rejection(
      kube.update(Secrets, { metadata: { name: "creds", namespace: "ns1", resourceVersion: "41" } }),
    );
    expect(err.reason).toBe("Conflict");
    expect(seen[0]?.method).toBe("PUT");
    expect(JSON.parse(seen[0]!.body).metadata.resourceVersion).toBe("41");
  });

  it("updateStatus and mergePatch address the status subresource with the right content type", async () => {
    handler = (_req, _b, res) => json(res, 200, { metadata: { name: "e" } });
    const { kube, events } = client();
    await kube.updateStatus(Extensions, { metadata: { name: "e", namespace: "n" }, status: {} });
    await kube.mergePatch(Extensions, "n", "e", { status: { x: 1 } }, { subresource: "status" });
    await kube.mergePatch(Extensions, "n", "e", { metadata: { annotations: { a: null } } });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "PUT /apis/extensions.gardener.cloud/v1alpha1/namespaces/n/extensions/e/status",
      "PATCH /apis/extensions.gardener.cloud/v1alpha1/namespaces/n/extensions/e/status",
      "PATCH /apis/extensions.gardener.cloud/v1alpha1/namespaces/n/extensions/e",
    ]);
    expect(seen[1]?.headers["content-type"]).toBe("application/merge-patch+json");
    expect(events.map((e) => `${e.verb} ${e.resource}`)).toEqual([
      "update extensions/status",
      "patch extensions/status",
      "patch extensions",
    ]);
  });

  it("delete returns true when deleted, false when already gone, and sends the propagation policy", async () => {
    let calls = 0;
    handler = (_req, _b, res) =>
      calls++ === 0 ? json(res, 200, { kind: "Status", status: "Success" }) : status(res, 404, "NotFound", "gone");
    const { kube } = client();
    expect(await kube.delete(Secrets, "ns1", "creds", { propagationPolicy: "Foreground" })).toBe(true);
    expect(await kube.delete(Secrets, "ns1", "creds")).toBe(false);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ kind: "DeleteOptions", propagationPolicy: "Foreground" });
  });

  it("list follows continue tokens, fills apiVersion/kind and returns the last page's resourceVersion", async () => {
    handler = (req, _b, res) => {
      const url = new URL(req.url ?? "", "http://x");
      if (!url.searchParams.get("continue")) {
        json(res, 200, { metadata: { resourceVersion: "10", continue: "page2" }, items: [{ metadata: { name: "a" } }] });
      } else {
        json(res, 200, { metadata: { resourceVersion: "11" }, items: [{ metadata: { name: "b" } }] });
      }
    };
    const { kube } = client();
    const listed = await kube.list<{ kind: string; apiVersion: string; metadata: { name: string } }>(Extensions, "n", {
      labelSelector: "a=b",
      limit: 1,
    });
    expect(listed.items.map((i) => i.metadata.name)).toEqual(["a", "b"]);
    expect(listed.items[0]).toMatchObject({ kind: "Extension", apiVersion: "extensions.gardener.cloud/v1alpha1" });
    expect(listed.resourceVersion).toBe("11");
    expect(new URL(seen[0]!.url, "http://x").searchParams.get("labelSelector")).toBe("a=b");
  });

  it("a namespaced create without a namespace fails locally with Invalid", async () => {
    const { kube } = client();
    const err = await rejection(kube.create(Secrets, { metadata: { name: "x" } }));
    expect(err.reason).toBe("Invalid");
    expect(seen).toHaveLength(0);
  });
});

describe("kube client watch", () => {
  function streamEvents(res: ServerResponse, lines: unknown[], end = true): void {
    res.writeHead(200, { "content-type": "application/json" });
    // Split one event across two writes to prove line reassembly.
    const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
    res.write(text.slice(0, 7));
    setTimeout(() => {
      res.write(text.slice(7));
      if (end) res.end();
    }, 5);
  }

  it("delivers events in order and resolves when the server ends the stream", async () => {
    handler = (_req, _b, res) =>
      streamEvents(res, [
        { type: "ADDED", object: { metadata: { name: "a", resourceVersion: "2" } } },
        { type: "MODIFIED", object: { metadata: { name: "a", resourceVersion: "3" } } },
        { type: "BOOKMARK", object: { metadata: { resourceVersion: "4" } } },
        { type: "DELETED", object: { metadata: { name: "a", resourceVersion: "5" } } },
      ]);
    const { kube, events } = client();
    const got: WatchEvent[] = [];
    await kube.watch(Extensions, "n", { resourceVersion: "1", signal: new AbortController().signal }, (ev) => got.push(ev));
    expect(got.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK", "DELETED"]);
    const url = new URL(seen[0]!.url, "http://x");
    expect(url.searchParams.get("watch")).toBe("true");
    expect(url.searchParams.get("resourceVersion")).toBe("1");
    expect(url.searchParams.get("allowWatchBookmarks")).toBe("true");
    expect(events[0]).toMatchObject({ verb: "watch", resource: "extensions", code: 200 });
  });

  it("rejects with Gone on an ERROR event carrying 410", async () => {
    handler = (_req, _b, res) =>
      streamEvents(res, [
        {
          type: "ERROR",
          object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 1 (20)" },
        },
      ]);
    const { kube } = client();
    const err = await rejection(
      kube.watch(Extensions, "n", { resourceVersion: "1", signal: new AbortController().signal }, () => {}),
    );
    expect(err.reason).toBe("Gone");
    expect(err.status).toBe(410);
  });

  it("rejects with Gone when the watch request itself is answered 410", async () => {
    handler = (_req, _b, res) => status(res, 410, "Gone", "too old");
    const { kube } = client();
    const err = await rejection(
      kube.watch(Extensions, "n", { resourceVersion: "1", signal: new AbortController().signal }, () => {}),
    );
    expect(err.reason).toBe("Gone");
  });

  it("resolves quietly when its signal aborts an open stream", async () => {
    handler = (_req, _b, res) => streamEvents(res, [{ type: "ADDED", object: { metadata: { name: "a" } } }], false);
    const { kube } = client();
    const ac = new AbortController();
    const got: string[] = [];
    const watching = kube.watch(Extensions, "n", { resourceVersion: "1", signal: ac.signal }, (ev) => {
      got.push(ev.type);
      ac.abort();
    });
    await expect(watching).resolves.toBeUndefined();
    expect(got).toEqual(["ADDED"]);
  });

  it("a connection reset mid-stream rejects with a transient Transport error", async () => {
    handler = (req, _b, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } })}\n`);
      setTimeout(() => req.socket.destroy(), 10);
    };
    const { kube } = client();
    const got: string[] = [];
    const err = await rejection(
      kube.watch(Extensions, "n", { resourceVersion: "1", signal: new AbortController().signal }, (ev) =>
        got.push(ev.type),
      ),
    );
    expect(got).toEqual(["ADDED"]);
    expect(err.reason).toBe("Transport");
    expect(err.transient).toBe(true);
  });

  it("an exception thrown by the event handler propagates unchanged", async () => {
    handler = (_req, _b, res) => streamEvents(res, [{ type: "ADDED", object: { metadata: { name: "a" } } }], false);
    const { kube } = client();
    const boom = new Error("handler bug");
    await expect(
      kube.watch(Extensions, "n", { resourceVersion: "1", signal: new AbortController().signal }, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});
