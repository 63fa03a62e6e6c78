import { describe, expect, it } from "vitest";
import { CRD_WAIT_CONTINUATION_MS, createCrdWaits } from "../../src/ontap-extension/crd-waits.js";
import { createSvmJobTracker, expectedJobMs, JOB_POLL_STEP_MS, nextJobPollMs } from "../../src/ontap-extension/svm.js";

/** The two waits of a new shoot: its SVM job, and trident-crds turning healthy. */

describe("when to look at a running SVM job again", () => {
  /** The looks a job of `durationMs` gets, as a reconcile would make them, until one sees it done. */
  function looks(durationMs: number, expectedMs: number | undefined): number[] {
    const at: number[] = [];
    let t = 0;
    for (;;) {
      t += nextJobPollMs(t, expectedMs, 5000);
      at.push(t);
      if (t >= durationMs) return at;
    }
  }

  it("with the last job's duration known, looks once at that duration and is at most a twentieth late", () => {
    expect(looks(3000, 3000)).toEqual([3000]);
    const slower = looks(3100, 3000);
    expect(slower[0]).toBe(3000);
    expect(slower.at(-1)! - 3100).toBeLessThanOrEqual(150);
    // A job far slower than the last one: the steps grow with the overshoot, so the looks stay few.
    expect(looks(30_000, 3000).length).toBeLessThan(25);
  });

  it("without one, is at most a third late and looks about a dozen times at a 3 s job", () => {
    const at = looks(3000, undefined);
    expect(at[0]).toBe(JOB_POLL_STEP_MS);
    expect(at.at(-1)! - 3000).toBeLessThanOrEqual(1000);
    expect(at.length).toBeLessThanOrEqual(14);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(Math.max(JOB_POLL_STEP_MS, at[i - 1]! / 3) + 1);
  });

  it("expects a cluster's own last job duration, else one its MetroCluster sibling measured", () => {
    const jobs = createSvmJobTracker();
    expect(expectedJobMs(jobs, "a")).toBeUndefined();
    jobs.lastDurationMs.set("b", 3100);
    expect(expectedJobMs(jobs, "a")).toBe(3100);
    jobs.lastDurationMs.set("a", 2900);
    expect(expectedJobMs(jobs, "a")).toBe(2900);
    expect(expectedJobMs(jobs, "b")).toBe(3100);
  });

  it("never waits longer than the poll interval", () => {
    expect(nextJobPollMs(60_000, undefined, 2000)).toBe(2000);
    expect(nextJobPollMs(0, 120_000, 2000)).toBe(2000);
  });
});

describe("a reconcile waiting for trident-crds", () => {
  const outcome = (at: number) => ({ at, svm: "p1" });

  it("hands its ONTAP results to the next pass once, of the same generation, while they are fresh", () => {
    let now = 1_000;
    const waits = createCrdWaits<{ at: number; svm: string }>(() => now);
    waits.remember("ns/ontap", 3, outcome(now));
    expect(waits.isWaiting("ns/ontap")).toBe(true);
    now += 500;
    expect(waits.take("ns/ontap", 3)).toEqual(outcome(1_000));
    expect(waits.take("ns/ontap", 3)).toBeUndefined();
    expect(waits.isWaiting("ns/ontap")).toBe(false);

    waits.remember("ns/ontap", 3, outcome(now));
    expect(waits.take("ns/ontap", 4)).toBeUndefined();
    waits.remember("ns/ontap", 3, outcome(now));
    now += CRD_WAIT_CONTINUATION_MS + 1;
    expect(waits.take("ns/ontap", 3)).toBeUndefined();
  });

  it("keeps the time of the ONTAP calls across waits, and drops stale entries of Extensions never seen again", () => {
    let now = 0;
    const waits = createCrdWaits<{ at: number; svm: string }>(() => now);
    const first = outcome(0);
    waits.remember("ns/a", 1, first);
    waits.remember("ns/gone", 1, outcome(0));
    now = CRD_WAIT_CONTINUATION_MS - 10;
    // The continuation waits again with the same results: their age still counts from t=0.
    waits.remember("ns/a", 1, waits.take("ns/a", 1)!);
    now = CRD_WAIT_CONTINUATION_MS + 10;
    expect(waits.take("ns/a", 1)).toBeUndefined();
    waits.remember("ns/b", 1, outcome(now));
    expect(waits.isWaiting("ns/gone")).toBe(false);
  });
});
