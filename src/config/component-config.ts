import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { IMAGEVECTOR_OVERWRITE_ENV, type ImageVector, mergeImageVectors, parseImageVector } from "../trident/image-vector.js";
import type { TridentOrchestratorSettings } from "../trident/orchestrator.js";
import { tridentReleaseOf } from "../trident/release.js";
import { formatIssues } from "./issues.js";

/**
 * The controller's component configuration (`--config`). Credentials are read from mounted files, never
 * from the ConfigMap; the Go extension's inline format is still accepted so it can be a drop-in.
 */
const ClusterEntry = z
  .object({
    name: z.string().min(1),
    url: z
      .url({ protocol: /^https$/, error: "must be an https:// URL of the cluster management interface" })
      .refine((u) => !/^https:\/\/[^/]*@/.test(u), "must not contain credentials; put them in usernameFile/passwordFile"),
    caFile: z.string().min(1).optional(),
    usernameFile: z.string().min(1),
    passwordFile: z.string().min(1),
    /** Trust the certificate the cluster shows at first contact, and refuse any other one after it (ca-less clusters). */
    pinCertificate: z.boolean().default(false),
    insecureSkipTlsVerify: z.boolean().default(false),
    timeoutSeconds: z.number().int().min(1).max(300).default(30),
  })
  .strict()
  .superRefine(oneTlsChoice);

/**
 * The Go extension's entries: `{name, ipaddress, username, password}` with the password inline (a config file
 * written by hand), or with the credentials as mounted files (the chart's rendering of the same entry: the
 * password goes into a Secret, never into the ConfigMap). Like the Go extension's decoder, keys it does not know
 * are ignored (with a warning), never refused. The Go extension never verified TLS, so an entry that adds
 * nothing keeps working unverified (said at every start, in a metric and an event); `ca`, `caFile` or
 * `pinCertificate` added to the same entry turn verification on.
 */
const LegacyClusterEntry = z
  .object({
    name: z.string().min(1),
    ipaddress: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: "must be an IP address or a host name" }),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    usernameFile: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    /** PEM of the CA that signed the cluster's certificate, inline (what an Ansible variable can carry). */
    ca: z.string().includes("-----BEGIN CERTIFICATE-----", { error: "must be a PEM certificate (-----BEGIN CERTIFICATE-----)" }).optional(),
    caFile: z.string().min(1).optional(),
    pinCertificate: z.boolean().default(false),
    insecureSkipTlsVerify: z.boolean().default(false),
    timeoutSeconds: z.number().int().min(1).max(300).default(30),
  })
  .passthrough()
  .superRefine((entry, ctx) => {
    const inline = entry.username !== undefined || entry.password !== undefined;
    const files = entry.usernameFile !== undefined || entry.passwordFile !== undefined;
    if (inline && files) {
      ctx.addIssue({ code: "custom", path: ["passwordFile"], message: "set either username and password or usernameFile and passwordFile, not both" });
    } else if (files) {
      for (const key of ["usernameFile", "passwordFile"] as const) {
        if (entry[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "is required with usernameFile/passwordFile" });
      }
    } else {
      for (const key of ["username", "password"] as const) {
        if (entry[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "is required (or usernameFile and passwordFile)" });
      }
    }
    oneTlsChoice(entry, ctx);
  });

/** At most one way to trust a cluster's certificate per entry: two would leave the reader guessing which wins. */
function oneTlsChoice(
  entry: { ca?: string; caFile?: string; pinCertificate: boolean; insecureSkipTlsVerify: boolean },
  ctx: z.RefinementCtx,
): void {
  const chosen = (["ca", "caFile", "pinCertificate", "insecureSkipTlsVerify"] as const).filter((k) => entry[k] !== undefined && entry[k] !== false);
  if (chosen.length > 1) {
    ctx.addIssue({ code: "custom", path: [chosen[1]!], message: `choose one of ${chosen.join(", ")}: each is a way to trust the cluster's certificate` });
  }
}

/**
 * Keys of the Go extension's component configuration this controller has no use for. Accepted, so the Go
 * chart's ConfigMap loads as it is; each named in a warning.
 */
