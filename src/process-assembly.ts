import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { KubeConnectionConfig } from "./kube/kubeconfig.js";
import type { ComponentConfig } from "./config/component-config.js";
import { extensionChangePredicate } from "./extension/predicate.js";
import { CLUSTER_LIST_PAGE_SIZE, projectCluster } from "./extension/cluster-projection.js";
import type { Actuator } from "./extension/actuator.js";
import type { ReconcilerObserver } from "./extension/operations.js";
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
import { type CrdWaits, createCrdWaits } from "./ontap-extension/crd-waits.js";
import { createDeletionWaits, type DeletionWaits } from "./ontap-extension/deletion-waits.js";
import { createManagementLifClients, type ManagementLifClients } from "./ontap-extension/lif-clients.js";
import type { CachedManagedResource, ManagedResourceCache } from "./ontap-extension/trident.js";
import { PROJECT_ANNOTATION } from "./ontap-extension/inputs.js";
import { type Controller, createController } from "./runtime/controller.js";
import { COMPONENT_SECRET_NAMES, SHOOT_COMPONENTS } from "./ontap-extension/components.js";
import { createClusterwideNetworkPolicyRule } from "./ontap-extension/firewall.js";
import { isManagedResourceHealthy, MANAGED_RESOURCE_NAMES, MANAGED_RESOURCE_ORIGIN } from "./trident/index.js";
import { svmNameFor } from "./ontap-extension/plan.js";
import { createEventRecorder } from "./runtime/events.js";
import { createInformer, type Informer } from "./runtime/informer.js";
import { createHeartbeat } from "./extension/heartbeat.js";
import { type CertPolicy, createWebhookCertificates, type WebhookCertificates } from "./webhook/cert-manager.js";
import { findImage, IMAGE_NAMES, SHOOT_HEALTH_ACCESS_SECRET } from "./trident/index.js";
import { LEGACY_SHOOT_WEBHOOK_PATH, startWebhookServer, type WebhookServer } from "./webhook/server.js";
import { createManager, type Manager, type ManagerOptions } from "./runtime/manager.js";
import { type HealthChecker, startHealthChecker, type WebhookProbeTarget } from "./health/checker.js";
import { type AccessSecret, accessSecretProjection, createShootAccess } from "./health/shoot-access.js";

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
   * The storage health check's way to a shoot's API server (src/health/shoot-access.ts): default
   * `https://kube-apiserver.<shoot namespace>.svc`; tests and labs whose shoots listen elsewhere give the URL,
   * undefined for a shoot not to be read.
   */
  shootApiServer?: (namespace: string) => string | undefined;
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

/** A ManagedResource's Secret as cached: metadata only. */
interface SecretMetadata {
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
  // Keyed on the SVM the id names (not the id as written): ids that differ only in dashes name one SVM.
  return projectId ? `svm:${svmNameFor(projectId)}` : `gardener:${projectOfKey(key)}`;
}

/**
 * The process as a list of named parts (controller-runtime's `pkg/builder`, Gardener's `extension.Add`): the
 * seed client, the ONTAP clusters, the shoot webhook, the manager, the caches, the actuator inside the
 * Extension reconciler, the controller with the watches that enqueue it, the heartbeat, the health check.
 */
