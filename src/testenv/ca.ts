import { generateKeyPairSync } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { generateCa, generateServerCert, type KeyPairPem } from "../webhook/certificates.js";

/**
 * The one CA of the test world. Every server the world starts (kube-apiserver of the seed and of the shoot,
 * gardener-resource-manager's webhook server, the fault proxy, the controller's shoot webhook in tests) gets
 * its serving certificate from here, so a test trusts exactly one file per process and nobody carries a
 * second certificate recipe. Made in memory with the webhook's own PKI code (src/webhook/certificates.ts:
 * ECDSA P-256 over WebCrypto), so no openssl is needed; created once per process on first use.
 */
export interface TestCa {
  certPem: string;
  keyPem: string;
  /** Writes the CA certificate (never its key) to DIR/ca.crt and returns that path. */
  writeCaFile(dir: string): Promise<string>;
  /** A serving certificate for 127.0.0.1, localhost and the given DNS names, written to DIR (ca.crt, server.crt, server.key). */
  issue(dir: string, commonName: string, dnsNames?: string[]): Promise<ServingCert>;
}

export interface ServingCert {
  /** Path of the CA certificate that signed it. */
  caCert: string;
  caCertPem: string;
  /** Paths of the certificate and its PKCS#8 key (mode 0600). */
  cert: string;
  key: string;
  certPem: string;
  keyPem: string;
}

/** Ten years: a test environment left running by `testenv up` must not expire under its user. */
const VALIDITY_MS = 10 * 365 * 24 * 3600_000;
const LOOPBACK_NAMES = ["localhost"];

let shared: Promise<TestCa> | undefined;

/** The process's CA (made on first call). */
export function testCa(): Promise<TestCa> {
  shared ??= createTestCa("gardener-extension-ontap-testenv").catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

export async function createTestCa(commonName: string): Promise<TestCa> {
  const ca = await generateCa({ commonName, now: new Date(), validityMs: VALIDITY_MS });
  const writeCaFile = async (dir: string) => {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "ca.crt");
    await writeFile(file, ca.certPem);
    return file;
  };
  return {
    ...ca,
    writeCaFile,
    async issue(dir, name, dnsNames = []) {
      const pair: KeyPairPem = await generateServerCert({
        ca,
        commonName: name,
        dnsNames: [...LOOPBACK_NAMES, ...dnsNames],
        ipAddresses: ["127.0.0.1"],
        now: new Date(),
        validityMs: VALIDITY_MS,
      });
      const caCert = await writeCaFile(dir);
      const cert = path.join(dir, "server.crt");
      const key = path.join(dir, "server.key");
      await writeFile(cert, pair.certPem);
      await writeFile(key, pair.keyPem, { mode: 0o600 });
      return { caCert, caCertPem: ca.certPem, cert, key, certPem: pair.certPem, keyPem: pair.keyPem };
    },
  };
}

/** A serving certificate from the process's CA, written to DIR. */
export async function generateServingCert(dir: string, commonName: string, dnsNames: string[] = []): Promise<ServingCert> {
  return (await testCa()).issue(dir, commonName, dnsNames);
}

/** An EC P-256 key pair for kube-apiserver's service account tokens: PKCS#8 signing key and SPKI public key. */
export async function writeServiceAccountKeys(dir: string): Promise<{ privateKey: string; publicKey: string }> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  await mkdir(dir, { recursive: true });
  const files = { privateKey: path.join(dir, "sa.key"), publicKey: path.join(dir, "sa.pub") };
  await writeFile(files.privateKey, privateKey, { mode: 0o600 });
  // kube-apiserver reads PKCS#8 private keys only as signing keys; verification wants the public half.
  await writeFile(files.publicKey, publicKey);
  return files;
}
