import { describe, expect, it } from "vitest";
import { isManagedResourceHealthy, type ManagedResourceLike } from "../../src/trident/index.js";

function mr(conditions: Record<string, string | undefined>, generation = 3, observedGeneration: number | undefined = 3): ManagedResourceLike {
  return {
    metadata: { generation },
    status: {
      observedGeneration,
      conditions: Object.entries(conditions)
        .filter(([, status]) => status !== undefined)
        .map(([type, status]) => ({ type, status, reason: `${type}Reason`, message: `${type} says ${status}` })),
    },
  };
}

describe("isManagedResourceHealthy", () => {
  it("is healthy when applied and healthy are True and progressing is False for the current generation", () => {
    expect(isManagedResourceHealthy(mr({ ResourcesApplied: "True", ResourcesHealthy: "True", ResourcesProgressing: "False" }))).toEqual({
      healthy: true,
      reason: "healthy",
    });
  });

  it("is healthy without a ResourcesProgressing condition", () => {
    expect(isManagedResourceHealthy(mr({ ResourcesApplied: "True", ResourcesHealthy: "True" })).healthy).toBe(true);
  });

  const unhealthy: [string, ManagedResourceLike | undefined, RegExp][] = [
    ["a missing ManagedResource", undefined, /does not exist/],
    ["one not yet observed", { metadata: { generation: 1 }, status: {} }, /not observed/],
    ["one observed at an older generation", mr({ ResourcesApplied: "True", ResourcesHealthy: "True" }, 4, 3), /observed generation 3, current is 4/],
    ["one not yet applied", mr({ ResourcesApplied: "False", ResourcesHealthy: "True" }), /ResourcesApplied is False \(ResourcesAppliedReason: ResourcesApplied says False\)/],
    ["one without an applied condition", mr({ ResourcesHealthy: "True" }), /ResourcesApplied is not reported/],
    ["one whose objects are unhealthy", mr({ ResourcesApplied: "True", ResourcesHealthy: "False" }), /ResourcesHealthy is False/],
    ["one with health unknown", mr({ ResourcesApplied: "True", ResourcesHealthy: "Unknown" }), /ResourcesHealthy is Unknown/],
    ["one still progressing", mr({ ResourcesApplied: "True", ResourcesHealthy: "True", ResourcesProgressing: "True" }), /ResourcesProgressing is True/],
    ["one being deleted", { ...mr({ ResourcesApplied: "True", ResourcesHealthy: "True" }), metadata: { generation: 3, deletionTimestamp: "2025-01-01T00:00:00Z" } }, /being deleted/],
  ];
  for (const [what, resource, reason] of unhealthy) {
    it(`is not healthy for ${what}, and says why`, () => {
      const result = isManagedResourceHealthy(resource);
      expect(result.healthy).toBe(false);
      expect(result.reason).toMatch(reason);
    });
  }

  it("keeps a long condition message short in the reason", () => {
    const long = mr({ ResourcesApplied: "True", ResourcesHealthy: "False" });
    long.status!.conditions![1]!.message = "x".repeat(5000);
    expect(isManagedResourceHealthy(long).reason.length).toBeLessThan(400);
  });
});
