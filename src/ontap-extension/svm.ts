import { ExtensionError } from "../extension/errors.js";
import type { MetroCluster, OntapClient, Svm } from "../ontap/index.js";
import { codesForInfraErrors } from "./codes.js";
import type { ShootPlan } from "./plan.js";
import { ok, requeue, type StepResult } from "./result.js";

export interface SvmOnCluster {
  cluster: string;
  client: OntapClient;
  svm: Svm;
}

export interface SvmDeps {
  metro: MetroCluster;
  clients: ReadonlyMap<string, OntapClient>;
  /** The cluster an earlier run chose for this SVM, from status.providerStatus. */
  recordedCluster?: string;
  /** Persists the chosen cluster before the create call that could lose its answer. */
  recordPlacement: (cluster: string) => Promise<void>;
  pollMs?: number;
}

const SETTLING_STATES = new Set(["initializing", "starting"]);

/** Observe the SVM on every cluster, then decide: use it, wait for it, create it, or refuse to guess. */
export async function ensureSvm(deps: SvmDeps, plan: ShootPlan): Promise<StepResult<SvmOnCluster>> {
  const pollMs = deps.pollMs ?? 2000;
  const lookup = await deps.metro.findSvm(plan.svmName);
  switch (lookup.kind) {
    case "unknown":
      throw new ExtensionError(
        `cannot tell whether SVM ${plan.svmName} exists: ${lookup.errors
          .map((e) => `cluster ${e.cluster}: ${e.error.message}`)
          .join("; ")}; no SVM is created while any cluster cannot answer; will retry`,
        codesForInfraErrors(lookup.errors.map((e) => e.error)),
        true,
      );
    case "several":
      throw new ExtensionError(
        `SVM ${plan.svmName} exists on several clusters (${lookup.found
          .map((f) => `${f.cluster}: ${f.svm.uuid} ${f.svm.state}`)
          .join(", ")}); refusing to pick one: remove the wrong copy on ONTAP`,
        ["ERR_INFRA_DEPENDENCIES"],
        true,
      );
    case "found": {
      const client = clientFor(deps, lookup.cluster);
      const { svm } = lookup;
      if (svm.state === "running") {
        if (svm.nvmeEnabled === false) {
          throw new ExtensionError(
            `SVM ${svm.name} on ${lookup.cluster} is running without NVMe enabled; enable the NVMe service on it`,
            ["ERR_INFRA_DEPENDENCIES"],
            true,
          );
        }
        return ok({ cluster: lookup.cluster, client, svm });
      }
      if (SETTLING_STATES.has(svm.state)) {
        return requeue(pollMs, `SVM ${svm.name} on ${lookup.cluster} is ${svm.state}`);
      }
      if (svm.state === "deleting") {
        return requeue(pollMs * 2, `SVM ${svm.name} on ${lookup.cluster} is being deleted; it is created anew once gone`);
      }
      throw new ExtensionError(
        `SVM ${svm.name} on ${lookup.cluster} is ${svm.state}; start it on ONTAP (it is not recreated, its data may live there)`,
        ["ERR_INFRA_DEPENDENCIES"],
        true,
      );
    }
    case "absent":
      return createSvm(deps, plan, pollMs);
  }
}

async function createSvm(deps: SvmDeps, plan: ShootPlan, pollMs: number): Promise<StepResult<SvmOnCluster>> {
  const cluster =
    deps.recordedCluster && deps.clients.has(deps.recordedCluster)
      ? deps.recordedCluster
      : await placementCluster(deps.clients);
  const client = clientFor(deps, cluster);
  await deps.recordPlacement(cluster);
  const aggregates = await client.listAggregates();
  if (aggregates.length === 0) {
    throw new ExtensionError(`cluster ${cluster} has no aggregates to place SVM ${plan.svmName} on`, ["ERR_INFRA_RESOURCES_DEPLETED"], true);
  }
  const created = await client.createSvm({ name: plan.svmName, aggregateUuids: aggregates.map((a) => a.uuid) });
  if (created.svm?.state === "running" && created.svm.nvmeEnabled !== false) {
    return ok({ cluster, client, svm: created.svm });
  }
  return requeue(pollMs, `SVM ${plan.svmName} is being created on ${cluster}${created.job ? ` (job ${created.job.uuid})` : ""}`);
}

/**
 * Where a new SVM goes: the cluster whose aggregates hold the fewest volumes; ties go to the smallest
 * cluster name, not to the first in this controller's list. Gardener hands every seed the same component
 * configuration, so two controllers on two seeds racing to create one project's SVM (both looked, both
 * found nothing) read the same counts and pick the same cluster whatever order they list the clusters in;
 * there the SVM name is unique, and the second create meets "duplicate" and finds the first instead of
 * creating a second copy. Left open: counts that change between the two reads (a volume created in that
 * instant); the SVM lookup then finds it on two clusters and stops with an error for an operator.
 */
export async function placementCluster(clients: ReadonlyMap<string, OntapClient>): Promise<string> {
  const counts = await Promise.all(
    [...clients].map(async ([name, client]) => {
      const aggregates = await client.listAggregates();
      return { name, volumes: aggregates.reduce((sum, a) => sum + (a.volumeCount ?? 0), 0) };
    }),
  );
  counts.sort((a, b) => a.volumes - b.volumes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const first = counts[0];
  if (!first) throw new ExtensionError("no ONTAP cluster is configured", ["ERR_CONFIGURATION_PROBLEM"], false);
  return first.name;
}

function clientFor(deps: SvmDeps, cluster: string): OntapClient {
  const client = deps.clients.get(cluster);
  if (!client) throw new ExtensionError(`ONTAP cluster ${cluster} is not configured`, ["ERR_CONFIGURATION_PROBLEM"], false);
  return client;
}
