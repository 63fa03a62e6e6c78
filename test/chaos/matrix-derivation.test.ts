import { describe, expect, it } from "vitest";
import type { Flow, MatrixCall, Mode } from "../support/chaos-calls.js";
import { componentsOf, selectScenarios, shapeOf } from "../support/chaos-equivalence.js";
import { callId, deriveCalls, type ScenarioNames } from "../support/chaos-matrix.js";
import { type MatrixReport, renderMatrix } from "../support/chaos-report.js";

const names: ScenarioNames = {
  project: "cab12",
  projectId: "63616231-3200-0000-0000-000000000000",
  shoot: "sxy34",
  namespace: "shoot--cab12--sxy34",
  svm: "p63616231320000000000000000000000",
};

describe("deriving the fault matrix from a record", () => {
  it("orders both sides by arrival, numbers repeated calls, and names the scenario's objects by placeholder", () => {
    const ontap = [
      { at: 2, cluster: "sim-1", method: "GET", template: "/api/svm/svms", query: "name=p6361&fields=uuid", username: "admin" },
      { at: 4, cluster: "sim-2", method: "GET", template: "/api/svm/svms", query: "name=p6361&fields=uuid", username: "admin" },
      { at: 5, cluster: "sim-1", method: "GET", template: "/api/svm/svms", query: "return_records=false", username: "sxy34" },
    ];
    const kube = [
      { at: 1, method: "PATCH", path: `/apis/extensions.gardener.cloud/v1alpha1/namespaces/${names.namespace}/extensions/ontap` },
      { at: 3, method: "GET", path: `/api/v1/namespaces/kube-system/secrets/${names.svm}-${names.project}--${names.shoot}-credentials` },
      { at: 6, method: "PATCH", path: `/api/v1/namespaces/${names.namespace}/events/ontap.18eb60dbf4934b22` },
      // Another shoot's call in the same window is not this flow's.
      { at: 7, method: "GET", path: "/api/v1/namespaces/shoot--other--s1/secrets/ontap-svm-credentials" },
    ];
    const calls = deriveCalls("create", names, ontap, kube, "admin");
    expect(calls.map(callId)).toEqual([
      "kube PATCH /apis/extensions.gardener.cloud/v1alpha1/namespaces/{ns}/extensions/ontap #1",
      "ONTAP sim-1 GET /api/svm/svms #1",
      "kube GET /api/v1/namespaces/kube-system/secrets/{svm}-{project}--{shoot}-credentials #1",
      "ONTAP sim-2 GET /api/svm/svms #1",
      "ONTAP sim-1 GET /api/svm/svms #2",
      "kube PATCH /api/v1/namespaces/{ns}/events/{event} #1",
    ]);
    expect(calls.map((c) => c.note)).toEqual([undefined, "SVM lookup by name", undefined, "SVM lookup by name", "as the shoot user (password check)", undefined]);
    expect(calls.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("the report table", () => {
  it("shows a cell per call and mode, marks unreached and failed scenarios, and totals the worst case", () => {
    const report: MatrixReport = {
      kind: "fault-matrix",
      filtered: false,
      startedAt: "2026-01-01T00:00:00Z",
      wallSeconds: 60,
      lanes: { inProcess: 1, process: 1 },
      bounds: { convergeMs: 60_000, permanentHoldMs: 20_000, reachMs: 30_000, maxReconciles: 40 },
      flows: [{ flow: "create", title: "create", calls: [{ index: 0, id: "kube POST /x #1" }, { index: 1, id: "ONTAP sim-1 POST /y #1" }], reconciles: 3, seconds: 1 }],
      modes: ["transient", "crash"],
      results: [
        { flow: "create", call: "kube POST /x #1", index: 0, mode: "transient", fired: true, converged: true, reconciles: 3, seconds: 1.25, secondsAfterClear: 1, violations: [] },
        { flow: "create", call: "kube POST /x #1", index: 0, mode: "crash", fired: false, converged: true, reconciles: 3, seconds: 1, secondsAfterClear: 1, violations: [] },
        { flow: "create", call: "ONTAP sim-1 POST /y #1", index: 1, mode: "transient", fired: true, converged: false, reconciles: 9, seconds: 61, secondsAfterClear: 60, violations: ["not converged"] },
        { flow: "create", call: "ONTAP sim-1 POST /y #1", index: 1, mode: "crash", fired: true, converged: true, reconciles: 5, seconds: 6.5, secondsAfterClear: 4, violations: [] },
      ],
    };
    const { markdown, totals } = renderMatrix(report);
    expect(markdown).toContain("| 1 | `kube POST /x #1` | ✓ 3r 1.3s | not reached |");
    expect(markdown).toContain("| 2 | `ONTAP sim-1 POST /y #1` | ✗ 9r 61.0s | ✓ 5r 6.5s |");
    expect(markdown).toContain("- create / ONTAP sim-1 POST /y #1 / transient: not converged");
    expect(totals).toEqual({ calls: 2, scenarios: 4, fired: 3, converged: 2, worstReconciles: 5, worstSeconds: 6.5, worstAfterClear: 4 });
  });
});

describe("equivalent scenarios", () => {
  const mr = (method: string, name: string, nth = 1): Omit<MatrixCall, "flow" | "index"> => ({ side: "kube", method, pattern: `/apis/resources.gardener.cloud/v1alpha1/namespaces/{ns}/managedresources/${name}`, nth });
  const secret = (method: string, name: string): Omit<MatrixCall, "flow" | "index"> => ({ side: "kube", method, pattern: `/api/v1/namespaces/{ns}/secrets/managedresource-${name}`, nth: 1 });
  const teardown = (name: string) => [mr("GET", name), secret("GET", name), secret("DELETE", name), mr("DELETE", name), mr("GET", name, 2)];
  const status = { side: "kube" as const, method: "PATCH", pattern: "/apis/extensions.gardener.cloud/v1alpha1/namespaces/{ns}/extensions/ontap/status", nth: 1 };
  const accounts = { side: "ontap" as const, cluster: "sim-1", method: "GET", pattern: "/api/security/accounts", nth: 1 };
  const flowOf = (flow: Flow, calls: Omit<MatrixCall, "flow" | "index">[]) => ({ flow, calls: calls.map((c, index) => ({ ...c, flow, index })) });
  // Three components torn down by one loop (the first one writes the status in between), then the flows part.
  const [first, ...rest] = teardown("a");
  const shared = [first!, status, ...rest, ...teardown("b"), ...teardown("c"), accounts];
  const last = flowOf("delete-last", [...shared, { side: "ontap", cluster: "sim-1", method: "DELETE", pattern: "/api/svm/svms/{uuid}", nth: 1 }]);
  const sibling = flowOf("delete-sibling", [...shared, { side: "kube", method: "DELETE", pattern: "/api/v1/namespaces/{ns}/secrets/ontap-svm-credentials", nth: 1 }]);
  const { kept, covered } = selectScenarios([last, sibling], ["transient", "applyThenFail"]);
  /** The scenario that runs for this one: itself, or its cover. */
  const runsAs = (flow: Flow, index: number, mode: Mode = "transient") =>
    kept.some((k) => k.call.flow === flow && k.call.index === index && k.mode === mode)
      ? { flow, index, mode }
      : covered.find((c) => c.flow === flow && c.index === index && c.mode === mode)?.by;
  const keptRows = (flow: Flow, mode: Mode) => kept.filter((k) => k.call.flow === flow && k.mode === mode).map((k) => k.call.index);

  it("runs a teardown loop at its first and last component only: the middle one's calls have the same neighbours", () => {
    expect(componentsOf(last.calls).sort()).toEqual(["a", "b", "c"]);
    // a: 0-5 (with the status write), b: 6-10, c: 11-15, then the accounts read and the SVM delete.
    expect(keptRows("delete-last", "transient")).toEqual([0, 1, 2, 3, 4, 5, 11, 12, 15, 16, 17]);
    const coverOf = (index: number) => runsAs("delete-last", index)?.index;
    // b's look before its delete follows a's last look, as c's does; b's last look is followed by c's first, as a's is by b's.
    expect([6, 7, 8, 9, 10].map(coverOf)).toEqual([11, 12, 3, 4, 5]);
    expect([13, 14].map(coverOf)).toEqual([3, 4]);
    expect(shapeOf(last.calls[6], ["a", "b", "c"])).toBe(shapeOf(last.calls[11], ["a", "b", "c"]));
  });

  it("runs the calls two flows share from their start in the first flow only, and every call after they part", () => {
    expect(keptRows("delete-sibling", "transient")).toEqual([16, 17]);
    for (let index = 0; index < 16; index++) {
      expect(runsAs("delete-sibling", index), `sibling's call ${index}`).toEqual(runsAs("delete-last", index));
    }
  });

  it("takes apply-then-fail at a read for the transient fault there, and keeps it at a write", () => {
    expect(keptRows("delete-last", "applyThenFail")).toEqual([1, 3, 4, 17]);
    expect(covered.find((c) => c.flow === "delete-last" && c.index === 16 && c.mode === "applyThenFail")).toEqual({
      flow: "delete-last",
      index: 16,
      mode: "applyThenFail",
      by: { flow: "delete-last", index: 16, mode: "transient" },
      reason: "apply-then-fail at a read is transient",
    });
    expect(kept.length + covered.length).toBe((last.calls.length + sibling.calls.length) * 2);
  });

  it("keeps a scenario whose class runs only other modes", () => {
    const only = selectScenarios([last], ["transient", "crash"], (call) => (call.method === "DELETE" && call.pattern.endsWith("/b") ? ["crash"] : ["transient"]));
    expect(only.kept.filter((k) => k.mode === "crash").map((k) => k.call.index)).toEqual([9]);
  });
});

describe("the report's equivalent scenarios", () => {
  it("marks each scenario not run with the one that covers it, and counts each kind of equivalence", () => {
    const ok = { fired: true, converged: true, reconciles: 2, seconds: 1, secondsAfterClear: 1, violations: [] };
    const report: MatrixReport = {
      kind: "fault-matrix",
      filtered: false,
      startedAt: "2026-01-01T00:00:00Z",
      wallSeconds: 60,
      lanes: { inProcess: 1, process: 1 },
      bounds: { convergeMs: 60_000, permanentHoldMs: 20_000, reachMs: 30_000, maxReconciles: 40 },
      flows: [
        { flow: "delete-last", title: "last", calls: [{ index: 0, id: "kube GET /a #1" }, { index: 1, id: "kube GET /b #1" }], reconciles: 2, seconds: 1 },
        { flow: "delete-sibling", title: "sibling", calls: [{ index: 0, id: "kube GET /a #1" }], reconciles: 1, seconds: 1 },
      ],
      modes: ["transient", "applyThenFail"],
      covered: [
        { flow: "delete-last", index: 0, mode: "applyThenFail", by: { flow: "delete-last", index: 0, mode: "transient" }, reason: "apply-then-fail at a read is transient" },
        { flow: "delete-last", index: 1, mode: "transient", by: { flow: "delete-last", index: 0, mode: "transient" }, reason: "same call path" },
        { flow: "delete-last", index: 1, mode: "applyThenFail", by: { flow: "delete-last", index: 0, mode: "transient" }, reason: "apply-then-fail at a read is transient" },
        { flow: "delete-sibling", index: 0, mode: "transient", by: { flow: "delete-last", index: 0, mode: "transient" }, reason: "same call path" },
        { flow: "delete-sibling", index: 0, mode: "applyThenFail", by: { flow: "delete-last", index: 0, mode: "transient" }, reason: "apply-then-fail at a read is transient" },
      ],
      results: [{ flow: "delete-last", call: "kube GET /a #1", index: 0, mode: "transient", ...ok }],
    };
    const { markdown } = renderMatrix(report);
    expect(markdown).toContain("| 1 | `kube GET /a #1` | ✓ 2r 1.0s | ≡ transient |");
    expect(markdown).toContain("| 2 | `kube GET /b #1` | ≡ #1 | ≡ #1 transient |");
    expect(markdown).toContain("| 1 | `kube GET /a #1` | ≡ delete-last #1 | ≡ delete-last #1 transient |");
    expect(markdown).toContain("Equivalent scenarios: 1 ran, 5 did not");
    expect(markdown).toContain("**same call path** (2: delete-last → delete-last 1, delete-sibling → delete-last 1)");
    expect(markdown).toContain("**apply-then-fail at a read is transient** (3)");
  });
});