const GO_ONLY_KEYS: Record<string, string> = {
  clientConnection: "the Kubernetes client's qps/burst are not limited by this controller",
  healthCheckConfig: "this controller reports health through the Extension status and its metrics",
};
/** Longest string value accepted anywhere (paths, URLs, names); a longer one is a mistake, not a value. */
const MAX_STRING_LENGTH = 4096;

const TridentOrchestrator = z
  .object({
    enableForceDetach: z.boolean(),
    debug: z.boolean(),
    IPv6: z.boolean(),
    k8sTimeout: z.number().int().min(0),
    httpRequestTimeout: z.string().regex(/^\d+(ms|s|m|h)$/, "must be a duration such as 90s"),
    silenceAutosupport: z.boolean(),
    autosupportInsecure: z.boolean(),
    logFormat: z.enum(["text", "json"]),
    disableAuditLog: z.boolean(),
    imagePullSecrets: z.array(z.string().min(1)),
    imagePullPolicy: z.enum(["IfNotPresent", "Always", "Never"]),
    windows: z.boolean(),
    enableACP: z.boolean(),
    enableAutoBackendConfig: z.boolean(),
    iscsiSelfHealingInterval: z.string().regex(/^(\d+h)?(\d+m)?(\d+s)?$/, "must be a duration such as 5m0s"),
    iscsiSelfHealingWaitTime: z.string().regex(/^(\d+h)?(\d+m)?(\d+s)?$/, "must be a duration such as 7m0s"),
  } satisfies Record<keyof TridentOrchestratorSettings, z.ZodType>)
  .partial()
  .strict();

const Escalation = z
  .object({
    consecutiveFailures: z.number().int().min(1).default(5),
    afterMinutes: z.number().min(1).default(30),
    /**
     * How long a reconcile may wait for the same thing (an SVM that stays `initializing`, a job that never
     * ends, a ManagedResource that never turns healthy) before it escalates. Absent: `afterMinutes`, so one
     * number says "this long without success calls an operator" for failures and waits alike.
     */
    waitingMinutes: z.number().min(1).optional(),
  })
  .strict();

/** How hard this controller may press each ONTAP cluster (src/ontap/gate.ts). */
const OntapRequests = z
  .object({
    /** ONTAP's management API is shared by every tenant: at most this many requests per cluster at once. */
    maxConcurrentPerCluster: z.number().int().min(1).max(256).default(8),
    circuitBreaker: z
      .object({
        /** Requests in a row that get no answer (connection error, timeout) before the breaker opens. */
        consecutiveFailures: z.number().int().min(1).max(1000).default(5),
        /** While open, one probe per this many seconds; everything else is refused without a request. */
        probeIntervalSeconds: z.number().min(0.1).max(300).default(1),
      })
      .strict()
      .default({ consecutiveFailures: 5, probeIntervalSeconds: 1 }),
  })
  .strict();

/**
 * Where the stored password of a shoot's SVM user is proven: at the SVM management LIF, with the credentials
 * Trident will use. The URL overrides are for tests and labs only, where a LIF address is not routable.
 */
const CredentialsVerification = z
  .object({
    /** When the LIF cannot be reached, verify on the cluster management interface instead (where that works). */
    fallbackToClusterEndpoint: z.boolean().default(false),
    timeoutSeconds: z.number().int().min(1).max(120).default(10),
    /** TEST/LAB ONLY: LIF address -> https URL that reaches it. */
    managementLifUrls: z.record(z.string(), z.url({ protocol: /^https$/, error: "must be an https:// URL" })).default({}),
    /** TEST/LAB ONLY: a JSON file with the same map, re-read on every verification (the simulator writes one). */
    managementLifUrlsFile: z.string().min(1).optional(),
  })
  .strict();

export type CredentialsVerificationSettings = z.output<typeof CredentialsVerification>;

/**
 * The password rules of the SVM users' role on ONTAP (`security login role config show -role vsadmin`), which
 * generated passwords must satisfy. The defaults meet ONTAP's defaults and the DISA STIG (one special character).
 */
