import { createPrivateKey, X509Certificate as NodeX509, webcrypto } from "node:crypto";

/**
 * The shoot webhook's own PKI, as Gardener's webhook library keeps it (extensions/pkg/webhook/certificates):
 * a CA of the extension's own (30 days, the value Gardener uses), a serving certificate it signs for the
 * webhook Service's DNS names, both renewed well before they expire, each on its own schedule. ECDSA P-256
 * keys through WebCrypto; @peculiar/x509 writes the X.509 structures (Node has no certificate builder).
 * Reading and checking certificates is node:crypto's; the builder is loaded only when a certificate is made (the
 * first start, a rotation): with its ASN.1 schemas and tsyringe it costs about 8 MiB of resident memory, which a
 * controller whose certificates are valid has no use for.
 */
let builder: Promise<typeof import("@peculiar/x509")> | undefined;

function certificateBuilder(): Promise<typeof import("@peculiar/x509")> {
  builder ??= (async () => {
    // @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata API first.
    await import("reflect-metadata");
    const x509 = await import("@peculiar/x509");
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return builder;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  subject: string;
  issuer: string;
  /** SHA-256 fingerprint, to tell two certificates apart in logs and tests. */
  fingerprint: string;
  isCa: boolean;
  dnsNames: string[];
}

export function certificateFacts(certPem: string): CertificateFacts {
  const cert = new NodeX509(certPem);
  return {
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    subject: cert.subject,
    issuer: cert.issuer,
    fingerprint: cert.fingerprint256,
    isCa: cert.ca,
    dnsNames: (cert.subjectAltName ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.startsWith("DNS:"))
      .map((s) => s.slice(4)),
  };
}

/** True when `certPem` was signed by the CA `caPem`. */
export function isSignedBy(certPem: string, caPem: string): boolean {
  try {
    return new NodeX509(certPem).verify(new NodeX509(caPem).publicKey);
  } catch {
    return false;
  }
}

/**
 * True when `keyPem` is a readable private key whose public half is the certificate's. A hand-edited Secret
 * can hold anything: a key that cannot be read, or one of another pair, signs nothing a client will accept.
 */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  if (keyPem.trim() === "") return false;
  try {
    return new NodeX509(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
}

function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** Backdated a little so a peer whose clock is slightly behind accepts it at once. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export async function generateCa(opts: { commonName: string; now: Date; validityMs: number }): Promise<KeyPairPem> {
  const x509 = await certificateBuilder();
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // Unique per CA: during a rotation two CAs sit in one bundle, and TLS finds an issuer by its name first.
    name: `CN=${opts.commonName}-${Math.floor(opts.now.getTime() / 1000)}`,
    notBefore: new Date(opts.now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(opts.now.getTime() + opts.validityMs),
    signingAlgorithm: ALGORITHM,
    keys: keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString("pem").trimEnd()}\n`, keyPem: await exportKey(keys.privateKey) };
}

export async function generateServerCert(opts: {
  ca: KeyPairPem;
  commonName: string;
  dnsNames: string[];
  /** IP subject alternative names (the test world serves on 127.0.0.1); the webhook needs none. */
  ipAddresses?: string[];
  now: Date;
  validityMs: number;
}): Promise<KeyPairPem> {
  const x509 = await certificateBuilder();
  const caCert = new x509.X509Certificate(opts.ca.certPem);
  const caKey = await importKey(opts.ca.keyPem);
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${opts.commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(opts.now.getTime() - CLOCK_SKEW_MS),
    // Never beyond the CA: a chain is only as valid as its shortest link.
    notAfter: new Date(Math.min(opts.now.getTime() + opts.validityMs, caCert.notAfter.getTime())),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...opts.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: `${cert.toString("pem").trimEnd()}\n`, keyPem: await exportKey(keys.privateKey) };
}

/** Splits a PEM bundle into its certificates. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}
