import { describe, expect, it } from "vitest";
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
