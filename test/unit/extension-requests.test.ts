import { describe, expect, it } from "vitest";
import type { Actuator, ActuatorResult } from "../../src/extension/actuator.js";
import { createExtensionReconciler } from "../../src/extension/reconciler.js";
import { requestAwaitsStatus, rfc3339Second } from "../../src/extension/request.js";
import type { Extension } from "../../src/extension/types.js";
import { Extensions } from "../../src/kube/resources.js";
import {
  checkExtensionObject,
  createFakeKubeClient,
  extensionMigration,
  extensionReadiness,
  formatRfc3339Nano,
  GARDENER_OPERATION,
  GARDENER_TIMESTAMP,
  gardenletRequest,
} from "../../src/testenv/index.js";

/**
 * gardenlet's side of a request (src/testenv/extension-readiness.ts, written from Gardener's
 * `checkExtensionObject`) against the controller's reconciler on the in-memory Kubernetes: every requested
 * reconcile must end in a status gardenlet calls ready, and an unrequested one must write nothing.
 */

const succeededAt = (lastUpdateTime: string, annotations: Record<string, string> = {}) => ({
  metadata: { generation: 2, annotations },
  status: { observedGeneration: 2, lastOperation: { type: "Reconcile", state: "Succeeded", lastUpdateTime } },
});

describe("Gardener's readiness check, as the test world holds it", () => {
  it("takes a request at or before lastUpdateTime (to the second) as answered, a later one not", () => {
    expect(checkExtensionObject(succeededAt("2026-12-01T10:00:00Z"))).toBeUndefined();
    expect(checkExtensionObject(succeededAt("2026-12-01T10:00:00Z", { [GARDENER_TIMESTAMP]: "2026-12-01T10:00:00.999999999Z" }))).toBeUndefined();
    expect(checkExtensionObject(succeededAt("2026-12-01T10:00:00Z", { [GARDENER_TIMESTAMP]: "2026-12-01T10:00:01.000000001Z" }))).toBe(
      "extension is not reconciled yet - reconciliation requested at 2026-12-01T10:00:01Z, last update time is: 2026-12-01T10:00:00Z",
    );
    expect(checkExtensionObject(succeededAt("2026-12-01T10:00:00Z", { [GARDENER_TIMESTAMP]: "yesterday" }))).toMatch(/cannot parse/);
  });

  it("checks in Gardener's order: lastError, generation, the operation annotation, lastOperation, state", () => {
    const ok = succeededAt("2026-12-01T10:00:00Z");
    expect(checkExtensionObject({ ...ok, status: { ...ok.status, lastError: { description: "boom" } } })).toBe("error during reconciliation: boom");
    expect(checkExtensionObject({ ...ok, metadata: { generation: 3 } })).toBe("observed generation outdated (2/3)");
    expect(checkExtensionObject({ ...ok, metadata: { generation: 2, annotations: { [GARDENER_OPERATION]: "reconcile" } } })).toMatch(/not yet picked up/);
    expect(checkExtensionObject({ metadata: { generation: 2 }, status: { observedGeneration: 2 } })).toBe("extension did not record a last operation yet");
    expect(checkExtensionObject({ ...ok, status: { ...ok.status, lastOperation: { state: "Processing" } } })).toBe("extension state is not succeeded but Processing");
    expect(extensionReadiness(ok, "2026-12-01T10:00:00Z")).toMatch(/expected/);
    expect(extensionMigration(undefined)).toBeUndefined();
    expect(extensionMigration({ ...ok, status: { lastOperation: { type: "Migrate", state: "Succeeded" } } })).toBeUndefined();
  });

  it("writes the timestamp as Go's RFC3339Nano does, and the controller reads it (and offsets) to the second", () => {
    expect(formatRfc3339Nano(new Date("2026-12-01T10:00:00.120Z"))).toBe("2026-12-01T10:00:00.12Z");
    expect(formatRfc3339Nano(new Date("2026-12-01T10:00:00.000Z"))).toBe("2026-12-01T10:00:00Z");
    expect(formatRfc3339Nano(new Date("2026-12-01T10:00:00.001Z"), 2)).toBe("2026-12-01T10:00:00.001000002Z");
    expect(rfc3339Second("2026-12-01T10:00:00.999999999Z")).toBe(Date.parse("2026-12-01T10:00:00Z"));
    expect(rfc3339Second("2026-12-01T12:00:00.5+02:00")).toBe(Date.parse("2026-12-01T10:00:00Z"));
    expect(rfc3339Second("2026-12-01 10:00:00")).toBeUndefined();
    const ext = (annotations: Record<string, string>, lastUpdateTime?: string) =>
      ({ metadata: { name: "ontap", annotations }, spec: { type: "ontap" }, status: lastUpdateTime ? { lastOperation: { lastUpdateTime } } : {} }) as Extension;
    expect(requestAwaitsStatus(ext({ [GARDENER_TIMESTAMP]: "2026-12-01T10:00:01.5Z" }, "2026-12-01T10:00:00Z"))).toBe(true);
    expect(requestAwaitsStatus(ext({ [GARDENER_TIMESTAMP]: "2026-12-01T10:00:00.5Z" }, "2026-12-01T10:00:00Z"))).toBe(false);
    expect(requestAwaitsStatus(ext({}, "2026-12-01T10:00:00Z"))).toBe(false);
    expect(requestAwaitsStatus(ext({ [GARDENER_TIMESTAMP]: "2026-12-01T10:00:00Z" }))).toBe(true);
  });
});

