import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { Writable } from "node:stream";
import type { ComponentConfig } from "../../src/config/component-config.js";
import { type RunningController, startController } from "../../src/process-assembly.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { buildWorld, checkExtensionObject, clusterObject, type FakeResourceManager, GARDENER_OPERATION, GARDENER_TIMESTAMP, gardenletRequest, gardenletTimestamp, type FaultProxy, type LoopbackWebhook, PROJECT_ANNOTATION, type ShootEnv, type ShootSide, type ShootWorlds, shootNamespaceObject, type ShootWorkloads } from "../../src/testenv/index.js";
import type { WebhookServer } from "../../src/webhook/index.js";
import type { Extension } from "../../src/extension/types.js";
import type { KubeConnectionConfig } from "../../src/kube/config.js";
import type { KubeClient } from "../../src/kube/client.js";
import { Clusters, Events, Extensions, ManagedResources, Namespaces, Secrets } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { createMetrics, type Metrics, sumCounter } from "../../src/metrics/index.js";
import type { RunningSimulator } from "../../src/simulator/index.js";
import { decodeCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { checkInvariants, type ShootExpectation } from "./invariants.js";
import { loadKubeConfig as loadClientNodeKubeConfig, testEnv } from "./kube-test-helpers.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * One test's whole world, built by src/testenv/world.ts (`buildWorld`, which the benchmark and the demo use
 * too) on the run's one kube-apiserver: simulated ONTAP clusters, the seed (optionally behind the fault
 * proxy), the controller in this process, with its logs captured so tests can scan them for secrets, the
 * controller's shoot webhook server on loopback, and what applies its ManagedResources:
 * - by default the real gardener-resource-manager, one per shoot namespace, each into its own shoot
 *   kube-apiserver (src/testenv/shoot-worlds.ts: as in Gardener, a shoot namespace's resource manager applies
 *   to that shoot only). A namespace's shoot starts when its first ManagedResource appears in the seed (a
 *   shoot that fails before writing any costs nothing) and stays up until the world closes or
 *   `releaseShoot`; the workload and Trident-operator stand-ins of src/testenv run in each.
 * - with `resourceManager: "stand-in"`: src/testenv/fake-resource-manager.ts, which applies nothing and marks
 *   every ManagedResource healthy. Only for tests that say why the real one cannot serve them.
 */
export interface WorldOptions {
  clusters?: number;
  faultProxy?: boolean;
  svmDeletionPolicy?: ComponentConfig["svmDeletionPolicy"];
  escalation?: { consecutiveFailures: number; afterMs: number; waitingMs?: number };
  startController?: boolean;
  jobMs?: number;
  leaderElection?: boolean;
  /** The controller's periodic re-check of every settled Extension; default 0 (off). */
  resyncMs?: number;
  /**
   * Who applies the ManagedResources: the real gardener-resource-manager per shoot namespace (default), or the
   * stand-in that marks them healthy (a test choosing it says why the real one cannot serve it).
   */
  resourceManager?: "real" | "stand-in";
  /**
   * Start the shoot of `shoot--<project>--<shoot>` with the world (as `world.shoot`), before anything is
   * written, for tests that prepare the shoot themselves. `tridentOperator: false`: the test plays Trident's
   * operator itself in every shoot of this world (installs its CRDs, creates its workloads).
   */
  shoot?: { project: string; shoot: string; tridentOperator?: boolean };
  /** The resource managers' health re-check period (Gardener's default 1m; its minimum 15s) and full re-apply period. */
  resourceManagerSync?: { healthSeconds?: number; managedResourceSeconds?: number };
  /** Run the storage health check this often (off by default: it would add requests to counted windows). */
  healthCheckMs?: number;
  /**
   * The controller's re-check interval for what is not ready yet (SVM jobs, CRDs, ManagedResources being
   * deleted); default 150 ms, so a test does not wait out production's 2 s (DEFAULT_POLL_MS) for a simulator
   * job of 30 ms. A test that counts reconciles against a real resource manager gives production's.
   */
  pollMs?: number;
}

