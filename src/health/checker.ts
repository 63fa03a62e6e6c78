import { setTimeout } from "node:timers/promises";
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import type { Gauge, Registry } from "prom-client";
import { Gauge as PromGauge } from "prom-client";
import type { ComponentConfig } from "../config/component-config.js";
import { rowsFor } from "../diagnosis/diagnose.js";
import { type DoctorDeps, type ObservationSources, observeShoot, type StoredProof } from "../diagnosis/observe.js";
import { createStatusUpdater, type StatusUpdater } from "../extension/status-updater.js";
import type { Cluster, Condition, Extension } from "../extension/types.js";
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { METRIC_PREFIX } from "../metrics/index.js";
import type { OntapClient } from "../ontap/index.js";
import { createInventoryCache } from "../observation/cluster-inventory.js";
import { inventoryReader } from "../observation/ontap-reader.js";
import { createProofSchedule } from "../observation/proof-schedule.js";
import { credentialVerifiers } from "../ontap-extension/verifiers.js";
import { evaluateHealth, type HealthCondition, type HealthReport, type WebhookProbe } from "./evaluate.js";
import type { ShootAccess } from "./shoot-access.js";
import { observeShootTrident, shootTridentRows } from "./shoot-trident.js";

/**
 * The periodic storage health check: every `intervalMs`, for each settled Extension this controller handles,
 * observe the shoot read-only (the doctor's observation: SVM, LIFs, the stored password authenticating,
 * ManagedResources) and probe the shoot webhook, then write the conditions of evaluate.ts into the Extension's
 * status and the per-shoot gauges. Nothing is written to ONTAP; the only write is the status subresource
 * (through the StatusUpdater, the reconciler's one merge-and-conflict path), and only when a condition changed.
 * An unchanged condition is not rewritten to move its lastUpdateTime: gardenlet's shoot care judges an
 * extension's health report stale by the extension's heartbeat Lease (`CheckExtensionCondition` compares
 * `LastHeartbeatTime` with `staleExtensionHealthChecks.threshold`), not by the condition's lastUpdateTime.
 *
 * What a round costs does not grow with the shoots but for one thing: ONTAP is read once per cluster and
 * round (the bulk inventory of observation/cluster-inventory.ts: SVMs, interfaces, accounts), the Kubernetes
 * objects come from the controller's caches, and each shoot's stored password is proven (a login at its SVM
 * management LIF) once per `passwordProofMs`, at its own offset into that period. So a stopped or missing SVM,
 * a LIF down or gone, an unhealthy ManagedResource shows within one interval; a password ONTAP rejects within
 * the proof period (a rejected or unanswered proof is repeated every interval until it works).
 */
export interface HealthCheckerOptions {
  kube: KubeClient;
  clients: readonly OntapClient[];
  config: Pick<ComponentConfig, "extensionClass" | "clusterwideNetworkPolicy" | "shootWebhook"> &
    Partial<Pick<ComponentConfig, "clusters" | "credentialsVerification">>;
  /**
   * Where the webhook probe goes; without it, `config.shootWebhook` (hand-made TLS) or nothing. The controller
   * passes its self-managed webhook here (its Service URL and the CA bundle of the moment).
   */
  webhook?: WebhookProbeTarget;
  /** The Extensions to check (the controller's informer cache, already filtered by type and class). */
  extensions: () => Extension[];
  intervalMs: number;
  registry: Registry;
  logger: Logger;
  now?: () => Date;
  /** Pools to the SVM management LIFs under the clusters' gates, so the password checks count against the cap. */
  lifClients?: DoctorDeps["lifClients"];
  /** The way into each shoot's API server (shoot-access.ts); without it the shoot-side checks are left out. */
  shootAccess?: ShootAccess;
  /** The controller's caches of Clusters and of its ManagedResources; without them, each check reads the API server. */
  caches?: {
    cluster(namespace: string): Cluster | undefined;
    managedResources: NonNullable<ObservationSources["managedResources"]>;
  };
  /** The actuator's firewall rule (its namespace read is cached); default: one of the checker's own. */
  clusterwideNetworkPolicy?: () => Promise<boolean>;
  /** How often each shoot's stored password is proven; default (and 0): at every check. */
  passwordProofMs?: number;
  /** Unchanged conditions are rewritten once they are older than this; default never (see above). */
  conditionRefreshMs?: number;
  /** Default: one on `kube`. */
  statusUpdater?: StatusUpdater;
}


export interface HealthChecker {
  /** One round over every Extension now (tests; the loop calls it every interval). */
  checkAll(): Promise<void>;
  checkOne(namespace: string, name: string): Promise<HealthReport | undefined>;
  /** Removes every series of the shoot in `namespace` (its Extension is gone); each round also sweeps. */
  forget(namespace: string): void;
  stop(): Promise<void>;
}

