import { isTransientHttp, OntapError, redact } from "./errors.js";
import { abortReason, sleep as defaultSleep } from "./retry.js";
import type { Job, JobRef } from "./schemas.js";

/**
 * Waiting for an ONTAP job. The extension itself never blocks a worker on a job (it requeues and looks again),
 * so this is for tools, tests and the demo; it lives apart from the client so it can be tested with a fake
 * `getJob` and a fake clock.
 */

export interface WaitForJobOptions {
  /** Give up after this long (ms) with a transient "timeout" OntapError. Default 120 s. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** First poll interval (ms); doubles up to `pollCapMs`. Default 250 ms. */
  pollBaseMs?: number;
  /** Default 5 s. */
  pollCapMs?: number;
}

export interface WaitForJobDeps {
  cluster: string;
  getJob: (uuid: string, signal?: AbortSignal) => Promise<Job>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
  secrets?: readonly string[];
}

export const JOB_ENDPOINT = "/api/cluster/jobs/{uuid}";

export function isJobFinished(job: Job): boolean {
  return job.state === "success" || job.state === "failure";
}

/** Poll interval after `polls` polls: doubling from base to cap, jittered into [half, whole] so it never spins. */
export function jobPollDelayMs(polls: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, polls - 1), 30));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

export function jobFailedError(cluster: string, job: Job, secrets: readonly string[] = []): OntapError {
  const message = job.message !== undefined ? redact(job.message, secrets) : "no message";
  const codeText = job.code !== undefined ? `${job.code} ` : "";
  return new OntapError({
    cluster,
    operation: `job ${job.uuid}`,
    method: "GET",
    endpoint: JOB_ENDPOINT,
    kind: "job",
    // A job that failed with a "wait and retry" code is worth running again; any other failure is an answer.
    transient: job.code !== undefined && isTransientHttp(400, job.code),
    detail: `job failed: ${codeText}${message}`,
    ...(job.code !== undefined ? { code: job.code } : {}),
  });
}

/** Polls until the job succeeds (returns it), fails (throws kind "job") or the deadline passes (kind "timeout"). */
export async function waitForJob(deps: WaitForJobDeps, job: JobRef, options: WaitForJobOptions = {}): Promise<Job> {
  const deadlineMs = options.deadlineMs ?? 120_000;
  const baseMs = options.pollBaseMs ?? 250;
  const capMs = Math.max(baseMs, options.pollCapMs ?? 5_000);
  const sleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const started = now();
  let last: Job;
  for (let polls = 1; ; polls++) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    last = await deps.getJob(job.uuid, options.signal);
    if (last.state === "success") return last;
    if (last.state === "failure") throw jobFailedError(deps.cluster, last, deps.secrets);
    const remaining = deadlineMs - (now() - started);
    if (remaining <= 0) break;
    await sleep(Math.min(remaining, jobPollDelayMs(polls, baseMs, capMs, random)), options.signal);
    // One last look exactly at the deadline, so a job finishing during the final sleep is not reported late.
  }
  throw new OntapError({
    cluster: deps.cluster,
    operation: `wait for job ${job.uuid}`,
    method: "GET",
    endpoint: JOB_ENDPOINT,
    kind: "timeout",
    transient: true,
    detail: `job still ${last.state} after ${deadlineMs} ms`,
  });
}
