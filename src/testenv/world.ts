import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import { loadKubeConfig } from "../kube/config.js";
import { SimAdmin } from "../simulator/admin-client.js";
import { type RunningSimulator, startSimulator } from "../simulator/index.js";
import { startTestEnv, type TestEnv } from "./apiserver.js";
import { TestEnvError } from "./errors.js";
import { type ControllerConfigFileOptions, writeControllerConfig } from "./controller-config.js";
import { type FakeResourceManager, startFakeResourceManager, startWatchingResourceManager } from "./fake-resource-manager.js";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";
import { type LoopbackWebhook, startLoopbackWebhook } from "./loopback-webhook.js";
import { type ShootWorlds, startShootWorlds } from "./shoot-worlds.js";

/**
 * The one builder of a world around the controller, for the tests (test/support/world.ts), the benchmark
 * (bench/harness.ts) and the demo (src/demo): the seed's kube-apiserver + etcd, simulated ONTAP clusters,
 * optionally the fault proxy between the controller and the seed, the controller's shoot webhook on loopback,
 * and what applies the ManagedResources. What the controller is (in this process, or its own process) and how
 * it is configured stays with the caller: the builder gives the kubeconfig to run it with and writes the
 * configuration file the world decides (clusters, credentials in files, the webhook, the LIF endpoints).
 */
export interface SeedAccess {
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** Bearer token of the admin identity. */
  token: string;
  /** PEM file of the CA that signed kube-apiserver's serving certificate. */
  caFile: string;
}

/**
 * Who applies the ManagedResources:
 * - `real`: gardener-resource-manager, one per shoot namespace into that shoot's own kube-apiserver
 *   (shoot-worlds.ts), started on the first `shoots.ensure(namespace)` or with the world for `upfront`.
 * - `stand-in`: marks every ManagedResource healthy (a list a second, then a short watch), applies nothing;
 *   only where a caller says why the real one cannot serve it.
 * - `watching stand-in`: the same for a fleet, from an informer with bounded parallel patches (the benchmark).
 * - `none`: nothing applies them, for a world that reconciles no Extension (the benchmark's startup heap).
 */
export type ResourceManagerChoice =
  | {
      kind: "real";
      /** Shoot namespaces whose shoot starts with the world, ahead of their first ManagedResource. */
      upfront?: string[];
      /** Trident's operator stand-in in each shoot (default true). */
      tridentOperator?: boolean;
      healthSyncSeconds?: number;
      managedResourceSyncSeconds?: number;
    }
  | { kind: "stand-in"; intervalMs?: number }
  | { kind: "watching stand-in"; parallel?: number }
  | { kind: "none" };

/** A part of the world, for a caller that shows its progress (the demo). */
export type WorldPart = "seed" | "ontap" | "fault proxy" | "shoot webhook" | "shoots";

export interface WorldBuildOptions {
  /** The seed already running (the test run's one API server); without it one is started and stopped with the world. */
  seed?: SeedAccess;
  ontap?: { clusters?: number; jobMs?: number; latencyMs?: number; managementAddresses?: string[] };
  /** The Kubernetes fault proxy between the controller and the seed (the admin client goes around it). */
  faultProxy?: boolean;
  resourceManager: ResourceManagerChoice;
  /** The controller's shoot webhook server on loopback (default on; nothing calls it without real shoots). */
  shootWebhook?: boolean;
  /** The admin client's per-request deadline (default the client's). */
  kubeTimeoutMs?: number;
  /**
   * The controller as a user of its own (`controller`, system:masters) whose every request the seed's
   * kube-apiserver writes to its audit log (`auditLogPath`): its Kubernetes requests counted at the server,
   * whatever the controller. Only with a seed this world starts, without the fault proxy.
   */
  auditController?: boolean;
  /** The world's directory, made by the caller (kept after close); default a new one under the system's temporary directory. */
  dir?: string;
  /** Name prefix of a new directory. */
  dirPrefix?: string;
  /** Keep a new directory after close (the benchmark's BENCH_KEEP); removed otherwise. */
  keepDir?: boolean;
  /** Called as each part starts and once it is up, with the world as far as it is built. */
  progress?: { starting?(part: WorldPart): void; ready?(part: WorldPart, sofar: Partial<BuiltWorld>): void };
}