export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const { config, logger } = opts;
  const metrics = opts.metrics ?? createMetrics({ collectDefault: true });
  for (const warning of config.warnings) logger.warn({ warning }, "component configuration");
  const kube = seedClient(opts, metrics);
  // Clusters with pinCertificate keep the certificate seen at first contact in a ConfigMap of the pod's
  // namespace, so a restart does not trust anew (tls-connect.ts; LIF clients use the process's store too).
  const pins = await certificatePinsFor(config, kube, opts.pod?.namespace, logger);
  const ontapRecovered = createKeySource();
  const ontap = ontapClusters(config, metrics, logger, ontapRecovered, pins);
  if (opts.checkClustersAtStart) void checkClustersAtStartup(config.clusters, ontap.clients, logger);
  const webhook = await shootWebhook(opts, kube);
  const manager = createManager(managerOptions(opts, kube, metrics));
  // Reconciles run only once the manager has started; before that every write is refused.
  const fence = (): void => manager.checkWrite();
  const events = extensionEvents(kube, fence, metrics, logger);
  reportOntapTlsTrust(opts, kube, metrics);
  const caches = controllerCaches(kube, config, opts, logger);
  const waits = { crds: createCrdWaits<OntapOutcome>(), deletions: createDeletionWaits() };
  const managementLifClients = createManagementLifClients({ gates: ontap.gates, onRequest: ontap.onRequest });
  const actuator = createOntapActuator({
    kube,
    crdWaits: waits.crds,
    deletionWaits: waits.deletions,
    managementLifClients,
    clients: ontap.clients,
    config,
    shootWebhook: webhook.target,
    managedResourceCache: caches.managedResourceCache,
    pollMs: opts.pollMs,
    onOntapRequest: ontap.onRequest,
    onStep: (step, outcome) => metrics.stepOutcomesTotal.inc({ step, outcome }),
    event: (ctx, type, reason, message) => events.emit(ctx.extension, type, reason, message),
    fence,
  });
  // The health check is built after the controller: a deleted Extension reaches it through these listeners.
  const extensionGone: Array<(namespace: string) => void> = [];
  const controller = extensionController(opts, { kube, actuator, caches, ontap, events, fence, metrics, extensionGone });
  // Besides its own Extensions, what enqueues an Extension (controller-runtime's Watches).
  const watches: Watch[] = [
    ontapClusterRecovered(ontapRecovered),
    tridentCrdsTurnedHealthy(caches, waits.crds),
    managedResourceGone(caches, waits.deletions),
    ...(webhook.running ? [caBundleChanged(webhook.running, caches)] : []),
  ];
  for (const watch of watches) watch.start((key) => controller.enqueue(key));

  for (const informer of caches.watchedBesideExtensions) manager.addInformer(informer);
  manager.add(controller);
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
  const done = manager.start();
  releaseWhenStopped(done, webhook.running, managementLifClients, logger);
  const health = storageHealthCheck(opts, { kube, ontap, webhook, manager, caches, managementLifClients, metrics });
  if (health) extensionGone.push((namespace) => health.forget(namespace));

  return {
    manager,
    metrics,
    kube,
    ontapClients: ontap.clients,
    webhook: webhook.running,
    ontapGates: ontap.gates,
    done,
    health,
    async stop() {
      await health?.stop();
      await manager.stop();
      await done.catch(() => undefined);
      webhook.running?.certificates.stop();
      await webhook.running?.server.stop();
      for (const gate of ontap.gates.values()) gate.close();
      await Promise.all([...ontap.clients.values()].map((c) => c.close()));
      await managementLifClients.close();
    },
  };
}

/**
 * The Extension controller: the generic reconciler (the Gardener contract) around the actuator, fed by the
 * Extensions' informer, Extensions that share an SVM owner never reconciled at once.
 */
function extensionController(
  opts: ControllerOptions,
  parts: {
    kube: KubeClient;
    actuator: Actuator;
    caches: ControllerCaches;
    ontap: OntapClusters;
    events: ExtensionEvents;
    fence: () => void;
    metrics: Metrics;
    extensionGone: ReadonlyArray<(namespace: string) => void>;
  },
): Controller {
  const { config, logger } = opts;
  const { kube, caches, metrics } = parts;
  const reconciler = createExtensionReconciler({
    kube,
    actuator: parts.actuator,
    getExtension: (namespace, name) => caches.extensions.get(namespace, name),
    // The cache may not have a Cluster created a moment ago; Gardener guarantees it exists, so ask the server.
    getCluster: async (name) => caches.clusters.get(undefined, name) ?? projectIfFound(await kube.get<Cluster>(Clusters, undefined, name)),
    escalation: config.escalation,
    observer: reconcilerObserver(metrics, logger, parts.events, parts.extensionGone),
    fence: parts.fence,
  });
  return createController<Extension>({
    name: "ontap-extension",
    informer: caches.extensions,
    predicate: extensionChangePredicate,
    queue: {
      rateLimiter: { baseMs: config.requeue.baseMs, capMs: config.requeue.capMs },
      groupOf: (key) => svmOwnerGroup(key, (namespace) => caches.clusters.get(undefined, namespace)),
    },
    reconcile: (key, signal) => parts.ontap.reconciling.run(key, () => reconciler.reconcile(key, signal)),
    workers: opts.workers ?? 2,
    metrics,
    logger,
  });
}

