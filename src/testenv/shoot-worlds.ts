import { createKubeClient, type KubeClient } from "../kube/client.js";
import { loadKubeConfig } from "../kube/config.js";
import { type ShootEnv, startShootEnv } from "./shoot.js";
import { type ShootWorkloads, startShootWorkloads } from "./shoot-workloads.js";
import { startTridentOperatorStandIn, type TridentOperatorStandIn } from "./trident-operator.js";

/**
 * One shoot per shoot namespace, as in Gardener: each seed namespace `shoot--<project>--<shoot>` a test uses
 * gets its own shoot kube-apiserver + etcd and its own gardener-resource-manager (source = that one seed
 * namespace, target = that shoot), started the first time the namespace asks and reused for every later ask.
 * One shoot API server cannot play two shoots: two namespaces' resource managers would fight over the same
 * objects (kube-system/trident-operator of both), so two shoots of one project are two shoots here too.
 *
 * Each shoot also runs what its missing controllers would do (shoot-workloads.ts) and, unless told not to,
 * Trident's operator stand-in (trident-operator.ts), so a ManagedResource applies and turns healthy as in a
 * shoot with nodes. A shoot world costs two processes plus the resource manager (about 6-7 s of both cores to
 * start, 1-2 s to stop): ask for it when the first ManagedResource of the namespace exists, release it when
 * the shoot is done with.
 */
export interface ShootSide {
  namespace: string;
  env: ShootEnv;
  /** Admin client of this shoot's kube-apiserver. */
  kube: KubeClient;
  workloads: ShootWorkloads;
  /** Trident's operator stand-in; undefined when the pool was told the test plays the operator itself. */
  operator?: TridentOperatorStandIn;
}

export interface ShootWorlds {
  /** The shoot of `namespace`, started on the first ask; later asks (also concurrent ones) get the same. */
  ensure(namespace: string): Promise<ShootSide>;
  /** The shoot of `namespace` if it is up (or starting: then after it started), else undefined. */
  get(namespace: string): Promise<ShootSide | undefined>;
  /** Namespaces asked for so far, in order. */
  namespaces(): string[];
  /** The API server URL of the shoot of `namespace` once it is up (the controller's health check reads it there). */
  server(namespace: string): string | undefined;
  /** Stops the shoot of `namespace` (its processes and stand-ins); a later `ensure` starts a fresh one. */
  release(namespace: string): Promise<void>;
  /** Stops every shoot; every start that failed is reported here as well, so none goes unnoticed. */
  stop(): Promise<void>;
}

export interface ShootWorldsOptions {
  seedKubeconfigPath: string;
  /** Run Trident's operator stand-in in each shoot (default true). */
  tridentOperator?: boolean;
  healthSyncSeconds?: number;
  managedResourceSyncSeconds?: number;
}

export function startShootWorlds(opts: ShootWorldsOptions): ShootWorlds {
  const started = new Map<string, Promise<ShootSide>>();
  const servers = new Map<string, string>();
  const failures: unknown[] = [];
  const start = async (namespace: string): Promise<ShootSide> => {
    const env = await startShootEnv({
      seedKubeconfigPath: opts.seedKubeconfigPath,
      namespaces: [namespace],
      healthSyncSeconds: opts.healthSyncSeconds,
      managedResourceSyncSeconds: opts.managedResourceSyncSeconds,
    });
    const kube = createKubeClient(loadKubeConfig(env.kubeconfigPath));
    return {
      namespace,
      env,
      kube,
      workloads: startShootWorkloads(kube),
      operator: opts.tridentOperator === false ? undefined : startTridentOperatorStandIn(kube),
    };
  };
  const stopSide = async (side: ShootSide) => {
    await side.operator?.stop();
    await side.workloads.stop();
    await side.env.stop();
  };
  return {
    ensure(namespace) {
      let side = started.get(namespace);
      if (!side) {
        side = start(namespace);
        side.then((up) => started.get(namespace) === side && servers.set(namespace, up.env.server)).catch((err: unknown) => failures.push(err));
        started.set(namespace, side);
      }
      return side;
    },
    async get(namespace) {
      return started.get(namespace)?.catch(() => undefined);
    },
    namespaces: () => [...started.keys()],
    server: (namespace) => servers.get(namespace),
    async release(namespace) {
      const side = started.get(namespace);
      started.delete(namespace);
      servers.delete(namespace);
      const up = await side?.catch(() => undefined);
      if (up) await stopSide(up);
    },
    async stop() {
      const sides = [...started.values()];
      started.clear();
      servers.clear();
      await Promise.all(sides.map(async (s) => {
        const up = await s.catch(() => undefined);
        if (up) await stopSide(up);
      }));
      if (failures.length > 0) {
        throw new Error(`starting ${failures.length} shoot world(s) failed: ${failures.map((e) => (e instanceof Error ? e.message : String(e))).join("; ")}`);
      }
    },
  };
}
