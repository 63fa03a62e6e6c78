import { type Aggregate, isOntapError, type OntapClient, type Svm } from "../ontap/index.js";

/**
 * Aggregates added to an ONTAP cluster after an SVM was made are assigned to it (the Go extension's PR #89 does
 * the same on every reconcile): an SVM is created with every aggregate its cluster has, and an operator who adds
 * capacity expects the existing SVMs to use it. The SVM lookup carries the SVM's `aggregates`, the cluster's list
 * is read at most once per cluster and MAX_AGE_MS (shared by every shoot on it), so a reconcile with nothing
 * missing costs no request; one PATCH is sent only when an aggregate is missing.
 */

/** How long a cluster's aggregate list is used before it is read again: adding an aggregate is rare and not urgent. */
export const CLUSTER_AGGREGATES_MAX_AGE_MS = 5 * 60_000;

/** What the assignment did, for the step's event; undefined when there was nothing to do. */
export type AggregateAssignment =
  | { kind: "assigned"; names: string[]; jobUuid?: string }
  | { kind: "failed"; names: string[]; reason: string }
  | { kind: "unknown"; reason: string };

/**
 * The SVM's aggr-list with the cluster's aggregates it lacks appended (its own kept first, in its order), or
 * undefined when it lacks none. An SVM whose list the lookup did not bring is left alone (unknown is not empty),
 * as is a MetroCluster sync-destination copy (its configuration follows its source).
 */
export function aggregatesToAssign(svm: Pick<Svm, "aggregateUuids" | "subtype">, clusterAggregates: readonly Aggregate[]): { missing: Aggregate[]; list: string[] } | undefined {
  if (svm.aggregateUuids === undefined || svm.subtype === "sync_destination") return undefined;
  const has = new Set(svm.aggregateUuids);
  const missing = clusterAggregates.filter((a) => !has.has(a.uuid));
  if (missing.length === 0) return undefined;
  return { missing, list: [...svm.aggregateUuids, ...missing.map((a) => a.uuid)] };
}

/** Each cluster's aggregate list, read at most once per `maxAgeMs` (concurrent readers share one read). */
export interface ClusterAggregates {
  get(cluster: string, client: Pick<OntapClient, "listAggregates">): Promise<Aggregate[]>;
  /** A list read elsewhere (the placement of a new SVM) is as fresh as one read here. */
  remember(cluster: string, aggregates: Aggregate[]): void;
  /** The list is known to be out of date: the next `get` reads it. */
  forget(cluster: string): void;
}

export function createClusterAggregates(opts: { maxAgeMs?: number; now?: () => number } = {}): ClusterAggregates {
  const maxAgeMs = opts.maxAgeMs ?? CLUSTER_AGGREGATES_MAX_AGE_MS;
  const now = opts.now ?? Date.now;
  const lists = new Map<string, { at: number; aggregates: Aggregate[] }>();
  const reading = new Map<string, Promise<Aggregate[]>>();
  const remember = (cluster: string, aggregates: Aggregate[]) => lists.set(cluster, { at: now(), aggregates });
  return {
    remember,
    forget: (cluster) => lists.delete(cluster),
    get(cluster, client) {
      const known = lists.get(cluster);
      if (known && now() - known.at < maxAgeMs) return Promise.resolve(known.aggregates);
      const inFlight = reading.get(cluster);
      if (inFlight) return inFlight;
      const read = client
        .listAggregates()
        .then((aggregates) => {
          remember(cluster, aggregates);
          return aggregates;
        })
        .finally(() => reading.delete(cluster));
      reading.set(cluster, read);
      return read;
    },
  };
}

/**
 * Assigns the cluster's aggregates the running SVM lacks (one PATCH with the whole list). ONTAP failing to answer
 * or refusing is reported, not thrown: the SVM serves its volumes on the aggregates it has, so the shoot is not
 * held in Error for capacity it does not need yet; the next reconcile tries again. Anything else (a fenced
 * write, an aborted reconcile) is thrown as usual.
 */
export async function assignMissingAggregates(
  cache: ClusterAggregates,
  cluster: string,
  client: Pick<OntapClient, "listAggregates" | "setSvmAggregates">,
  svm: Svm,
): Promise<AggregateAssignment | undefined> {
  if (svm.aggregateUuids === undefined) return undefined;
  let clusterAggregates: Aggregate[];
  try {
    clusterAggregates = await cache.get(cluster, client);
    // The SVM holds an aggregate the kept list does not know: the cluster changed since it was read (an aggregate
    // added and assigned by someone else, a cluster rebuilt). Read it again rather than act on the old one.
    const known = new Set(clusterAggregates.map((a) => a.uuid));
    if (svm.aggregateUuids.some((uuid) => !known.has(uuid))) {
      cache.forget(cluster);
      clusterAggregates = await cache.get(cluster, client);
    }
  } catch (err) {
    if (!isOntapError(err)) throw err;
    return { kind: "unknown", reason: `cannot list the aggregates of cluster ${cluster}: ${err.message}` };
  }
  const change = aggregatesToAssign(svm, clusterAggregates);
  if (!change) return undefined;
  const names = change.missing.map((a) => a.name);
  try {
    const { job } = await client.setSvmAggregates(svm.uuid, change.list);
    return { kind: "assigned", names, ...(job ? { jobUuid: job.uuid } : {}) };
  } catch (err) {
    if (!isOntapError(err)) throw err;
    // Perhaps an aggregate of the kept list is gone: the next reconcile reads the list again.
    cache.forget(cluster);
    return { kind: "failed", names, reason: err.message };
  }
}

/** The event that says what the assignment did. */
export function aggregateAssignmentEvent(svmName: string, cluster: string, a: AggregateAssignment): { type: "Normal" | "Warning"; reason: string; message: string } {
  switch (a.kind) {
    case "assigned":
      return {
        type: "Normal",
        reason: "AggregatesAssigned",
        message: `assigned aggregate(s) ${a.names.join(", ")} of cluster ${cluster} to SVM ${svmName}${a.jobUuid ? ` (job ${a.jobUuid})` : ""}`,
      };
    case "failed":
      return {
        type: "Warning",
        reason: "AggregatesNotAssigned",
        message: `could not assign aggregate(s) ${a.names.join(", ")} of cluster ${cluster} to SVM ${svmName}: ${a.reason}; the SVM keeps the aggregates it has, the next reconcile tries again`,
      };
    case "unknown":
      return {
        type: "Warning",
        reason: "AggregatesNotChecked",
        message: `whether SVM ${svmName} lacks aggregates of cluster ${cluster} was not checked: ${a.reason}; the next reconcile tries again`,
      };
  }
}
