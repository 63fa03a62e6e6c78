import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeClient } from "../../src/kube/client.js";
import { kubeCredentials } from "../../src/kube/credentials.js";
import { inClusterConfig, KubeConfigError, loadKubeConfig, loadKubeConfigFiles } from "../../src/kube/kubeconfig.js";
import { Namespaces } from "../../src/kube/resources.js";
import { testCa } from "../../src/testenv/ca.js";

/**
 * The controller's own kubeconfig reading and request authentication (no @kubernetes/client-node at run
 * time). The HTTPS cases talk to a real TLS server with a certificate from the test CA.
 */
const dir = mkdtempSync(path.join(tmpdir(), "kubeconfig-test-"));

function write(name: string, doc: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
  return file;
}

function config(cluster: Record<string, unknown>, user: Record<string, unknown> = { token: "t" }) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u", namespace: "ns" } }],
    "current-context": "ctx",
  };
}

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

describe("kubeconfig files", () => {
  it("reads the current context's cluster and user; relative files resolve against the kubeconfig's directory", () => {
    const file = write(
      "relative.yaml",
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: b",
        "clusters:",
        "- name: a",
        "  cluster: { server: 'https://a.example:6443' }",
        "- name: b",
        "  cluster: { server: 'https://b.example:6443/', certificate-authority: pki/ca.crt, tls-server-name: api.b }",
        "users:",
        "- name: ub",
        "  user: { client-certificate: pki/u.crt, client-key: pki/u.key }",
        "contexts:",
        "- { name: a, context: { cluster: a, user: ub } }",
        "- { name: b, context: { cluster: b, user: ub, namespace: garden } }",
      ].join("\n"),
    );
    const kc = loadKubeConfig(file);
    expect(kc.getCurrentCluster()).toEqual({
      name: "b",
      server: "https://b.example:6443/",
      caFile: path.join(dir, "pki/ca.crt"),
      tlsServerName: "api.b",
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()).toEqual({ name: "ub", certFile: path.join(dir, "pki/u.crt"), keyFile: path.join(dir, "pki/u.key") });
    expect(kc.namespace).toBe("garden");
  });

  it("$KUBECONFIG lists files merged first-wins, skipping missing ones; an explicit file wins over it", () => {
    const first = write("first.yaml", { "current-context": "ctx", clusters: [{ name: "c", cluster: { server: "https://first:1" } }] });
    const second = write("second.yaml", config({ server: "https://second:2" }));
    const env = { KUBECONFIG: [path.join(dir, "missing.yaml"), first, second].join(path.delimiter) };
    const kc = loadKubeConfig(undefined, env);
    expect(kc.getCurrentCluster().server).toBe("https://first:1");
    expect(kc.getCurrentUser()).toEqual({ name: "u", token: "t" });
    expect(loadKubeConfig(second, env).getCurrentCluster().server).toBe("https://second:2");
  });

  it("credential plugins, impersonation and proxies are refused naming the field", () => {
    const exec = write("exec.yaml", config({ server: "https://x:1" }, { exec: { command: "aws" } }));
    expect(failure(() => loadKubeConfig(exec)).message).toMatch(/users\[u\]\.user\.exec \(a credential plugin\) is not supported/);
    const provider = write("provider.yaml", config({ server: "https://x:1" }, { "auth-provider": { name: "oidc" } }));
    expect(failure(() => loadKubeConfig(provider)).message).toMatch(/users\[u\]\.user\.auth-provider/);
    const as = write("as.yaml", config({ server: "https://x:1" }, { token: "t", as: "admin" }));
    expect(failure(() => loadKubeConfig(as)).message).toMatch(/users\[u\]\.user\.as \(impersonation\)/);
    const proxy = write("proxy.yaml", config({ server: "https://x:1", "proxy-url": "http://p:3128" }));
    expect(failure(() => loadKubeConfig(proxy)).message).toMatch(/clusters\[c\]\.cluster\.proxy-url is not supported/);
  });

  it("insecure-skip-tls-verify only as a literal true, never together with a CA; plain http only with it", () => {
    const stringly = write("stringly.yaml", config({ server: "https://x:1", "insecure-skip-tls-verify": "yes" }));
    expect(failure(() => loadKubeConfig(stringly)).message).toMatch(/insecure-skip-tls-verify must be true or false/);
    const both = write("both.yaml", config({ server: "https://x:1", "insecure-skip-tls-verify": true, "certificate-authority-data": "eA==" }));
    expect(failure(() => loadKubeConfig(both)).message).toMatch(/both insecure-skip-tls-verify and a certificate authority/);
    const http = write("http.yaml", config({ server: "http://127.0.0.1:8080" }));
    const err = failure(() => kubeCredentials(loadKubeConfig(http)));
    expect(err).toBeInstanceOf(KubeConfigError);
    expect(err.message).toMatch(/plain http; use https/);
    const insecureHttp = write("insecure-http.yaml", config({ server: "http://127.0.0.1:8080", "insecure-skip-tls-verify": true }));
    expect(kubeCredentials(loadKubeConfig(insecureHttp)).server).toBe("http://127.0.0.1:8080");
  });

  it("missing pieces get a message that names them", () => {
    expect(failure(() => loadKubeConfigFiles([write("nocur.yaml", { clusters: [] })])).message).toMatch(/current-context is not set/);
    const noServer = write("noserver.yaml", config({}));
    expect(failure(() => loadKubeConfig(noServer)).message).toMatch(/clusters\[c\]\.cluster\.server is required/);
    const halfCert = write("halfcert.yaml", config({ server: "https://x:1" }, { "client-certificate-data": "eA==" }));
    expect(failure(() => loadKubeConfig(halfCert)).message).toMatch(/client certificate without a key/);
    expect(failure(() => loadKubeConfig(path.join(dir, "absent.yaml"))).message).toMatch(/absent\.yaml: cannot be read \(ENOENT\)/);
    expect(failure(() => loadKubeConfig(undefined, { HOME: dir })).message).toMatch(/no kubeconfig|\.kube/);
  });
});

