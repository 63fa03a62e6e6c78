/**
 * How a fault-free setup (the create a fault-matrix flow starts from) is judged while it is waited for. A setup is
 * no scenario: its bound is there to catch a controller that stalls, not a machine that is slow.
 *
 * Issue 21's "stall" was the second kind. The setup that failed on 2026-12-06 ("did not succeed within 30000 ms",
 * lastError "create managedresources ... Timeout: no response within the deadline": the test world's own 3 s
 * client deadline, not the API server) ran at load 26-29 on 2 cores, and the two scenarios beside it took 41.4 s
 * and 41.7 s where docs/reliability.md has 1.1 s and 5.2 s. Reproduced at load 27-30 with the default lanes (3
 * in-process, 2 process): setups 10.7-14.8 s, scenarios 37-69 s (0.6-5.6 s in docs/reliability.md), kube requests
 * of the in-process controllers up to 3.7 s (so 1-3 reconciles per scenario failed on the 3 s deadline and were
 * retried), the test process's event-loop delay p99 0.5-0.7 s, max 3.3 s. Every one converged. A wall-clock bound
 * calls that a stall; the controller was working all along.
 *
 * So a setup fails as stalled only when the controller did nothing for it for `stallMs` (no reconcile of the lane
 * finished and no request of the shoot's namespace passed the fault proxy), and as too slow only at `capMs`. A
 * working controller on a shoot that is not ready is never quiet that long: a request waits at most its client
 * deadline (3 s in-process, 15 s as a process), a retry at most the world's backoff cap (1.5 s), a requeue the poll
 * interval.
 */
export interface SetupWaitBounds {
  /** Fails when the controller showed no activity for the shoot this long. */
  stallMs: number;
  /** Fails when the setup is not ready after this long, active or not. */
  capMs: number;
}

export const SETUP_WAIT: SetupWaitBounds = { stallMs: 30_000, capMs: 120_000 };

export type SetupVerdict =
  | { kind: "ready" }
  | { kind: "waiting" }
  | { kind: "stalled"; quietMs: number }
  | { kind: "too slow"; elapsedMs: number };

export interface SetupWatch {
  /** `activity`: a count that grows whenever the controller does something for the shoot. */
  judge(now: number, ready: boolean, activity: number): SetupVerdict;
}

export function setupWatch(bounds: SetupWaitBounds, startedAt: number): SetupWatch {
  let lastActivity: number | undefined;
  let activeAt = startedAt;
  return {
    judge(now, ready, activity) {
      if (ready) return { kind: "ready" };
      if (activity !== lastActivity) {
        lastActivity = activity;
        activeAt = now;
      }
      if (now - activeAt >= bounds.stallMs) return { kind: "stalled", quietMs: now - activeAt };
      if (now - startedAt >= bounds.capMs) return { kind: "too slow", elapsedMs: now - startedAt };
      return { kind: "waiting" };
    },
  };
}
