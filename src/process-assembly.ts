import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { KubeConnectionConfig } from "./kube/kubeconfig.js";
import type { ComponentConfig } from "./config/component-config.js";
import { extensionChangePredicate } from "./extension/predicate.js";
import { createExtensionReconciler } from "./extension/reconciler.js";
import type { Cluster, Extension } from "./extension/types.js";
import { createKubeClient, type KubeClient } from "./kube/client.js";
import { Clusters, Extensions, ManagedResources, Secrets } from "./kube/resources.js";
import type { Logger } from "./log.js";
import { checkClustersAtStartup, reportTlsTrust } from "./startup-check.js";
import { createConfigMapStore } from "./kube/configmap-store.js";
import { createMetrics, kubeRequestObserver, type Metrics } from "./metrics/index.js";
import {
  type CertificatePins,
  type ClusterGate,
  createClusterGate,
  createOntapClient,
  DEFAULT_BREAKER,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  type OntapClient,
  type OntapRequestEvent,
  persistedPins,
  setProcessCertificatePins,
} from "./ontap/index.js";
import { createOntapActuator, type OntapOutcome } from "./ontap-extension/actuator.js";
import { createCrdWaits } from "./ontap-extension/crd-waits.js";
import { createDeletionWaits } from "./ontap-extension/deletion-waits.js";
import { createManagementLifClients } from "./ontap-extension/lif-clients.js";
import { PROJECT_ANNOTATION } from "./ontap-extension/inputs.js";
import { createController } from "./runtime/controller.js";
import { isManagedResourceHealthy, MANAGED_RESOURCE_NAMES, MANAGED_RESOURCE_ORIGIN, managedResourceSecretName } from "./trident/index.js";
import { createEventRecorder } from "./runtime/events.js";
import { createInformer } from "./runtime/informer.js";
import { FencedError } from "./runtime/fence.js";
import { createHeartbeat } from "./extension/heartbeat.js";
import { type CertPolicy, createWebhookCertificates, type WebhookCertificates } from "./webhook/cert-manager.js";
import { LEGACY_SHOOT_WEBHOOK_PATH, startWebhookServer, type WebhookServer } from "./webhook/server.js";
import { createManager, type Manager } from "./runtime/manager.js";
import { type HealthChecker, startHealthChecker, type WebhookProbeTarget } from "./health/checker.js";

/**
 * Assembles the controller process: clients, informers, the Extension reconciler around the ONTAP actuator,
 * and the manager (health, metrics, leader election, graceful stop). Used by `run`, the tests and the demo.
 */
export interface ControllerOptions {
  config: ComponentConfig;
  kubeconfig: KubeConnectionConfig;
  logger: Logger;
  metrics?: Metrics;
  workers?: number;
  healthPort?: number;
  metricsPort?: number;
  host?: string;
  leaderElection?: { namespace: string; name?: string; identity?: string; leaseDurationSeconds?: number; renewDeadlineSeconds?: number; retryPeriodSeconds?: number };
  shutdownTimeoutMs?: number;
  handleSignals?: boolean;
  /** Gardener's heartbeat Lease (gardener-extension-heartbeat), renewed by the leader; omit for none. */
  heartbeat?: { namespace: string; renewIntervalSeconds?: number };
  /**
   * The shoot webhook with certificates of its own: a CA and serving certificate generated, kept in Secrets of
   * `namespace` and rotated (src/webhook/cert-manager.ts), served on `port`, and reached by the shoots at
   * https://<serviceName>.<namespace>:<servicePort>/shoot. Ignored when the configuration names a
   * `shootWebhook` (hand-made TLS). Omit for no webhook.
   */
  managedWebhook?: {
    namespace: string;
    serviceName: string;
    servicePort: number;
    port: number;
    host?: string;
    certPolicy?: Partial<CertPolicy>;
    now?: () => Date;
    maxConcurrentReviews?: number;
    /**
     * host:port the storage health check dials to reach the webhook instead of its Service name (which it
     * still checks the certificate against): for tests and labs where the Service name does not resolve.
     */
    healthProbeDialAddress?: string;
  };
  /**
   * The controller's own pod ($POD_NAMESPACE/$POD_NAME): where a Warning event about an unverified ONTAP
   * certificate goes, and the namespace of the ConfigMap that keeps pinned certificates. Omit outside a pod.
   */
  pod?: { namespace: string; name?: string };
  /** How long to wait before re-checking something not ready yet (an SVM job, CRDs). Default 2 s. */
  pollMs?: number;
  /** Re-verify every settled Extension this often (credentials drift, LIF drift). Default 10 min. */
  resyncMs?: number;
  kubeTimeoutMs?: number;
  /**
   * Connect to every ONTAP cluster once at start and log the result per cluster (`run` does; tests that count
   * ONTAP calls do not). Never fails the start.
   */
  checkClustersAtStart?: boolean;
}