export interface BuiltWorld {
  /** The world's own directory: certificates, the controller configuration, its credentials, logs. */
  dir: string;
  seed: SeedAccess;
  /** The seed when this world started it (its pid files are in `seedEnv.dir`). */
  seedEnv?: TestEnv;
  sim: RunningSimulator;
  admins: SimAdmin[];
  /** Admin client of the seed, never through the fault proxy. */
  kube: KubeClient;
  proxy?: FaultProxy;
  /** The kubeconfig the controller runs with: the fault proxy's when there is one, the audited user's with `auditController`, else the seed's. */
  controllerKubeconfigPath: string;
  /** With `auditController`: the seed's audit log of the controller user's requests (startTestEnv's `audit`). */
  auditLogPath?: string;
  webhook?: LoopbackWebhook;
  /** Every shoot namespace's shoot (the real resource manager). */
  shoots?: ShootWorlds;
  /** The stand-in resource manager (either kind). */
  standIn?: FakeResourceManager;
  /**
   * The configuration file for this world's controller: its ONTAP clusters with credentials in files, the
   * shoot webhook, the simulator's map of management LIF endpoints; `extra` top-level keys go over them.
   */
  writeControllerConfig(extra?: Record<string, unknown>, opts?: ControllerConfigFileOptions): string;
  /** `name port` of the listeners the world opened besides the shoots' (the demo says which it closed; a shoot's are in its env). */
  ports(): string[];
  /** Stops everything the world started, last started first; the caller stops its controller before. */
  close(): Promise<void>;
}

/** The audited controller's user name (`auditController`). */
export const AUDITED_CONTROLLER = "controller";

