import { codesForInfraErrors, ExtensionError } from "../extension/errors.js";
import type { GardenerErrorCode } from "../extension/types.js";
import { type Aggregate, type Job, type JobRef, knownHome, type MetroCluster, type OntapClient, type Svm, scopeOntapClient } from "../ontap/index.js";
import { done, requeue, type StepResult } from "../runtime/result.js";
import type { ShootPlan } from "./plan.js";
import { aggregateAssignmentEvent, assignMissingAggregates, type ClusterAggregates } from "./svm-aggregates.js";
import { describeContents, judgeRaceCopies } from "./svm-race.js";

export interface SvmOnCluster {
  cluster: string;
  /** Its cluster's client; while `recorded` is under way, its ONTAP writes wait for it. */
  client: OntapClient;
  svm: Svm;
  /**
   * The write of the SVM's placement to status.providerStatus when this pass found it unrecorded: under way
   * beside the reads that follow, finished before any ONTAP write on the SVM (`client` waits for it).
   */
  recorded?: Promise<void>;
}

/**
 * SVM create jobs this process started and has not seen finish, by SVM name, shared by every shoot of the
 * project. While one runs, a reconcile looks at the job (one request on one cluster) instead of looking the
 * SVM up on every cluster, and comes back when the job should be done: after the duration the last job on that
 * cluster took, then in short steps. Lost on restart, which only costs the plain lookup-and-requeue path.
 */
export interface SvmJobTracker {
  /** `lastPollAt`: when it was last seen still running (the job ended between that and the next look). */
  pending: Map<string, { cluster: string; job: JobRef; startedAt: number; lastPollAt?: number }>;
  /** Per cluster: how long the last SVM job took from its 202 to the poll that saw it succeed (ms). */
  lastDurationMs: Map<string, number>;
}

export function createSvmJobTracker(): SvmJobTracker {
  return { pending: new Map(), lastDurationMs: new Map() };
}

/**
 * What an SVM job on `cluster` is expected to take: its own last job's duration, else one a sibling cluster
 * measured. The clusters of a MetroCluster are mirrored peers doing the same work, so a sibling's figure is
 * a far better first guess than none (a third late at worst); a wrong one is corrected by this cluster's
 * first job.
 */
export function expectedJobMs(jobs: SvmJobTracker, cluster: string): number | undefined {
  return jobs.lastDurationMs.get(cluster) ?? jobs.lastDurationMs.values().next().value;
}

/** The shortest wait between two looks at a job. */
export const JOB_POLL_STEP_MS = 100;

/**
 * When to look at a running job again. With the last job's duration on this cluster known: exactly when that
 * much time has passed, and past it in steps of a twentieth of it (the estimate is the midpoint between two
 * looks, so the job usually ends within a step of it: a late look costs about 5%), growing with the overshoot
 * when this job runs much longer than the last. Unknown: steps of a third of the time waited (polls at 0.1,
 * 0.2, 0.3, 0.4, 0.5, 0.7, 0.95, 1.3, 1.7, 2.2, 3 s ...: at most a third late, a dozen looks for the first
 * job a cluster runs after a start). Never beyond `capMs`.
 */
export function nextJobPollMs(elapsedMs: number, expectedMs: number | undefined, capMs: number): number {
  let wait: number;
  if (expectedMs === undefined) wait = elapsedMs / 3;
  else if (elapsedMs < expectedMs) wait = expectedMs - elapsedMs;
  else wait = Math.max(expectedMs / 20, (elapsedMs - expectedMs) / 2);
  return Math.round(Math.min(capMs, Math.max(JOB_POLL_STEP_MS, wait)));
}

export interface SvmDeps {
  metro: MetroCluster;
  /** The SVM create jobs in flight; without it every wait is the lookup-and-requeue path. */
  jobs?: SvmJobTracker;
  now?: () => number;
  clients: ReadonlyMap<string, OntapClient>;
  /** The cluster an earlier run chose for this SVM, from status.providerStatus. */
  recordedCluster?: string;
  /** Persists the chosen cluster before the create call that could lose its answer, and the SVM found before it is used. */
  recordPlacement: (cluster: string) => Promise<void>;
  pollMs?: number;
  /** Each cluster's aggregate list, kept a while; with it, a running SVM gets the aggregates it lacks (svm-aggregates.ts). */
  aggregates?: ClusterAggregates;
  /** An event on the Extension (what the aggregate assignment did). */
  event?: (type: "Normal" | "Warning", reason: string, message: string) => void;
}

const SETTLING_STATES = new Set(["initializing", "starting"]);

/** Observe the SVM on every cluster, then decide: use it, wait for it, create it, or refuse to guess. */
export async function ensureSvm(deps: SvmDeps, plan: ShootPlan): Promise<StepResult<SvmOnCluster>> {
  return observeAndDecide(deps, plan, false);
}

