import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type TestEnv, installCrds, readCrds, startApiServer, startTestEnv } from "./apiserver.js";
import { resolveBinaries } from "./binaries.js";
import { generateServingCert } from "./ca.js";
import { TestEnvError } from "./errors.js";
import { httpStatus, httpsRequest } from "./http.js";
import { freePorts, openEnvDir, startProcess, waitForReadiness } from "./processes.js";

/**
 * The shoot side of the test world: a second kube-apiserver + etcd that plays a shoot cluster, and the real
 * gardener-resource-manager (built by hack/build-kube-binaries.sh from github.com/gardener/gardener) that
 * applies the seed's ManagedResources to it, exactly as the one in a shoot's control plane does.
 *
 * The resource manager runs with its own component configuration (DIR/gardener-resource-manager.yaml):
 * source = the seed kube-apiserver, target = this shoot. What Gardener enables for a shoot's resource manager
 * is on (the ManagedResource, health and progressing controllers, the garbage collector of hash-named Secrets,
 * the token requestor); what needs kubelets, nodes or a scheduler is off, because none run here:
 * - csrApprover (approves kubelet serving-certificate CSRs),
 * - nodeCriticalComponents and nodeAgentReconciliationDelay (taint and watch Node objects),
 * - every webhook of its own (they mutate Pods for scheduling, tokens, topology and seccomp, or authorize
 *   node agents; gardenlet registers them in a real shoot, nobody does here, and no Pod ever runs).
 * networkPolicy, crdDeletionProtection and extensionValidation are off as in Gardener's shoot resource managers
 * (they belong to the seed's own one).
 *
 * Nothing else of a cluster runs in the shoot: no kube-controller-manager, scheduler or kubelet (see
 * shoot-workloads.ts for the two things of theirs the tests need, done in the open).
 */
export interface ShootEnv {
  /** DIR/kubeconfig of the shoot's admin identity. */
  kubeconfigPath: string;
  server: string;
  token: string;
  caFile: string;
  dir: string;
  resourceManager: {
    /** http://127.0.0.1:PORT of its health probes (/healthz, /readyz). */
    healthUrl: string;
    /** http://127.0.0.1:PORT/metrics */
    metricsUrl: string;
    logFile: string;
    configFile: string;
    /** Seed namespaces whose ManagedResources it applies; empty = every namespace. */
    namespaces: string[];
  };
  stop(): Promise<void>;
}

export interface ShootEnvOptions {
  /** The seed's kubeconfig (source of the ManagedResources). */
  seedKubeconfigPath: string;
  /** Directory for the shoot's files; a fresh one under TESTENV_ROOT when omitted. */
  dir?: string;
  /**
   * Seed namespaces the resource manager watches (`sourceClientConnection.namespaces`). In Gardener each shoot
   * namespace has its own resource manager for its own shoot; one shoot API server can only stand for one
   * shoot, so give the shoot's namespace here. Omitted: every namespace (convenient for `testenv up`, where
   * the user creates whatever shoot namespace they like; a second shoot namespace would then fight over the
   * same shoot objects, which the resource manager reports as a conflict in ResourcesApplied).
   */
  namespaces?: string[];
  /** How often the resource manager re-checks the health of applied objects (Gardener's default 1m; its minimum 15s). */
  healthSyncSeconds?: number;
  /** How often it re-applies every ManagedResource even when nothing changed (Gardener's default 1m). */
  managedResourceSyncSeconds?: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** CRDs and namespaces every metal-stack shoot has before this extension arrives (hack/crds/shoot). */
export const SHOOT_CRD_DIR = path.join(repoRoot, "hack", "crds", "shoot");
const SHOOT_NAMESPACES = ["firewall"];
const GRM = "gardener-resource-manager";

export async function startShootEnv(opts: ShootEnvOptions): Promise<ShootEnv> {
  const binaries = resolveBinaries();
  if (!binaries.gardenerResourceManager) {
    throw new TestEnvError(
      "gardener-resource-manager binary not found (looked at TESTENV_GARDENER_RESOURCE_MANAGER_BIN and binaries.env); " +
        "run `bash hack/build-kube-binaries.sh` first",
      "BINARIES_MISSING",
    );
  }
  const { dir, children, stop } = await openEnvDir(opts.dir);
  try {
    // Gardener runs every shoot's kube-apiserver with --allow-privileged=true: Trident's node plugin (and the
    // webhook's nvme-tcp init container) are privileged, which the default refuses.
    // Gardener's shoot kube-apiservers also accept the audience `gardener`: the token requestor asks for it, and the
    // tokens it puts into extensions' shoot-access Secrets are refused without it.
    const api = await startApiServer(dir, binaries, children, "shoot", ["--allow-privileged=true", "--api-audiences=kubernetes,gardener"]);
    await installCrds(api, await readCrds(SHOOT_CRD_DIR));
    for (const name of SHOOT_NAMESPACES) {
      const { status, body } = await httpsRequest("POST", `${api.server}/api/v1/namespaces`, api, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name },
      });
      if (status !== 201 && status !== 409) {
        throw new TestEnvError(`creating namespace ${name} in the shoot failed: HTTP ${status}: ${body.slice(0, 300)}`, "NOT_READY");
      }
    }