const PasswordRulesEntry = z
  .object({
    length: z.number().int().min(8).max(128).default(24),
    minLength: z.number().int().min(1).max(128).default(8),
    minSpecialCharacters: z.number().int().min(0).max(64).default(1),
    minUppercase: z.number().int().min(0).max(64).default(1),
    minLowercase: z.number().int().min(0).max(64).default(1),
    minDigits: z.number().int().min(0).max(64).default(1),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.length < r.minLength) ctx.addIssue({ code: "custom", path: ["length"], message: `must be at least minLength (${r.minLength})` });
    const minimums = r.minSpecialCharacters + r.minUppercase + r.minLowercase + r.minDigits;
    if (minimums > r.length / 2) {
      ctx.addIssue({ code: "custom", path: ["length"], message: `must be at least twice the sum of the minimums (${minimums}); raise length` });
    }
  });

export const ComponentConfigFile = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    // Each entry is checked by the schema of its format (below), so every invalid field is named.
    clusters: z.array(z.unknown()).min(1, "at least one ONTAP cluster is required"),
    extensionClass: z.string().min(1).default("shoot"),
    svmDeletionPolicy: z.enum(["DeleteWhenUnused", "Retain"]).default("DeleteWhenUnused"),
    escalation: Escalation.default({ consecutiveFailures: 5, afterMinutes: 30 }),
    tridentOperatorImage: z
      .string()
      .min(1)
      .superRefine((image, ctx) => {
        try {
          tridentReleaseOf(image);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^tridentOperatorImage /, "") });
        }
      })
      .optional(),
    /** Overrides of the Go extension's TridentOrchestrator settings, each optional. */
    tridentOrchestrator: TridentOrchestrator.optional(),
    /**
     * Render the ClusterwideNetworkPolicy (egress to the LIFs through the metal-stack firewall). Unset: the Go
     * extension's rule, rendered when the seed has a namespace `firewall`.
     */
    clusterwideNetworkPolicy: z.boolean().optional(),
    /** Where the shoot's API server reaches this controller's webhook; without it no webhook is deployed. */
    shootWebhook: z.object({ url: z.url({ protocol: /^https$/ }), caFile: z.string().min(1) }).strict().optional(),
    requeue: z
      .object({ baseSeconds: z.number().min(0.01).default(2), capSeconds: z.number().min(0.1).default(300) })
      .strict()
      .refine((r) => r.baseSeconds <= r.capSeconds, { path: ["baseSeconds"], message: "must not exceed requeue.capSeconds" })
      .default({ baseSeconds: 2, capSeconds: 300 }),
    ontapRequests: OntapRequests.default({
      maxConcurrentPerCluster: 8,
      circuitBreaker: { consecutiveFailures: 5, probeIntervalSeconds: 1 },
    }),
    passwordRules: PasswordRulesEntry.default({ length: 24, minLength: 8, minSpecialCharacters: 1, minUppercase: 1, minLowercase: 1, minDigits: 1 }),
    credentialsVerification: CredentialsVerification.default({ fallbackToClusterEndpoint: false, timeoutSeconds: 10, managementLifUrls: {} }),
    /**
     * Aggregates added to a cluster later are assigned to its existing SVMs on their next reconcile; each
     * cluster's aggregate list is read again at most this often (0: on every reconcile).
     */
    aggregateAssignment: z
      .object({ clusterListMaxAgeSeconds: z.number().min(0).max(86_400).default(300) })
      .strict()
      .default({ clusterListMaxAgeSeconds: 300 }),
    /** The periodic storage health check (src/health): how often each shoot is checked; 0 turns it off. */
    healthCheck: z
      .object({
        intervalSeconds: z.number().min(0).default(30),
        /**
         * How often each shoot's stored password is proven by a login at its SVM management LIF (each shoot at
         * its own offset into the period); 0: at every check. The SVM, LIFs and ManagedResources are checked
         * every interval whatever this says.
         */
        passwordProofSeconds: z.number().min(0).default(600),
      })
      .strict()
      .default({ intervalSeconds: 30, passwordProofSeconds: 600 }),
  })
  // Unknown top-level keys are ignored with a warning (the Go extension's decoder ignores them too).
  .passthrough();

type ParsedClusterEntry = z.infer<typeof ClusterEntry> | z.infer<typeof LegacyClusterEntry>;

