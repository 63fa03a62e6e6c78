import { afterAll, describe, expect, inject, it } from "vitest";
import { createChaosLane } from "../support/chaos-world.js";
import {
  callId,
  type Flow,
  FLOW_TITLES,
  isCrash,
  type MatrixCall,
  matrixReport,
  type Mode,
  recordFlows,
  runScenario,
  type ScenarioResult,
} from "../support/chaos-matrix.js";
import { selectScenarios } from "../support/chaos-equivalence.js";
import { writeReport } from "../support/chaos-report.js";
import { LanePool, startAll } from "../support/lane-pool.js";

/**
 * The part of the fault matrix whose outcome the resource manager can change, on the real
 * gardener-resource-manager with a shoot kube-apiserver per scenario (src/testenv/shoot-worlds.ts): a fault
 * at the Kubernetes calls that write or delete a ManagedResource or its Secret, and at the wait on a
 * ManagedResource being deleted, in the flows recorded here, on the real resource manager (its call list
 * differs from the stand-in's: a delete waits for the resource manager's finalizer, so it makes 69-104 calls
 * over 5-9 reconciles, the number of looks depending on how fast the shoot's objects go, against the
 * stand-in's 60 calls and 2 reconciles). Every scenario must converge with every invariant holding within
 * 40 reconciles, as in test/chaos/fault-matrix.test.ts, whose runner (test/support/chaos-matrix.ts) this
 * shares.
 *
 * Chosen (42 scenarios, `modesAt`), of which those on one call path run once (test/support/chaos-equivalence.ts,
 * as in the stand-in's matrix: a delete tears the six ManagedResources down through one function, so its
 * DELETEs and looks run at the components whose neighbours differ, which this recording decides):
 * - create: the six ManagedResource POSTs in apply-then-fail (the resource manager applies what the
 *   controller thinks failed) and crash (SIGKILL while the POST is held, the proxy never forwards it, a new
 *   process continues, its waits for trident-crds lost); the six Secret POSTs of the ManagedResources in
 *   apply-then-fail (the credentials Secret's POST is left out: the resource manager never reads it);
 * - delete of a project's last shoot: the six ManagedResource DELETEs in apply-then-fail and crash, the look
 *   right after each DELETE (the resource manager still holds its finalizer: the wait's first look) in
 *   transient, the six Secret DELETEs (each before its ManagedResource's, as Gardener's managedresources.Delete)
 *   in apply-then-fail.
 * Left to the stand-in (fault-matrix.test.ts, every call in every mode): the ONTAP calls, the Extension and
 * credentials writes, Events, and the other modes at these calls (transient, permanent, reset and hang
 * at a write end before the server acts: the resource manager sees nothing of them), the later looks of a
 * wait (their number depends on the machine: a fault armed at one may never fire), the first read of each
 * ManagedResource before its DELETE (nothing has reached the resource manager yet), and the delete of a
 * shoot whose sibling stays (the same ManagedResource calls as this delete; what differs is on ONTAP).
 *
 * Why these and not all: a scenario here costs a shoot start (about 6-7 s of both cores) and takes 8-28 s
 * against the stand-in's 1-10 s. Measured 2026-12-01 on 2 cores with `npx vitest run --project chaos-grm
 * test/chaos/fault-matrix-grm.test.ts`, 42 scenarios on 2 in-process + 1 process lanes, all 42 converged:
 * - at load 3-6 (the other workers mostly idle): 247 s for the file, 3.9 min of it the part's own wall time
 *   (lane start to the last scenario), worst 9 reconciles and 13.8 s from the start of the flow; fault-free
 *   create 44 calls, 5 reconciles, 5.3 s; delete 69 calls, 9 reconciles, 7.4 s;
 * - at load 7-13 (two more workers running tests): 403 s, 6.4 min, worst 11 reconciles and 27.6 s; create
 *   45 calls, 6 reconciles, 7.3 s; delete 81 calls, 5 reconciles, 7.4 s (before a delete's passes stopped
 *   re-reading what was gone).
 * All six modes at these 30 calls would be 180 scenarios, 17-30 minutes at those rates; the whole matrix
 * about 50 (fault-matrix.test.ts). The lanes poll as production does (2 s, `productionPoll`): the test
 * world's 150 ms made a fault-free create 50-90 reconciles (measured) while the shoot starts.
 *
 * Env: CHAOS_GRM_LANES (in-process lanes, default 2), CHAOS_GRM_PROCESS_LANES (process lanes for crash,
 * default 1), CHAOS_MODES, CHAOS_FILTER, CHAOS_EVERY_SCENARIO as in fault-matrix.test.ts.
 */

