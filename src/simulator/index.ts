import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SimCluster, type SimPasswordRules } from "./cluster.js";
import { type LifEndpointInfo, LifEndpoints } from "./lif-endpoints.js";
import { ClusterServer } from "./server.js";
import { generateTls } from "./tls.js";

export interface SimulatorOptions {
  /** Number of simulated clusters (2 = a MetroCluster pair). Default 1. */
  clusters?: number;
  /** Latency added to every REST request (not to /__sim). Default 0. */
  latencyMs?: number;
  /** Duration of asynchronous jobs (SVM create/delete). Default 20 (the CLI defaults to 200). */
  jobMs?: number;
  /** Where the CA and server certificate are written; default a temporary directory removed on stop. */
  certDir?: string;
  /** Whether the clusters start with BGP peer groups. Default true. */
  bgp?: boolean;
  /** Seed for probabilistic fault rules. Default 1. */
  seed?: number;
  /**
   * Lenient: SVM-scoped accounts may also log in on the cluster management interface. Default false: they are
   * refused there (401) and authenticate only at their SVM's management LIF, the endpoint Trident uses.
   */
  svmLoginOnCluster?: boolean;
  /** Password rules of the SVM users' role, enforced on account create and password change. Default: length 8. */
  passwordRules?: SimPasswordRules;
  /**
   * Where each cluster's management interface listens, by cluster (as ONTAP has it: an address of its own, port
   * 443): for a client that takes a bare IP address, as the Go extension's `ipaddress` does. A loopback address
   * (127.0.0.0/8) each; the server certificate names them. Default: 127.0.0.1 on a free port.
   */
  managementAddresses?: readonly string[];
}

export interface SimClusterInfo {
  name: string;
  url: string;
  username: string;
  password: string;
  caFile: string;
}

export interface RunningSimulator {
  clusters: SimClusterInfo[];
  /**
   * JSON file mapping each SVM management LIF address to the URL of its listener, kept current as LIFs come and
   * go; the format of the controller's `credentialsVerification.managementLifUrlsFile`.
   */
  lifEndpointsFile: string;
  lifEndpoints(): Record<string, LifEndpointInfo>;
  stop(): Promise<void>;
}

const ADMIN_USERNAME = "admin";

function checkCount(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`simulator option ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Starts one HTTPS server per simulated cluster on 127.0.0.1, all trusting one generated CA. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const count = checkCount("clusters", opts.clusters ?? 1, 1, 32);
  const latencyMs = checkCount("latencyMs", opts.latencyMs ?? 0, 0, 600_000);
  const jobMs = checkCount("jobMs", opts.jobMs ?? 20, 0, 3_600_000);
  const seed = checkCount("seed", opts.seed ?? 1, 0, 2 ** 32 - 1);
  const addresses = opts.managementAddresses ?? [];
  for (const address of addresses) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) throw new RangeError(`simulator option managementAddresses: ${address} is not a loopback IPv4 address`);
  }
  const tls = await generateTls(opts.certDir, addresses);
  const servers: ClusterServer[] = [];
  const clusters: SimClusterInfo[] = [];
  const sims: SimCluster[] = [];
  const serverOf = new Map<SimCluster, ClusterServer>();
  const lifs = new LifEndpoints(() => sims, tls, join(tls.dir, "lif-endpoints.json"), (req, res, target, address) =>
    serverOf.get(target.cluster)?.handleLif(req, res, target, address),
  );
  try {
    for (let i = 1; i <= count; i++) {
      const name = `sim-${i}`;
      const password = randomBytes(18).toString("base64url");
      const sim = new SimCluster({
        name,
        adminUsername: ADMIN_USERNAME,
        adminPassword: password,
        bgp: opts.bgp ?? true,
        jobMs,
        latencyMs,
        seed,
        svmLoginOnCluster: opts.svmLoginOnCluster ?? false,
        passwordRules: { ...opts.passwordRules },
      });
      const server = new ClusterServer(sim, tls);
      server.lifs = lifs;
      sim.lifEndpoints = lifs;
      sims.push(sim);
      serverOf.set(sim, server);
      servers.push(server);
      const address = addresses[i - 1];
      const port = await server.listen(address ? 443 : 0, address);
      const url = address ? `https://${address}` : `https://127.0.0.1:${port}`;
      clusters.push({ name, url, username: ADMIN_USERNAME, password, caFile: tls.caFile });
    }
  } catch (error) {
    await lifs.close();
    await Promise.all(servers.map((s) => s.close()));
    await tls.cleanup();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    clusters,
    lifEndpointsFile: lifs.file,
    lifEndpoints: () => lifs.list(),
    stop: () => {
      stopped ??= lifs
        .close()
        .then(() => Promise.all(servers.map((s) => s.close())))
        .then(() => tls.cleanup());
      return stopped;
    },
  };
}
