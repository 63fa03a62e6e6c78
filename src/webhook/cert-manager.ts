import type { KubeClient } from "../kube/client.js";
import { isAlreadyExists, isConflict } from "../kube/errors.js";
import { Secrets } from "../kube/resources.js";
import { createLogger, type Logger } from "../log.js";
import {
  CLOCK_SKEW_MS,
  certificateFacts,
  generateCa,
  generateServerCert,
  isSignedBy,
  type KeyPairPem,
  keyMatchesCertificate,
  splitPemBundle,
} from "./certificates.js";

/**
 * Keeps the shoot webhook's CA and serving certificate in two Secrets of the controller's namespace and
 * rotates them, the way Gardener's webhook library does (CA 30 days, re-checked every 5 minutes, renewed at
 * 80% of its life). The rotation never breaks admission:
 *   1. a new CA is added next to the old one: the bundle (what goes into every shoot's webhook
 *      configuration) holds both until the old one expires;
 *   2. the serving certificate moves to the new CA only after `caPropagationMs`, when the shoots' webhook
 *      ManagedResources carry the new bundle (the controller pushes it as soon as it changes);
 *   3. the serving certificate is also renewed on its own schedule, always by the newest CA.
 * Every replica runs it (all of them serve the webhook); writes are optimistic (create / update with the
 * resourceVersion read), so replicas that decide the same at once end up with the one that won.
 */
export const WEBHOOK_CA_SECRET = "gardener-extension-ontap-webhook-ca";
export const WEBHOOK_SERVER_SECRET = "gardener-extension-ontap-webhook-server";

const DAY = 24 * 3600_000;
export const DEFAULT_CERT_POLICY: CertPolicy = {
  caValidityMs: 30 * DAY,
  serverValidityMs: 7 * DAY,
  renewAtFraction: 0.8,
  caPropagationMs: 3600_000,
  checkIntervalMs: 5 * 60_000,
};

export interface CertPolicy {
  caValidityMs: number;
  serverValidityMs: number;
  /** Renew a certificate once this fraction of its validity has passed (Gardener: 80%). */
  renewAtFraction: number;
  /** How long a new CA is only trusted (in the bundle) before the serving certificate moves to it. */
  caPropagationMs: number;
  checkIntervalMs: number;
}

export interface WebhookCertificateOptions {
  kube: KubeClient;
  namespace: string;
  /** DNS names the serving certificate is valid for (the Service's names). */
  dnsNames: string[];
  policy?: Partial<CertPolicy>;
  now?: () => Date;
  logger?: Logger;
}

export interface WebhookCertificates {
  /** Reads, creates or rotates the Secrets; resolves when both are valid. Throws when the API server refuses. */
  check(): Promise<void>;
  serverKeyPair(): KeyPairPem;
  /** PEM of every CA a client must trust: the newest and, during a rotation, the previous one. */
  caBundle(): string;
  onServerCertificate(handler: (pair: KeyPairPem) => void): void;
  onCaBundle(handler: (bundle: string) => void): void;
  /** Re-checks every `checkIntervalMs` until stop(). */
  start(): void;
  stop(): void;
}

interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
}

const LABELS = { "app.kubernetes.io/name": "gardener-extension-ontap", "ontap.extensions.gardener.cloud/purpose": "webhook-certificate" };
const decode = (s: SecretObject | undefined, key: string) => (s?.data?.[key] ? Buffer.from(s.data[key], "base64").toString("utf8") : "");
const encode = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));

function renewAt(certPem: string, fraction: number): number {
  const f = certificateFacts(certPem);
  const from = f.notBefore.getTime() + CLOCK_SKEW_MS;
  return from + (f.notAfter.getTime() - from) * fraction;
}