export interface OntapClusterSettings {
  name: string;
  /** Written in the Go extension's format (`ipaddress`, credentials inline or as files). */
  legacyFormat?: boolean;
  url: string;
  username: string;
  password: string;
  caFile?: string;
  /** PEM of the CA, given inline; wins over caFile (the transport reads it so). */
  ca?: string;
  /** Trust on first contact: src/ontap/certificate-pins.ts. */
  pinCertificate?: boolean;
  /** True for every unverified kind of `tls` below: what the transport reads. */
  insecureSkipTlsVerify: boolean;
  /** How the certificate is trusted, as the start-up log, the metric and the event say it. Absent: from the fields above. */
  tls?: TlsTrust;
  timeoutMs: number;
}

/**
 * How a cluster's certificate is trusted. `unverified` says why: the operator asked for it, or the entry is
 * one of the Go extension's, which never verified TLS and carries no CA.
 */
export type TlsTrust =
  | { kind: "ca" }
  | { kind: "system" }
  | { kind: "pinned" }
  | { kind: "unverified"; why: "insecureSkipTlsVerify" | "go-extension-default" };

export function tlsTrustOf(c: Pick<OntapClusterSettings, "tls" | "ca" | "caFile" | "pinCertificate" | "insecureSkipTlsVerify">): TlsTrust {
  if (c.tls) return c.tls;
  if (c.insecureSkipTlsVerify) return { kind: "unverified", why: "insecureSkipTlsVerify" };
  if (c.pinCertificate) return { kind: "pinned" };
  return c.ca || c.caFile ? { kind: "ca" } : { kind: "system" };
}

/** What an operator adds to a Go-format entry (metal-roles' `gardener_extension_ontap_clusters`) to verify TLS. */
export const VERIFY_TLS_HINT =
  "add to this cluster's entry `ca: <PEM of the CA that signed its certificate>` (verified), or `pinCertificate: true` " +
  "(the certificate it shows first is trusted from then on, and a changed one is refused)";

export interface ComponentConfig {
  clusters: OntapClusterSettings[];
  extensionClass: string;
  svmDeletionPolicy: "DeleteWhenUnused" | "Retain";
  /** `waitingMs`: a wait for the same thing escalates after this long; absent in hand-built configs: `afterMs`. */
  escalation: { consecutiveFailures: number; afterMs: number; waitingMs?: number };
  tridentOperatorImage?: string;
  /**
   * charts/images.yaml with the chart's `imageVectorOverwrite` merged over it (the file IMAGEVECTOR_OVERWRITE
   * names, read by `loadImageVector`); absent in hand-built configs: charts/images.yaml alone.
   */
  imageVector?: ImageVector;
  /** Overrides of GO_EXTENSION_ORCHESTRATOR_SETTINGS. */
  tridentOrchestrator?: Partial<TridentOrchestratorSettings>;
  /** Unset: rendered when the seed has a namespace `firewall` (the Go extension's rule). */
  clusterwideNetworkPolicy?: boolean;
  shootWebhook?: { url: string; caFile: string };
  requeue: { baseMs: number; capMs: number };
  /** Per-cluster cap on concurrent ONTAP requests and circuit breaker; absent means the defaults (8; 5 failures, 1 s probes). */
  ontapRequests?: OntapRequestSettings;
  /** Optional in code that builds a config by hand; parsing always fills it. Default: verify at the LIF only. */
  credentialsVerification?: CredentialsVerificationSettings;
  /** Optional in code that builds a config by hand; parsing always fills it (see PasswordRulesEntry). */
  passwordRules?: z.output<typeof PasswordRulesEntry>;
  /** Storage health check interval (the file's default is 30 s); absent or 0: no health check (tests that count requests). */
  healthCheck?: { intervalMs: number; /** Absent or 0: the password is proven at every check. */ passwordProofMs?: number };
  /** How long a cluster's aggregate list is used (svm-aggregates.ts); absent in hand-built configs: 5 minutes. */
  aggregateAssignment?: { clusterListMaxAgeMs: number };
  /** Things an operator should fix but that do not stop the controller (never contain a secret). */
  warnings: string[];
}

export interface OntapRequestSettings {
  maxConcurrentPerCluster: number;
  circuitBreaker: { consecutiveFailures: number; probeIntervalMs: number };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "ERR_CONFIGURATION_PROBLEM";
}