/**
 * What the SVM step observed of the project's SVM across the clusters, in the observation vocabulary
 * (observation/observed.ts: found / absent / unknown), plus the one state only a lookup across clusters has:
 * copies on several clusters (two controllers raced). While some cluster cannot answer, the copy on the
 * recorded home cluster counts as found (repair goes on there); otherwise that is unknown, never absent.
 */
export type SvmObservation =
  | { kind: "found"; value: { cluster: string; svm: Svm } }
  | { kind: "absent" }
  | { kind: "unknown"; cause: string; codes: GardenerErrorCode[] }
  | { kind: "several"; copies: { cluster: string; svm: Svm }[] };

/** What the SVM step does about what it observed. */
export type SvmDecision =
  /** Running with NVMe: build on it (its placement recorded, missing aggregates assigned). */
  | { act: "use"; cluster: string; svm: Svm }
  /** Not ready (settling, being deleted, just created and not listed yet): look again after `polls` poll intervals. */
  | { act: "wait"; polls: 1 | 2; reason: string }
  | { act: "create" }
  /** Copies on several clusters: judge which one lives (svm-race.ts). */
  | { act: "settle-race"; copies: { cluster: string; svm: Svm }[] }
  /** Stopped, without NVMe, or unknown: an error that says what to do; nothing is written. */
  | { act: "refuse"; error: ExtensionError };

/**
 * The observe -> act decision of the SVM step. `justCreated`: this reconcile's own create answered with a
 * running SVM, so an absent one is not listed yet: never create twice.
 */
export function decideSvm(observed: SvmObservation, svmName: string, justCreated: boolean): SvmDecision {
  switch (observed.kind) {
    case "unknown":
      return {
        act: "refuse",
        error: new ExtensionError(
          `cannot tell whether SVM ${svmName} exists: ${observed.cause}; no SVM is created while any cluster cannot answer; will retry`,
          observed.codes,
          { retriable: true },
        ),
      };
    case "several":
      return { act: "settle-race", copies: observed.copies };
    case "absent":
      return justCreated ? { act: "wait", polls: 1, reason: creatingReason(svmName, "its cluster") } : { act: "create" };
    case "found":
      return decideFound(observed.value.cluster, observed.value.svm);
  }
}

/** The SVM is on `cluster`: used when running, waited for while it settles, an error when stopped. */
function decideFound(cluster: string, svm: Svm): SvmDecision {
  if (svm.state === "running") {
    if (svm.nvmeEnabled === false) {
      return {
        act: "refuse",
        error: new ExtensionError(`SVM ${svm.name} on ${cluster} is running without NVMe enabled; enable the NVMe service on it`, ["ERR_INFRA_DEPENDENCIES"], {
          retriable: true,
        }),
      };
    }
    return { act: "use", cluster, svm };
  }
  if (SETTLING_STATES.has(svm.state)) return { act: "wait", polls: 1, reason: `SVM ${svm.name} on ${cluster} is ${svm.state}` };
  if (svm.state === "deleting") return { act: "wait", polls: 2, reason: `SVM ${svm.name} on ${cluster} is being deleted; it is created anew once gone` };
  return {
    act: "refuse",
    error: new ExtensionError(
      `SVM ${svm.name} on ${cluster} is ${svm.state}; start it on ONTAP (it is not recreated, its data may live there)`,
      ["ERR_INFRA_DEPENDENCIES"],
      { retriable: true },
    ),
  };
}

/** One filtered lookup of the SVM on every cluster at once. */
export async function observeSvm(metro: MetroCluster, svmName: string, recordedCluster: string | undefined): Promise<SvmObservation> {
  const lookup = await metro.findSvm(svmName);
  switch (lookup.kind) {
    case "found":
      return { kind: "found", value: { cluster: lookup.cluster, svm: lookup.svm } };
    case "absent":
      return { kind: "absent" };
    case "several":
      return { kind: "several", copies: lookup.found };
    case "unknown": {
      const home = knownHome(lookup, recordedCluster);
      if (home) return { kind: "found", value: { cluster: home.cluster, svm: home.svm } };
      return {
        kind: "unknown",
        cause: lookup.errors.map((e) => `cluster ${e.cluster}: ${e.error.message}`).join("; "),
        codes: codesForInfraErrors(lookup.errors.map((e) => e.error)),
      };
    }
  }
}

