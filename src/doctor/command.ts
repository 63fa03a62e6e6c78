import { type ComponentConfig, ConfigError, loadComponentConfig } from "../config/component-config.js";
import { createKubeClient } from "../kube/client.js";
import { loadKubeConfig } from "../kube/config.js";
import { createOntapClient, type OntapClient } from "../ontap/index.js";
import { diagnose, type ShootDiagnosis, worstVerdict } from "../diagnosis/diagnose.js";
import type { ShootObservation } from "../diagnosis/observation.js";
import { type DoctorDeps, findOntapShoots, observeShoot } from "../diagnosis/observe.js";
import { renderJson, renderReport } from "./render.js";

export interface DoctorCommandOptions {
  config: string;
  kubeconfig?: string;
  namespace?: string;
  output: string;
  verbose?: boolean;
  timeoutSeconds: string;
}

export interface DoctorResult {
  diagnosis: ShootDiagnosis;
  observation: ShootObservation;
}

/** Exit codes: 0 every shoot healthy, 1 any shoot degraded, broken or unknown, 2 bad usage or configuration. */
export const EXIT_HEALTHY = 0;
export const EXIT_NOT_HEALTHY = 1;
export const EXIT_USAGE = 2;

/** Diagnoses one shoot namespace, or every shoot this extension class handles. Read-only. */
export async function runDoctor(deps: DoctorDeps, opts: { namespace?: string; concurrency?: number } = {}): Promise<DoctorResult[]> {
  const namespaces = opts.namespace ? [opts.namespace] : await findOntapShoots(deps);
  const results: DoctorResult[] = new Array(namespaces.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < namespaces.length; i = next++) {
      const observation = await observeShoot(deps, namespaces[i] ?? "");
      results[i] = { observation, diagnosis: diagnose(observation) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, namespaces.length) }, worker));
  return results;
}

/** Clients for diagnosis: short timeouts and one retry, so an unreachable cluster is reported quickly. */
export function createDoctorClients(config: ComponentConfig, timeoutMs: number): OntapClient[] {
  return config.clusters.map((cluster) =>
    createOntapClient(
      { ...cluster, timeoutMs: Math.min(cluster.timeoutMs, timeoutMs) },
      { retry: { maxAttempts: 2, maxElapsedMs: timeoutMs } },
    ),
  );
}

/** `gardener-extension-ontap doctor`; returns the exit code. */
export async function runDoctorCommand(opts: DoctorCommandOptions): Promise<number> {
  const fail = (message: string, code = EXIT_USAGE) => {
    process.stderr.write(`gardener-extension-ontap doctor: ${message}\n`);
    return code;
  };
  if (opts.output !== "table" && opts.output !== "json") return fail(`--output must be "table" or "json", got "${opts.output}"`);
  const timeoutSeconds = Number(opts.timeoutSeconds);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) return fail(`--timeout-seconds must be a positive number, got "${opts.timeoutSeconds}"`);
  if (opts.namespace !== undefined && !/^shoot--[a-z0-9-]+--[a-z0-9][a-z0-9-]*$/.test(opts.namespace)) {
    return fail(`--namespace must be a shoot namespace (shoot--<project>--<shoot>), got "${opts.namespace}"`);
  }
  let config: ComponentConfig;
  try {
    config = loadComponentConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  let kube: DoctorDeps["kube"];
  try {
    kube = createKubeClient(loadKubeConfig(opts.kubeconfig), { timeoutMs: timeoutSeconds * 1000, userAgent: "gardener-extension-ontap-doctor" });
  } catch (err) {
    return fail(`cannot load the kubeconfig: ${(err as Error).message}`);
  }
  const clients = createDoctorClients(config, timeoutSeconds * 1000);
  try {
    let results: DoctorResult[];
    try {
      results = await runDoctor({ kube, clients, config }, { namespace: opts.namespace });
    } catch (err) {
      return fail(`cannot list the Extensions: ${(err as Error).message}`, EXIT_NOT_HEALTHY);
    }
    const text =
      opts.output === "json"
        ? renderJson(results)
        : renderReport(
            results.map((r) => r.diagnosis),
            { verbose: opts.verbose },
          );
    process.stdout.write(`${text}\n`);
    const verdict = worstVerdict(results.map((r) => r.diagnosis.verdict));
    return verdict === "healthy" ? EXIT_HEALTHY : EXIT_NOT_HEALTHY;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
