import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { checkServerIdentity, createSecureContext, type SecureContext, connect as tlsConnect, type TLSSocket } from "node:tls";

/**
 * How a connection to an ONTAP address is opened: TLS verified against a CA (the configured one or the system
 * store), pinned to the certificate seen at first contact, or not verified at all (the Go extension's way).
 * Pinning is for the common ONTAP case of a self-signed certificate whose CA nobody has at hand: trust on first
 * use, as ssh does, and a changed certificate is then a refused connection with a message that says what
 * changed and how to accept it. Knows nothing of Kubernetes: where the pins live is the `CertificatePins`
 * given to it.
 */

export type TlsTrustMode = "verify" | "pin" | "none";

/** The fingerprints pinned so far, by `host:port`. */
export interface CertificatePins {
  /** Where the pins are kept, for messages (e.g. `ConfigMap extension-ontap-x/gardener-extension-ontap-tls-pins`). */
  readonly where: string;
  get(key: string): string | undefined;
  /** Where an operator removes the pin of `key` to accept a new certificate, for the error message. */
  describe(key: string): string;
  /** Records `fingerprint` for `key` unless one is recorded already; resolves to the one that holds. */
  pinFirst(key: string, fingerprint: string): Promise<string>;
}

/** Pins held by this process only: every start trusts anew. What tests and one-off tools use. */
export function memoryPins(initial: Record<string, string> = {}): CertificatePins {
  const pins = new Map(Object.entries(initial));
  return {
    where: "this process's memory (not kept across restarts)",
    get: (key) => pins.get(key),
    describe: (key) => `${key} from this process's memory (restart the controller)`,
    async pinFirst(key, fingerprint) {
      const held = pins.get(key);
      if (held !== undefined) return held;
      pins.set(key, fingerprint);
      return fingerprint;
    },
  };
}

/**
 * Pins kept in a write-once store (the process assembly gives a ConfigMap of the release namespace: see
 * kube/configmap-store.ts), loaded once at start and written at each first contact. A write that fails keeps the
 * pin for this process and says so: refusing the cluster for it would be worse than the Go extension's way.
 */
export async function persistedPins(
  store: { where: string; dataKey(key: string): string; load(): Promise<Map<string, string>>; putIfAbsent(key: string, value: string): Promise<string> },
  onWriteFailed: (key: string, err: unknown) => void,
): Promise<CertificatePins> {
  const loaded = await store.load();
  const pins = new Map<string, string>();
  return {
    where: store.where,
    get: (key) => pins.get(key) ?? loaded.get(store.dataKey(key)),
    describe: (key) => `key ${store.dataKey(key)} of ${store.where} and restart the controller`,
    async pinFirst(key, fingerprint) {
      const known = pins.get(key) ?? loaded.get(store.dataKey(key));
      if (known !== undefined) return known;
      let held = fingerprint;
      try {
        held = await store.putIfAbsent(key, fingerprint);
      } catch (err) {
        onWriteFailed(key, err);
      }
      pins.set(key, held);
      return held;
    },
  };
}

let processPins: CertificatePins = memoryPins();

/** The store every transport without one of its own pins into: the process assembly sets the persisted one at start. */
export function processCertificatePins(): CertificatePins {
  return processPins;
}

export function setProcessCertificatePins(pins: CertificatePins): void {
  processPins = pins;
}

/** TEST/LAB ONLY: where a connection to `host:port` really goes (an address of the configuration that is not routable here). */
export type DialMap = (host: string, port: number) => { host: string; port: number } | undefined;

let dialOverride: DialMap | undefined;

/**
 * TEST/LAB ONLY (`run --ontap-dial-map-file`): every ONTAP connection of this process looks its address up
 * here first. The URL, the Host header, the certificate's name check and the pin's key stay those of the
 * configured address; only the socket goes elsewhere.
 */
export function overrideOntapDialing(map: DialMap | undefined): void {
  dialOverride = map;
}

/**
 * A DialMap from JSON files `{"10.0.0.10": "https://127.0.0.1:40123", "10.0.0.11:8443": "https://127.0.0.1:40124"}`
 * (the simulator's management LIF map has this format), re-read at every connection so a file that changes
 * (new LIFs) is followed. A key without a port means 443.
 */
export function fileDialMap(files: readonly string[], readFile: (p: string) => string = (p) => readFileSync(p, "utf8")): DialMap {
  return (host, port) => {
    for (const file of files) {
      let map: Record<string, unknown>;
      try {
        map = JSON.parse(readFile(file)) as Record<string, unknown>;
      } catch {
        continue;
      }
      const target = map[`${host}:${port}`] ?? (port === 443 ? map[host] : undefined);
      if (typeof target !== "string") continue;
      const url = new URL(target);
      return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
    }
    return undefined;
  };
}

