import { describe, expect, it } from "vitest";
import { FaultRuleSet } from "../../src/faults/rules.js";

const err = { type: "error", status: 500, code: "13434889" } as const;

describe("fault rules", () => {
  it("fires exactly on the nth matching call when nth is given without count", () => {
    const rules = new FaultRuleSet();
    rules.add({ method: "post", path: "^/api/svm/svms$", nth: 2, action: err });
    const fired = [1, 2, 3].map(() => rules.decide({ method: "POST", path: "/api/svm/svms" }) !== undefined);
    expect(fired).toEqual([false, true, false]);
    expect(rules.list()[0]).toMatchObject({ matched: 3, hits: 1 });
  });

  it("ignores calls whose method, path or cluster differ", () => {
    const rules = new FaultRuleSet();
    rules.add({ method: "GET", path: "svms", cluster: "c1", action: err });
    expect(rules.decide({ method: "POST", path: "/api/svm/svms", cluster: "c1" })).toBeUndefined();
    expect(rules.decide({ method: "GET", path: "/api/cluster", cluster: "c1" })).toBeUndefined();
    expect(rules.decide({ method: "GET", path: "/api/svm/svms", cluster: "c2" })).toBeUndefined();
    expect(rules.decide({ method: "GET", path: "/api/svm/svms", cluster: "c1" })?.action).toEqual(err);
  });

  it("limits firing by count and samples by a seeded probability reproducibly", () => {
    const sample = (seed: number) => {
      const rules = new FaultRuleSet(seed);
      rules.add({ path: ".", probability: 0.5, action: err });
      return Array.from({ length: 200 }, () => rules.decide({ method: "GET", path: "/x" }) !== undefined);
    };
    const a = sample(7);
    expect(sample(7)).toEqual(a);
    const fired = a.filter(Boolean).length;
    expect(fired).toBeGreaterThan(60);
    expect(fired).toBeLessThan(140);

    const counted = new FaultRuleSet();
    counted.add({ path: ".", count: 2, action: err });
    const hits = [1, 2, 3, 4].filter(() => counted.decide({ method: "GET", path: "/x" })).length;
    expect(hits).toBe(2);
  });

  it("rejects an invalid regular expression and an unknown action with a field-named error", () => {
    const rules = new FaultRuleSet();
    expect(() => rules.add({ path: "(", action: err })).toThrow(/path/);
    expect(() => rules.add({ path: ".", action: { type: "explode" } })).toThrow(/action/);
  });
});
