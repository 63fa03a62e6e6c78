import { describe, expect, it } from "vitest";
import { classifyError, ExtensionError } from "../../src/extension/errors.js";
import { decideOperation, lastOperationTypeFor } from "../../src/extension/operation.js";
import { buildStatusPatch, statusPatchIsNoop, withoutControlCharacters } from "../../src/extension/status.js";
import type { Cluster, Condition, Extension } from "../../src/extension/types.js";

const ext = (meta: Partial<Extension["metadata"]> = {}, status?: Extension["status"]): Extension => ({
  metadata: { name: "ontap", namespace: "shoot--p--s", generation: 2, ...meta },
  spec: { type: "ontap" },
  status,
});
const failedShoot: Cluster = { metadata: { name: "shoot--p--s" }, spec: { shoot: { status: { lastOperation: { state: "Failed" } } } } };

describe("operation order", () => {
  it("follows Gardener: failed shoot, migrate, delete, restore, reconcile", () => {
    expect(decideOperation(ext(), failedShoot)).toBe("skip-failed-shoot");
    expect(decideOperation(ext({ annotations: { "gardener.cloud/operation": "migrate" }, deletionTimestamp: "x" }), undefined)).toBe("migrate");
    expect(decideOperation(ext({ deletionTimestamp: "x", annotations: { "gardener.cloud/operation": "restore" } }), undefined)).toBe("delete");
    expect(decideOperation(ext({ deletionTimestamp: "x", annotations: { "confirmation.gardener.cloud/force-deletion": "true" } }), undefined)).toBe(
      "force-delete",
    );
    expect(decideOperation(ext({ annotations: { "gardener.cloud/operation": "restore" } }), undefined)).toBe("restore");
    expect(decideOperation(ext({ annotations: { "gardener.cloud/operation": "reconcile" } }), undefined)).toBe("reconcile");
    // a failed shoot that is being deleted is still deleted
    expect(decideOperation(ext({ deletionTimestamp: "x" }), failedShoot)).toBe("delete");
  });

  it("reports Create until the first success, then Reconcile", () => {
    expect(lastOperationTypeFor("reconcile", ext())).toBe("Create");
    const failedCreate = ext({}, { lastOperation: { type: "Create", state: "Error", description: "", progress: 0, lastUpdateTime: "" } });
    expect(lastOperationTypeFor("reconcile", failedCreate)).toBe("Create");
    const created = ext({}, { lastOperation: { type: "Create", state: "Succeeded", description: "", progress: 100, lastUpdateTime: "" } });
    expect(lastOperationTypeFor("reconcile", created)).toBe("Reconcile");
    expect(lastOperationTypeFor("force-delete", created)).toBe("Delete");
  });
});

describe("status patches", () => {
  const now = new Date("2026-11-25T10:00:00.123Z");
  it("records success with observedGeneration and clears a previous error", () => {
    const current = ext({}, { lastError: { description: "boom", lastUpdateTime: "t" } });
    const patch = buildStatusPatch(current, { type: "Reconcile", state: "Succeeded", description: "ok", observedGeneration: 2 }, now);
    expect(patch).toMatchObject({
      lastOperation: { type: "Reconcile", state: "Succeeded", progress: 100, lastUpdateTime: "2026-11-25T10:00:00Z" },
      observedGeneration: 2,
      lastError: null,
    });
  });

  it("treats a patch that only moves timestamps as a no-op", () => {
    const current = ext({}, {
      observedGeneration: 2,
      lastOperation: { type: "Reconcile", state: "Succeeded", description: "ok", progress: 100, lastUpdateTime: "earlier" },
    });
    const same = buildStatusPatch(current, { type: "Reconcile", state: "Succeeded", description: "ok", observedGeneration: 2 }, now);
    expect(statusPatchIsNoop(current, same)).toBe(true);
    const other = buildStatusPatch(current, { type: "Reconcile", state: "Succeeded", description: "changed", observedGeneration: 2 }, now);
    expect(statusPatchIsNoop(current, other)).toBe(false);
  });

  it("does not write status for a no-op whose only news is a later providerStatus.lastVerification", () => {
    const current = ext({}, {
      observedGeneration: 2,
      lastOperation: { type: "Reconcile", state: "Succeeded", description: "ok", progress: 100, lastUpdateTime: "earlier" },
      providerStatus: { cluster: "a", lastVerification: "2026-12-01T08:00:00.000Z" },
    });
    const later = { cluster: "a", lastVerification: "2026-12-01T09:00:00.000Z" };
    const same = buildStatusPatch(current, { type: "Reconcile", state: "Succeeded", description: "ok", observedGeneration: 2, providerStatus: later }, now);
    expect(statusPatchIsNoop(current, same)).toBe(true);
    const moved = buildStatusPatch(current, { type: "Reconcile", state: "Succeeded", description: "ok", observedGeneration: 2, providerStatus: { ...later, cluster: "b" } }, now);
    expect(statusPatchIsNoop(current, moved)).toBe(false);
  });

  it("keeps the transition time of an unchanged escalation condition", () => {
    const escalated = { escalated: true, reason: "RepeatedFailures", message: "m" };
    const first = buildStatusPatch(ext(), { type: "Reconcile", state: "Error", description: "d", escalation: escalated }, now);
    const conditions = first.conditions as Condition[];
    const later = buildStatusPatch(ext({}, { conditions }), { type: "Reconcile", state: "Error", description: "d", escalation: escalated }, new Date("2026-11-25T11:00:00Z"));
    expect((later.conditions as { lastTransitionTime: string }[])[0]?.lastTransitionTime).toBe("2026-11-25T10:00:00Z");
  });
});

describe("error classification", () => {
  it("marks configuration problems as not retriable and infrastructure trouble as retriable", () => {
    expect(classifyError(Object.assign(new Error("bad"), { code: "ERR_CONFIGURATION_PROBLEM" }))).toMatchObject({ retriable: false, codes: ["ERR_CONFIGURATION_PROBLEM"] });
    expect(classifyError(Object.assign(new Error("no"), { status: 401 }))).toMatchObject({ retriable: true, codes: ["ERR_INFRA_UNAUTHENTICATED"] });
    expect(classifyError(new Error("reset"))).toMatchObject({ retriable: true, codes: ["ERR_RETRYABLE_INFRA_DEPENDENCIES"] });
    expect(classifyError(new ExtensionError("x", ["ERR_INFRA_DEPENDENCIES"], { retriable: true }))).toMatchObject({ codes: ["ERR_INFRA_DEPENDENCIES"] });
  });
});

describe("status messages", () => {
  it("are bounded and free of control characters, whatever an error carried", () => {
    const current = { metadata: { name: "e", namespace: "n", generation: 1 }, status: {} } as never;
    const long = `step lifs failed: ${"\u001b[31mx".repeat(10_000)}`;
    const patch = buildStatusPatch(current, { type: "Reconcile", state: "Error", description: long, error: { description: long, codes: [] } }, new Date());
    const op = patch.lastOperation as { description: string };
    const err = patch.lastError as { description: string };
    for (const text of [op.description, err.description]) {
      expect(text.length).toBeLessThanOrEqual(1024);
      expect(text).toBe(withoutControlCharacters(text, "#"));
    }
  });
});