interface ManagedResourceObject {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

export interface RunningController {
  manager: Manager;
  /** The periodic storage health check; undefined when `healthCheck.intervalMs` is 0. */
  health?: HealthChecker;
  metrics: Metrics;
  kube: KubeClient;
  ontapClients: ReadonlyMap<string, OntapClient>;
  /** The self-managed shoot webhook, when it runs. */
  webhook?: { server: WebhookServer; certificates: WebhookCertificates; url: string };
  /** Per cluster: the concurrency cap and circuit breaker every request to it passes. */
  ontapGates: ReadonlyMap<string, ClusterGate>;
  /** Resolves when the manager has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** The Secrets of this controller's ManagedResources in every shoot namespace, by name. */
export const MANAGED_RESOURCE_SECRET_NAMES: readonly string[] = Object.values(MANAGED_RESOURCE_NAMES).map(managedResourceSecretName);

export function extensionMatches(config: ComponentConfig) {
  return (ext: Extension) => ext.spec?.type === "ontap" && (ext.spec.class ?? "shoot") === config.extensionClass;
}

/** The Gardener project part of a key's namespace (`shoot--<project>--<shoot>`), or the namespace. */
export function projectOfKey(key: string): string | undefined {
  const namespace = key.split("/")[0] ?? "";
  return /^shoot--([a-z0-9-]+?)--/.exec(namespace)?.[1] ?? namespace;
}

/**
 * The serialization group of an Extension: what owns its SVM, the metal-stack project of the shoot (the
 * Cluster's `cluster.metal-stack.io/project` annotation, from the cache), so two shoots that share an SVM
 * are never reconciled at once even when they belong to different Gardener projects. Without a cached
 * Cluster the Gardener project stands in (the reconcile itself will fail or fetch the Cluster).
 */
export function svmOwnerGroup(key: string, clusterOf: (namespace: string) => Cluster | undefined): string | undefined {
  const namespace = key.split("/")[0] ?? "";
  const projectId = clusterOf(namespace)?.spec?.shoot?.metadata?.annotations?.[PROJECT_ANNOTATION]?.trim();
  return projectId ? `metal-stack:${projectId}` : `gardener:${projectOfKey(key)}`;
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const { config, logger } = opts;
  const metrics = opts.metrics ?? createMetrics({ collectDefault: true });
  for (const warning of config.warnings) logger.warn({ warning }, "component configuration");

  const kubeCluster = opts.kubeconfig.getCurrentCluster();
  if (kubeCluster?.skipTLSVerify) {
    // As loud as the ONTAP opt-out: anyone on the path to the API server can read the seed's Secrets.
    logger.warn(
      { cluster: kubeCluster.name },
      "TLS certificate verification is disabled for the Kubernetes API server (kubeconfig insecure-skip-tls-verify)",
    );
  }
  const countKubeRequest = kubeRequestObserver(metrics);
  // At debug level every request is logged too (verb, resource, code, ms): bench/trace.ts reads the timeline.
  const observeKubeRequest: typeof countKubeRequest = (ev) => {
    countKubeRequest(ev);
    if (logger.isLevelEnabled("debug")) logger.debug({ ...ev, durationMs: Math.round(ev.durationMs) }, "kube request");
  };
  const kube = createKubeClient(opts.kubeconfig, {
    timeoutMs: opts.kubeTimeoutMs ?? 15_000,
    userAgent: "gardener-extension-ontap",
    onRequest: observeKubeRequest,
  });

  // Which Extension a request is for: an open breaker remembers it and requeues it when the cluster is back.
  const reconciling = new AsyncLocalStorage<string>();
  let requeueNow: (key: string) => void = () => {};
  const limits = config.ontapRequests;
  const ontapGates = new Map<string, ClusterGate>();
  const onOntapRequest = (ev: OntapRequestEvent) => {
    metrics.ontapRequestsTotal.inc({ cluster: ev.cluster, method: ev.method, endpoint: ev.endpoint, status: String(ev.status) });
    metrics.ontapRequestDurationSeconds.observe({ cluster: ev.cluster, method: ev.method, endpoint: ev.endpoint }, ev.durationMs / 1000);
  };
  // Issue 23: clusters with pinCertificate keep the certificate seen at first contact in a ConfigMap of the
  // pod's namespace, so a restart does not trust anew (tls-connect.ts; LIF clients use the process's store too).
  const pins = await certificatePinsFor(config, kube, opts.pod?.namespace, logger);
  const ontapClients = new Map<string, OntapClient>();
  for (const cluster of config.clusters) {
    const gate = createClusterGate({
      cluster: cluster.name,
      maxConcurrent: limits?.maxConcurrentPerCluster ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
      breaker: limits?.circuitBreaker ?? DEFAULT_BREAKER,
      currentWaiter: () => reconciling.getStore(),
      onRecovered: (keys) => {
        logger.info({ cluster: cluster.name, extensions: keys.length }, "requeueing the Extensions that waited for this ONTAP cluster");
        for (const key of keys) requeueNow(key);
      },
      onStateChange: (state) => metrics.ontapCircuitOpen.set({ cluster: cluster.name }, state === "open" ? 1 : 0),
      logger,
    });
    ontapGates.set(cluster.name, gate);
    ontapClients.set(
      cluster.name,
      createOntapClient(
        // OntapClusterSettings is a TransportConfig (plus legacyFormat, which the transport ignores).
        cluster,
        {
          logger,
          gate,
          onRequest: onOntapRequest,
          ...(pins ? { pins } : {}),
        },
      ),
    );
  }
  if (opts.checkClustersAtStart) void checkClustersAtStartup(config.clusters, ontapClients, logger);

  let shootWebhook: { url: string; readonly caBundle: string } | undefined = config.shootWebhook
    ? { url: config.shootWebhook.url, caBundle: readFileSync(config.shootWebhook.caFile, "utf8") }
    : undefined;
  let webhook: RunningController["webhook"];
  if (!shootWebhook && opts.managedWebhook) {
    const w = opts.managedWebhook;
    // The names the shoots' API servers may use for the Service (they use the first form).
    const dnsNames = [`${w.serviceName}.${w.namespace}`, `${w.serviceName}.${w.namespace}.svc`, `${w.serviceName}.${w.namespace}.svc.cluster.local`, w.serviceName];
    const certificates = createWebhookCertificates({ kube, namespace: w.namespace, dnsNames, policy: w.certPolicy, now: w.now, logger });
    await certificates.check();
    const server = await startWebhookServer({
      port: w.port,
      host: w.host ?? "0.0.0.0",
      keyPair: certificates.serverKeyPair(),
      maxConcurrentReviews: w.maxConcurrentReviews,
      logger,
    });
    certificates.onServerCertificate((pair) => server.setKeyPair(pair));
    certificates.start();
    const url = `https://${w.serviceName}.${w.namespace}:${w.servicePort}${LEGACY_SHOOT_WEBHOOK_PATH}`;
    // A getter: every reconcile renders the webhook configuration with the bundle of that moment.
    shootWebhook = {
      url,
      get caBundle() {
        return certificates.caBundle();
      },
    };
    webhook = { server, certificates, url };
    logger.info({ url, listening: server.url }, "shoot webhook serving with its own certificates");
  }

  // The manager is created below; reconciles only run once it has started, so the fence can refer to it.
  let manager: Manager | undefined;
  const fence = (): void => {
    if (!manager) throw new FencedError("the manager has not started");
    manager.checkWrite();
  };
  /** Events are seed writes too: one from a process that stopped leading is dropped, not sent. */
  const mayWrite = (): boolean => {
    try {
      fence();
      return true;
    } catch {
      return false;
    }
  };
  const events = createEventRecorder(kube, { component: "gardener-extension-ontap", logger, metrics });
  const pod = opts.pod?.name ? { apiVersion: "v1", kind: "Pod", namespace: opts.pod.namespace, name: opts.pod.name } : undefined;
  reportTlsTrust(config.clusters, {
    logger,
    setUnverified: (cluster, unverified) => metrics.ontapTlsUnverified.set({ cluster }, unverified ? 1 : 0),
    ...(pod ? { warn: (reason: string, message: string) => void events.event(pod, "Warning", reason, message) } : {}),
  });
  const involved = (ext: Extension) => ({
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    namespace: ext.metadata.namespace,
    name: ext.metadata.name,
    uid: ext.metadata.uid,
  });

  // Only this controller's objects, and only the metadata of their Secrets (the content is manifests
  // with credentials; a hash annotation is all a no-op reconcile needs).
  const ownLabel = `origin=${MANAGED_RESOURCE_ORIGIN}`;
  const managedResourceInformer = createInformer<ManagedResourceObject>(kube, ManagedResources, { labelSelector: ownLabel, logger });
  // One watch per Secret name (field selector metadata.name): RBAC can then grant these Secrets by name
  // (list and watch with that selector are checked against resourceNames), and the controller needs no
  // right to read every Secret of the seed. See charts/gardener-extension-ontap/templates/clusterrole.yaml.
  const managedResourceSecretInformers = new Map(
    MANAGED_RESOURCE_SECRET_NAMES.map((secretName) => [
      secretName,
      createInformer<ManagedResourceObject>(kube, Secrets, {
        labelSelector: ownLabel,
        fieldSelector: `metadata.name=${secretName}`,
        metadataOnly: true,
        logger,
      }),
    ]),
  );

  const crdWaits = createCrdWaits<OntapOutcome>();
  const deletionWaits = createDeletionWaits();
  const managementLifClients = createManagementLifClients({ gates: ontapGates, onRequest: onOntapRequest });
  const actuator = createOntapActuator({
    kube,
    crdWaits,
    deletionWaits,
    managementLifClients,
    clients: ontapClients,
    config,
    shootWebhook,
    managedResourceCache: {
      managedResource: (namespace, name) => managedResourceInformer.get(namespace, name),
      secretMetadata: (namespace, name) => managedResourceSecretInformers.get(name)?.get(namespace, name),
      synced: () => managedResourceInformer.hasSynced() && [...managedResourceSecretInformers.values()].every((i) => i.hasSynced()),
    },
    pollMs: opts.pollMs,
    onOntapRequest,
    onStep: (step, outcome) => metrics.stepOutcomesTotal.inc({ step, outcome }),
    event: (ctx, type, reason, message) => {
      if (mayWrite()) void events.event(involved(ctx.extension), type, reason, message);
    },
    fence,
  });

  const extensionInformer = createInformer<Extension>(kube, Extensions, {
    filter: extensionMatches(config),
    resyncMs: opts.resyncMs ?? 10 * 60_000,
    logger,
  });
  const clusterInformer = createInformer<Cluster>(kube, Clusters, { logger });

  const reconciler = createExtensionReconciler({
    kube,
    actuator,
    getExtension: (namespace, name) => extensionInformer.get(namespace, name),
    // The cache may not have a Cluster created a moment ago; Gardener guarantees it exists, so ask the server.
    getCluster: async (name) => clusterInformer.get(undefined, name) ?? (await kube.get<Cluster>(Clusters, undefined, name)),
    escalation: config.escalation,
    observer: {
      log: logger,
      onReconcile: (op, result, seconds) => {
        metrics.reconcilesTotal.inc({ operation: op, result });
        metrics.reconcileDurationSeconds.observe({ operation: op }, seconds);
      },
      onFailureCount: (namespace, name, failures, escalated) => {
        metrics.consecutiveFailures.set({ namespace, name }, failures);
        metrics.escalated.set({ namespace, name }, escalated ? 1 : 0);
      },
      // A deleted Extension leaves no series behind (they would alert on a shoot that no longer exists).
      onGone: (namespace, name) => {
        metrics.consecutiveFailures.remove({ namespace, name });
        metrics.escalated.remove({ namespace, name });
      },
      event: (ext, type, reason, message) => {
        if (mayWrite()) void events.event(involved(ext), type, reason, message);
      },
    },
    fence,
  });

  const controller = createController<Extension>({
    name: "ontap-extension",
    informer: extensionInformer,
    predicate: extensionChangePredicate,
    queue: {
      rateLimiter: { baseMs: config.requeue.baseMs, capMs: config.requeue.capMs },
      groupOf: (key) => svmOwnerGroup(key, (namespace) => clusterInformer.get(undefined, namespace)),
    },
    reconcile: (key, signal) => reconciling.run(key, () => reconciler.reconcile(key, signal)),
    workers: opts.workers ?? 2,
    metrics,
    logger,
  });

  manager = createManager({
    kube,
    logger,
    metrics,
    healthPort: opts.healthPort ?? 0,
    metricsPort: opts.metricsPort,
    host: opts.host,
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 30_000,
    handleSignals: opts.handleSignals,
    leaderElection: opts.leaderElection
      ? {
          namespace: opts.leaderElection.namespace,
          name: opts.leaderElection.name ?? "gardener-extension-ontap-leader-election",
          identity: opts.leaderElection.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`,
          leaseDurationSeconds: opts.leaderElection.leaseDurationSeconds,
          renewDeadlineSeconds: opts.leaderElection.renewDeadlineSeconds,
          retryPeriodSeconds: opts.leaderElection.retryPeriodSeconds,
        }
      : undefined,
  });
  manager.addInformer(clusterInformer as never);
  manager.addInformer(managedResourceInformer as never);
  for (const informer of managedResourceSecretInformers.values()) manager.addInformer(informer as never);
  manager.add(controller);
  // A new CA bundle must reach every shoot's webhook ManagedResource, not only the next one reconciled.
  webhook?.certificates.onCaBundle(() => {
    for (const ext of extensionInformer.list()) controller.enqueue(`${ext.metadata.namespace}/${ext.metadata.name}`);
  });
  if (opts.heartbeat) {
    manager.add(
      createHeartbeat({
        kube,
        namespace: opts.heartbeat.namespace,
        extensionName: "gardener-extension-ontap",
        renewIntervalSeconds: opts.heartbeat.renewIntervalSeconds,
        logger,
      }),
    );
  }
  requeueNow = (key) => controller.enqueue(key);
  // A reconcile waits for trident-crds to be healthy by requeueing; the resource manager's status update is
  // the moment to come back, not the next poll. Only a reconcile that waits: CRDs that turn healthy while
  // the first pass is still at ONTAP need no second pass.
  managedResourceInformer.onUpdate((before, after) => {
    if (after.metadata.name !== MANAGED_RESOURCE_NAMES.crds) return;
    if (!isManagedResourceHealthy(after as never).healthy || isManagedResourceHealthy(before as never).healthy) return;
    const namespace = after.metadata.namespace;
    for (const ext of extensionInformer.list()) {
      const key = `${namespace}/${ext.metadata.name}`;
      if (ext.metadata.namespace === namespace && crdWaits.isWaiting(key)) controller.enqueue(key);
    }
  });
  // A delete (or migrate) waits for each ManagedResource to be gone by requeueing; its delete event is the moment.
  managedResourceInformer.onDelete((mr) => {
    for (const key of deletionWaits.take(mr.metadata.namespace ?? "", mr.metadata.name)) controller.enqueue(key);
  });
  const done = manager.start();
  const stopWebhook = () => {
    webhook?.certificates.stop();
    void webhook?.server.stop();
  };
  done.then(stopWebhook, stopWebhook);
  // Idle keep-alive sockets to the LIFs must not outlive the manager.
  const closeLifPools = () => void managementLifClients.close();
  done.then(closeLifPools, closeLifPools);
  done.catch((err) => logger.error({ err: (err as Error).message }, "manager stopped with an error"));

  // Reads only (ONTAP GETs and a login as the shoot's user, the seed), writes only Extension conditions; it
  // runs in every replica's cache but writes only while this one leads, like the reconciler.
  const healthIntervalMs = config.healthCheck?.intervalMs ?? 0;
  const health =
    healthIntervalMs > 0
      ? startHealthChecker({
          kube,
          clients: [...ontapClients.values()],
          config,
          // The self-managed webhook: its Service URL and the bundle of the moment (hand-made TLS: the configuration's).
          webhook: managedWebhookProbe(webhook, opts.managedWebhook?.healthProbeDialAddress),
          extensions: () => (opts.leaderElection && !manager.isLeader() ? [] : extensionInformer.list()),
          intervalMs: healthIntervalMs,
          lifClients: managementLifClients,
          registry: metrics.registry,
          logger,
        })
      : undefined;

  return {
    manager,
    metrics,
    kube,
    ontapClients,
    webhook,
    ontapGates,
    done,
    health,
    async stop() {
      await health?.stop();
      await manager.stop();
      await done.catch(() => undefined);
      webhook?.certificates.stop();
      await webhook?.server.stop();
      for (const gate of ontapGates.values()) gate.close();
      await Promise.all([...ontapClients.values()].map((c) => c.close()));
      await managementLifClients.close();
    },
  };
}

/** The self-managed webhook as the health check probes it: its Service URL and the CA bundle of the moment. */
function managedWebhookProbe(webhook: RunningController["webhook"], dialAddress: string | undefined): WebhookProbeTarget | undefined {
  if (!webhook) return undefined;
  return { url: webhook.url, caBundle: () => webhook.certificates.caBundle(), dialAddress };
}

/** The ConfigMap the pinned ONTAP certificates are kept in (chart RBAC: role.yaml grants exactly this name). */
export const CERTIFICATE_PINS_CONFIGMAP = "gardener-extension-ontap-tls-pins";

/** Pins kept in the pod namespace's ConfigMap when a cluster pins; in memory (said) where that cannot be read. */
async function certificatePinsFor(config: ComponentConfig, kube: KubeClient, namespace: string | undefined, logger: Logger): Promise<CertificatePins | undefined> {
  const pinning = config.clusters.filter((c) => c.pinCertificate).map((c) => c.name);
  if (pinning.length === 0) return undefined;
  if (!namespace) {
    logger.warn({ clusters: pinning }, "no pod namespace ($POD_NAMESPACE): pinned ONTAP certificates are kept in memory and trusted anew at every start");
    return undefined;
  }
  const store = createConfigMapStore(kube, namespace, CERTIFICATE_PINS_CONFIGMAP, { "app.kubernetes.io/name": "gardener-extension-ontap" });
  try {
    const pins = await persistedPins(store, (key, err) =>
      logger.warn({ key, err: (err as Error).message }, `could not record the pinned certificate of ${key} in ${store.where}; it is pinned until this process ends`),
    );
    setProcessCertificatePins(pins);
    return pins;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, `cannot read ${store.where}: pinned ONTAP certificates are kept in memory for this process`);
    return undefined;
  }
}
