import { type RunningSimulator, startSimulator } from "./index.js";

/** Options as commander delivers them: numbers arrive as strings. */
export interface SimulatorCommandOptions {
  clusters?: string;
  latencyMs?: string;
  jobMs?: string;
  certDir?: string;
  bgp?: boolean;
  seed?: string;
  svmLoginOnCluster?: boolean;
}

function integerOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim())) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

/**
 * `gardener-extension-ontap sim`: starts the clusters, prints one JSON ready line on stdout, and
 * resolves once SIGTERM or SIGINT has stopped them.
 */
export async function runSimulatorCommand(opts: SimulatorCommandOptions): Promise<void> {
  const sim: RunningSimulator = await startSimulator({
    clusters: integerOption("clusters", opts.clusters, 1),
    latencyMs: integerOption("latency-ms", opts.latencyMs, 0),
    jobMs: integerOption("job-ms", opts.jobMs, 200),
    certDir: opts.certDir,
    bgp: opts.bgp ?? true,
    seed: integerOption("seed", opts.seed, 1),
    svmLoginOnCluster: opts.svmLoginOnCluster === true,
  });
  // lifEndpointsFile: each SVM management LIF's own listener (address -> URL), kept current while running.
  process.stdout.write(`${JSON.stringify({ ready: true, clusters: sim.clusters, lifEndpointsFile: sim.lifEndpointsFile })}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      sim.stop().then(resolve, (error) => {
        process.stderr.write(`simulator stop failed: ${(error as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
