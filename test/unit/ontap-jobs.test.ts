import { describe, expect, it } from "vitest";
import { jobPollDelayMs, waitForJob } from "../../src/ontap/jobs.js";
import type { Job } from "../../src/ontap/schemas.js";

function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

function jobSequence(states: Job[]) {
  let i = 0;
  const polled: string[] = [];
  return {
    polled,
    getJob: async (uuid: string) => {
      polled.push(uuid);
      return states[Math.min(i++, states.length - 1)] as Job;
    },
  };
}

describe("waitForJob", () => {
  it("polls with growing intervals until the job succeeds", async () => {
    const clock = fakeClock();
    const seq = jobSequence([
      { uuid: "j", state: "queued" },
      { uuid: "j", state: "running" },
      { uuid: "j", state: "running" },
      { uuid: "j", state: "success" },
    ]);
    const job = await waitForJob({ cluster: "c", ...seq, ...clock, random: () => 0.999 }, { uuid: "j" }, { pollBaseMs: 100 });
    expect(job.state).toBe("success");
    expect(seq.polled).toEqual(["j", "j", "j", "j"]);
    expect(clock.sleeps).toEqual([99, 199, 399]);
  });

  it("throws a permanent job error carrying the job's code and message on failure", async () => {
    const seq = jobSequence([
      { uuid: "j", state: "running" },
      { uuid: "j", state: "failure", code: "13434914", message: "not enough space for the root volume" },
    ]);
    await expect(waitForJob({ cluster: "c1", ...seq, ...fakeClock() }, { uuid: "j" })).rejects.toMatchObject({
      kind: "job",
      code: "13434914",
      transient: false,
      message: "ONTAP c1: job j failed: job failed: 13434914 not enough space for the root volume",
    });
  });

  it("marks a job that failed with a wait-and-retry code as transient", async () => {
    const seq = jobSequence([{ uuid: "j", state: "failure", code: "13434894", message: "too many jobs" }]);
    await expect(waitForJob({ cluster: "c", ...seq, ...fakeClock() }, { uuid: "j" })).rejects.toMatchObject({
      kind: "job",
      transient: true,
    });
  });

  it("gives up at the deadline with a transient timeout, having looked once more at the deadline", async () => {
    const clock = fakeClock();
    const seq = jobSequence([{ uuid: "j", state: "running" }]);
    await expect(
      waitForJob({ cluster: "c", ...seq, ...clock, random: () => 0.999 }, { uuid: "j" }, { deadlineMs: 1_000, pollBaseMs: 300 }),
    ).rejects.toMatchObject({ kind: "timeout", transient: true, message: expect.stringContaining("still running after 1000 ms") });
    expect(clock.now()).toBe(1_000);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(1_000);
    expect(seq.polled.length).toBe(clock.sleeps.length + 1);
  });

  it("stops when the signal aborts", async () => {
    const seq = jobSequence([{ uuid: "j", state: "running" }]);
    const controller = new AbortController();
    const done = waitForJob({ cluster: "c", ...seq }, { uuid: "j" }, { signal: controller.signal, pollBaseMs: 10_000 });
    setTimeout(() => controller.abort(new Error("stop")), 10);
    await expect(done).rejects.toThrow("stop");
  });
});

describe("jobPollDelayMs", () => {
  it("doubles from base to cap and never drops below half the ceiling", () => {
    expect([1, 2, 3, 4, 5].map((n) => jobPollDelayMs(n, 100, 500, () => 0))).toEqual([50, 100, 200, 250, 250]);
  });
});
