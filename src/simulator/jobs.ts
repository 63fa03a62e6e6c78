import { randomUUID } from "node:crypto";
import type { JobFault } from "./faults.js";
import type { ClusterState, SimJob } from "./state.js";

export interface JobRequest {
  /** `METHOD /path` of the call that started the job; JOB fault rules match on it. */
  operation: string;
  svm?: { uuid: string; name: string };
  /** The change the job makes when it completes. */
  apply(): void;
  /** Undoes what the accepted call already did, when the job fails without applying. */
  rollback(): void;
}

/**
 * Runs asynchronous jobs on a timer: `queued`, `running` after a quarter of the duration, then
 * `success` or `failure`. A JOB fault rule decided at start can fail, delay or hang the job.
 */
export class JobRunner {
  private timers = new Set<NodeJS.Timeout>();
  private waiters = new Map<string, Array<(job: SimJob) => void>>();

  constructor(
    private readonly jobMs: number,
    private readonly decideFault: (operation: string) => JobFault | undefined,
  ) {}

  start(state: ClusterState, request: JobRequest): SimJob {
    const job: SimJob = {
      uuid: randomUUID(),
      description: request.operation,
      state: "queued",
      message: "Queued",
      code: 0,
      startTime: ontapTime(new Date()),
    };
    if (request.svm) job.svm = { ...request.svm };
    state.jobs.set(job.uuid, job);
    const fault = this.decideFault(request.operation);
    const duration = this.jobMs + (fault?.kind === "delay" ? fault.ms : 0);
    this.after(duration / 4, () => {
      job.state = "running";
      job.message = "Running";
    });
    if (fault?.kind === "hang") return job;
    this.after(duration, () => {
      if (fault?.kind === "fail") {
        if (fault.applyEffect) request.apply();
        else request.rollback();
        this.finish(job, "failure", fault.message, Number(fault.code), fault.status);
      } else {
        request.apply();
        this.finish(job, "success", "success", 0);
      }
    });
    return job;
  }

  /** Resolves with the job once it is terminal, or as it is when `ms` have passed. */
  waitFor(job: SimJob, ms: number): Promise<SimJob> {
    if (isTerminal(job) || ms <= 0) return Promise.resolve(job);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(job);
      }, ms);
      this.timers.add(timer);
      const list = this.waiters.get(job.uuid) ?? [];
      list.push((done) => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(done);
      });
      this.waiters.set(job.uuid, list);
    });
  }

  /** Stops every pending transition (reset, shutdown); callers waiting get the job as it is. */
  cancelAll(jobs: Iterable<SimJob>): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const job of jobs) this.notify(job);
    this.waiters.clear();
  }

  private finish(job: SimJob, state: "success" | "failure", message: string, code: number, status?: number): void {
    job.state = state;
    job.message = message;
    job.code = code;
    job.endTime = ontapTime(new Date());
    if (status !== undefined) job.failureStatus = status;
    this.notify(job);
  }

  private notify(job: SimJob): void {
    const list = this.waiters.get(job.uuid);
    this.waiters.delete(job.uuid);
    for (const resolve of list ?? []) resolve(job);
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}

export function isTerminal(job: SimJob): boolean {
  return job.state === "success" || job.state === "failure";
}

/** ONTAP's timestamp style: `2024-01-15T12:00:00+00:00`. */
function ontapTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "+00:00");
}
