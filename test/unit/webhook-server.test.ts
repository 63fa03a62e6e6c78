import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateServingCert, type ServingCert } from "../../src/testenv/index.js";
import { type AdmissionReview, LEGACY_SHOOT_WEBHOOK_PATH, type MutationOutcome, startWebhookServer, type WebhookServer } from "../../src/webhook/index.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  certFingerprint?: string;
}

/** A serving certificate from the test world's one CA (src/testenv/ca.ts), written to DIR/NAME. */
function makeCert(dir: string, name: string): Promise<ServingCert> {
  return generateServingCert(join(dir, name), name);
}

function call(url: string, opts: { ca?: string; method?: string; body?: string; contentType?: string; path?: string } = {}): Promise<Reply> {
  const target = new URL(url);
  if (opts.path) target.pathname = opts.path;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: opts.method ?? "POST",
        ca: opts.ca,
        agent: false,
        headers: { "Content-Type": opts.contentType ?? "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const peer = (res.socket as TLSSocket).getPeerX509Certificate?.();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), certFingerprint: peer?.fingerprint256 });
        });
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const daemonSetReview = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "0c9f6a2e-0000-4000-8000-000000000001",
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
};

describe("shoot webhook HTTPS server", () => {
  let dir: string;
  let ca: string;
  let server: WebhookServer;
  const outcomes: MutationOutcome[] = [];
  const logged: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ontap-webhook-"));
    const pair = await makeCert(dir, "first");
    ca = pair.caCertPem;
    const sink = (obj: object, msg?: string) => logged.push(`${msg ?? ""} ${JSON.stringify(obj)}`);
    server = await startWebhookServer({
      port: 0,
      host: "127.0.0.1",
      certFile: pair.cert,
      keyFile: pair.key,
      maxBodyBytes: 64 * 1024,
      certReloadIntervalMs: 0,
      logger: { info: sink, warn: sink, error: sink, debug: sink },
      onAdmission: (outcome) => outcomes.push(outcome),
    });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers an AdmissionReview over verified TLS with a JSON patch for the Trident node DaemonSet", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/webhooks\/ontap$/);
    const reply = await call(server.url, { ca, body: JSON.stringify(daemonSetReview) });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toBe("application/json");
    const answer = JSON.parse(reply.body) as AdmissionReview;
    expect(answer.apiVersion).toBe("admission.k8s.io/v1");
    expect(answer.kind).toBe("AdmissionReview");
    expect(answer.response?.uid).toBe(daemonSetReview.request.uid);
    expect(answer.response?.allowed).toBe(true);
    expect(answer.response?.patchType).toBe("JSONPatch");
    const ops = JSON.parse(Buffer.from(answer.response!.patch!, "base64").toString("utf8")) as { path: string }[];
    expect(ops.map((o) => o.path)).toContain("/spec/template/spec/initContainers");
    expect(outcomes.at(-1)).toMatchObject({ target: "DaemonSet kube-system/trident-node-linux" });
    expect(outcomes.at(-1)!.operations).toBeGreaterThan(0);
  });

  it("refuses a client that does not trust the server's CA", async () => {
    await expect(call(server.url, { body: JSON.stringify(daemonSetReview) })).rejects.toThrow(/self[- ]signed|unable to verify/i);
  });

  it("also serves the Go extension's path", async () => {
    const reply = await call(server.url, { ca, path: LEGACY_SHOOT_WEBHOOK_PATH, body: JSON.stringify(daemonSetReview) });
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.body) as AdmissionReview).response?.patch).toBeDefined();
  });

  it("answers a body that is not JSON with allowed and a warning", async () => {
    const reply = await call(server.url, { ca, body: "{not json" });
    expect(reply.status).toBe(200);
    const answer = JSON.parse(reply.body) as AdmissionReview;
    expect(answer.response).toMatchObject({ allowed: true, uid: "" });
    expect(answer.response?.warnings?.length).toBe(1);
  });

  it("rejects a body over the size limit with 413 and keeps serving", async () => {
    const big = JSON.stringify({ ...daemonSetReview, padding: "x".repeat(100 * 1024) });
    const reply = await call(server.url, { ca, body: big });
    expect(reply.status).toBe(413);
    expect((await call(server.url, { ca, body: JSON.stringify(daemonSetReview) })).status).toBe(200);
  });

  it("answers other paths with 404, other methods with 405 and other content types with 415", async () => {
    expect((await call(server.url, { ca, path: "/webhooks/other", body: "{}" })).status).toBe(404);
    const get = await call(server.url, { ca, method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers["allow"]).toBe("POST");
    expect((await call(server.url, { ca, body: "{}", contentType: "text/plain" })).status).toBe(415);
    expect((await call(server.url, { ca, method: "GET", path: "/healthz" })).status).toBe(200);
  });

  it("logs what it mutated without the object itself", () => {
    const mutation = logged.find((l) => l.startsWith("shoot webhook mutated an object"));
    expect(mutation).toContain("DaemonSet kube-system/trident-node-linux");
    expect(logged.join("\n")).not.toContain("netapp/trident:25.06.2");
  });
});

describe("shoot webhook certificate rotation", () => {
  it("serves a rotated certificate without a restart and stops accepting connections after stop()", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ontap-webhook-rot-"));
    try {
      const first = await makeCert(dir, "first");
      const server = await startWebhookServer({ port: 0, host: "127.0.0.1", certFile: first.cert, keyFile: first.key, certReloadIntervalMs: 25 });
      // Both certificates come from one CA: the fingerprint of the served leaf tells them apart.
      const ca = first.caCertPem;
      const before = await call(server.url, { ca, body: JSON.stringify(daemonSetReview) });
      expect(before.certFingerprint).toBe(new X509Certificate(first.certPem).fingerprint256);

      // Overwrite the files in place, as a mounted Secret update does.
      const second = await makeCert(dir, "second");
      copyFileSync(second.cert, first.cert);
      copyFileSync(second.key, first.key);
      const expected = new X509Certificate(second.certPem).fingerprint256;
      let seen: string | undefined;
      for (let i = 0; i < 80 && seen !== expected; i++) {
        await new Promise((r) => setTimeout(r, 25));
        seen = (await call(server.url, { ca, body: JSON.stringify(daemonSetReview) }).catch(() => undefined))?.certFingerprint;
      }
      expect(seen).toBe(expected);

      await server.stop();
      await expect(call(server.url, { ca, body: "{}" })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails to start with ERR_WEBHOOK_TLS when the certificate cannot be read", async () => {
    await expect(
      startWebhookServer({ port: 0, host: "127.0.0.1", certFile: "/nonexistent/tls.crt", keyFile: "/nonexistent/tls.key" }),
    ).rejects.toMatchObject({ code: "ERR_WEBHOOK_TLS" });
  });
});
