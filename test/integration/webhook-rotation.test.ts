import { randomBytes } from "node:crypto";
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningController, startController } from "../../src/process-assembly.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { Namespaces, Secrets } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { WEBHOOK_CA_SECRET } from "../../src/webhook/cert-manager.js";
import { certificateFacts, generateCa, splitPemBundle } from "../../src/webhook/certificates.js";
import { testEnv } from "../support/kube-test-helpers.js";
import { createWorld, type World } from "../support/world.js";

// Runs on the stand-in resource manager (src/testenv/fake-resource-manager.ts) on purpose: this webhook is the
// chart's, addressed by its Service name (https://<service>.<namespace>:443/shoot), and a test shoot's
// kube-apiserver (src/testenv/shoot.ts) runs on loopback with the host's resolver, no cluster DNS and no egress
// proxy, so it could not call it: with the real resource manager the webhook configuration would arrive in the
// shoot and every admission through it would fail (failurePolicy Ignore), proving nothing more. Admission is
// checked instead by a client that trusts the bundle of the ManagedResource and dials the loopback port with
// the Service name for TLS, as a shoot's API server would; the real resource manager delivering a bundle the
// shoot's API server then uses (at a loopback URL) is proven in shoot-e2e.test.ts.

/**
 * The shoot webhook's certificates rotate under a fake clock while the controller keeps running: the CA bundle
 * in the shoot's webhook ManagedResource changes, admission keeps working for a client that trusts the bundle
 * of the moment (as the shoot's API server does once gardener-resource-manager applied it), and the process,
 * its port and its server stay the same. Certificates must also be valid on the real clock (TLS checks it), so
 * the schedule is minutes long and the fake clock moves less than the 5 minutes certificates are backdated.
 */
const SERVICE = "gardener-extension-extension-ontap";
const MINUTE = 60_000;

let world: World | undefined;
let running: RunningController | undefined;
afterEach(async () => {
  await running?.stop();
  await world?.close();
  running = undefined;
  world = undefined;
});

function admit(url: string, caBundle: string, servername: string, step = ""): Promise<{ status: number; allowed?: boolean; fingerprint?: string }> {
  const review = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomBytes(8).toString("hex"),
      kind: { group: "apps", version: "v1", kind: "DaemonSet" },
      name: "trident-node-linux",
      namespace: "kube-system",
      operation: "CREATE",
      object: {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: "trident-node-linux", namespace: "kube-system", labels: { app: "node.csi.trident.netapp.io" } },
        spec: { template: { metadata: {}, spec: { containers: [{ name: "trident-main", image: "netapp/trident:25.06.2" }] } } },
      },
    },
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", ca: caBundle, servername, agent: false, headers: { "Content-Type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { response?: { allowed?: boolean } };
        resolve({ status: res.statusCode ?? 0, allowed: body.response?.allowed, fingerprint: (res.socket as TLSSocket).getPeerX509Certificate?.()?.fingerprint256 });
      });
    });
    req.on("error", (err) => reject(new Error(`${step}: ${err.message}`)));
    req.end(JSON.stringify(review));
  });
}