export async function buildWorld(opts: WorldBuildOptions): Promise<BuiltWorld> {
  if (opts.auditController && (opts.seed || opts.faultProxy)) {
    throw new TestEnvError("buildWorld: auditController needs a seed the world starts itself and no fault proxy (drop `seed` or `faultProxy`)", "BAD_OPTIONS");
  }
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), opts.dirPrefix ?? "ontap-world-"));
  const removeDir = !opts.dir && !opts.keepDir;
  const stops: (() => Promise<unknown>)[] = [];
  const sofar: Partial<BuiltWorld> = { dir };
  const part = async <T>(name: WorldPart, start: () => Promise<T>): Promise<T> => {
    opts.progress?.starting?.(name);
    const started = await start();
    return started;
  };
  const ready = (name: WorldPart) => opts.progress?.ready?.(name, sofar);
  const closeStarted = async () => {
    const errors: unknown[] = [];
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => errors.push(err));
    stops.length = 0;
    if (removeDir) rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  };
  try {
    let seedEnv: TestEnv | undefined;
    const seed =
      opts.seed ??
      (await part("seed", async () => {
        seedEnv = await startTestEnv(opts.auditController ? { audit: { users: [AUDITED_CONTROLLER] } } : {});
        const env = seedEnv;
        stops.push(() => env.stop());
        return env;
      }));
    Object.assign(sofar, { seed, seedEnv });
    if (!opts.seed) ready("seed");
    const kube = createKubeClient(loadKubeConfig(seed.kubeconfigPath), opts.kubeTimeoutMs ? { timeoutMs: opts.kubeTimeoutMs } : {});
    sofar.kube = kube;

    const sim = await part("ontap", () =>
      startSimulator({
        clusters: opts.ontap?.clusters ?? 2,
        jobMs: opts.ontap?.jobMs ?? 30,
        latencyMs: opts.ontap?.latencyMs ?? 0,
        ...(opts.ontap?.managementAddresses ? { managementAddresses: opts.ontap.managementAddresses } : {}),
      }),
    );
    stops.push(() => sim.stop());
    const admins = sim.clusters.map((c) => new SimAdmin(c));
    stops.push(() => Promise.all(admins.map((a) => a.close())));
    Object.assign(sofar, { sim, admins });
    ready("ontap");

    let proxy: FaultProxy | undefined;
    if (opts.faultProxy) {
      proxy = await part("fault proxy", () => startFaultProxy({ target: seed.server, caFile: seed.caFile, token: seed.token }));
      const started = proxy;
      stops.push(() => started.stop());
      sofar.proxy = proxy;
      ready("fault proxy");
    }
    const auditedKubeconfig = seedEnv?.auditedKubeconfigs?.[AUDITED_CONTROLLER];
    const controllerKubeconfigPath = proxy ? proxy.kubeconfigFor(dir) : (auditedKubeconfig ?? seed.kubeconfigPath);
    sofar.controllerKubeconfigPath = controllerKubeconfigPath;

    let webhook: LoopbackWebhook | undefined;
    if (opts.shootWebhook !== false) {
      webhook = await part("shoot webhook", () => startLoopbackWebhook(dir));
      const started = webhook;
      stops.push(() => started.close());
      sofar.webhook = webhook;
      ready("shoot webhook");
    }

    const rmChoice = opts.resourceManager;
    let shoots: ShootWorlds | undefined;
    let standIn: FakeResourceManager | undefined;
    if (rmChoice.kind === "real") {
      const pool = startShootWorlds({
        seedKubeconfigPath: seed.kubeconfigPath,
        tridentOperator: rmChoice.tridentOperator,
        healthSyncSeconds: rmChoice.healthSyncSeconds,
        managedResourceSyncSeconds: rmChoice.managedResourceSyncSeconds,
      });
      shoots = pool;
      stops.push(() => pool.stop());
      sofar.shoots = pool;
      if (rmChoice.upfront && rmChoice.upfront.length > 0) {
        const upfront = rmChoice.upfront;
        await part("shoots", () => Promise.all(upfront.map((namespace) => pool.ensure(namespace))));
        ready("shoots");
      }
    } else if (rmChoice.kind !== "none") {
      standIn = rmChoice.kind === "stand-in" ? startFakeResourceManager(kube, { intervalMs: rmChoice.intervalMs }) : startWatchingResourceManager(kube, { parallel: rmChoice.parallel });
      const started = standIn;
      stops.push(() => started.stop());
      sofar.standIn = standIn;
    }

    return {
      dir,
      seed,
      seedEnv,
      sim,
      admins,
      kube,
      proxy,
      controllerKubeconfigPath,
      ...(seedEnv?.auditLogPath ? { auditLogPath: seedEnv.auditLogPath } : {}),
      webhook,
      shoots,
      standIn,
      writeControllerConfig(extra = {}, fileOpts = {}) {
        return writeControllerConfig(
          dir,
          sim.clusters,
          {
            ...(webhook ? { shootWebhook: { url: webhook.url, caFile: webhook.caFile } } : {}),
            // Each simulated SVM management LIF is its own listener; the simulator keeps the address -> URL map.
            credentialsVerification: { managementLifUrlsFile: sim.lifEndpointsFile },
            ...extra,
          },
          fileOpts,
        );
      },
      ports() {
        const port = (url: string) => new URL(url).port;
        return [
          ...(seedEnv ? [`kube-apiserver ${port(seedEnv.server)}`] : []),
          ...sim.clusters.map((c) => `${c.name} ${port(c.url)}`),
          ...(proxy ? [`fault proxy ${port(proxy.url)}`] : []),
          ...(webhook ? [`shoot webhook ${port(webhook.url)}`] : []),
        ];
      },
      close: closeStarted,
    };
  } catch (err) {
    await closeStarted().catch(() => undefined);
    throw err;
  }
}