describe("in-cluster ServiceAccount", () => {
  it("uses KUBERNETES_SERVICE_HOST/PORT, the mounted CA and token; the token file is re-read after it rotates", () => {
    const sa = mkdtempSync(path.join(tmpdir(), "sa-"));
    writeFileSync(path.join(sa, "token"), "token-1\n");
    writeFileSync(path.join(sa, "ca.crt"), "not used here");
    writeFileSync(path.join(sa, "namespace"), "garden");
    const kc = inClusterConfig({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, sa);
    expect(kc.getCurrentCluster()).toMatchObject({ server: "https://[fd00::1]:443", caFile: path.join(sa, "ca.crt"), skipTLSVerify: false });
    expect(kc.namespace).toBe("garden");

    let now = 0;
    const creds = kubeCredentials(
      { getCurrentCluster: () => ({ name: "in-cluster", server: "http://127.0.0.1:1", skipTLSVerify: true }), getCurrentUser: () => kc.getCurrentUser() },
      () => now,
    );
    expect(creds.headers()).toEqual({ authorization: "Bearer token-1" });
    writeFileSync(path.join(sa, "token"), "token-2\n");
    utimesSync(path.join(sa, "token"), new Date(), new Date(Date.now() + 5000));
    now = 30_000;
    expect(creds.headers()).toEqual({ authorization: "Bearer token-1" }); // looked at once a minute at most
    now = 61_000;
    expect(creds.headers()).toEqual({ authorization: "Bearer token-2" });
    writeFileSync(path.join(sa, "token"), "");
    utimesSync(path.join(sa, "token"), new Date(), new Date(Date.now() + 10_000));
    now = 130_000;
    expect(creds.headers()).toEqual({ authorization: "Bearer token-2" }); // a bad re-read keeps the last token
  });

  it("a missing token file is an error that says what to mount", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "sa-empty-"));
    const err = failure(() => inClusterConfig({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, empty));
    expect(err.message).toMatch(/token does not exist; mount the ServiceAccount token/);
  });
});

describe("requests over TLS", () => {
  let server: Server;
  let port: number;
  let caPem: string;
  let seen: { authorization?: string; clientCert?: string }[] = [];

  beforeAll(async () => {
    const ca = await testCa();
    const serving = await ca.issue(mkdtempSync(path.join(tmpdir(), "kc-tls-")), "kube-apiserver");
    caPem = serving.caCertPem;
    // requestCert without verification: the test looks at which certificate the client presented.
    server = createServer({ cert: serving.certPem, key: serving.keyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(peer?.subject?.CN ? { clientCert: String(peer.subject.CN) } : {}),
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "garden" } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("verifies the server against certificate-authority-data and sends the bearer token", async () => {
    seen = [];
    const file = write("tls.yaml", config({ server: `https://127.0.0.1:${port}`, "certificate-authority-data": Buffer.from(caPem).toString("base64") }, { token: "secret-token" }));
    const ns = await createKubeClient(loadKubeConfig(file)).get<{ metadata: { name: string } }>(Namespaces, undefined, "garden");
    expect(ns?.metadata.name).toBe("garden");
    expect(seen).toEqual([{ authorization: "Bearer secret-token" }]);
  });

  it("without the CA the server is not trusted (TLS verified by default)", async () => {
    const file = write("noca.yaml", config({ server: `https://127.0.0.1:${port}` }));
    await expect(createKubeClient(loadKubeConfig(file)).get(Namespaces, undefined, "garden")).rejects.toMatchObject({ reason: "Transport" });
  });

  it("presents the client certificate from files", async () => {
    seen = [];
    const ca = await testCa();
    const client = await ca.issue(mkdtempSync(path.join(tmpdir(), "kc-client-")), "seed-admin");
    const file = write(
      "cert.yaml",
      config(
        { server: `https://127.0.0.1:${port}`, "certificate-authority": client.caCert },
        { "client-certificate": client.cert, "client-key": client.key },
      ),
    );
    await createKubeClient(loadKubeConfig(file)).get(Namespaces, undefined, "garden");
    expect(seen).toEqual([{ clientCert: "seed-admin" }]);
  });
});