interface HealthGauges {
  svmState: Gauge<"namespace" | "state">;
  lifsUp: Gauge<"namespace">;
  lifsExpected: Gauge<"namespace">;
  credentialsValid: Gauge<"namespace">;
  conditionStatus: Gauge<"namespace" | "condition">;
  lastCheck: Gauge<"namespace">;
}

/** The SVM states ONTAP reports; each shoot has exactly one set to 1. */
const SVM_STATES = ["running", "stopped", "starting", "stopping", "initializing", "deleting", "absent", "unknown"];

function gauges(registry: Registry): HealthGauges {
  const p = `${METRIC_PREFIX}shoot_`;
  const registers = [registry];
  const existing = (name: string) => registry.getSingleMetric(name) as Gauge<string> | undefined;
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> =>
    (existing(name) as Gauge<L> | undefined) ?? new PromGauge({ name, help, labelNames, registers });
  return {
    svmState: gauge(`${p}svm_state`, "1 for the state the shoot's SVM is in (running, stopped, ..., absent, unknown), 0 for the others.", ["namespace", "state"]),
    lifsUp: gauge(`${p}lifs_up`, "The shoot's LIFs that exist with their address and are up.", ["namespace"]),
    lifsExpected: gauge(`${p}lifs_expected`, "The LIFs the shoot's providerConfig asks for.", ["namespace"]),
    credentialsValid: gauge(`${p}credentials_valid`, "1 when the stored password authenticates at ONTAP, 0 when ONTAP rejects it, -1 when it could not be told.", ["namespace"]),
    conditionStatus: gauge(`${p}health_condition`, "1 when the Extension's health condition is True, 0 when False, -1 when Unknown or Progressing.", ["namespace", "condition"]),
    lastCheck: gauge(`${p}health_last_check_timestamp_seconds`, "Unix time of the last completed storage health check.", ["namespace"]),
  };
}

