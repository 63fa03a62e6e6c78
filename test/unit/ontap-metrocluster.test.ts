import { describe, expect, it } from "vitest";
import { OntapError } from "../../src/ontap/errors.js";
import { combineLookups, ownSvm } from "../../src/ontap/metrocluster.js";
import type { Svm } from "../../src/ontap/schemas.js";

const down = new OntapError({
  cluster: "b",
  operation: "find SVM p1",
  method: "GET",
  endpoint: "/api/svm/svms",
  kind: "connection",
  transient: true,
  detail: "connection error ECONNREFUSED",
});
const p1: Svm = { uuid: "u1", name: "p1", state: "running", subtype: "sync_source" };
const p1mc: Svm = { uuid: "u2", name: "p1-mc", state: "stopped", subtype: "sync_destination" };

describe("combineLookups", () => {
  it("reports the one cluster that has the SVM", () => {
    expect(combineLookups("p1", [{ cluster: "a", svms: [p1] }, { cluster: "b", svms: [] }])).toEqual({
      kind: "found",
      cluster: "a",
      svm: p1,
    });
  });

  it("reports absent only when every cluster answered without it", () => {
    expect(combineLookups("p1", [{ cluster: "a", svms: [] }, { cluster: "b", svms: [] }])).toEqual({ kind: "absent" });
  });

  it("reports unknown, never absent, when one cluster could not answer", () => {
    const answer = combineLookups("p1", [{ cluster: "a", svms: [] }, { cluster: "b", error: down }]);
    expect(answer).toEqual({ kind: "unknown", errors: [{ cluster: "b", error: down }], found: [] });
  });

  it("reports unknown with what was found when the SVM is on a reachable cluster and another is down", () => {
    const answer = combineLookups("p1", [{ cluster: "a", svms: [p1] }, { cluster: "b", error: down }]);
    expect(answer).toMatchObject({ kind: "unknown", found: [{ cluster: "a", svm: p1 }] });
  });

  it("reports several when two clusters each have their own SVM of that name", () => {
    const other: Svm = { uuid: "u9", name: "p1", state: "running" };
    expect(combineLookups("p1", [{ cluster: "a", svms: [p1] }, { cluster: "b", svms: [other] }])).toEqual({
      kind: "several",
      found: [
        { cluster: "a", svm: p1 },
        { cluster: "b", svm: other },
      ],
    });
  });

  it("does not count the partner's sync-destination copy as a second SVM", () => {
    expect(combineLookups("p1", [{ cluster: "a", svms: [p1] }, { cluster: "b", svms: [p1mc] }])).toEqual({
      kind: "found",
      cluster: "a",
      svm: p1,
    });
  });

  it("reports the copy, not absent, when only the sync-destination copy is visible", () => {
    expect(combineLookups("p1", [{ cluster: "a", svms: [] }, { cluster: "b", svms: [p1mc] }])).toEqual({
      kind: "found",
      cluster: "b",
      svm: p1mc,
    });
  });
});

describe("ownSvm", () => {
  it("prefers the source over a same-cluster sync-destination record", () => {
    expect(ownSvm("p1", [p1mc, p1])).toBe(p1);
    expect(ownSvm("p1", [p1mc])).toBeUndefined();
  });
});