/** The shoot side of a world with `shoot`. */
export interface ShootWorld {
  env: ShootEnv;
  /** Admin client of the shoot's kube-apiserver. */
  kube: KubeClient;
  namespace: string;
  workloads: ShootWorkloads;
  /** The controller's shoot webhook server (every shoot's kube-apiserver calls it on loopback). */
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
  /** The stand-in resource manager; undefined unless `resourceManager: "stand-in"`. */
  rm?: FakeResourceManager;
  /** The shoot of the `shoot` option. */
  shoot?: ShootWorld;
  /** Every shoot namespace's shoot (undefined with the stand-in resource manager). */
  shoots?: ShootWorlds;
  /** The shoot of `shoot`, started now if its first ManagedResource has not started it yet. */
  shootOf(shoot: Shoot): Promise<ShootSide>;
  /** Stops the shoot of `shoot` (a finished scenario's; its ManagedResources are no longer applied). */
  releaseShoot(shoot: Shoot): Promise<void>;
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
  /** Ready as gardenlet decides it after a request: Gardener's `checkExtensionObject` (src/testenv/extension-readiness.ts). */
  waitSucceeded(shoot: Shoot, timeoutMs?: number): Promise<Extension>;
  /** Setting `gardener.cloud/operation` sets `gardener.cloud/timestamp` with it, as gardenlet does. */
  annotate(shoot: Shoot, annotations: Record<string, string | null>): Promise<void>;
  /** Gardener's trigger: request `reconcile`, then wait for a reconcile that finished after it, and Gardener's check. */
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
  const real = (opts.resourceManager ?? "real") === "real";
  if (!real && opts.shoot) throw new Error("createWorld: `shoot` needs the real resource manager");
  const shootNamespace = opts.shoot ? `shoot--${opts.shoot.project}--${opts.shoot.shoot}` : undefined;
  const built = await buildWorld({
    seed: env,
    ontap: { clusters: opts.clusters ?? 2, jobMs: opts.jobMs ?? 30 },
    faultProxy: opts.faultProxy,
    resourceManager: real
      ? {
          kind: "real",
          upfront: shootNamespace ? [shootNamespace] : [],
          tridentOperator: opts.shoot?.tridentOperator,
          healthSyncSeconds: opts.resourceManagerSync?.healthSeconds ?? 15,
          managedResourceSyncSeconds: opts.resourceManagerSync?.managedResourceSeconds,
        }
      : { kind: "stand-in", intervalMs: 100 },
  });
  const { sim, admins, proxy, shoots, kube } = built;
  const webhook = built.webhook as LoopbackWebhook;
  const rm = built.standIn;
  // client-node's KubeConfig for the invariant checks (test-side code); the controller loads its own.
  const directKc = loadClientNodeKubeConfig(env.kubeconfigPath);
  const controllerKc = loadKubeConfig(built.controllerKubeconfigPath);
  let shoot: ShootWorld | undefined;
  if (shoots && shootNamespace) {
    const side = await shoots.ensure(shootNamespace);
    shoot = {
      env: side.env,
      kube: side.kube,
      namespace: side.namespace,
      workloads: side.workloads,
      get webhook() {
        return webhook.server;
      },
      setWebhookRunning: webhook.setRunning,
    };
  }
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
    // Every shoot's kube-apiserver calls this one server on loopback (with the stand-in nothing calls it).
    shootWebhook: { url: webhook.server.url, caFile: webhook.caFile },
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
  // A shoot namespace of this world (created by `createShoot`, or by hand with an Extension of a class one of
  // this world's controllers serves) gets its shoot once its first ManagedResource is written.
  const classes = new Set([config.extensionClass]);
  if (shoots) {
    const ours = async (namespace: string) =>
      created.includes(namespace) || classes.has((await kube.get<Extension>(Extensions, namespace, "ontap").catch(() => undefined))?.spec?.class ?? "");
    void watchManagedResourceNamespaces(kube, secretWatch.signal, (namespace) => {
      if (shoots.namespaces().includes(namespace)) return;
      void ours(namespace).then((yes) => (yes ? shoots.ensure(namespace) : undefined)).catch(() => undefined);
    });
  }

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
    shoots,
    async shootOf(s) {
      if (!shoots) throw new Error("this world runs the stand-in resource manager: it has no shoots");
      return shoots.ensure(s.namespace);
    },
    async releaseShoot(s) {
      await shoots?.release(s.namespace);
    },
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
      if (o.config?.extensionClass) classes.add(o.config.extensionClass);
      const running = await startController({
        config: { ...config, ...(o.config ?? {}) },
        kubeconfig: o.kubeconfig ?? controllerKc,
        logger,
        metrics: o.metrics ?? metrics,
        workers: 2,
        healthPort: 0,
        host: "127.0.0.1",
        handleSignals: false,
        pollMs: opts.pollMs ?? 150,
        resyncMs: opts.resyncMs ?? 0,
        shutdownTimeoutMs: 5000,
        kubeTimeoutMs: 3000,
        // The health check reads each shoot at its loopback API server (no Service name resolves here).
        shootApiServer: (namespace) => shoots?.server(namespace),
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
        metadata: { name: "ontap", namespace, annotations: { ...gardenletRequest("reconcile"), ...(s.annotations ?? {}) } },
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
    async waitFor(shoot, predicate, timeoutMs = 90_000, what = "condition") {
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
    async waitSucceeded(shoot, timeoutMs) {
      try {
        return await world.waitFor(shoot, (e) => checkExtensionObject(e) === undefined, timeoutMs, "ready by Gardener's check");
      } catch (err) {
        const last = await world.extension(shoot);
        throw new Error(`${(err as Error).message}; Gardener's check: ${last ? checkExtensionObject(last) : "the Extension is gone"}`);
      }
    },
    async annotate(shoot, annotations) {
      const operation = annotations[GARDENER_OPERATION];
      const request = operation && !(GARDENER_TIMESTAMP in annotations) ? { [GARDENER_TIMESTAMP]: gardenletTimestamp() } : {};
      await kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { metadata: { annotations: { ...annotations, ...request } } });
    },
    async reconcileNow(shoot, timeoutMs = 30_000) {
      const finished = () =>
        Promise.all([
          sumCounter(metrics.reconcilesTotal, { result: "succeeded" }),
          sumCounter(metrics.reconcilesTotal, { result: "error" }),
          sumCounter(metrics.reconcilesTotal, { result: "failed" }),
        ]).then((n) => n.reduce((a, b) => a + b, 0));
      // gardenlet's requests come minutes apart: one in the second of the last status write would be answered
      // by that write, whatever this reconcile does. Requested from the next second on, only a reconcile that
      // moves lastOperation.lastUpdateTime passes Gardener's check.
      const lastUpdate = (await world.extension(shoot))?.status?.lastOperation?.lastUpdateTime;
      const nextSecond = lastUpdate ? Date.parse(lastUpdate) + 1000 : 0;
      if (Date.now() < nextSecond) await new Promise((r) => setTimeout(r, nextSecond - Date.now()));
      const before = await finished();
      await world.annotate(shoot, { [GARDENER_OPERATION]: "reconcile" });
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
    async waitGone(shoot, timeoutMs = 90_000) {
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
      await built.close();
    },
  };
  if (opts.startController !== false) await world.startController();
  return world;
}

/** Calls `seen` with the namespace of every ManagedResource written in the seed (list, then watch). */
async function watchManagedResourceNamespaces(kube: KubeClient, signal: AbortSignal, seen: (namespace: string) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      const list = await kube.list<{ metadata: { namespace: string } }>(ManagedResources);
      for (const mr of list.items) seen(mr.metadata.namespace);
      await kube.watch(ManagedResources, undefined, { resourceVersion: list.resourceVersion, signal }, (ev) => {
        const ns = (ev.object as { metadata?: { namespace?: string } } | undefined)?.metadata?.namespace;
        if (ev.type === "ADDED" && ns) seen(ns);
      });
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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

/**
 * One world for a whole file (or describe block), for tests whose steps follow one shoot's life in order and
 * start from what the previous step left: created before the block's own `beforeAll`, closed after its last
 * test, and proving on close that no password reached a log line, an event or an Extension. Call it inside the
 * block; the returned function gives the world once the block's hooks run.
 */
export function worldPerFile(opts: WorldOptions): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await createWorld(opts);
  }, 300_000);
  afterAll(async () => {
    const w = world;
    world = undefined;
    if (!w) return;
    try {
      expect(await w.leaks()).toEqual([]);
    } finally {
      await w.close();
    }
  }, 120_000);
  return () => {
    if (!world) throw new Error("worldPerFile: the world exists only while the block's hooks and tests run");
    return world;
  };
}