    // Its webhook server must start even with every webhook off (readiness waits for it): it wants a pair.
    const certDir = path.join(dir, `${GRM}-certs`);
    const serving = await generateServingCert(path.join(dir, "pki", "grm"), GRM);
    await mkdir(certDir, { recursive: true });
    await writeFile(path.join(certDir, "tls.crt"), serving.certPem);
    await writeFile(path.join(certDir, "tls.key"), serving.keyPem, { mode: 0o600 });

    const [webhookPort, healthPort, metricsPort] = await freePorts(3);
    const namespaces = opts.namespaces ?? [];
    const configFile = path.join(dir, `${GRM}.yaml`);
    await writeFile(
      configFile,
      `${JSON.stringify(
        resourceManagerConfig({
          seedKubeconfig: path.resolve(opts.seedKubeconfigPath),
          shootKubeconfig: api.kubeconfigPath,
          namespaces,
          certDir,
          webhookPort: webhookPort!,
          healthPort: healthPort!,
          metricsPort: metricsPort!,
          // It refuses less than 15s; it also re-checks when a watched object changes.
          healthSyncSeconds: Math.max(15, opts.healthSyncSeconds ?? 15),
          managedResourceSyncSeconds: opts.managedResourceSyncSeconds ?? 60,
        }),
        null,
        2,
      )}\n`,
    );
    const grm = startProcess(dir, GRM, binaries.gardenerResourceManager, [`--config=${configFile}`]);
    children.push(grm);
    const healthUrl = `http://127.0.0.1:${healthPort}`;
    await waitForReadiness({
      what: GRM,
      dir,
      processes: { [GRM]: grm },
      async probe() {
        const status = await httpStatus(`${healthUrl}/readyz`);
        return status === 200 || `HTTP ${status}`;
      },
    });
    return {
      kubeconfigPath: api.kubeconfigPath,
      server: api.server,
      token: api.token,
      caFile: api.caFile,
      dir,
      resourceManager: {
        healthUrl,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        logFile: path.join(dir, `${GRM}.log`),
        configFile,
        namespaces,
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** `ResourceManagerConfiguration` (resourcemanager.config.gardener.cloud/v1alpha1) for a shoot's resource manager. */
export function resourceManagerConfig(input: {
  seedKubeconfig: string;
  shootKubeconfig: string;
  namespaces: string[];
  certDir: string;
  webhookPort: number;
  healthPort: number;
  metricsPort: number;
  healthSyncSeconds: number;
  managedResourceSyncSeconds: number;
}): object {
  const off = { enabled: false };
  return {
    apiVersion: "resourcemanager.config.gardener.cloud/v1alpha1",
    kind: "ResourceManagerConfiguration",
    sourceClientConnection: {
      kubeconfig: input.seedKubeconfig,
      qps: 100,
      burst: 130,
      ...(input.namespaces.length > 0 ? { namespaces: input.namespaces } : {}),
    },
    targetClientConnection: { kubeconfig: input.shootKubeconfig, qps: 100, burst: 130 },
    // One instance per shoot here; Gardener runs it with leader election because it runs replicas.
    leaderElection: { leaderElect: false, resourceLock: "leases", resourceName: GRM, resourceNamespace: "default" },
    server: {
      webhooks: { bindAddress: "127.0.0.1", port: input.webhookPort, tls: { serverCertDir: input.certDir } },
      healthProbes: { bindAddress: "127.0.0.1", port: input.healthPort },
      metrics: { bindAddress: "127.0.0.1", port: input.metricsPort },
    },
    logLevel: "info",
    logFormat: "json",
    controllers: {
      resourceClass: "resources",
      garbageCollector: { enabled: true, syncPeriod: "1m" },
      health: { concurrentSyncs: 5, syncPeriod: `${input.healthSyncSeconds}s` },
      managedResource: { concurrentSyncs: 5, syncPeriod: `${input.managedResourceSyncSeconds}s`, alwaysUpdate: false },
      tokenRequestor: { enabled: true, concurrentSyncs: 2 },
      csrApprover: off,
      nodeCriticalComponents: off,
      nodeAgentReconciliationDelay: off,
      networkPolicy: off,
      istioClusterConfiguration: off,
    },
    webhooks: {
      crdDeletionProtection: off,
      extensionValidation: off,
      highAvailabilityConfig: off,
      kubernetesServiceHost: off,
      systemComponentsConfig: off,
      podKubeAPIServerLoadBalancing: off,
      podSchedulerName: off,
      podTopologySpreadConstraints: off,
      projectedTokenMount: off,
      nodeAgentAuthorizer: off,
      seccompProfile: off,
      vpaInPlaceUpdates: off,
    },
  };
}

/** The seed test environment with a shoot and its resource manager in DIR/shoot (`testenv up --with-shoot`). */
export interface TestEnvWithShoot extends TestEnv {
  shoot: ShootEnv;
}

export async function startTestEnvWithShoot(
  opts: { dir?: string; namespaces?: string[]; healthSyncSeconds?: number } = {},
): Promise<TestEnvWithShoot> {
  const seed = await startTestEnv({ dir: opts.dir });
  try {
    const shoot = await startShootEnv({
      seedKubeconfigPath: seed.kubeconfigPath,
      dir: path.join(seed.dir, "shoot"),
      namespaces: opts.namespaces,
      healthSyncSeconds: opts.healthSyncSeconds,
    });
    return {
      ...seed,
      shoot,
      async stop() {
        await shoot.stop();
        await seed.stop();
      },
    };
  } catch (error) {
    await seed.stop().catch(() => undefined);
    throw error;
  }
}