type ReadFile = (path: string) => string;
const readTextFile: ReadFile = (path) => readFileSync(path, "utf8");

/**
 * Parses and validates the component configuration, resolving credential files. Throws one ConfigError that
 * names every invalid field (and never quotes a value: any of them may be a password).
 */
export function parseComponentConfig(text: string, source: string, readFile: ReadFile = readTextFile): ComponentConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    // The yaml library's message quotes the offending line, which may hold a password: position and code only.
    const e = err as { code?: string; linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    throw new ConfigError(`${source}: not valid YAML${at}${e.code ? ` (${e.code})` : ""}`);
  }
  const issues: z.core.$ZodIssue[] = [];
  const parsed = ComponentConfigFile.safeParse(raw);
  if (!parsed.success) issues.push(...parsed.error.issues);
  const entries: ParsedClusterEntry[] = [];
  // Checked even when another field is invalid, so one run names every mistake.
  const listed = (raw as { clusters?: unknown } | null)?.clusters;
  const rawClusters: unknown[] = Array.isArray(listed) ? listed : [];
  rawClusters.forEach((entry, i) => {
    const legacy = typeof entry === "object" && entry !== null && "ipaddress" in entry;
    const result = (legacy ? LegacyClusterEntry : ClusterEntry).safeParse(entry);
    if (!result.success) issues.push(...result.error.issues.map((issue) => ({ ...issue, path: ["clusters", i, ...issue.path] })));
    else entries.push(result.data);
  });
  issues.push(...valueIssues(raw), ...duplicateIssues(rawClusters));
  if (issues.length > 0) throw new ConfigError(`${source}: invalid configuration: ${formatIssues(issues)}`);
  const cfg = parsed.data as z.infer<typeof ComponentConfigFile>;

  const warnings: string[] = [];
  for (const key of Object.keys(cfg).filter((k) => !(k in ComponentConfigFile.shape))) {
    warnings.push(
      key in GO_ONLY_KEYS
        ? `${key} (from the Go extension's configuration) is accepted and not used: ${GO_ONLY_KEYS[key]}`
        : `unknown key ${key} is ignored`,
    );
  }
  const fileIssues: z.core.$ZodIssue[] = [];
  const clusters = entries.map((entry, i): OntapClusterSettings => {
    if (entry.caFile !== undefined) {
      try {
        readFile(entry.caFile);
      } catch (err) {
        fileIssues.push(fileIssue(["clusters", i, "caFile"], `cannot read ${entry.caFile} (${(err as NodeJS.ErrnoException).code ?? "error"}); mount the CA there`));
      }
    }
    if ("ipaddress" in entry) {
      const known = new Set(Object.keys(LegacyClusterEntry.shape));
      for (const key of Object.keys(entry).filter((k) => !known.has(k))) warnings.push(`clusters[${i}] (${entry.name}): unknown key ${key} is ignored`);
      const inline = entry.usernameFile === undefined;
      if (inline) {
        warnings.push(
          `clusters[${i}] (${entry.name}) uses the Go extension's inline password; move it to a mounted Secret and set usernameFile/passwordFile`,
        );
      }
      // The Go extension dialled https://<ipaddress> and never verified the certificate: an entry that adds no
      // way to trust it keeps working so, and is flagged as unverified everywhere (log, metric, event).
      const unverifiedDefault = !entry.ca && !entry.caFile && !entry.pinCertificate && !entry.insecureSkipTlsVerify;
      const tls: TlsTrust = unverifiedDefault ? { kind: "unverified", why: "go-extension-default" } : tlsTrustOf(entry);
      return {
        name: entry.name,
        legacyFormat: true,
        url: `https://${entry.ipaddress.includes(":") ? `[${entry.ipaddress}]` : entry.ipaddress}`,
        username: inline ? entry.username! : readCredentialFile(readFile, entry.usernameFile!, `clusters[${i}].usernameFile`, source),
        password: inline ? entry.password! : readCredentialFile(readFile, entry.passwordFile!, `clusters[${i}].passwordFile`, source),
        ...(entry.caFile ? { caFile: entry.caFile } : {}),
        ...(entry.ca ? { ca: entry.ca } : {}),
        ...(entry.pinCertificate ? { pinCertificate: true } : {}),
        insecureSkipTlsVerify: tls.kind === "unverified",
        tls,
        timeoutMs: entry.timeoutSeconds * 1000,
      };
    }
    return {
      name: entry.name,
      url: entry.url.replace(/\/+$/, ""),
      username: readCredentialFile(readFile, entry.usernameFile, `clusters[${i}].usernameFile`, source),
      password: readCredentialFile(readFile, entry.passwordFile, `clusters[${i}].passwordFile`, source),
      caFile: entry.caFile,
      ...(entry.pinCertificate ? { pinCertificate: true } : {}),
      insecureSkipTlsVerify: entry.insecureSkipTlsVerify,
      tls: tlsTrustOf(entry),
      timeoutMs: entry.timeoutSeconds * 1000,
    };
  });
  if (cfg.shootWebhook) {
    try {
      readFile(cfg.shootWebhook.caFile);
    } catch (err) {
      fileIssues.push(fileIssue(["shootWebhook", "caFile"], `cannot read ${cfg.shootWebhook.caFile} (${(err as NodeJS.ErrnoException).code ?? "error"})`));
    }
  }
  if (fileIssues.length > 0) throw new ConfigError(`${source}: invalid configuration: ${formatIssues(fileIssues)}`);
  clusters.forEach((c, i) => {
    const trust = tlsTrustOf(c);
    if (trust.kind === "unverified" && trust.why === "go-extension-default") {
      warnings.push(
        `clusters[${i}] (${c.name}): TLS certificates are NOT verified (a Go extension entry without a CA, connected as the Go extension did); to verify, ${VERIFY_TLS_HINT}`,
      );
    } else if (trust.kind === "unverified") {
      warnings.push(`clusters[${i}] (${c.name}) has insecureSkipTlsVerify: true; TLS certificates are NOT verified`);
    } else if (trust.kind === "system") {
      warnings.push(`clusters[${i}] (${c.name}) has no caFile; its certificate must chain to a system CA`);
    }
  });
  const lifOverrides = cfg.credentialsVerification;
  if (Object.keys(lifOverrides.managementLifUrls).length > 0 || lifOverrides.managementLifUrlsFile) {
    warnings.push(
      "credentialsVerification.managementLifUrls/managementLifUrlsFile are set: SVM management LIFs are reached at overridden URLs (meant for tests and labs only)",
    );
  }
  return {
    clusters,
    extensionClass: cfg.extensionClass,
    svmDeletionPolicy: cfg.svmDeletionPolicy,
    escalation: {
      consecutiveFailures: cfg.escalation.consecutiveFailures,
      afterMs: cfg.escalation.afterMinutes * 60_000,
      waitingMs: (cfg.escalation.waitingMinutes ?? cfg.escalation.afterMinutes) * 60_000,
    },
    tridentOperatorImage: cfg.tridentOperatorImage,
    tridentOrchestrator: cfg.tridentOrchestrator,
    clusterwideNetworkPolicy: cfg.clusterwideNetworkPolicy,
    shootWebhook: cfg.shootWebhook,
    requeue: { baseMs: cfg.requeue.baseSeconds * 1000, capMs: cfg.requeue.capSeconds * 1000 },
    ontapRequests: {
      maxConcurrentPerCluster: cfg.ontapRequests.maxConcurrentPerCluster,
      circuitBreaker: {
        consecutiveFailures: cfg.ontapRequests.circuitBreaker.consecutiveFailures,
        probeIntervalMs: cfg.ontapRequests.circuitBreaker.probeIntervalSeconds * 1000,
      },
    },
    credentialsVerification: cfg.credentialsVerification,
    passwordRules: cfg.passwordRules,
    healthCheck: { intervalMs: cfg.healthCheck.intervalSeconds * 1000, passwordProofMs: cfg.healthCheck.passwordProofSeconds * 1000 },
    aggregateAssignment: { clusterListMaxAgeMs: cfg.aggregateAssignment.clusterListMaxAgeSeconds * 1000 },
    warnings,
  };
}