describe("requested reconciles on the reconciler", () => {
  function setup() {
    const kube = createFakeKubeClient();
    let clock = new Date("2026-12-01T10:00:00.000Z");
    let cached: Extension | undefined;
    const done: ActuatorResult = { kind: "done", description: "storage is ready", providerStatus: { svmName: "svm-p" } };
    const act = async () => done;
    const actuator: Actuator = { reconcile: act, delete: act, forceDelete: act, migrate: act, restore: act };
    const reconciler = createExtensionReconciler({
      kube,
      actuator,
      getExtension: () => cached,
      getCluster: async () => undefined,
      escalation: { consecutiveFailures: 5, afterMs: 30 * 60_000 },
      now: () => clock,
    });
    const read = async () => (await kube.get<Extension>(Extensions, "shoot--p--s", "ontap"))!;
    /** One reconcile as the informer would start it (from a cache that saw the latest write); answers the writes it made. */
    const reconcileOnce = async () => {
      cached = await read();
      const before = kube.requests.length;
      await reconciler.reconcile("shoot--p--s/ontap", new AbortController().signal);
      return kube.requests.slice(before).filter((r) => !r.startsWith("get") && !r.startsWith("list"));
    };
    const request = async () => {
      await kube.mergePatch(Extensions, "shoot--p--s", "ontap", { metadata: { annotations: gardenletRequest("reconcile", clock) } });
    };
    return {
      kube,
      read,
      reconcileOnce,
      request,
      advance: (ms: number) => {
        clock = new Date(clock.getTime() + ms);
      },
      create: () =>
        kube.create(Extensions, {
          apiVersion: "extensions.gardener.cloud/v1alpha1",
          kind: "Extension",
          metadata: { name: "ontap", namespace: "shoot--p--s", annotations: gardenletRequest("reconcile", clock) },
          spec: { type: "ontap" },
        }),
    };
  }

  for (const rounds of [2, 3]) {
    it(`${rounds} consecutive requested no-op reconciles each end ready by Gardener's check, with two writes each`, async () => {
      const t = setup();
      await t.create();
      await t.reconcileOnce();
      expect(checkExtensionObject(await t.read())).toBeUndefined();
      for (let round = 1; round <= rounds; round++) {
        // gardenlet requests minutes apart; the annotation is set, so the old Succeeded is no answer.
        t.advance(3 * 60_000 + 417);
        await t.request();
        expect(checkExtensionObject(await t.read())).toMatch(/not yet picked up/);
        const writes = await t.reconcileOnce();
        expect(checkExtensionObject(await t.read()), `round ${round}`).toBeUndefined();
        // The annotation's removal (the object) and lastOperation's time (status): a status patch cannot
        // remove an annotation, and gardenlet's check needs both.
        expect(writes).toEqual(["patch extensions", "patch extensions/status"]);
      }
      // A periodic re-check nobody requested writes nothing.
      t.advance(60_000);
      expect(await t.reconcileOnce()).toEqual([]);
      expect(checkExtensionObject(await t.read())).toBeUndefined();
    });
  }
});
