import { describe, expect, it } from "vitest";
import { SETUP_WAIT, setupWatch } from "../support/setup-wait.js";

/** Feeds a watch one look per second: `activityAt(t)` is the controller's activity count at second t. */
function run(activityAt: (t: number) => number, readyAt = Number.POSITIVE_INFINITY) {
  const watch = setupWatch(SETUP_WAIT, 0);
  for (let t = 0; ; t++) {
    const verdict = watch.judge(t * 1000, t >= readyAt, activityAt(t));
    if (verdict.kind !== "waiting") return { t, verdict };
  }
}

describe("the fault matrix's setup wait", () => {
  it("waits for a slow setup as long as the controller keeps working on it (the 2026-12-06 'stall')", () => {
    // A reconcile or a request every 4 s, ready after 100 s: a fixed 60 s bound failed such a setup.
    expect(run((t) => Math.floor(t / 4), 100)).toEqual({ t: 100, verdict: { kind: "ready" } });
  });

  it("fails a setup the controller does nothing for, once it has been quiet for the stall bound", () => {
    // Some work at first, then nothing from second 10 on: a key left behind, a worker held, an event missed.
    expect(run((t) => Math.min(t, 10))).toEqual({ t: 40, verdict: { kind: "stalled", quietMs: 30_000 } });
  });

  it("fails at the cap even while the controller keeps working", () => {
    expect(run((t) => t)).toEqual({ t: 120, verdict: { kind: "too slow", elapsedMs: 120_000 } });
  });
});