/** Observe the SVM, decide, act; after this reconcile's own create, observe again before anything is built on it. */
async function observeAndDecide(deps: SvmDeps, plan: ShootPlan, justCreated: boolean): Promise<StepResult<SvmOnCluster>> {
  const pollMs = deps.pollMs ?? 2000;
  const waiting = justCreated ? undefined : await waitForPendingJob(deps, plan, pollMs);
  if (waiting) return waiting;
  const decision = decideSvm(await observeSvm(deps.metro, plan.svmName, deps.recordedCluster), plan.svmName, justCreated);
  switch (decision.act) {
    case "use":
      return useRunning(deps, decision.cluster, decision.svm);
    case "wait":
      return requeue(pollMs * decision.polls, decision.reason);
    case "refuse":
      throw decision.error;
    case "settle-race":
      return settleRace(deps, plan, decision.copies, pollMs);
    case "create": {
      const created = await createSvm(deps, plan, pollMs);
      return created.kind === "done" ? observeAndDecide(deps, plan, true) : created;
    }
  }
}

/**
 * Copies on several clusters: the empty ones go, nothing is built on the kept one until they are gone. A
 * copy still being created (or already being deleted) is waited for: ONTAP refuses to delete it meanwhile.
 */
async function settleRace(
  deps: SvmDeps,
  plan: ShootPlan,
  copies: { cluster: string; svm: Svm }[],
  pollMs: number,
): Promise<StepResult<SvmOnCluster>> {
  const verdict = await judgeRaceCopies(copies.map((f) => ({ ...f, client: clientFor(deps, f.cluster) })));
  if (verdict.kind === "resolved") {
    for (const copy of verdict.removed) {
      if (!SETTLING_STATES.has(copy.svm.state) && copy.svm.state !== "deleting") await copy.client.deleteSvm(copy.svm.uuid);
    }
    return requeue(
      pollMs,
      `SVM ${plan.svmName} was created on ${copies.length} clusters at once (two controllers raced); ` +
        `the empty copy on ${verdict.removed.map((c) => c.cluster).join(", ")} is being removed, the one on ${verdict.kept.cluster} is kept`,
    );
  }
  throw new ExtensionError(
    `SVM ${plan.svmName} exists on several clusters, and more than one holds LIFs, accounts or volumes (${verdict.inUse
      .map((f) => `${f.cluster}: ${f.svm.uuid} ${f.svm.state}, ${describeContents(f.contents)}`)
      .join("; ")}); refusing to pick one: remove the wrong copy on ONTAP`,
    ["ERR_INFRA_DEPENDENCIES"],
    { retriable: true },
  );
}

/** A running SVM with NVMe: its placement recorded (once), its missing aggregates assigned, then used. */
async function useRunning(deps: SvmDeps, cluster: string, svm: Svm): Promise<StepResult<SvmOnCluster>> {
  // Recorded before the user is made on it (once: then status says so), so a delete finds this SVM even when
  // the inputs it was derived from went bad meanwhile (plan.ts `planTeardown`). The status write runs beside
  // the reads that follow (the account lookup, the seed Secret); every ONTAP write on this cluster waits for it,
  // which is the order that matters.
  const recorded = deps.recordedCluster === cluster ? undefined : deps.recordPlacement(cluster);
  recorded?.catch(() => undefined);
  const client = recorded ? scopeOntapClient(clientFor(deps, cluster), { writesAfter: recorded }) : clientFor(deps, cluster);
  if (deps.aggregates) {
    const assignment = await assignMissingAggregates(deps.aggregates, cluster, client, svm);
    if (assignment) {
      const ev = aggregateAssignmentEvent(svm.name, cluster, assignment);
      deps.event?.(ev.type, ev.reason, ev.message);
    }
  }
  return done({ cluster, client, svm, ...(recorded ? { recorded } : {}) });
}

/** A job this process started for the SVM: still running means requeue; done (either way) means look again. */
async function waitForPendingJob(deps: SvmDeps, plan: ShootPlan, pollMs: number): Promise<StepResult<SvmOnCluster> | undefined> {
  const pending = deps.jobs?.pending.get(plan.svmName);
  const client = pending && deps.clients.get(pending.cluster);
  if (!deps.jobs || !pending || !client) return undefined;
  const now = deps.now ?? Date.now;
  let job: Job;
  try {
    job = await client.getJob(pending.job.uuid);
  } catch {
    // The job cannot be read (gone, or the cluster is not answering): the lookup decides, as without a job.
    deps.jobs.pending.delete(plan.svmName);
    return undefined;
  }
  const at = now();
  const elapsed = at - pending.startedAt;
  if (job.state === "success" || job.state === "failure") {
    deps.jobs.pending.delete(plan.svmName);
    if (job.state === "success") deps.jobs.lastDurationMs.set(pending.cluster, estimateDuration(pending, at));
    if (job.state === "failure") {
      throw new ExtensionError(
        `creating SVM ${plan.svmName} on ${pending.cluster} failed (job ${job.uuid}${job.code ? `, code ${job.code}` : ""}: ${job.message ?? "no message"}); will retry`,
        ["ERR_RETRYABLE_INFRA_DEPENDENCIES"],
        { retriable: true },
      );
    }
    return undefined;
  }
  pending.lastPollAt = at;
  const after = nextJobPollMs(elapsed, expectedJobMs(deps.jobs, pending.cluster), pollMs);
  // The same reason on every look, so waiting does not rewrite the Extension's status each time.
  return requeue(after, creatingReason(plan.svmName, pending.cluster, job.uuid));
}