describe("shoot webhook certificates of its own", () => {
  it("rotates the CA and the serving certificate on a fake clock; the shoot's ManagedResource gets each new bundle and admission keeps working, without a restart", async () => {
    world = await createWorld({ startController: false, resourceManager: "stand-in" });
    const namespace = `extension-ontap-${randomBytes(3).toString("hex").slice(0, 5)}`;
    await world.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    const t0 = Date.now();
    let fakeNow = t0;
    // The CA already exists from a minute ago, so it falls due before the serving certificate issued now.
    const ca1 = await generateCa({ commonName: "gardener-extension-ontap-webhook", now: new Date(t0 - MINUTE), validityMs: 4 * MINUTE });
    await world.kube.create(Secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: WEBHOOK_CA_SECRET, namespace },
      stringData: { "ca.crt": ca1.certPem, "ca.key": ca1.keyPem },
    });
    const logs: string[] = [];
    running = await startController({
      config: { ...world.config, shootWebhook: undefined },
      kubeconfig: loadKubeConfig(testEnv().kubeconfigPath),
      logger: createLogger({ level: "debug", stream: new Writable({ write: (c, _e, cb) => {
            logs.push(String(c));
            cb();
          } }) }),
      healthPort: 0,
      host: "127.0.0.1",
      handleSignals: false,
      pollMs: 150,
      resyncMs: 0,
      shutdownTimeoutMs: 5000,
      managedWebhook: {
        namespace,
        serviceName: SERVICE,
        servicePort: 443,
        port: 0,
        host: "127.0.0.1",
        now: () => new Date(fakeNow),
        // Renew at half of a 4-minute life; the serving certificate moves to a new CA 30 s after it appeared.
        certPolicy: { caValidityMs: 4 * MINUTE, serverValidityMs: 4 * MINUTE, renewAtFraction: 0.5, caPropagationMs: 30_000, checkIntervalMs: 3_600_000 },
      },
    });
    const webhook = running.webhook!;
    expect(webhook.url).toBe(`https://${SERVICE}.${namespace}:443/shoot`);
    const servername = `${SERVICE}.${namespace}`;
    const listening = webhook.server.url;
    const shoot = await world.createShoot({ project: `rot${randomBytes(2).toString("hex")}`, dataLifs: ["10.130.50.11"], managementLif: "10.130.50.10" });
    await world.waitSucceeded(shoot, 60_000);

    /** The CA bundle of the shoot's webhook configuration, as gardener-resource-manager would apply it. */
    const bundleInShoot = async (): Promise<string> => {
      const secret = await world!.kube.get<{ data?: Record<string, string> }>(Secrets, shoot.namespace, "managedresource-extension-ontap-shoot");
      const yaml = Buffer.from(Object.values(secret?.data ?? {})[0] ?? "", "base64").toString("utf8");
      const config = parse(yaml) as { webhooks: Array<{ clientConfig: { url: string; caBundle: string } }> };
      expect(config.webhooks[0]!.clientConfig.url).toBe(webhook.url);
      return Buffer.from(config.webhooks[0]!.clientConfig.caBundle, "base64").toString("utf8");
    };
    const waitForBundle = async (predicate: (pems: string[]) => boolean, what: string): Promise<string> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const bundle = await bundleInShoot();
        if (predicate(splitPemBundle(bundle))) return bundle;
        if (Date.now() > deadline) throw new Error(`the shoot's webhook bundle never showed ${what}: ${splitPemBundle(bundle).length} CAs`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const fp = (pem: string) => certificateFacts(pem).fingerprint;

    // 1. Start: the existing CA signs the serving certificate; the shoot trusts exactly it.
    const b1 = await bundleInShoot();
    expect(splitPemBundle(b1).map(fp)).toEqual([fp(ca1.certPem)]);
    const first = await admit(listening, b1, servername, "admission 1");
    expect(first).toMatchObject({ status: 200, allowed: true });

    // 2. The CA falls due: a new one joins the bundle, the old one stays; the serving certificate stays too.
    fakeNow = t0 + 70_000;
    await webhook.certificates.check();
    const b2 = await waitForBundle((pems) => pems.length === 2, "the new CA next to the old one");
    const [ca2Pem] = splitPemBundle(b2);
    expect(fp(ca2Pem!)).not.toBe(fp(ca1.certPem));
    const during = await admit(listening, b2, servername, "admission 2");
    expect(during).toMatchObject({ status: 200, allowed: true, fingerprint: first.fingerprint });
    // A shoot whose API server has not got the new bundle yet still gets answers.
    expect(await admit(listening, b1, servername, "admission 3")).toMatchObject({ status: 200, allowed: true });

    // 3. The serving certificate moves to the new CA (due, and the new CA is past its propagation time).
    fakeNow = t0 + 110_000;
    await webhook.certificates.check();
    const after = await admit(listening, b2, servername, "admission 4");
    expect(after).toMatchObject({ status: 200, allowed: true });
    expect(after.fingerprint).not.toBe(first.fingerprint);
    await expect(admit(listening, b1, servername, "admission 5"), "only the old CA no longer verifies the new certificate").rejects.toThrow();

    // 4. The old CA expires and leaves the bundle.
    fakeNow = t0 + 185_000;
    await webhook.certificates.check();
    const b3 = await waitForBundle((pems) => pems.length === 1, "the old CA gone");
    expect(splitPemBundle(b3).map(fp)).toEqual([fp(ca2Pem!)]);
    expect(await admit(listening, b3, servername, "admission 6")).toMatchObject({ status: 200, allowed: true, fingerprint: after.fingerprint });

    // No restart: the same server on the same port answered throughout.
    expect(webhook.server.url).toBe(listening);
    expect(running.webhook).toBe(webhook);
    expect(logs.join("")).not.toContain("PRIVATE KEY");
  });
});
