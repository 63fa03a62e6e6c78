import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { formatIssues } from "./issues.js";

/**
 * The controller's component configuration (`--config`). Credentials are read from mounted files, never
 * from the ConfigMap; the Go extension's inline format is still accepted so it can be a drop-in.
 */
const ClusterEntry = z
  .object({
    name: z.string().min(1),
    url: z.url({ protocol: /^https$/, error: "must be an https:// URL of the cluster management interface" }),
    caFile: z.string().min(1).optional(),
    usernameFile: z.string().min(1),
    passwordFile: z.string().min(1),
    insecureSkipTlsVerify: z.boolean().default(false),
    timeoutSeconds: z.number().int().min(1).max(300).default(30),
  })
  .strict();

/** The Go extension's entries: `{name, ipaddress, username, password}` with the password inline. */
const LegacyClusterEntry = z
  .object({
    name: z.string().min(1),
    ipaddress: z.union([z.ipv4(), z.ipv6(), z.hostname()]),
    username: z.string().min(1),
    password: z.string().min(1),
    caFile: z.string().min(1).optional(),
    insecureSkipTlsVerify: z.boolean().default(false),
  })
  .strict();

const Escalation = z
  .object({
    consecutiveFailures: z.number().int().min(1).default(5),
    afterMinutes: z.number().min(1).default(30),
  })
  .strict();

export const ComponentConfigFile = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    clusters: z.array(z.union([ClusterEntry, LegacyClusterEntry])).min(1, "at least one ONTAP cluster is required"),
    extensionClass: z.string().min(1).default("shoot"),
    svmDeletionPolicy: z.enum(["DeleteWhenUnused", "Retain"]).default("DeleteWhenUnused"),
    escalation: Escalation.default({ consecutiveFailures: 5, afterMinutes: 30 }),
    tridentOperatorImage: z.string().min(1).optional(),
    /** metal-stack shoots have a `firewall` namespace; the ClusterwideNetworkPolicy opens egress to the LIFs. */
    clusterwideNetworkPolicy: z.boolean().default(true),
    /** Where the shoot's API server reaches this controller's webhook; without it no webhook is deployed. */
    shootWebhook: z.object({ url: z.url({ protocol: /^https$/ }), caFile: z.string().min(1) }).strict().optional(),
    requeue: z
      .object({ baseSeconds: z.number().min(0.01).default(2), capSeconds: z.number().min(0.1).default(300) })
      .strict()
      .default({ baseSeconds: 2, capSeconds: 300 }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.clusters.forEach((c, i) => {
      if (seen.has(c.name)) {
        ctx.addIssue({ code: "custom", path: ["clusters", i, "name"], message: `duplicate cluster name "${c.name}"` });
      }
      seen.add(c.name);
    });
  });

export interface OntapClusterSettings {
  name: string;
  url: string;
  username: string;
  password: string;
  caFile?: string;
  insecureSkipTlsVerify: boolean;
  timeoutMs: number;
}

export interface ComponentConfig {
  clusters: OntapClusterSettings[];
  extensionClass: string;
  svmDeletionPolicy: "DeleteWhenUnused" | "Retain";
  escalation: { consecutiveFailures: number; afterMs: number };
  tridentOperatorImage?: string;
  clusterwideNetworkPolicy: boolean;
  shootWebhook?: { url: string; caFile: string };
  requeue: { baseMs: number; capMs: number };
  /** Things an operator should fix but that do not stop the controller (never contain a secret). */
  warnings: string[];
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "ERR_CONFIGURATION_PROBLEM";
}

type ReadFile = (path: string) => string;
const readTextFile: ReadFile = (path) => readFileSync(path, "utf8");

/** Parses and validates the component configuration, resolving credential files. Throws ConfigError naming the field. */
export function parseComponentConfig(text: string, source: string, readFile: ReadFile = readTextFile): ComponentConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = ComponentConfigFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${source}: invalid configuration: ${formatIssues(parsed.error.issues)}`);
  }
  const cfg = parsed.data;
  const warnings: string[] = [];
  const clusters = cfg.clusters.map((entry, i): OntapClusterSettings => {
    if ("ipaddress" in entry) {
      warnings.push(
        `clusters[${i}] (${entry.name}) uses the Go extension's inline password; move it to a mounted Secret and set usernameFile/passwordFile`,
      );
      return {
        name: entry.name,
        url: `https://${entry.ipaddress.includes(":") ? `[${entry.ipaddress}]` : entry.ipaddress}`,
        username: entry.username,
        password: entry.password,
        caFile: entry.caFile,
        insecureSkipTlsVerify: entry.insecureSkipTlsVerify,
        timeoutMs: 30_000,
      };
    }
    return {
      name: entry.name,
      url: entry.url.replace(/\/+$/, ""),
      username: readCredentialFile(readFile, entry.usernameFile, `clusters[${i}].usernameFile`, source),
      password: readCredentialFile(readFile, entry.passwordFile, `clusters[${i}].passwordFile`, source),
      caFile: entry.caFile,
      insecureSkipTlsVerify: entry.insecureSkipTlsVerify,
      timeoutMs: entry.timeoutSeconds * 1000,
    };
  });
  clusters.forEach((c, i) => {
    if (c.insecureSkipTlsVerify) {
      warnings.push(`clusters[${i}] (${c.name}) has insecureSkipTlsVerify: true; TLS certificates are NOT verified`);
    } else if (!c.caFile) {
      warnings.push(`clusters[${i}] (${c.name}) has no caFile; its certificate must chain to a system CA`);
    }
  });
  return {
    clusters,
    extensionClass: cfg.extensionClass,
    svmDeletionPolicy: cfg.svmDeletionPolicy,
    escalation: {
      consecutiveFailures: cfg.escalation.consecutiveFailures,
      afterMs: cfg.escalation.afterMinutes * 60_000,
    },
    tridentOperatorImage: cfg.tridentOperatorImage,
    clusterwideNetworkPolicy: cfg.clusterwideNetworkPolicy,
    shootWebhook: cfg.shootWebhook,
    requeue: { baseMs: cfg.requeue.baseSeconds * 1000, capMs: cfg.requeue.capSeconds * 1000 },
    warnings,
  };
}

export function loadComponentConfig(path: string, readFile: ReadFile = readTextFile): ComponentConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read the configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return parseComponentConfig(text, path, readFile);
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
