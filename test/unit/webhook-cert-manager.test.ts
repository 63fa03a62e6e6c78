import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Secrets } from "../../src/kube/resources.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { createWebhookCertificates, WEBHOOK_CA_SECRET, WEBHOOK_SERVER_SECRET } from "../../src/webhook/cert-manager.js";
import { generateCa, generateServerCert, isSignedBy, keyMatchesCertificate, splitPemBundle } from "../../src/webhook/certificates.js";

/**
 * The webhook's CA Secret edited by hand: an unreadable `ca.key` used to end the whole controller at start
 * (every start: a crash loop), and another CA's key silently re-issued serving certificates no shoot accepts.
 * The pair is verified; a bad one is replaced, and the start never fails on it.
 */

const NAMESPACE = "garden";
const DNS = ["gardener-extension-ontap.garden"];
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString("utf8");

interface SecretObject {
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
}

async function seedCaSecret(kube: ReturnType<typeof createFakeKubeClient>, data: Record<string, string>): Promise<void> {
  await kube.create(Secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: WEBHOOK_CA_SECRET, namespace: NAMESPACE }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
}

/** The serving pair is usable: its key is its certificate's, and a CA of the bundle signed it. */
function expectUsable(pair: { certPem: string; keyPem: string }, bundle: string): void {
  expect(keyMatchesCertificate(pair.certPem, pair.keyPem)).toBe(true);
  expect(splitPemBundle(bundle).some((ca) => isSignedBy(pair.certPem, ca))).toBe(true);
  expect(new X509Certificate(pair.certPem).subjectAltName).toContain(DNS[0]);
}

async function storedCa(kube: ReturnType<typeof createFakeKubeClient>) {
  const s = await kube.get<SecretObject>(Secrets, NAMESPACE, WEBHOOK_CA_SECRET);
  return { cert: unb64(s?.data?.["ca.crt"]), key: unb64(s?.data?.["ca.key"]), previous: unb64(s?.data?.["previous-ca.crt"]) };
}

describe("webhook certificates from a hand-edited CA Secret", () => {
  it("an unreadable ca.key: the check succeeds, a new CA is made, the old certificate stays trusted, the serving pair is usable", async () => {
    const kube = createFakeKubeClient();
    const old = await generateCa({ commonName: "old", now: new Date(), validityMs: 30 * 86_400_000 });
    await seedCaSecret(kube, { "ca.crt": old.certPem, "ca.key": "garbage" });
    const certs = createWebhookCertificates({ kube, namespace: NAMESPACE, dnsNames: DNS });
    await certs.check();
    const ca = await storedCa(kube);
    expect(keyMatchesCertificate(ca.cert, ca.key)).toBe(true);
    expect(ca.cert).not.toBe(old.certPem);
    expect(ca.previous).toBe(old.certPem);
    expect(splitPemBundle(certs.caBundle())).toEqual([ca.cert, old.certPem]);
    expectUsable(certs.serverKeyPair(), certs.caBundle());
  });

  it("another CA's key: no serving certificate signed with it is issued; the new one verifies against the bundle", async () => {
    const kube = createFakeKubeClient();
    const old = await generateCa({ commonName: "old", now: new Date(), validityMs: 30 * 86_400_000 });
    const stranger = await generateCa({ commonName: "stranger", now: new Date(), validityMs: 30 * 86_400_000 });
    await seedCaSecret(kube, { "ca.crt": old.certPem, "ca.key": stranger.keyPem });
    const certs = createWebhookCertificates({ kube, namespace: NAMESPACE, dnsNames: DNS });
    await certs.check();
    expectUsable(certs.serverKeyPair(), certs.caBundle());
    // A second check (the 5-minute timer) changes nothing: the pair is stable, not re-issued every time.
    const first = certs.serverKeyPair().certPem;
    await certs.check();
    expect(certs.serverKeyPair().certPem).toBe(first);
  });

  it("a serving Secret whose tls.key is unreadable is re-issued", async () => {
    const kube = createFakeKubeClient();
    const certs = createWebhookCertificates({ kube, namespace: NAMESPACE, dnsNames: DNS });
    await certs.check();
    const ca = await storedCa(kube);
    const pair = await generateServerCert({ ca: { certPem: ca.cert, keyPem: ca.key }, commonName: DNS[0]!, dnsNames: DNS, now: new Date(), validityMs: 7 * 86_400_000 });
    const server = (await kube.get<SecretObject & { metadata: { resourceVersion?: string } }>(Secrets, NAMESPACE, WEBHOOK_SERVER_SECRET))!;
    await kube.update(Secrets, { ...server, data: { "tls.crt": b64(pair.certPem), "tls.key": b64("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n") } });
    await certs.check();
    expect(certs.serverKeyPair().certPem).not.toBe(pair.certPem);
    expectUsable(certs.serverKeyPair(), certs.caBundle());
  });

  it("keyMatchesCertificate tells a pair from garbage and from another pair", async () => {
    const a = await generateCa({ commonName: "a", now: new Date(), validityMs: 86_400_000 });
    const b = await generateCa({ commonName: "b", now: new Date(), validityMs: 86_400_000 });
    expect(keyMatchesCertificate(a.certPem, a.keyPem)).toBe(true);
    expect(keyMatchesCertificate(a.certPem, b.keyPem)).toBe(false);
    expect(keyMatchesCertificate(a.certPem, "garbage")).toBe(false);
    expect(keyMatchesCertificate(a.certPem, "")).toBe(false);
  });
});
