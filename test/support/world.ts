import { mkdtempSync } from "node:fs";
import { afterEach, expect } from "vitest";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import type { ComponentConfig } from "../../src/config/component-config.js";
import { type RunningController, startController } from "../../src/process-assembly.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { clusterObject, type FakeResourceManager, type FaultProxy, generateServingCert, PROJECT_ANNOTATION, type ShootEnv, shootNamespaceObject, type ShootWorkloads, startFakeResourceManager, startFaultProxy, startShootEnv, startShootWorkloads } from "../../src/testenv/index.js";
import { startWebhookServer, type WebhookServer } from "../../src/webhook/index.js";
import type { Extension } from "../../src/extension/types.js";
import type { KubeConnectionConfig } from "../../src/kube/config.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { Clusters, Events, Extensions, Namespaces, Secrets } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { createMetrics, type Metrics, sumCounter } from "../../src/metrics/index.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { decodeCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { checkInvariants, type ShootExpectation } from "./invariants.js";
import { loadKubeConfig as loadClientNodeKubeConfig, testEnv } from "./kube-test-helpers.js";
import { SimAdmin } from "./sim-admin.js";

/**
 * One test's whole world: simulated ONTAP clusters, the real kube-apiserver (optionally behind the fault
 * proxy), the controller in this process, with its logs captured so tests can scan them for secrets, and
 * what applies its ManagedResources:
 * - with `shoot`: a shoot kube-apiserver and the real gardener-resource-manager for that one shoot namespace
 *   (as in Gardener: one resource manager per shoot namespace), the controller's shoot webhook server on
 *   loopback, and the workload stand-in of shoot-workloads.ts;
 * - without: the stand-in resource manager (src/testenv/fake-resource-manager.ts), which applies nothing and
 *   marks every ManagedResource healthy. Tests of the controller's own logic (retries, faults, ONTAP state,
 *   request counts) use it: they never look into a shoot, and a shoot API server per test would cost both
 *   cores for seconds each time.
 */
export interface WorldOptions {
  clusters?: number;
  faultProxy?: boolean;
  svmDeletionPolicy?: ComponentConfig["svmDeletionPolicy"];
  escalation?: { consecutiveFailures: number; afterMs: number };
  startController?: boolean;
  jobMs?: number;
  leaderElection?: boolean;
  /** The controller's periodic re-check of every settled Extension; default 0 (off). */
  resyncMs?: number;
  /** Run the real gardener-resource-manager into a shoot API server for the shoot `shoot--<project>--<shoot>`. */
  shoot?: { project: string; shoot: string; healthSyncSeconds?: number; managedResourceSyncSeconds?: number };
  /** Run the storage health check this often (off by default: it would add requests to counted windows). */
  healthCheckMs?: number;
}

/** The shoot side of a world with `shoot`. */
export interface ShootWorld {
  env: ShootEnv;
  /** Admin client of the shoot's kube-apiserver. */
  kube: KubeClient;
  namespace: string;
  workloads: ShootWorkloads;
  /** The controller's shoot webhook server (the shoot's kube-apiserver calls it on loopback). */
  webhook: WebhookServer;
  /** Stops the webhook server (to prove failurePolicy Ignore) or starts it again on the same port. */
  setWebhookRunning(running: boolean): Promise<void>;
}

export interface Shoot extends ShootExpectation {
  name: string;
  extensionName: string;
}

export interface World {
  sim: RunningSimulator;
  admins: SimAdmin[];
  proxy?: FaultProxy;
  /** Talks to kube-apiserver directly, never through the fault proxy. */
  kube: KubeClient;
  controller?: RunningController;
  metrics: Metrics;
  /** The stand-in resource manager; undefined in a world with a shoot (the real one runs there). */
  rm?: FakeResourceManager;
  shoot?: ShootWorld;
  logs: string[];
  config: ComponentConfig;
  /** `config` replaces parts of the world's component configuration (a second seed: its own class, its cluster order). */
  startController(opts?: {
    identity?: string;
    metrics?: Metrics;
    config?: Partial<ComponentConfig>;
    /** Another way to the API server (its own fault proxy). */
    kubeconfig?: KubeConnectionConfig;
    /** Campaign for this Lease (shared by the controllers that compete); implies leader election. */
    leaseName?: string;
  }): Promise<RunningController>;
  createShoot(opts: { project: string; projectId?: string; shoot?: string; dataLifs: string[]; managementLif: string; providerConfig?: unknown; annotations?: Record<string, string>; omitProjectAnnotation?: boolean; extensionClass?: string }): Promise<Shoot>;
  extension(shoot: Shoot): Promise<Extension | undefined>;
  waitFor(shoot: Shoot, predicate: (ext: Extension) => boolean, timeoutMs?: number, what?: string): Promise<Extension>;
  waitSucceeded(shoot: Shoot, timeoutMs?: number): Promise<Extension>;
  annotate(shoot: Shoot, annotations: Record<string, string | null>): Promise<void>;
  /** Gardener's trigger: annotate `reconcile`, then wait for a reconcile that finished after it, and success. */
  reconcileNow(shoot: Shoot, timeoutMs?: number): Promise<Extension>;
  deleteShoot(shoot: Shoot): Promise<void>;
  waitGone(shoot: Shoot, timeoutMs?: number): Promise<void>;
  invariants(shoots: ShootExpectation[]): Promise<string[]>;
  /** Every password the seed Secrets ever held (watched), plus the ONTAP admin passwords and extras. */
  knownSecrets: Set<string>;
  /** Places a known secret showed up: log lines, Events, Extension objects. Empty when nothing leaked. */
  leaks(namespaces?: string[]): Promise<string[]>;
  ontapRequests(): Promise<number>;
  kubeRequests(): Promise<number>;
  close(): Promise<void>;
}

let counter = 0;
export function uniqueSuffix(): string {
  counter++;
  return `${Date.now().toString(36).slice(-4)}${counter.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

export function projectIdFor(project: string): string {
  const hex = Buffer.from(project).toString("hex").padEnd(32, "0").slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export async function createWorld(opts: WorldOptions = {}): Promise<World> {
  const env = testEnv();
  const sim = await startSimulator({ clusters: opts.clusters ?? 2, jobMs: opts.jobMs ?? 30 });
  const admins = sim.clusters.map((c) => new SimAdmin(c));
  // client-node's KubeConfig for the invariant checks (test-side code); the controller loads its own.
  const directKc = loadClientNodeKubeConfig(env.kubeconfigPath);
  const kube = createKubeClient(directKc);
  const dir = mkdtempSync(path.join(tmpdir(), "ontap-world-"));
  const proxy = opts.faultProxy
    ? await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token })
    : undefined;
  const controllerKc = loadKubeConfig(proxy ? proxy.kubeconfigFor(dir) : env.kubeconfigPath);
  const shoot = opts.shoot ? await startShootWorld(env.kubeconfigPath, dir, opts.shoot) : undefined;
  const rm = shoot ? undefined : startFakeResourceManager(kube, { intervalMs: 100 });
  const logs: string[] = [];
  const metrics = createMetrics();
  const config: ComponentConfig = {
    clusters: sim.clusters.map((c) => ({
      name: c.name,
      url: c.url,
      username: c.username,
      password: c.password,
      caFile: c.caFile,
      insecureSkipTlsVerify: false,
      timeoutMs: 3000,
    })),
    // A class of its own per world: Extensions left by other tests in the shared API server are not ours.
    extensionClass: `test-${uniqueSuffix()}`,
    svmDeletionPolicy: opts.svmDeletionPolicy ?? "DeleteWhenUnused",
    escalation: opts.escalation ?? { consecutiveFailures: 5, afterMs: 30 * 60_000 },
    clusterwideNetworkPolicy: true,
    // Without a shoot any PEM serves as the bundle: only the ManagedResource is looked at.
    shootWebhook: shoot
      ? { url: shoot.webhook.url, caFile: shoot.webhookCaFile }
      : { url: "https://127.0.0.1:9443/webhooks/ontap", caFile: sim.clusters[0]?.caFile ?? "" },
    requeue: { baseMs: 100, capMs: 1500 },
    // Each SVM management LIF is its own simulator listener; the simulator keeps the address -> URL map current.
    credentialsVerification: {
      fallbackToClusterEndpoint: false,
      timeoutSeconds: 3,
      managementLifUrls: {},
      managementLifUrlsFile: sim.lifEndpointsFile,
    },
    healthCheck: { intervalMs: opts.healthCheckMs ?? 0 },
    warnings: [],
  };

  const created: string[] = [];
  const extraControllers: RunningController[] = [];
  const knownSecrets = new Set<string>(sim.clusters.map((c) => c.password));
  const secretWatch = new AbortController();
  void watchCredentialSecrets(kube, secretWatch.signal, knownSecrets);

  const world: World = {
    knownSecrets,
    async leaks(namespaces = created) {
      const found: string[] = [];
      const scan = (where: string, text: string): void => {
        for (const secret of knownSecrets) {
          if (secret && text.includes(secret)) found.push(`${where} contains a password`);
        }
      };
      for (const [i, line] of logs.entries()) scan(`log line ${i}`, line);
      for (const ns of namespaces) {
        const events = await kube.list(Events, ns);
        scan(`events of ${ns}`, JSON.stringify(events.items));
        const exts = await kube.list(Extensions, ns);
        scan(`Extensions of ${ns}`, JSON.stringify(exts.items));
      }
      return found;
    },
    sim,
    admins,
    proxy,
    kube,
    metrics,
    rm,
    shoot,
    logs,
    config,
    async startController(o = {}) {
      const logger = createLogger({
        level: "debug",
        stream: new Writable({
          write(chunk, _enc, cb) {
            logs.push(String(chunk));
            cb();
          },
        }),
      });
      const running = await startController({
        config: { ...config, ...(o.config ?? {}) },
        kubeconfig: o.kubeconfig ?? controllerKc,
        logger,
        metrics: o.metrics ?? metrics,
        workers: 2,
        healthPort: 0,
        host: "127.0.0.1",
        handleSignals: false,
        pollMs: 150,
        resyncMs: opts.resyncMs ?? 0,
        shutdownTimeoutMs: 5000,
        kubeTimeoutMs: 3000,
        leaderElection: opts.leaderElection || o.leaseName
          ? { namespace: "default", name: o.leaseName ?? `lease-${uniqueSuffix()}`, identity: o.identity, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 }
          : undefined,
      });
      if (!o.metrics) world.controller = running;
      else extraControllers.push(running);
      return running;
    },
    async createShoot(s) {
      const project = s.project;
      const shootName = s.shoot ?? `s${uniqueSuffix()}`;
      const namespace = `shoot--${project}--${shootName}`;
      const projectId = s.projectId ?? projectIdFor(project);
      await kube.create(Namespaces, shootNamespaceObject(namespace));
      await kube.create(
        Clusters,
        clusterObject({
          namespace,
          shootName,
          project,
          shootAnnotations: s.omitProjectAnnotation ? {} : { [PROJECT_ANNOTATION]: projectId },
        }),
      );
      await kube.create(Extensions, {
        apiVersion: "extensions.gardener.cloud/v1alpha1",
        kind: "Extension",
        metadata: { name: "ontap", namespace, annotations: { "gardener.cloud/operation": "reconcile", ...(s.annotations ?? {}) } },
        spec: {
          type: "ontap",
          class: s.extensionClass ?? config.extensionClass,
          providerConfig: s.providerConfig ?? {
            apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1",
            kind: "TridentConfig",
            svmIpaddresses: { managementLif: s.managementLif, dataLifs: s.dataLifs },
          },
        },
      });
      created.push(namespace);
      return { name: shootName, extensionName: "ontap", namespace, projectId, dataLifs: s.dataLifs, managementLif: s.managementLif, firewall: true };
    },
    extension: (shoot) => kube.get<Extension>(Extensions, shoot.namespace, shoot.extensionName),
    async waitFor(shoot, predicate, timeoutMs = 30_000, what = "condition") {
      const deadline = Date.now() + timeoutMs;
      let last: Extension | undefined;
      for (;;) {
        last = await world.extension(shoot);
        if (last && predicate(last)) return last;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what} on ${shoot.namespace}: status ${JSON.stringify(last?.status?.lastOperation)} ${JSON.stringify(last?.status?.lastError ?? null)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    waitSucceeded(shoot, timeoutMs) {
      return world.waitFor(
        shoot,
        (e) =>
          e.status?.lastOperation?.state === "Succeeded" &&
          e.status.observedGeneration === e.metadata.generation &&
          !e.metadata.annotations?.["gardener.cloud/operation"],
        timeoutMs,
        "Succeeded",
      );
    },
    async annotate(shoot, annotations) {
      await kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { metadata: { annotations } });
    },
    async reconcileNow(shoot, timeoutMs = 30_000) {
      const finished = () =>
        Promise.all([
          sumCounter(metrics.reconcilesTotal, { result: "succeeded" }),
          sumCounter(metrics.reconcilesTotal, { result: "error" }),
          sumCounter(metrics.reconcilesTotal, { result: "failed" }),
        ]).then((n) => n.reduce((a, b) => a + b, 0));
      const before = await finished();
      await world.annotate(shoot, { "gardener.cloud/operation": "reconcile" });
      const deadline = Date.now() + timeoutMs;
      while ((await finished()) <= before) {
        if (Date.now() > deadline) throw new Error(`no reconcile of ${shoot.namespace} finished after the trigger`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return world.waitSucceeded(shoot, timeoutMs);
    },
    async deleteShoot(shoot) {
      await kube.delete(Extensions, shoot.namespace, shoot.extensionName);
    },
    async waitGone(shoot, timeoutMs = 30_000) {
      await world.waitFor(shoot, () => false, 0).catch(() => undefined);
      const deadline = Date.now() + timeoutMs;
      while (await world.extension(shoot)) {
        if (Date.now() > deadline) {
          const ext = await world.extension(shoot);
          throw new Error(`Extension ${shoot.namespace} not gone: ${JSON.stringify(ext?.status?.lastOperation)} ${JSON.stringify(ext?.status?.lastError ?? null)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    invariants(shoots) {
      return checkInvariants({ kube: directKc, simulators: sim.clusters, shoots });
    },
    ontapRequests: () => sumCounter(metrics.ontapRequestsTotal),
    kubeRequests: () => sumCounter(metrics.kubeRequestsTotal),
    async close() {
      secretWatch.abort();
      await world.controller?.stop();
      await Promise.all(extraControllers.map((c) => c.stop()));
      // Leave nothing for the next test's controller: Extensions lose their finalizer and go.
      for (const namespace of created) {
        await kube.mergePatch(Extensions, namespace, "ontap", { metadata: { finalizers: null } }).catch(() => undefined);
        await kube.delete(Extensions, namespace, "ontap").catch(() => undefined);
        await kube.delete(Clusters, undefined, namespace).catch(() => undefined);
      }
      await rm?.stop();
      if (shoot) {
        await shoot.workloads.stop();
        await shoot.webhook.stop();
        await shoot.env.stop();
      }
      await proxy?.stop();
      await Promise.all(admins.map((a) => a.close()));
      await sim.stop();
    },
  };
  if (opts.startController !== false) await world.startController();
  return world;
}

async function startShootWorld(
  seedKubeconfigPath: string,
  dir: string,
  opts: NonNullable<WorldOptions["shoot"]>,
): Promise<ShootWorld & { webhookCaFile: string }> {
  const namespace = `shoot--${opts.project}--${opts.shoot}`;
  const cert = await generateServingCert(path.join(dir, "webhook"), "gardener-extension-ontap-webhook");
  let webhook = await startWebhookServer({ port: 0, host: "127.0.0.1", certFile: cert.cert, keyFile: cert.key, certReloadIntervalMs: 0 });
  const port = Number(new URL(webhook.url).port);
  const env = await startShootEnv({
    seedKubeconfigPath,
    namespaces: [namespace],
    healthSyncSeconds: opts.healthSyncSeconds ?? 15,
    managedResourceSyncSeconds: opts.managedResourceSyncSeconds,
  });
  const kube = createKubeClient(loadKubeConfig(env.kubeconfigPath));
  const workloads = startShootWorkloads(kube);
  let running = true;
  const world: ShootWorld & { webhookCaFile: string } = {
    env,
    kube,
    namespace,
    workloads,
    webhook,
    webhookCaFile: cert.caCert,
    async setWebhookRunning(want) {
      if (want === running) return;
      if (!want) await webhook.stop();
      else {
        webhook = await startWebhookServer({ port, host: "127.0.0.1", certFile: cert.cert, keyFile: cert.key, certReloadIntervalMs: 0 });
        world.webhook = webhook;
      }
      running = want;
    },
  };
  return world;
}

/** Collects every password a credentials Secret ever held, so tests can prove none leaked anywhere. */
async function watchCredentialSecrets(kube: KubeClient, signal: AbortSignal, into: Set<string>): Promise<void> {
  const labelSelector = "ontap.extensions.gardener.cloud/purpose=svm-credentials";
  const collect = (secret: { data?: Record<string, string> } | undefined) => {
    const stored = decodeCredentials(secret as SecretObject | undefined);
    for (const password of [stored.password, stored.pendingPassword, ...(stored.superseded ?? []).map((e) => e.password)]) {
      if (password) into.add(password);
    }
  };
  while (!signal.aborted) {
    try {
      const list = await kube.list<{ data?: Record<string, string> }>(Secrets, undefined, { labelSelector });
      list.items.forEach(collect);
      await kube.watch(Secrets, undefined, { resourceVersion: list.resourceVersion, signal, labelSelector }, (ev) => collect(ev.object));
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * One world per test, closed after it; every test also proves that no password reached a log line, an
 * event or an Extension of the shoots it created.
 */
export function worldPerTest(): (opts?: WorldOptions) => Promise<World> {
  let current: World | undefined;
  afterEach(async () => {
    const world = current;
    current = undefined;
    if (!world) return;
    try {
      expect(await world.leaks()).toEqual([]);
    } finally {
      await world.close();
    }
  });
  return async (opts) => {
    current = await createWorld(opts);
    return current;
  };
}
