import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyError, ExtensionError } from "../../src/extension/errors.js";
import { buildStatusPatch } from "../../src/extension/status.js";
import { createKubeClient } from "../../src/kube/client.js";
import { createLogger } from "../../src/log.js";
import { createOntapClient, isOntapError, type OntapClient } from "../../src/ontap/index.js";
import { generateTls, type SimTls } from "../../src/simulator/tls.js";

/**
 * Each way a secret was seen leaving through an error, fed for real: an ONTAP-shaped HTTPS server answers
 * with the admin password in the error `code`, in an HTML page where the 500-character cut falls inside
 * it, and in a body that claims JSON and is not; a kubeconfig carries credentials in its server URL. The
 * error, its cause chain, the log line it makes and the status written from it are scanned for the secret.
 */

const PASSWORD = "Adm1n-Pa55word-0123456789abcdef";
let tls: SimTls;
let server: Server;
let url: string;
let answer: { status: number; type: string; body: string } = { status: 500, type: "text/plain", body: "" };

beforeAll(async () => {
  tls = await generateTls();
  server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
    res.writeHead(answer.status, { "content-type": answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await tls.cleanup();
});

function client(): OntapClient {
  return createOntapClient(
    { name: "c1", url, username: "admin", password: PASSWORD, caFile: tls.caFile },
    { retry: { maxAttempts: 1 } },
  );
}

/** Everything a failure turns into: message, inspected error with causes, a log line, the status patch. */
function surfaces(err: unknown): string {
  const lines: string[] = [];
  const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } }) });
  logger.warn({ err }, "reconcile failed");
  const wrapped = new ExtensionError(`step svm failed: ${(err as Error).message}; will retry`, ["ERR_INFRA_DEPENDENCIES"], { retriable: true, cause: err });
  const { message, codes } = classifyError(wrapped);
  const status = buildStatusPatch(
    { metadata: { name: "e", namespace: "n" } } as never,
    { type: "Reconcile", state: "Error", description: message, error: { description: message, codes } },
    new Date(),
  );
  return [(err as Error).message, inspect(err, { depth: 20, showHidden: true }), ...lines, JSON.stringify(status)].join("\n");
}

/** The secret and every 8-character piece of it: a cut must not leave a recognisable part either. */
function expectNoSecret(text: string, secret = PASSWORD): void {
  expect(text).not.toContain(secret);
  for (let i = 0; i + 8 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 8));
}

async function failure(call: (c: OntapClient) => Promise<unknown>): Promise<unknown> {
  const c = client();
  try {
    await call(c);
  } catch (err) {
    return err;
  } finally {
    await c.close();
  }
  throw new Error("expected the call to fail");
}

describe("secrets never leave through an error", () => {
  it("an ONTAP error whose code field holds the password", async () => {
    answer = { status: 400, type: "application/json", body: JSON.stringify({ error: { code: PASSWORD, message: "bad request" } }) };
    const err = await failure((c) => c.getCluster());
    expect(isOntapError(err)).toBe(true);
    expectNoSecret(surfaces(err));
  });

  it("an HTML error page where the cut falls inside the password", async () => {
    // The message keeps the first 200 characters of the page: 12 of the password's would survive a cut made before redaction.
    const page = `<html>${"x".repeat(200 - 6 - 12)}${PASSWORD}</html>`;
    answer = { status: 502, type: "text/html", body: page };
    const err = await failure((c) => c.getCluster());
    expect((err as Error).message).toContain("502");
    expectNoSecret(surfaces(err));
  });

  it("a body that claims JSON and is not (the parse error quotes the body)", async () => {
    answer = { status: 200, type: "application/json", body: `{"records": [${PASSWORD}` };
    const err = await failure((c) => c.getCluster());
    expect((err as Error).message).toContain("not valid JSON");
    expectNoSecret(surfaces(err));
  });

  it("a kubeconfig whose server URL carries credentials is refused without echoing them", () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "seed", server: `https://admin:${PASSWORD}@127.0.0.1:6443`, skipTLSVerify: false }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "c", cluster: "seed", user: "u" }],
      currentContext: "c",
    });
    let err: unknown;
    try {
      createKubeClient(kc);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/server URL contains credentials/);
    expectNoSecret(surfaces(err));
  });

  it("the logger redacts the usual secret key names and credential header values", () => {
    const lines: string[] = [];
    const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } }) });
    const values = {
      password: "s-password-1",
      pendingPassword: "s-pending-2",
      clientSecret: "s-client-3",
      client_secret: "s-client-4",
      accessToken: "s-token-5",
      refresh_token: "s-token-6",
      "x-api-key": "s-apikey-7",
      "client-key-data": "s-keydata-8",
      privateKey: "s-private-9",
      passphrase: "s-phrase-10",
      cookie: "s-cookie-11",
      credentials: { user: "u", pass: "s-cred-12" },
      header: "Bearer s-bearer-13-abcdefgh",
    };
    logger.info({ request: { headers: values } }, "request");
    const line = lines.join("");
    for (const secret of ["s-password-1", "s-pending-2", "s-client-3", "s-client-4", "s-token-5", "s-token-6", "s-apikey-7", "s-keydata-8", "s-private-9", "s-phrase-10", "s-cookie-11", "s-cred-12", "s-bearer-13"]) {
      expect(line).not.toContain(secret);
    }
    // Names that merely mention secrets keep their (harmless) values: a Secret reference is not a secret.
    logger.info({ secretRef: { namespace: "n", name: "ontap-svm-credentials" }, key: "shoot--p--s/ontap" }, "ref");
    expect(lines.at(-1)).toContain("ontap-svm-credentials");
    expect(lines.at(-1)).toContain("shoot--p--s/ontap");
  });
});