export interface TlsConnectOptions {
  cluster: string;
  /** The configured address (the URL's host, without brackets) and port: the name checked and the pin's key. */
  host: string;
  port: number;
  mode: TlsTrustMode;
  /** PEM bundle for `verify`; absent: the system store. */
  ca?: string;
  /** For `pin`; default: the process's store at the moment of the connection (setProcessCertificatePins). */
  pins?: CertificatePins;
  connectTimeoutMs: number;
}

/** The pin's key: the address as configured (one cluster may be reached at several: its LIFs each have one). */
export function pinKey(host: string, port: number): string {
  return `${host}:${port}`;
}

/** A pinned certificate that changed: a TLS error (never retried in place), with what to do in the message. */
export class PinnedCertificateChangedError extends Error {
  override readonly name = "PinnedCertificateChangedError";
  readonly code = "ERR_TLS_PINNED_CERTIFICATE_CHANGED";
}

export function certificateChangedMessage(opts: { cluster: string; key: string; pinned: string; seen: string; remove: string }): string {
  return (
    `ONTAP ${opts.cluster} at ${opts.key} shows a certificate other than the one pinned at first contact ` +
    `(pinned ${opts.pinned}, now ${opts.seen}); nothing is sent to it. If the certificate was renewed on purpose, ` +
    `remove ${opts.remove} (or give this cluster's entry its CA as \`ca:\`); otherwise something ` +
    `else answers at this address`
  );
}

/** Opens one connection: the callback gets the socket once it is usable, or the reason there is none. */
export type TlsConnect = (callback: (err: Error | null, socket?: TLSSocket) => void) => void;

/** An error with the code the client's classification knows (ontap/errors.ts: ETIMEDOUT is a timeout). */
function connectTimeout(key: string, ms: number): Error {
  return Object.assign(new Error(`connect to ${key} timed out after ${ms} ms`), { code: "ETIMEDOUT" });
}

/**
 * The connector of one address (what the transport's agent opens each connection with), with the trust mode
 * applied after the handshake and before any byte is sent. The last session is offered again (TLS resumption
 * spares a full handshake on reconnects), except when pinning: a resumed session skips the certificate
 * exchange that a pin is checked against.
 */
export function createTlsConnect(opts: TlsConnectOptions): TlsConnect {
  const key = pinKey(opts.host, opts.port);
  // SNI carries a name, never an address (RFC 6066).
  const servername = isIP(opts.host) ? undefined : opts.host;
  let session: Buffer | undefined;
  // One context for every connection of this address: without it each handshake parses the CA bundle again.
  // A bundle that cannot be read fails each connection instead, with tls.connect's own error, as it did before.
  const trust = sharedContext(opts.ca);
  return (callback) => {
    const target = dialOverride?.(opts.host, opts.port) ?? { host: opts.host, port: opts.port };
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: opts.mode === "verify",
      ...trust,
      ...(opts.mode !== "pin" && session ? { session } : {}),
      // The name is the configured address's, also when a test/lab dial map sends the socket elsewhere.
      checkServerIdentity: (_host, cert) => checkServerIdentity(opts.host, cert),
    });
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off("error", settle);
      if (err) {
        socket.destroy();
        callback(err);
      } else callback(null, socket);
    };
    const timer = setTimeout(() => settle(connectTimeout(key, opts.connectTimeoutMs)), opts.connectTimeoutMs);
    socket.on("error", settle);
    if (opts.mode !== "pin") socket.on("session", (s: Buffer) => (session = s));
    socket.once("secureConnect", () => {
      socket.setKeepAlive(true, 60_000);
      if (opts.mode !== "pin") return settle(null);
      checkPin(opts, key, socket).then(
        () => settle(null),
        (pinErr: Error) => settle(pinErr),
      );
    });
  };
}

function sharedContext(ca: string | undefined): { secureContext: SecureContext } | { ca: string } {
  try {
    return { secureContext: createSecureContext(ca !== undefined ? { ca } : {}) };
  } catch {
    return { ca: ca ?? "" };
  }
}

async function checkPin(opts: TlsConnectOptions, key: string, socket: TLSSocket): Promise<void> {
  const pins = opts.pins ?? processPins;
  const raw = socket.getPeerCertificate()?.fingerprint256;
  if (!raw) throw new PinnedCertificateChangedError(`ONTAP ${opts.cluster} at ${key} showed no certificate to pin`);
  const seen = `sha256:${raw}`;
  const pinned = pins.get(key) ?? (await pins.pinFirst(key, seen));
  if (pinned !== seen) throw new PinnedCertificateChangedError(certificateChangedMessage({ cluster: opts.cluster, key, pinned, seen, remove: pins.describe(key) }));
}