export function createWebhookCertificates(opts: WebhookCertificateOptions): WebhookCertificates {
  const policy = { ...DEFAULT_CERT_POLICY, ...opts.policy };
  const now = opts.now ?? (() => new Date());
  const logger = (opts.logger ?? createLogger({ level: "silent" })).child({ component: "webhook-certificates" });
  const serverHandlers: Array<(pair: KeyPairPem) => void> = [];
  const bundleHandlers: Array<(bundle: string) => void> = [];
  let server: KeyPairPem | undefined;
  let bundle = "";
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;

  async function write(current: SecretObject | undefined, name: string, data: Record<string, string>, type = "Opaque"): Promise<void> {
    const body: SecretObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: opts.namespace, labels: LABELS, ...(current ? { resourceVersion: current.metadata.resourceVersion } : {}) },
      type,
      data: encode(data),
    };
    if (current) await opts.kube.update(Secrets, body);
    else await opts.kube.create(Secrets, body);
  }

  /** One pass; returns false when another replica wrote first (read again). */
  async function reconcileOnce(): Promise<boolean> {
    const t = now();
    const caSecret = await opts.kube.get<SecretObject>(Secrets, opts.namespace, WEBHOOK_CA_SECRET);
    let ca: KeyPairPem = { certPem: decode(caSecret, "ca.crt"), keyPem: decode(caSecret, "ca.key") };
    let previous = decode(caSecret, "previous-ca.crt");
    let caCertValid = false;
    try {
      const f = certificateFacts(ca.certPem);
      caCertValid = f.isCa && f.notAfter.getTime() > t.getTime();
    } catch {
      caCertValid = false;
    }
    // A CA whose key is unreadable or belongs to another certificate signs nothing a shoot accepts: it used to
    // end the process (an unreadable key) or re-issue unusable serving certificates (another pair's key).
    const caKeyValid = caCertValid && keyMatchesCertificate(ca.certPem, ca.keyPem);
    let caWrite: "none" | "new" | "rotate" | "drop-previous" = "none";
    if (!caCertValid) caWrite = "new";
    else if (!caKeyValid) {
      // The certificate is what the shoots trust and what signed the serving certificate they see: it stays in
      // the bundle as the previous CA (a rotation), so admission keeps working while the new bundle propagates.
      caWrite = "rotate";
      logger.warn(
        { secret: `${opts.namespace}/${WEBHOOK_CA_SECRET}` },
        "the shoot webhook CA's ca.key is unreadable or does not belong to ca.crt; a new CA is made, the old certificate stays trusted until it expires",
      );
    } else if (t.getTime() >= renewAt(ca.certPem, policy.renewAtFraction)) caWrite = "rotate";
    if (previous && caWrite !== "new") {
      try {
        if (certificateFacts(previous).notAfter.getTime() <= t.getTime() && caWrite === "none") caWrite = "drop-previous";
      } catch {
        if (caWrite === "none") caWrite = "drop-previous";
      }
    }
    if (caWrite !== "none") {
      if (caWrite === "rotate") previous = ca.certPem;
      if (caWrite === "new" || caWrite === "drop-previous") previous = "";
      if (caWrite !== "drop-previous") ca = await generateCa({ commonName: "gardener-extension-ontap-webhook", now: t, validityMs: policy.caValidityMs });
      try {
        await write(caSecret, WEBHOOK_CA_SECRET, { "ca.crt": ca.certPem, "ca.key": ca.keyPem, ...(previous ? { "previous-ca.crt": previous } : {}) });
      } catch (err) {
        if (isAlreadyExists(err) || isConflict(err)) return false;
        throw err;
      }
      logger.info({ action: caWrite, fingerprint: certificateFacts(ca.certPem).fingerprint }, "shoot webhook CA written");
    }

    const serverSecret = await opts.kube.get<SecretObject>(Secrets, opts.namespace, WEBHOOK_SERVER_SECRET);
    let pair: KeyPairPem = { certPem: decode(serverSecret, "tls.crt"), keyPem: decode(serverSecret, "tls.key") };
    let reason = "";
    try {
      const f = certificateFacts(pair.certPem);
      const signedByCurrent = isSignedBy(pair.certPem, ca.certPem);
      const signedByPrevious = previous !== "" && isSignedBy(pair.certPem, previous);
      const caAge = t.getTime() - (certificateFacts(ca.certPem).notBefore.getTime() + CLOCK_SKEW_MS);
      if (pair.keyPem === "") reason = "no key";
      else if (!keyMatchesCertificate(pair.certPem, pair.keyPem)) reason = "key unreadable or not the certificate's";
      else if (!signedByCurrent && !signedByPrevious) reason = "not signed by a trusted CA";
      else if (f.notAfter.getTime() <= t.getTime()) reason = "expired";
      else if (t.getTime() >= renewAt(pair.certPem, policy.renewAtFraction)) reason = "due for renewal";
      else if (opts.dnsNames.some((n) => !f.dnsNames.includes(n))) reason = "DNS names changed";
      else if (!signedByCurrent && caAge >= policy.caPropagationMs) reason = "moving to the new CA";
    } catch {
      reason = "missing or unreadable";
    }
    if (reason) {
      pair = await generateServerCert({ ca, commonName: opts.dnsNames[0] ?? "webhook", dnsNames: opts.dnsNames, now: t, validityMs: policy.serverValidityMs });
      try {
        await write(serverSecret, WEBHOOK_SERVER_SECRET, { "tls.crt": pair.certPem, "tls.key": pair.keyPem }, "kubernetes.io/tls");
      } catch (err) {
        if (isAlreadyExists(err) || isConflict(err)) return false;
        throw err;
      }
      logger.info({ reason, fingerprint: certificateFacts(pair.certPem).fingerprint, notAfter: certificateFacts(pair.certPem).notAfter }, "shoot webhook serving certificate written");
    }

    // One PEM per CA, each ending in a newline: concatenated without one, TLS libraries read only the first.
    const newBundle = [...splitPemBundle(ca.certPem), ...(previous ? splitPemBundle(previous) : [])].join("");
    if (server?.certPem !== pair.certPem) {
      server = pair;
      for (const h of serverHandlers) h(pair);
    }
    if (newBundle !== bundle) {
      bundle = newBundle;
      for (const h of bundleHandlers) h(bundle);
    }
    return true;
  }

  async function check(): Promise<void> {
    if (checking) return checking;
    checking = (async () => {
      for (let attempt = 0; attempt < 3; attempt++) if (await reconcileOnce()) return;
      throw new Error(`the shoot webhook certificates in ${opts.namespace} keep changing under this replica; will retry`);
    })().finally(() => {
      checking = undefined;
    });
    return checking;
  }

  return {
    check,
    serverKeyPair() {
      if (!server) throw new Error("webhook certificates not loaded yet: call check() first");
      return server;
    },
    caBundle() {
      if (!bundle) throw new Error("webhook CA not loaded yet: call check() first");
      return bundle;
    },
    onServerCertificate: (h) => void serverHandlers.push(h),
    onCaBundle: (h) => void bundleHandlers.push(h),
    start() {
      if (timer) return;
      timer = setInterval(() => {
        check().catch((err: unknown) => logger.warn({ err: (err as Error).message }, "shoot webhook certificate check failed; keeping the current ones"));
      }, policy.checkIntervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