function fileIssue(path: (string | number)[], message: string): z.core.$ZodIssue {
  return { code: "custom", path, message, input: undefined } as z.core.$ZodIssue;
}

/** Control characters and oversized strings anywhere in the file, named by path (the value is never shown). */
function valueIssues(raw: unknown, path: (string | number)[] = []): z.core.$ZodIssue[] {
  if (typeof raw === "string") {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(raw)) return [fileIssue(path, "contains control characters")];
    if (raw.length > MAX_STRING_LENGTH) return [fileIssue(path, `is longer than ${MAX_STRING_LENGTH} characters`)];
    return [];
  }
  if (Array.isArray(raw)) return raw.flatMap((v, i) => valueIssues(v, [...path, i]));
  if (typeof raw === "object" && raw !== null) return Object.entries(raw).flatMap(([k, v]) => valueIssues(v, [...path, k]));
  return [];
}

/** Two entries for one cluster (by name, or by address) would make the SVM lookup see it twice. */
function duplicateIssues(entries: unknown[]): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const names = new Map<string, number>();
  const urls = new Map<string, number>();
  entries.forEach((entry, i) => {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as { name?: unknown; url?: unknown; ipaddress?: unknown };
    if (typeof e.name === "string") {
      if (names.has(e.name)) issues.push(fileIssue(["clusters", i, "name"], `duplicate cluster name "${e.name}" (also clusters[${names.get(e.name)}])`));
      else names.set(e.name, i);
    }
    const field = typeof e.ipaddress === "string" ? "ipaddress" : "url";
    const address = typeof e.ipaddress === "string" ? `https://${e.ipaddress}` : typeof e.url === "string" ? e.url : undefined;
    if (address === undefined) return;
    const key = address.replace(/\/+$/, "").toLowerCase();
    if (urls.has(key)) issues.push(fileIssue(["clusters", i, field], `the same cluster as clusters[${urls.get(key)}]`));
    else urls.set(key, i);
  });
  return issues;
}