function creatingReason(svmName: string, cluster: string, jobUuid?: string): string {
  return `SVM ${svmName} is being created on ${cluster}${jobUuid ? ` (job ${jobUuid})` : ""}`;
}

/**
 * How long the job took: it ended between the last look that saw it running and this one, so the midpoint.
 * Seen done at the first look, it may have ended long before: then a little less than that wait, so the
 * estimate shrinks towards the truth instead of keeping an overshoot forever.
 */
function estimateDuration(pending: { startedAt: number; lastPollAt?: number }, at: number): number {
  if (pending.lastPollAt !== undefined) return (pending.lastPollAt + at) / 2 - pending.startedAt;
  return 0.9 * (at - pending.startedAt);
}

async function createSvm(deps: SvmDeps, plan: ShootPlan, pollMs: number): Promise<StepResult<SvmOnCluster>> {
  // The placement read every cluster's aggregates already: the chosen one's serve the create too.
  const placed =
    deps.recordedCluster && deps.clients.has(deps.recordedCluster)
      ? { cluster: deps.recordedCluster, aggregates: undefined }
      : await placeSvm(deps.clients, deps.aggregates);
  const { cluster } = placed;
  const client = clientFor(deps, cluster);
  const [aggregates] = await Promise.all([placed.aggregates ?? listAndRemember(deps.aggregates, cluster, client), deps.recordPlacement(cluster)]);
  if (aggregates.length === 0) {
    throw new ExtensionError(`cluster ${cluster} has no aggregates to place SVM ${plan.svmName} on`, ["ERR_INFRA_RESOURCES_DEPLETED"], { retriable: true });
  }
  const startedAt = (deps.now ?? Date.now)();
  const created = await client.createSvm({ name: plan.svmName, aggregateUuids: aggregates.map((a) => a.uuid) });
  if (created.svm?.state === "running" && created.svm.nvmeEnabled !== false) {
    return done({ cluster, client, svm: created.svm });
  }
  let after = pollMs;
  if (created.job && deps.jobs) {
    deps.jobs.pending.set(plan.svmName, { cluster, job: created.job, startedAt });
    after = nextJobPollMs(0, expectedJobMs(deps.jobs, cluster), pollMs);
  }
  return requeue(after, creatingReason(plan.svmName, cluster, created.job?.uuid));
}

/**
 * Where a new SVM goes: the cluster whose aggregates hold the fewest volumes; ties go to the smallest
 * cluster name, not to the first in this controller's list. Gardener hands every seed the same component
 * configuration, so two controllers on two seeds racing to create one project's SVM (both looked, both
 * found nothing) read the same counts and pick the same cluster whatever order they list the clusters in;
 * there the SVM name is unique, and the second create meets "duplicate" and finds the first instead of
 * creating a second copy. Counts that change between the two reads (a volume created in that instant) can
 * still give two copies: the next lookup finds both, and the empty one goes (svm-race.ts).
 */
export async function placementCluster(clients: ReadonlyMap<string, OntapClient>): Promise<string> {
  return (await placeSvm(clients)).cluster;
}

/** A fresh read of the cluster's aggregates (placement needs today's volume counts), kept for the assignment check. */
async function listAndRemember(cache: ClusterAggregates | undefined, cluster: string, client: OntapClient): Promise<Aggregate[]> {
  const aggregates = await client.listAggregates();
  cache?.remember(cluster, aggregates);
  return aggregates;
}

/** `placementCluster`, with the chosen cluster's aggregates (the create names them). */
async function placeSvm(clients: ReadonlyMap<string, OntapClient>, cache?: ClusterAggregates): Promise<{ cluster: string; aggregates: Aggregate[] }> {
  const counts = await Promise.all(
    [...clients].map(async ([name, client]) => {
      const aggregates = await listAndRemember(cache, name, client);
      return { name, aggregates, volumes: aggregates.reduce((sum, a) => sum + (a.volumeCount ?? 0), 0) };
    }),
  );
  counts.sort((a, b) => a.volumes - b.volumes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const first = counts[0];
  if (!first) throw new ExtensionError("no ONTAP cluster is configured", ["ERR_CONFIGURATION_PROBLEM"], { retriable: false });
  return { cluster: first.name, aggregates: first.aggregates };
}

function clientFor(deps: SvmDeps, cluster: string): OntapClient {
  const client = deps.clients.get(cluster);
  if (!client) throw new ExtensionError(`ONTAP cluster ${cluster} is not configured`, ["ERR_CONFIGURATION_PROBLEM"], { retriable: false });
  return client;
}