const MAX_RECONCILES = 40;
const lanesWanted = Number(process.env.CHAOS_GRM_LANES ?? 2);
const processLanesWanted = Number(process.env.CHAOS_GRM_PROCESS_LANES ?? 1);
const modeFilter = process.env.CHAOS_MODES?.split(",");
const filter = process.env.CHAOS_FILTER ? new RegExp(process.env.CHAOS_FILTER) : undefined;
const everyScenario = process.env.CHAOS_EVERY_SCENARIO === "1";
const SCENARIO_TIMEOUT_MS = 300_000;
const startedAt = new Date();
/** One shoot's create, and the delete of a project's last shoot (a sibling's delete makes the same ManagedResource calls). */
const GRM_FLOWS: Flow[] = ["create", "delete-last"];
const GRM_MODES: Mode[] = ["transient", "applyThenFail", "crash"];
const modes = GRM_MODES.filter((m) => !modeFilter || modeFilter.includes(m));

const MR = /\/managedresources(\/[^/]+)?$/;
const MR_SECRET = /\/secrets\/managedresource-[^/]+$/;
const SECRETS = /\/namespaces\/\{ns\}\/secrets$/;
const CREDENTIALS = /\/secrets\/ontap-svm-credentials$/;

/**
 * The Secret POST of the credentials step (the path does not say what is created): the last one before the
 * credentials Secret's first update. Every other Secret POST of a create is a ManagedResource's.
 */
function credentialsSecretPost(calls: MatrixCall[]): MatrixCall | undefined {
  const put = calls.findIndex((c) => c.side === "kube" && c.method === "PUT" && CREDENTIALS.test(c.pattern));
  return calls.slice(0, Math.max(0, put)).filter((c) => c.side === "kube" && c.method === "POST" && SECRETS.test(c.pattern)).at(-1);
}

/** The modes this part runs at a recorded call; none where the resource manager has no part in the outcome. */
function modesAt(call: MatrixCall, calls: MatrixCall[]): Mode[] {
  if (call.side !== "kube") return [];
  const { method, pattern } = call;
  if (call.flow === "create") {
    if (method === "POST" && MR.test(pattern)) return ["applyThenFail", "crash"];
    if (method === "POST" && SECRETS.test(pattern) && call !== credentialsSecretPost(calls)) return ["applyThenFail"];
    return [];
  }
  if (method === "DELETE" && MR.test(pattern)) return ["applyThenFail", "crash"];
  // The look right after the delete, while the resource manager still holds its finalizer: the wait's first.
  if (method === "GET" && MR.test(pattern) && call.nth === 2) return ["transient"];
  if (method === "DELETE" && MR_SECRET.test(pattern)) return ["applyThenFail"];
  return [];
}

const SELECTION =
  "This part runs on the real gardener-resource-manager, a shoot kube-apiserver per scenario, with the flows recorded there: a fault at each Kubernetes call that writes or deletes a ManagedResource or its Secret (apply-then-fail, and crash at the ManagedResource writes) and at the first look of each wait for a ManagedResource being deleted (transient), for one shoot's create and the delete of a project's last shoot; of those on one call path (`≡`) one runs. The rows are those calls only, numbered by their place in the recorded flow; the other calls and modes are in the table above (test/chaos/fault-matrix-grm.test.ts says why).";

const lanes = await Promise.all(
  Array.from({ length: Math.max(1, lanesWanted) }, (_, i) => createChaosLane({ name: `grm${i}`, kind: "in-process", resourceManager: "real", productionPoll: true })),
);
const processLanes = modes.some(isCrash)
  ? await Promise.all(Array.from({ length: Math.max(1, processLanesWanted) }, (_, i) => createChaosLane({ name: `grmproc${i}`, kind: "process", resourceManager: "real", productionPoll: true })))
  : [];
