import type { ChaosLane } from "./chaos-world.js";

/** Hands out free chaos lanes to the scenarios that wait for one, first come first served. */
export class LanePool {
  private waiting: ((lane: ChaosLane) => void)[] = [];
  constructor(private readonly free: ChaosLane[]) {}
  async use<T>(work: (lane: ChaosLane) => Promise<T>): Promise<T> {
    const lane = this.free.pop() ?? (await new Promise<ChaosLane>((resolve) => this.waiting.push(resolve)));
    try {
      return await work(lane);
    } finally {
      const next = this.waiting.shift();
      if (next) next(lane);
      else this.free.push(lane);
    }
  }
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Starts every job at once, each queued on its pool in the given order, and gives each job's outcome to await
 * in that order. The pools drain their queues side by side, whatever the test runner does: a test that waits
 * for its lane (the crash lanes are fewer and slower) then holds no test slot that another pool's scenario
 * could use. A job's time bound starts when a lane takes it, not when it was queued; a job past its bound is
 * reported at once but keeps its lane until it ends (the next job must not share the lane with it).
 */
export function startAll<J, T>(
  jobs: readonly J[],
  poolOf: (job: J) => LanePool,
  work: (lane: ChaosLane, job: J) => Promise<T>,
  timeoutMs: number,
  describeJob: (job: J) => string,
): Promise<Settled<T>>[] {
  return jobs.map(
    (job) =>
      new Promise<Settled<T>>((settle) => {
        void poolOf(job)
          .use(async (lane) => {
            const timer = setTimeout(
              () => settle({ ok: false, error: new Error(`${describeJob(job)} on ${lane.name} did not finish within ${timeoutMs} ms`) }),
              timeoutMs,
            );
            try {
              settle({ ok: true, value: await work(lane, job) });
            } catch (error) {
              settle({ ok: false, error });
            } finally {
              clearTimeout(timer);
            }
          });
      }),
  );
}
