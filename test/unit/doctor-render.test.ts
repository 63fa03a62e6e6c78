import { describe, expect, it } from "vitest";
import type { ShootDiagnosis } from "../../src/diagnosis/diagnose.js";
import { alignColumns, renderJson, renderReport, renderShoot } from "../../src/doctor/render.js";

const healthy: ShootDiagnosis = {
  namespace: "shoot--a--one",
  verdict: "healthy",
  nextAction: "nothing to do: every check matches",
  actions: [],
  rows: [
    { check: "SVM pa", expected: "on sim-1, running, NVMe enabled", actual: "on sim-1: running, NVMe enabled", status: "ok" },
    { check: "stored password", expected: "authenticates as one", actual: "authenticates", status: "ok" },
  ],
};
const broken: ShootDiagnosis = {
  namespace: "shoot--b--two",
  verdict: "broken",
  nextAction: "the seed Secret is missing: do X",
  actions: ["the seed Secret is missing: do X", "then Y"],
  rows: [
    { check: "seed Secret shoot--b--two/ontap-svm-credentials", expected: "username two + password", actual: "missing", status: "fail", action: "the seed Secret is missing: do X" },
    { check: "stored password", expected: "authenticates as two", actual: "not checked: no password is stored", status: "skip" },
  ],
};

describe("doctor: rendering", () => {
  it("aligns columns on the widest cell and never pads the last one", () => {
    expect(alignColumns([["a", "bb", "c"], ["ccc", "d", "e"]], "> ")).toEqual(["> a    bb  c", "> ccc  d   e"]);
  });

  it("prints one shoot as a table with a status mark per row, the verdict and the next action", () => {
    const text = renderShoot(broken);
    const lines = text.split("\n");
    expect(lines[0]).toBe("shoot--b--two: BROKEN");
    expect(lines[1]).toMatch(/^ {2}\s+CHECK\s+EXPECTED\s+ACTUAL$/);
    expect(lines[2]).toMatch(/^ {2}FAIL {2}seed Secret shoot--b--two\/ontap-svm-credentials {2}username two \+ password {2}missing$/);
    expect(lines[3]).toMatch(/^ {2}- {5}stored password/);
    // Every row's ACTUAL starts in the same column.
    expect(lines[2]!.indexOf("missing")).toBe(lines[3]!.indexOf("not checked"));
    expect(text).toContain("  next action: the seed Secret is missing: do X");
    expect(text).toContain("  then:        then Y");
  });

  it("summarizes several shoots and details only the unhealthy ones unless verbose", () => {
    const text = renderReport([healthy, broken]);
    expect(text.split("\n").slice(0, 3)).toEqual([
      "NAMESPACE      VERDICT  NEXT ACTION",
      "shoot--a--one  healthy  -",
      "shoot--b--two  broken   the seed Secret is missing: do X",
    ]);
    expect(text).toContain("shoot--b--two: BROKEN");
    expect(text).not.toContain("shoot--a--one: HEALTHY");
    expect(text.trimEnd().split("\n").at(-1)).toBe("2 shoots: 1 healthy, 1 broken");
    expect(renderReport([healthy, broken], { verbose: true })).toContain("shoot--a--one: HEALTHY");
    expect(renderReport([])).toMatch(/no Extension of type ontap/);
  });

  it("emits JSON with the worst verdict, the rows and the observation", () => {
    const observation = { namespace: "x", observedAt: "t", extension: { ok: true as const, value: undefined }, expected: undefined, clusters: [] };
    const json = JSON.parse(renderJson([{ diagnosis: healthy, observation }, { diagnosis: broken, observation }]));
    expect(json.verdict).toBe("broken");
    expect(json.shoots).toHaveLength(2);
    expect(json.shoots[1]).toMatchObject({ namespace: "shoot--b--two", verdict: "broken", nextAction: "the seed Secret is missing: do X" });
    expect(json.shoots[1].rows[0]).toEqual(broken.rows[0]);
    expect(json.shoots[0].observation.observedAt).toBe("t");
  });
});