/** What the manager's end (a signal, a stop, a failure) leaves behind: the webhook server and idle LIF sockets. */
function releaseWhenStopped(done: Promise<void>, webhook: RunningController["webhook"], lifClients: ManagementLifClients, logger: Logger): void {
  const stopWebhook = () => {
    webhook?.certificates.stop();
    void webhook?.server.stop();
  };
  done.then(stopWebhook, stopWebhook);
  // Idle keep-alive sockets to the LIFs must not outlive the manager.
  const closeLifPools = () => void lifClients.close();
  done.then(closeLifPools, closeLifPools);
  done.catch((err) => logger.error({ err: (err as Error).message }, "manager stopped with an error"));
}

/** The seed's API server, every request counted (and logged at debug level: bench/trace.ts reads the timeline). */
function seedClient(opts: ControllerOptions, metrics: Metrics): KubeClient {
  const { logger } = opts;
  const kubeCluster = opts.kubeconfig.getCurrentCluster();
  if (kubeCluster?.skipTLSVerify) {
    // As loud as the ONTAP opt-out: anyone on the path to the API server can read the seed's Secrets.
    logger.warn(
      { cluster: kubeCluster.name },
      "TLS certificate verification is disabled for the Kubernetes API server (kubeconfig insecure-skip-tls-verify)",
    );
  }
  const countKubeRequest = kubeRequestObserver(metrics);
  const observeKubeRequest: typeof countKubeRequest = (ev) => {
    countKubeRequest(ev);
    if (logger.isLevelEnabled("debug")) logger.debug({ ...ev, durationMs: Math.round(ev.durationMs) }, "kube request");
  };
  return createKubeClient(opts.kubeconfig, {
    timeoutMs: opts.kubeTimeoutMs ?? 15_000,
    userAgent: "gardener-extension-ontap",
    onRequest: observeKubeRequest,
  });
}

interface OntapClusters {
  clients: ReadonlyMap<string, OntapClient>;
  gates: ReadonlyMap<string, ClusterGate>;
  /** Counts every ONTAP request (the clusters' and the management LIFs'). */
  onRequest: (ev: OntapRequestEvent) => void;
  /** Which Extension a request is for: an open breaker remembers it and requeues it when the cluster is back. */
  reconciling: AsyncLocalStorage<string>;
}

/** One client per configured cluster, each behind its cluster's gate (cap and breaker); `recovered` hears a breaker close. */
function ontapClusters(config: ComponentConfig, metrics: Metrics, logger: Logger, recovered: KeySource, pins: CertificatePins | undefined): OntapClusters {
  const reconciling = new AsyncLocalStorage<string>();
  const limits = config.ontapRequests;
  const gates = new Map<string, ClusterGate>();
  const onRequest = (ev: OntapRequestEvent) => {
    metrics.ontapRequestsTotal.inc({ cluster: ev.cluster, method: ev.method, endpoint: ev.endpoint, status: String(ev.status) });
    metrics.ontapRequestDurationSeconds.observe({ cluster: ev.cluster, method: ev.method, endpoint: ev.endpoint }, ev.durationMs / 1000);
  };
  const clients = new Map<string, OntapClient>();
  for (const cluster of config.clusters) {
    const gate = createClusterGate({
      cluster: cluster.name,
      maxConcurrent: limits?.maxConcurrentPerCluster ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
      breaker: limits?.circuitBreaker ?? DEFAULT_BREAKER,
      currentWaiter: () => reconciling.getStore(),
      onRecovered: (keys) => {
        logger.info({ cluster: cluster.name, extensions: keys.length }, "requeueing the Extensions that waited for this ONTAP cluster");
        recovered.emit(keys);
      },
      onStateChange: (state) => metrics.ontapCircuitOpen.set({ cluster: cluster.name }, state === "open" ? 1 : 0),
      logger,
    });
    gates.set(cluster.name, gate);
    // OntapClusterSettings is a TransportConfig (plus legacyFormat, which the transport ignores).
    clients.set(cluster.name, createOntapClient(cluster, { logger, gate, onRequest, ...(pins ? { pins } : {}) }));
  }
  return { clients, gates, onRequest, reconciling };
}

function nvmeTcpInitImage(config: ControllerOptions["config"]): { initContainerImage?: string } {
  const found = config.imageVector ? findImage(config.imageVector, IMAGE_NAMES.nvmeTcpInit) : undefined;
  return found ? { initContainerImage: found.image } : {};
}

interface ShootWebhook {
  /** What the reconcile renders the shoots' webhook configuration with; undefined: no webhook. */
  target: { url: string; readonly caBundle: string } | undefined;
  /** The self-managed webhook, when this process serves it. */
  running: RunningController["webhook"];
}