const records = await recordFlows(lanes[0]!, GRM_FLOWS);
const inProcessPool = new LanePool([...lanes]);
const processPool = new LanePool([...processLanes]);
const results: ScenarioResult[] = [];
const scenarios = records.flatMap((r) =>
  r.calls.flatMap((call) => modesAt(call, r.calls).filter((mode) => modes.includes(mode)).map((mode) => ({ call, mode }))),
);
const modesOf = (call: MatrixCall) => modesAt(call, records.find((r) => r.flow === call.flow)!.calls).filter((mode) => modes.includes(mode));
const selection = everyScenario ? { kept: scenarios, covered: [] } : selectScenarios(records, modes, modesOf);
const chosen = selection.kept.filter(({ call, mode }) => !filter || filter.test(`${call.flow} ${mode} ${callId(call)}`));
const filtered = modes.length !== GRM_MODES.length || chosen.length !== selection.kept.length;
const outcomes = startAll(
  chosen,
  ({ mode }) => (isCrash(mode) ? processPool : inProcessPool),
  (lane, { call, mode }) => runScenario(lane, call, mode),
  SCENARIO_TIMEOUT_MS,
  ({ call, mode }) => `${call.flow} ${mode} at ${callId(call)}`,
);

afterAll(async () => {
  await Promise.all(outcomes);
  const report = matrixReport({
    records,
    results,
    modes,
    filtered,
    startedAt,
    lanes: { inProcess: lanes.length, process: processLanes.length },
    maxReconciles: MAX_RECONCILES,
    isRow: (c, calls) => modesAt(c, calls).length > 0,
    resourceManager: "real",
    selection: SELECTION,
    covered: selection.covered,
  });
  writeReport(inject("chaosResultsDir"), "fault-matrix-grm", report);
  await Promise.all([...lanes, ...processLanes].map((l) => l.close()));
});

describe("the flows recorded on the real resource manager", () => {
  it("write, wait for and delete every ManagedResource and its Secret, within the reconcile bound", () => {
    for (const r of records) {
      process.stderr.write(`recorded ${r.flow}: ${r.calls.length} calls, ${r.reconciles} reconciles, ${r.seconds.toFixed(1)} s\n`);
      for (const c of r.calls) process.stderr.write(`  ${modesAt(c, r.calls).join(",").padEnd(26)} ${c.index} ${callId(c)}${c.note ? ` (${c.note})` : ""}\n`);
    }
    const count = (flow: Flow, mode: Mode) => scenarios.filter((s) => s.call.flow === flow && s.mode === mode).length;
    // Six ManagedResources: each written with its Secret on create, deleted with it on delete.
    if (modes.includes("applyThenFail")) {
      expect(count("create", "applyThenFail")).toBe(12);
      expect(count("delete-last", "applyThenFail")).toBe(12);
    }
    if (modes.includes("transient")) expect(count("delete-last", "transient")).toBe(6);
    for (const r of records) expect(r.reconciles, `${r.flow} without faults`).toBeLessThanOrEqual(MAX_RECONCILES);
  });
});

for (const flow of GRM_FLOWS) {
  const mine = chosen.map((s, i) => ({ ...s, outcome: outcomes[i]! })).filter((s) => s.call.flow === flow);
  if (mine.length === 0) continue;
  describe(`fault matrix on the real resource manager: ${FLOW_TITLES[flow]}`, () => {
    for (const { call, mode, outcome } of mine) {
      it(`converges after ${mode} at ${callId(call)}`, async () => {
        const settled = await outcome;
        if (!settled.ok) throw settled.error;
        const result = settled.value;
        results.push(result);
        const verdict = result.fired && result.converged && result.violations.length === 0 ? "ok" : "FAILED";
        process.stderr.write(`chaos-grm ${results.length}/${chosen.length} ${verdict} ${flow} ${mode} ${callId(call)}: ${result.reconciles}r ${result.seconds.toFixed(1)}s\n`);
        expect(result.fired, "the fault fired on its call").toBe(true);
        expect(result.violations).toEqual([]);
        expect(result.converged).toBe(true);
        expect(result.reconciles).toBeLessThanOrEqual(MAX_RECONCILES);
      }, SCENARIO_TIMEOUT_MS + 60_000);
    }
  });
}