export function startHealthChecker(opts: HealthCheckerOptions): HealthChecker {
  const metrics = gauges(opts.registry);
  const now = opts.now ?? (() => new Date());
  const statusUpdater = opts.statusUpdater ?? createStatusUpdater(opts.kube, now);
  const refreshMs = opts.conditionRefreshMs ?? Number.POSITIVE_INFINITY;
  const proofs = createProofSchedule<StoredProof>({ periodMs: opts.passwordProofMs ?? 0 });
  // Built once for the process (the doctor builds them per look).
  const shared: ObservationSources = {
    verifierFor: credentialVerifiers(opts.config, opts.lifClients ? { lifClients: opts.lifClients } : {}),
    passwords: {
      reuse: (namespace) => proofs.reuse(namespace),
      record: (namespace, proof) => proofs.record(namespace, proof, proof.password.result === "ok" && proof.pendingPassword?.result !== "rejected"),
    },
    ...(opts.clusterwideNetworkPolicy ? { clusterwideNetworkPolicy: opts.clusterwideNetworkPolicy } : {}),
    ...(opts.caches
      ? { cluster: (namespace: string) => opts.caches?.cluster(namespace), managedResources: (namespace: string) => opts.caches?.managedResources(namespace) ?? [] }
      : {}),
  };
  /** One bulk inventory per cluster for a round (or a lone check), shared by every shoot it looks at. */
  const roundReader = () => inventoryReader(createInventoryCache({ clients: opts.clients, maxAgeMs: Number.POSITIVE_INFINITY }));
  const target =
    opts.webhook ??
    (opts.config.shootWebhook ? { url: opts.config.shootWebhook.url, caBundle: caFileReader(opts.config.shootWebhook.caFile) } : undefined);
  const probe = createWebhookProbe(target);
  const stopping = new AbortController();

  const checkShoot = async (ext: Extension, ontap: ObservationSources["ontap"], webhook: WebhookProbe): Promise<HealthReport> => {
    const namespace = ext.metadata.namespace ?? "";
    const sources: ObservationSources = { ...shared, extension: () => ext, ...(ontap ? { ontap } : {}) };
    const [observation, shootRows] = await Promise.all([
      observeShoot({ kube: opts.kube, clients: opts.clients, config: opts.config, now, sources }, namespace),
      shootSide(ext),
    ]);
    const report = evaluateHealth({ observation, rows: rowsFor(observation), webhook, shootRows });
    // Built on the cached Extension: a conflict (it moved meanwhile) re-reads it and merges again.
    await statusUpdater.conditions(ext, (current) => mergeConditions(current, report.conditions, now(), refreshMs));
    record(metrics, namespace, report);
    recorded.set(namespace, new Set(report.conditions.map((c) => c.type)));
    return report;
  };

  // Trident's own view in the shoot (shoot-trident.ts), beside the seed and ONTAP observation.
  const shootSide = async (ext: Extension) => (opts.shootAccess ? shootTridentRows(await observeShootTrident(opts.shootAccess, ext)) : []);

  const checkOne = async (namespace: string, name: string): Promise<HealthReport | undefined> => {
    const ext = opts.extensions().find((e) => e.metadata.namespace === namespace && e.metadata.name === name);
    if (!ext || !due(ext)) return undefined;
    return checkShoot(ext, roundReader(), await probe());
  };

  // The shoots with series (and the condition types each has): 14 series per shoot must not outlive its
  // Extension, or a seed's /metrics (and the alerts on it) keep every shoot it ever had.
  const recorded = new Map<string, Set<string>>();
  const forget = (namespace: string): void => {
    const conditions = recorded.get(namespace);
    if (!conditions) return;
    recorded.delete(namespace);
    opts.shootAccess?.forget(namespace);
    forgetSeries(metrics, namespace, conditions);
  };
  /** Forgets the shoots whose Extension is gone or being deleted (also those deleted while another replica led). */
  const sweep = (): void => {
    const live = new Set(opts.extensions().filter((e) => !e.metadata.deletionTimestamp).map((e) => e.metadata.namespace));
    for (const namespace of [...recorded.keys()]) if (!live.has(namespace)) forget(namespace);
  };

  const checkAll = async () => {
    sweep();
    const due_ = opts.extensions().filter((ext) => ext.metadata.namespace && due(ext));
    if (due_.length === 0) return;
    // The webhook is one server for every shoot, and ONTAP is read once per cluster: both once per round.
    const ontap = roundReader();
    const webhook = await probe();
    for (const ext of due_) {
      if (stopping.signal.aborted) return;
      const namespace = ext.metadata.namespace ?? "";
      try {
        await checkShoot(ext, ontap, webhook);
      } catch (err) {
        // A failed round is retried next interval; the conditions keep their last value meanwhile.
        opts.logger.warn({ namespace, err: (err as Error).message }, "storage health check failed");
      }
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      // Unreferenced: a health check alone keeps no process alive; stop() ends the wait at once.
      await setTimeout(opts.intervalMs, undefined, { signal: stopping.signal, ref: false }).catch(() => undefined);
      if (!stopping.signal.aborted) await checkAll();
    }
  })();

  return {
    checkAll,
    checkOne,
    forget(namespace) {
      forget(namespace);
      proofs.forget(namespace);
    },
    async stop() {
      stopping.abort();
      await loop;
      await probe.close();
    },
  };
}

/**
 * Only Extensions whose reconcile has succeeded at least once and that are not being deleted or migrated: a
 * check of a shoot still being created only repeats what lastOperation says, and a migrated Extension belongs
 * to the new seed (Gardener's library skips those too).
 */
function due(ext: Extension): boolean {
  if (ext.metadata.deletionTimestamp) return false;
  if (ext.metadata.annotations?.["gardener.cloud/operation"] === "migrate") return false;
  const op = ext.status?.lastOperation;
  if (op?.type === "Migrate") return false;
  return ext.status?.observedGeneration !== undefined;
}

function record(m: HealthGauges, namespace: string, report: HealthReport): void {
  const f = report.facts;
  const state = f.svmState ?? "absent";
  for (const s of SVM_STATES) m.svmState.set({ namespace, state: s }, s === state ? 1 : 0);
  m.lifsUp.set({ namespace }, f.lifsUp);
  m.lifsExpected.set({ namespace }, f.lifsExpected);
  m.credentialsValid.set({ namespace }, f.credentialsValid === undefined ? -1 : f.credentialsValid ? 1 : 0);
  for (const c of report.conditions) {
    m.conditionStatus.set({ namespace, condition: c.type }, c.status === "True" ? 1 : c.status === "False" ? 0 : -1);
  }
  m.lastCheck.set({ namespace }, Date.now() / 1000);
}

function forgetSeries(m: HealthGauges, namespace: string, conditions: ReadonlySet<string>): void {
  for (const state of SVM_STATES) m.svmState.remove({ namespace, state });
  m.lifsUp.remove({ namespace });
  m.lifsExpected.remove({ namespace });
  m.credentialsValid.remove({ namespace });
  for (const condition of conditions) m.conditionStatus.remove({ namespace, condition });
  m.lastCheck.remove({ namespace });
}

