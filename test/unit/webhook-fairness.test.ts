import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateServingCert, type ServingCert } from "../../src/testenv/index.js";
import { createReviewBudget } from "../../src/webhook/review-budget.js";
import { startWebhookServer, type WebhookServer, type WebhookServerOptions } from "../../src/webhook/server.js";

/**
 * The shoot webhook has no client authentication and serves every shoot of the seed. A slot used to be taken
 * at the headers and held up to 30 s: eight connections that sent headers and then nothing turned every review
 * into 429, and Trident was admitted unmutated (failurePolicy Ignore). Now a slot counts only while a complete
 * body is processed, a body has a deadline, and the memory bodies hold is shared fairly between callers
 * (remote addresses; 127.0.0.2 and 127.0.0.3 are two callers here, both on loopback).
 */

const review = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "0c9f6a2e-0000-4000-8000-000000000009",
    kind: { group: "apps", version: "v1", kind: "DaemonSet" },
    name: "trident-node-linux",
    namespace: "kube-system",
    operation: "CREATE",
    object: {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "trident-node-linux", namespace: "kube-system" },
      spec: { template: { metadata: {}, spec: { containers: [{ name: "trident-main", image: "netapp/trident:25.06.2" }] } } },
    },
  },
});

let dir: string;
let cert: ServingCert;
let server: WebhookServer | undefined;
const sockets: TLSSocket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ontap-webhook-fair-"));
  cert = await generateServingCert(dir, "fair");
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.stop();
  server = undefined;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(opts: Partial<WebhookServerOptions> = {}): Promise<WebhookServer> {
  server = await startWebhookServer({ port: 0, host: "127.0.0.1", keyPair: { certPem: cert.certPem, keyPem: cert.keyPem }, ...opts });
  return server;
}

/** A raw TLS connection from `localAddress` that sends a POST's headers declaring `length` bytes and `sent` of them. */
async function partialRequest(srv: WebhookServer, opts: { localAddress?: string; length: number; sent: number }): Promise<TLSSocket> {
  const port = Number(new URL(srv.url).port);
  const socket = connect({ host: "127.0.0.1", port, ca: cert.caCertPem, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  socket.write(`POST /webhooks/ontap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${opts.length}\r\n\r\n`);
  if (opts.sent > 0) socket.write("x".repeat(opts.sent));
  return socket;
}

/** The status line's code of what the server answers on `socket` (or "closed" if it closes without one). */
function statusOf(socket: TLSSocket): Promise<number | "closed"> {
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    socket.on("close", () => resolve("closed"));
  });
}

/** One whole review from `localAddress`: the status and whether the answer carries a patch. */
async function post(srv: WebhookServer, localAddress?: string): Promise<{ status: number | "closed"; patched: boolean }> {
  const port = Number(new URL(srv.url).port);
  const socket = connect({ host: "127.0.0.1", port, ca: cert.caCertPem, ...(localAddress ? { localAddress } : {}) });
  sockets.push(socket);
  let text = "";
  socket.on("data", (c: Buffer) => {
    text += c.toString("utf8");
  });
  const done = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.write(`POST /webhooks/ontap HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(review)}\r\nConnection: close\r\n\r\n${review}`);
  await done;
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return { status: m ? Number(m[1]) : "closed", patched: text.includes('"patchType":"JSONPatch"') };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not reached: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("shoot webhook: idle and slow callers", () => {
  it("sixteen connections that send headers and then nothing do not turn a review into 429", async () => {
    const srv = await start({ bodyTimeoutMs: 60_000 });
    // One byte each, so the test can see that the server holds all sixteen requests before it posts the review.
    for (let i = 0; i < 16; i++) await partialRequest(srv, { length: 1000, sent: 1 });
    await until(() => srv.bufferedBytes() === 16, "sixteen idle requests open");
    const answer = await post(srv);
    expect(answer).toEqual({ status: 200, patched: true });
    expect(srv.inFlight()).toBe(0);
  });

  it("answers a body that does not arrive within the deadline with 408 and closes the connection", async () => {
    const srv = await start({ bodyTimeoutMs: 300 });
    const socket = await partialRequest(srv, { length: 1000, sent: 10 });
    expect(await statusOf(socket)).toBe(408);
    await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve())));
    expect(srv.bufferedBytes()).toBe(0);
    expect((await post(srv)).status).toBe(200);
  });

  it("one caller's open requests are capped; another caller is still served", async () => {
    const srv = await start({ bodyTimeoutMs: 60_000, maxOpenPerCaller: 4 });
    for (let i = 0; i < 4; i++) await partialRequest(srv, { localAddress: "127.0.0.2", length: 1000, sent: 1 });
    await until(() => srv.bufferedBytes() === 4, "four requests of 127.0.0.2 open");
    const fifth = await partialRequest(srv, { localAddress: "127.0.0.2", length: 1000, sent: 1 });
    expect(await statusOf(fifth)).toBe(429);
    expect(await post(srv, "127.0.0.3")).toEqual({ status: 200, patched: true });
  });

  it("one caller cannot hold more than its share of body bytes; another caller is still served", async () => {
    const srv = await start({ bodyTimeoutMs: 60_000, maxBodyBytes: 64 * 1024, maxBufferedBytes: 256 * 1024, callerShareBytes: 100 * 1024 });
    await partialRequest(srv, { localAddress: "127.0.0.2", length: 60 * 1024, sent: 50 * 1024 });
    await until(() => srv.bufferedBytes() === 50 * 1024, "50 KiB of 127.0.0.2 held");
    const over = await partialRequest(srv, { localAddress: "127.0.0.2", length: 60 * 1024, sent: 60 * 1024 });
    expect(await statusOf(over)).toBe(429);
    expect(await post(srv, "127.0.0.3")).toEqual({ status: 200, patched: true });
  });
});

describe("review budget", () => {
  const limits = { maxBufferedBytes: 100, callerShareBytes: 40, maxProcessing: 1, maxOpenPerCaller: 2 };

  it("counts bytes per caller and in total, and gives everything back on close", () => {
    const budget = createReviewBudget(limits);
    const a1 = budget.open("a");
    const a2 = budget.open("a");
    if (typeof a1 === "string" || typeof a2 === "string") throw new Error("refused");
    expect(budget.open("a")).toBe("caller-open");
    expect(a1.add(30)).toBeUndefined();
    expect(a2.add(20)).toBe("caller-bytes");
    const others = ["b", "c"].map((c) => budget.open(c));
    for (const t of others) if (typeof t !== "string") expect(t.add(30)).toBeUndefined();
    expect(budget.bufferedBytes()).toBe(90);
    const e = budget.open("e");
    if (typeof e === "string") throw new Error("refused");
    expect(e.add(20)).toBe("total-bytes");
    a1.close();
    a1.close();
    expect(budget.bufferedBytes()).toBe(60);
    expect(e.add(20)).toBeUndefined();
    expect(budget.bufferedBytes()).toBe(80);
  });

  it("takes a processing slot only for a complete body, one per ticket", () => {
    const budget = createReviewBudget(limits);
    const [x, y] = [budget.open("x"), budget.open("y")];
    if (typeof x === "string" || typeof y === "string") throw new Error("refused");
    expect(budget.processing()).toBe(0);
    expect(x.startProcessing()).toBeUndefined();
    expect(x.startProcessing()).toBeUndefined();
    expect(y.startProcessing()).toBe("processing");
    x.close();
    expect(y.startProcessing()).toBeUndefined();
    expect(budget.processing()).toBe(1);
  });
});