/**
 * `charts/images.yaml`, next to `dist/` in the image (the Dockerfile copies it) and in a checkout alike: the
 * vector the chart ships is the one the controller resolves from, as Gardener extensions embed theirs.
 */
export const DEFAULT_IMAGE_VECTOR_PATH = new URL("../../charts/images.yaml", import.meta.url);

type ReadVectorFile = (path: string | URL) => string;
const readVectorText: ReadVectorFile = (path) => readFileSync(path, "utf8");

/**
 * The image vector the controller resolves images from: charts/images.yaml with the overwrite merged over it
 * (Gardener's `WithEnvOverride`: the file named by IMAGEVECTOR_OVERWRITE, which the chart mounts from the value
 * `imageVectorOverwrite`). A bad overwrite is a ConfigError naming the value and the entry's field.
 */
export function loadImageVector(overwritePath: string | undefined = process.env[IMAGEVECTOR_OVERWRITE_ENV], readFile: ReadVectorFile = readVectorText): ImageVector {
  const base = parseImageVector(readFile(DEFAULT_IMAGE_VECTOR_PATH), "charts/images.yaml");
  if (!overwritePath) return base;
  let text: string;
  try {
    text = readFile(overwritePath);
  } catch (err) {
    throw new ConfigError(
      `imageVectorOverwrite: cannot read ${overwritePath} (${IMAGEVECTOR_OVERWRITE_ENV}; ${(err as NodeJS.ErrnoException).code ?? "error"}); mount the chart's imagevector-overwrite ConfigMap there`,
    );
  }
  try {
    return mergeImageVectors(base, parseImageVector(text, `imageVectorOverwrite (${overwritePath})`));
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

export function loadComponentConfig(path: string, readFile: ReadFile = readTextFile): ComponentConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read the configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  // The image vector is read at start like the configuration, so a bad overwrite stops the start naming its field.
  return { ...parseComponentConfig(text, path, readFile), imageVector: loadImageVector() };
}

function readCredentialFile(readFile: ReadFile, path: string, field: string, source: string): string {
  let value: string;
  try {
    value = readFile(path).trim();
  } catch (err) {
    throw new ConfigError(
      `${source}: ${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"}); mount the credentials Secret there`,
    );
  }
  if (value === "") throw new ConfigError(`${source}: ${field}: ${path} is empty`);
  return value;
}