/** The conditions after this check, or undefined when nothing changed and none is due for a refresh. */
export function mergeConditions(
  current: readonly Condition[],
  next: readonly HealthCondition[],
  now: Date,
  intervalMs: number,
): Condition[] | undefined {
  const time = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  let changed = false;
  const out = current.filter((c) => !next.some((n) => n.type === c.type));
  for (const n of next) {
    const old = current.find((c) => c.type === n.type);
    const same = old && old.status === n.status && old.reason === n.reason && old.message === n.message && sameCodes(old.codes, n.codes);
    const stale = !old || now.getTime() - Date.parse(old.lastUpdateTime) >= intervalMs;
    if (!same || stale) changed = true;
    const condition: Condition = {
      type: n.type,
      status: n.status,
      reason: n.reason,
      message: n.message,
      lastTransitionTime: old && old.status === n.status ? old.lastTransitionTime : time,
      lastUpdateTime: same && !stale ? old.lastUpdateTime : time,
    };
    if (n.codes.length > 0) condition.codes = n.codes;
    out.push(condition);
  }
  return changed ? out : undefined;
}

function sameCodes(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());
}

/** The webhook as the shoots' API servers reach it. */
export interface WebhookProbeTarget {
  /** The URL the shoots use (https://<service>.<namespace>:<port>/..., or the configured `shootWebhook.url`). */
  url: string;
  /** The CA bundle the shoots trust now (it changes when the self-managed CA rotates). */
  caBundle(): string | Promise<string>;
  /**
   * host:port to dial instead of the URL's, keeping the URL's host for TLS (SNI and the certificate's name): for
   * a lab or test where the Service name does not resolve. Unset, the URL's own address is dialled.
   */
  dialAddress?: string;
}

/** The probe's connection deadline and its idle-connection timeout; the whole probe gets twice this. */
const PROBE_TIMEOUT_MS = 5_000;

function caFileReader(file: string): () => Promise<string> {
  let pem: Promise<string> | undefined;
  return () => (pem ??= readFile(file, "utf8"));
}

/**
 * GET <webhook origin>/healthz with the CA bundle the shoots trust: the shoot's kube-apiserver reaches the same
 * URL. A Service URL in a cluster resolves from the controller's pod too, so the probe goes through the Service,
 * as the shoots' calls do.
 */
function createWebhookProbe(webhook: WebhookProbeTarget | undefined): (() => Promise<WebhookProbe>) & { close(): Promise<void> } {
  if (!webhook) return Object.assign(async (): Promise<WebhookProbe> => ({ result: "not-configured" }), { close: async () => undefined });
  const target = new URL(webhook.url);
  // One agent per CA bundle: a rotation brings a new one, and connections made under the old trust are dropped.
  let agent: { bundle: string; agent: Agent } | undefined;
  const agentFor = async (): Promise<Agent> => {
    const bundle = await webhook.caBundle();
    if (agent?.bundle !== bundle) {
      const old = agent?.agent;
      // Dialling elsewhere, the certificate is still checked against the URL's host name.
      const tls = webhook.dialAddress ? { ca: bundle, servername: target.hostname } : { ca: bundle };
      agent = { bundle, agent: new Agent({ ...tls, keepAlive: true, timeout: PROBE_TIMEOUT_MS }) };
      old?.destroy();
    }
    return agent.agent;
  };
  const probe = async (): Promise<WebhookProbe> => {
    try {
      const pool = await agentFor();
      const url = new URL("/healthz", webhook.dialAddress ? `https://${webhook.dialAddress}` : target);
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpsRequest(url, {
          agent: pool,
          method: "GET",
          ...(webhook.dialAddress ? { headers: { host: target.host } } : {}),
          // Connection, answer and body together: a webhook that is this slow fails the shoots' calls too.
          signal: AbortSignal.timeout(2 * PROBE_TIMEOUT_MS),
        }, resolve);
        req.on("error", reject);
        req.end();
      });
      for await (const _ of res) {
        // The body is read to its end so the connection can be used again; its content says nothing more.
      }
      return res.statusCode === 200 ? { result: "ok" } : { result: "unreachable", error: `GET ${url.pathname} answered HTTP ${res.statusCode}` };
    } catch (err) {
      const { code, cause } = err as { code?: string; cause?: { code?: string; message?: string } };
      if (code === "ABORT_ERR") return { result: "unreachable", error: `no answer within ${(2 * PROBE_TIMEOUT_MS) / 1000} s` };
      return { result: "unreachable", error: code ?? cause?.code ?? cause?.message ?? (err as Error).message };
    }
  };
  return Object.assign(probe, { close: async () => agent?.agent.destroy() });
}