/**
 * The shoot webhook: hand-made TLS from the configuration, or served here with certificates of its own
 * (`managedWebhook`), or none.
 */
async function shootWebhook(opts: ControllerOptions, kube: KubeClient): Promise<ShootWebhook> {
  const { config, logger } = opts;
  if (config.shootWebhook) {
    return { target: { url: config.shootWebhook.url, caBundle: readFileSync(config.shootWebhook.caFile, "utf8") }, running: undefined };
  }
  if (!opts.managedWebhook) return { target: undefined, running: undefined };
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
    // The init container's image from the image vector (charts/images.yaml + imageVectorOverwrite): one for all shoots.
    mutateOptions: nvmeTcpInitImage(config),
  });
  certificates.onServerCertificate((pair) => server.setKeyPair(pair));
  certificates.start();
  const url = `https://${w.serviceName}.${w.namespace}:${w.servicePort}${LEGACY_SHOOT_WEBHOOK_PATH}`;
  logger.info({ url, listening: server.url }, "shoot webhook serving with its own certificates");
  return {
    // A getter: every reconcile renders the webhook configuration with the bundle of that moment.
    target: {
      url,
      get caBundle() {
        return certificates.caBundle();
      },
    },
    running: { server, certificates, url },
  };
}

function managerOptions(opts: ControllerOptions, kube: KubeClient, metrics: Metrics): ManagerOptions {
  const election = opts.leaderElection;
  return {
    kube,
    logger: opts.logger,
    metrics,
    healthPort: opts.healthPort ?? 0,
    metricsPort: opts.metricsPort,
    host: opts.host,
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 30_000,
    handleSignals: opts.handleSignals,
    leaderElection: election
      ? {
          namespace: election.namespace,
          name: election.name ?? "gardener-extension-ontap-leader-election",
          identity: election.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`,
          leaseDurationSeconds: election.leaseDurationSeconds,
          renewDeadlineSeconds: election.renewDeadlineSeconds,
          retryPeriodSeconds: election.retryPeriodSeconds,
        }
      : undefined,
  };
}

interface ExtensionEvents {
  /** An event on the Extension; one from a process that stopped leading is dropped, not sent (events are seed writes too). */
  emit(extension: Extension, type: "Normal" | "Warning", reason: string, message: string): void;
}

function extensionEvents(kube: KubeClient, fence: () => void, metrics: Metrics, logger: Logger): ExtensionEvents {
  const recorder = createEventRecorder(kube, { component: "gardener-extension-ontap", logger, metrics });
  const mayWrite = (): boolean => {
    try {
      fence();
      return true;
    } catch {
      return false;
    }
  };
  return {
    emit(ext, type, reason, message) {
      if (!mayWrite()) return;
      const involved = {
        apiVersion: "extensions.gardener.cloud/v1alpha1",
        kind: "Extension",
        namespace: ext.metadata.namespace,
        name: ext.metadata.name,
        uid: ext.metadata.uid,
      };
      void recorder.event(involved, type, reason, message);
    },
  };
}

interface ControllerCaches {
  /** The Extensions of type ontap and this controller's class (the controller's own informer). */
  extensions: Informer<Extension>;
  clusters: Informer<Cluster>;
  /** This controller's ManagedResources (label origin=gardener-extension-ontap). */
  managedResources: Informer<CachedManagedResource>;
  /** What spares a no-op reconcile its ManagedResource reads. */
  managedResourceCache: ManagedResourceCache;
  /** The health check's access Secrets (token and CA bundle only), when the health check runs. */
  shootAccessSecrets?: Informer<AccessSecret>;
  /** Every informer but the Extensions' (which the controller starts): the manager starts and syncs them. */
  watchedBesideExtensions: Informer<unknown>[];
}

function controllerCaches(kube: KubeClient, config: ComponentConfig, opts: ControllerOptions, logger: Logger): ControllerCaches {
  const extensions = createInformer<Extension>(kube, Extensions, {
    filter: extensionMatches(config),
    resyncMs: opts.resyncMs ?? 10 * 60_000,
    logger,
  });
  // Clusters embed the whole CloudProfile, Seed and Shoot (tens to hundreds of KiB): keep only what is read.
  const clusters = createInformer<Cluster>(kube, Clusters, { logger, transform: projectCluster, pageSize: CLUSTER_LIST_PAGE_SIZE });
  // Only this controller's objects, and only the metadata of their Secrets (the content is manifests
  // with credentials; a hash annotation is all a no-op reconcile needs).
  const ownLabel = `origin=${MANAGED_RESOURCE_ORIGIN}`;
  const managedResources = createInformer<CachedManagedResource>(kube, ManagedResources, { labelSelector: ownLabel, logger });
  // One watch per Secret name (field selector metadata.name): RBAC can then grant these Secrets by name
  // (list and watch with that selector are checked against resourceNames), and the controller needs no
  // right to read every Secret of the seed. See charts/gardener-extension-ontap/templates/clusterrole.yaml.
  const secrets = new Map(
    COMPONENT_SECRET_NAMES.map((secretName) => [
      secretName,
      createInformer<SecretMetadata>(kube, Secrets, {
        labelSelector: ownLabel,
        fieldSelector: `metadata.name=${secretName}`,
        metadataOnly: true,
        logger,
      }),
    ]),
  );
  // The health check's way into each shoot (health/shoot-access.ts): read every round, so cached, not fetched.
  const shootAccessSecrets =
    (opts.config.healthCheck?.intervalMs ?? 0) > 0
      ? createInformer<AccessSecret>(kube, Secrets, { fieldSelector: `metadata.name=${SHOOT_HEALTH_ACCESS_SECRET}`, transform: accessSecretProjection, logger })
      : undefined;
  return {
    extensions,
    clusters,
    managedResources,
    ...(shootAccessSecrets ? { shootAccessSecrets } : {}),
    managedResourceCache: {
      managedResource: (namespace, name) => managedResources.get(namespace, name),
      secretMetadata: (namespace, name) => secrets.get(name)?.get(namespace, name),
      synced: () => managedResources.hasSynced() && [...secrets.values()].every((i) => i.hasSynced()),
    },
    watchedBesideExtensions: [clusters, managedResources, ...secrets.values(), ...(shootAccessSecrets ? [shootAccessSecrets] : [])],
  };
}

function reconcilerObserver(metrics: Metrics, logger: Logger, events: ExtensionEvents, extensionGone: ReadonlyArray<(namespace: string) => void>): ReconcilerObserver {
  return {
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
      for (const gone of extensionGone) gone(namespace);
    },
    event: (ext, type, reason, message) => events.emit(ext, type, reason, message),
  };
}

/** A source of Extension keys to enqueue, and what it watches (controller-runtime's `Watches` with a handler). */
interface Watch {
  start(enqueue: (key: string) => void): void;
}

/** Keys handed over from a part built before the controller exists (controller-runtime's `source.Channel`). */
interface KeySource extends Watch {
  emit(keys: readonly string[]): void;
}

function createKeySource(): KeySource {
  let enqueue: ((key: string) => void) | undefined;
  return {
    start(fn) {
      enqueue = fn;
    },
    emit(keys) {
      for (const key of keys) enqueue?.(key);
    },
  };
}

/** A cluster's breaker closed: every Extension whose reconcile was refused or failed without an answer meanwhile, at once. */
function ontapClusterRecovered(recovered: KeySource): Watch {
  return recovered;
}

/**
 * trident-crds turned healthy: the Extensions of that namespace waiting for it. A reconcile waits for it by
 * requeueing; the resource manager's status update is the moment to come back, not the next poll. Only a
 * reconcile that waits: CRDs that turn healthy while the first pass is still at ONTAP need no second pass.
 */
function tridentCrdsTurnedHealthy(caches: ControllerCaches, crdWaits: CrdWaits<OntapOutcome>): Watch {
  return {
    start(enqueue) {
      caches.managedResources.onUpdate((before, after) => {
        if (after.metadata.name !== MANAGED_RESOURCE_NAMES.crds) return;
        if (!isManagedResourceHealthy(after).healthy || isManagedResourceHealthy(before).healthy) return;
        const namespace = after.metadata.namespace;
        for (const ext of caches.extensions.list()) {
          const key = `${namespace}/${ext.metadata.name}`;
          if (ext.metadata.namespace === namespace && crdWaits.isWaiting(key)) enqueue(key);
        }
      });
    },
  };
}

/** A ManagedResource is gone: the Extensions whose delete (or migrate) waits for it. */
function managedResourceGone(caches: ControllerCaches, deletionWaits: DeletionWaits): Watch {
  return {
    start(enqueue) {
      caches.managedResources.onDelete((mr) => {
        for (const key of deletionWaits.take(mr.metadata.namespace ?? "", mr.metadata.name)) enqueue(key);
      });
    },
  };
}

/** A new CA bundle of the self-managed webhook: every Extension, so each shoot's webhook ManagedResource gets it. */
function caBundleChanged(webhook: NonNullable<RunningController["webhook"]>, caches: ControllerCaches): Watch {
  return {
    start(enqueue) {
      webhook.certificates.onCaBundle(() => {
        for (const ext of caches.extensions.list()) enqueue(`${ext.metadata.namespace}/${ext.metadata.name}`);
      });
    },
  };
}

/**
 * The periodic storage health check, when `healthCheck.intervalMs` is set. Reads only (ONTAP GETs and a login
 * as the shoot's user, the seed), writes only Extension conditions; it runs in every replica's cache but
 * writes only while this one leads, like the reconciler.
 */
function storageHealthCheck(
  opts: ControllerOptions,
  parts: {
    kube: KubeClient;
    ontap: OntapClusters;
    webhook: ShootWebhook;
    manager: Manager;
    caches: ControllerCaches;
    managementLifClients: ManagementLifClients;
    metrics: Metrics;
  },
): HealthChecker | undefined {
  const intervalMs = opts.config.healthCheck?.intervalMs ?? 0;
  if (intervalMs <= 0) return undefined;
  const { manager, caches } = parts;
  return startHealthChecker({
    kube: parts.kube,
    clients: [...parts.ontap.clients.values()],
    config: opts.config,
    // The self-managed webhook: its Service URL and the bundle of the moment (hand-made TLS: the configuration's).
    webhook: managedWebhookProbe(parts.webhook.running, opts.managedWebhook?.healthProbeDialAddress),
    extensions: () => (opts.leaderElection && !manager.isLeader() ? [] : caches.extensions.list()),
    intervalMs,
    lifClients: parts.managementLifClients,
    // A round reads the caches, not the API server; the firewall rule is the actuator's (one read a minute).
    caches: {
      cluster: (namespace) => caches.clusters.get(undefined, namespace),
      managedResources: (namespace) =>
        SHOOT_COMPONENTS.flatMap((c) => {
          const mr = caches.managedResources.get(namespace, c.name);
          return mr ? [{ ...mr, metadata: { ...mr.metadata, name: c.name } }] : [];
        }),
    },
    clusterwideNetworkPolicy: createClusterwideNetworkPolicyRule(parts.kube, opts.config.clusterwideNetworkPolicy),
    ...(opts.config.healthCheck?.passwordProofMs ? { passwordProofMs: opts.config.healthCheck.passwordProofMs } : {}),
    registry: parts.metrics.registry,
    logger: opts.logger,
    // The shoots' API servers as Gardener offers them (their Service in the shoot namespace + a token-requestor Secret).
    shootAccess: createShootAccess({
      seed: parts.kube,
      ...(opts.shootApiServer ? { serverOf: opts.shootApiServer } : {}),
      ...(caches.shootAccessSecrets ? { secrets: caches.shootAccessSecrets } : {}),
    }),
  });
}

/** A Cluster read past the cache looks as a cached one does (see extension/cluster-projection.ts). */
function projectIfFound(cluster: Cluster | undefined): Cluster | undefined {
  return cluster ? projectCluster(cluster) : undefined;
}

/** The self-managed webhook as the health check probes it: its Service URL and the CA bundle of the moment. */
function managedWebhookProbe(webhook: RunningController["webhook"], dialAddress: string | undefined): WebhookProbeTarget | undefined {
  if (!webhook) return undefined;
  return { url: webhook.url, caBundle: () => webhook.certificates.caBundle(), dialAddress };
}

/**
 * Says once at start, loudly, which ONTAP clusters are reached without a verified certificate (the Go
 * extension's entries carry no CA): a warning per cluster, the gauge, and a Warning event on this pod.
 */
function reportOntapTlsTrust(opts: ControllerOptions, kube: KubeClient, metrics: Metrics): void {
  const { config, logger } = opts;
  const pod = opts.pod?.name ? { apiVersion: "v1", kind: "Pod", namespace: opts.pod.namespace, name: opts.pod.name } : undefined;
  const recorder = pod ? createEventRecorder(kube, { component: "gardener-extension-ontap", logger, metrics }) : undefined;
  reportTlsTrust(config.clusters, {
    logger,
    setUnverified: (cluster, unverified) => metrics.ontapTlsUnverified.set({ cluster }, unverified ? 1 : 0),
    ...(pod && recorder ? { warn: (reason: string, message: string) => void recorder.event(pod, "Warning", reason, message) } : {}),
  });
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
