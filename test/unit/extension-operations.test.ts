import { describe, expect, it } from "vitest";
import type { Actuator, ActuatorResult } from "../../src/extension/actuator.js";
import { createEscalationPolicy, FAILURES_FIELD, WAITING_FIELD, waitingReason } from "../../src/extension/escalation.js";
import {
  deleteOperation,
  migrateOperation,
  type OperationRun,
  reconcileOperation,
  restoreOperation,
} from "../../src/extension/operations.js";
import { ESCALATION_CONDITION } from "../../src/extension/status.js";
import { createStatusUpdater, type StatusClient } from "../../src/extension/status-updater.js";
import { type Extension, FINALIZER, OPERATION_ANNOTATION, TIMESTAMP_ANNOTATION } from "../../src/extension/types.js";
import type { KubeClient } from "../../src/kube/client.js";
import { KubeError } from "../../src/kube/errors.js";
import { ExtensionError } from "../../src/extension/errors.js";
import { type CountedName, runStep } from "../../src/ontap-extension/step.js";
import { done, requeue } from "../../src/runtime/result.js";

/**
 * The Gardener contract's parts without Kubernetes: status writing against a one-object store that applies
 * JSON merge patches and enforces resourceVersion like the API server, the escalation policy on plain
 * Extensions, each operation with an actuator that answers what the test says.
 */

const now = new Date("2026-12-01T10:00:00.000Z");

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...((target && typeof target === "object" && !Array.isArray(target) ? target : {}) as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** One Extension, its resourceVersion bumped on every write; `calls` records each write in order. */
/** What the kube client throws on a stale resourceVersion. */
const conflictError = () => new KubeError({ reason: "Conflict", status: 409, verb: "patch", resource: "extensions", name: "conflict" });

function store(initial: Extension) {
  let current: Extension = structuredClone(initial);
  const calls: { subresource?: string; patch: Record<string, unknown> }[] = [];
  let conflictsLeft = 0;
  const client = {
    async get() {
      return structuredClone(current);
    },
    async mergePatch(_type: unknown, _ns: unknown, _name: unknown, patch: Record<string, unknown>, opts?: { subresource?: string }) {
      const rv = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (conflictsLeft > 0 || (rv !== undefined && rv !== current.metadata.resourceVersion)) {
        conflictsLeft = Math.max(0, conflictsLeft - 1);
        throw conflictError();
      }
      calls.push({ ...(opts?.subresource ? { subresource: opts.subresource } : {}), patch });
      const { resourceVersion: _rv, ...metadata } = (patch.metadata ?? {}) as Record<string, unknown>;
      current = mergePatch(current, { ...patch, metadata }) as Extension;
      current.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
      return structuredClone(current);
    },
  };
  return {
    client: client as unknown as StatusClient & KubeClient,
    calls,
    current: () => current,
    conflictOnce: () => {
      conflictsLeft = 1;
    },
    /** Someone else writes meanwhile: our copy's resourceVersion goes stale. */
    bump: (annotations: Record<string, string>) => {
      current = mergePatch(current, { metadata: { annotations } }) as Extension;
      current.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
    },
  };
}

const extension = (over: Partial<Extension["metadata"]> = {}, status?: Extension["status"]): Extension => ({
  metadata: { name: "ontap", namespace: "shoot--p--s", generation: 3, resourceVersion: "1", finalizers: [FINALIZER], ...over },
  spec: { type: "ontap" },
  ...(status ? { status } : {}),
});

describe("status updater", () => {
  it("re-reads on a conflict and re-applies only its fields", async () => {
    const s = store(extension());
    const status = createStatusUpdater(s.client, () => now);
    const stale = s.current();
    s.bump({ "someone.else/was": "here" });
    const written = await status.succeeded(stale, { type: "Reconcile", description: "ok", observedGeneration: 3 });
    expect(written.status?.lastOperation?.state).toBe("Succeeded");
    expect(written.metadata.annotations?.["someone.else/was"]).toBe("here");
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]?.subresource).toBe("status");
  });

  it("conditions (the health check's): merged on the newest object after a conflict, nothing sent when the merge says no change", async () => {
    const s = store(extension({}, { conditions: [{ type: "ReconcileEscalated", status: "False", reason: "r", message: "m", lastTransitionTime: "t", lastUpdateTime: "t" }] }));
    const status = createStatusUpdater(s.client, () => now);
    const stale = s.current();
    s.bump({ "someone.else/was": "here" });
    const health = { type: "StorageHealthy", status: "True", reason: "HealthCheckSuccessful", message: "ok", lastTransitionTime: "t", lastUpdateTime: "t" } as const;
    const seen: number[] = [];
    const written = await status.conditions(stale, (current) => {
      seen.push(current.length);
      return [...current.filter((c) => c.type !== health.type), health];
    });
    // Built once on the stale copy, once on the re-read one; the reconciler's condition kept.
    expect(seen).toEqual([1, 1]);
    expect(written.status?.conditions?.map((c) => c.type)).toEqual(["ReconcileEscalated", "StorageHealthy"]);
    expect(s.calls).toHaveLength(1);
    await status.conditions(written, () => undefined);
    expect(s.calls).toHaveLength(1);
  });

  it("sends nothing when only timestamps would change, and skips the Processing announcement of a settled Extension", async () => {
    const s = store(extension());
    const status = createStatusUpdater(s.client, () => now);
    const first = await status.succeeded(s.current(), { type: "Reconcile", description: "ok", observedGeneration: 3 });
    const later = createStatusUpdater(s.client, () => new Date(now.getTime() + 60_000));
    await later.succeeded(first, { type: "Reconcile", description: "ok", observedGeneration: 3 });
    await later.processing(first, { type: "Reconcile", description: "Reconcile in progress" }, { skipIfSettled: true });
    expect(s.calls).toHaveLength(1);
    // Without skipIfSettled (a requeue's wait) it is written.
    await later.processing(first, { type: "Reconcile", description: "waiting" });
    expect(s.calls).toHaveLength(2);
  });

  it("writes lastOperation for a request newer than it even when nothing else changed; an unrequested re-check writes nothing", async () => {
    const settled = extension({}, {
      observedGeneration: 3,
      lastOperation: { type: "Reconcile", state: "Succeeded", description: "ok", progress: 100, lastUpdateTime: "2026-12-01T10:00:00Z" },
    });
    const later = new Date(now.getTime() + 90_000);
    const update = { type: "Reconcile" as const, description: "ok", progress: 100, observedGeneration: 3 };
    // Unrequested (no timestamp annotation), or requested before the last update (to the second): nothing.
    for (const annotations of [{}, { [TIMESTAMP_ANNOTATION]: "2026-12-01T10:00:00.999999999Z" }] as Record<string, string>[]) {
      const s = store({ ...settled, metadata: { ...settled.metadata, annotations } });
      await createStatusUpdater(s.client, () => later).succeeded(s.current(), update);
      expect(s.calls).toHaveLength(0);
    }
    // Requested a minute later, as gardenlet writes it: one status write, its time at or after the request.
    const s = store({ ...settled, metadata: { ...settled.metadata, annotations: { [TIMESTAMP_ANNOTATION]: "2026-12-01T10:01:29.123456789Z" } } });
    const written = await createStatusUpdater(s.client, () => later).succeeded(s.current(), update);
    expect(s.calls.map((c) => c.subresource)).toEqual(["status"]);
    expect(written.status?.lastOperation).toMatchObject({ state: "Succeeded", lastUpdateTime: "2026-12-01T10:01:30Z" });
    // The request is answered: the next re-check writes nothing again.
    await createStatusUpdater(s.client, () => new Date(later.getTime() + 60_000)).succeeded(written, update);
    expect(s.calls).toHaveLength(1);
  });

  it("gives up after repeated conflicts with the conflict itself", async () => {
    const s = store(extension());
    const client = { ...s.client, mergePatch: async () => Promise.reject(conflictError()) };
    const status = createStatusUpdater(client as unknown as StatusClient, () => now);
    await expect(status.error(s.current(), "Error", { type: "Reconcile", description: "x" })).rejects.toThrow("conflict");
  });
});

describe("escalation policy", () => {
  const settings = { consecutiveFailures: 3, afterMs: 10 * 60_000 };
  const withFailures = (count: number, since: Date, escalated = false) =>
    extension({}, {
      providerStatus: { [FAILURES_FIELD]: { count, since: since.toISOString() } },
      ...(escalated ? { conditions: [{ type: ESCALATION_CONDITION, status: "True", reason: "RepeatedFailures", message: "", lastTransitionTime: "", lastUpdateTime: "" }] } : {}),
    } as Extension["status"]);

  it("continues the count stored in status and escalates at the configured number", () => {
    const policy = createEscalationPolicy(settings, () => now);
    const first = policy.recordFailure(extension());
    expect(first).toMatchObject({ count: 1, escalated: false, announced: false, since: now.getTime() });
    expect(policy.escalationFor(first)).toBeUndefined();
    const third = policy.recordFailure(withFailures(2, new Date(now.getTime() - 30_000)));
    expect(third).toMatchObject({ count: 3, escalated: true, announced: false });
    expect(policy.escalationFor(third)?.message).toContain("3 consecutive failures over 30 s");
    expect(policy.failuresField(third)).toEqual({ [FAILURES_FIELD]: { count: 3, since: new Date(now.getTime() - 30_000).toISOString() } });
  });

  it("escalates on time alone, announces only once, and a success resets both", () => {
    const policy = createEscalationPolicy(settings, () => now);
    const old = policy.recordFailure(withFailures(1, new Date(now.getTime() - 11 * 60_000), true));
    expect(old).toMatchObject({ count: 2, escalated: true, announced: true });
    expect(policy.escalationFor(old)?.message).toContain("over 11 min");
    expect(policy.recovery(withFailures(1, now, true))).toEqual({
      hadFailures: true,
      clearFailures: { [FAILURES_FIELD]: null },
      escalation: { escalated: false, reason: "Recovered", message: "the last reconcile succeeded" },
    });
    expect(policy.recovery(extension())).toEqual({ hadFailures: false, clearFailures: {}, escalation: undefined });
  });
});

describe("escalation on waiting", () => {
  const settings = { consecutiveFailures: 3, afterMs: 60 * 60_000, waitingMs: 10 * 60_000 };
  const waitingSince = (subject: string, since: Date, condition?: { status: "True" | "False"; reason: string }) =>
    extension({}, {
      providerStatus: { [WAITING_FIELD]: { for: subject, since: since.toISOString() } },
      ...(condition ? { conditions: [{ type: ESCALATION_CONDITION, ...condition, message: "m", lastTransitionTime: "", lastUpdateTime: "" }] } : {}),
    } as Extension["status"]);

  it("keeps one clock while the same thing is waited for, whatever details change, and escalates after waitingMs naming it", () => {
    const policy = createEscalationPolicy(settings, () => now);
    const first = policy.recordWait(extension(), "SVM svm-p on c1 is initializing");
    expect(first).toMatchObject({ field: { [WAITING_FIELD]: { for: "SVM svm-p on c1 is initializing", since: now.toISOString() } }, escalation: undefined, announce: false, escalated: false });
    const started = new Date(now.getTime() - 11 * 60_000);
    const job = policy.recordWait(waitingSince("SVM svm-p is being created on c1", started), "SVM svm-p is being created on c1 (job 1234, 40%)");
    expect(job.field).toEqual({ [WAITING_FIELD]: { for: "SVM svm-p is being created on c1", since: started.toISOString() } });
    expect(job).toMatchObject({ announce: true, escalated: true, escalation: { escalated: true, reason: "WaitingForSVM" } });
    expect(job.escalation?.message).toBe(
      `waiting since ${started.toISOString()} (over 10 min) for: SVM svm-p is being created on c1; an operator should look (gardener-extension-ontap doctor)`,
    );
    // Already escalated by this wait: the condition is rewritten unchanged (no write), no second event.
    const again = policy.recordWait(waitingSince("SVM svm-p is being created on c1", started, { status: "True", reason: "WaitingForSVM" }), "SVM svm-p is being created on c1 (job 1234, 41%)");
    expect(again).toMatchObject({ announce: false, escalated: true, escalation: job.escalation });
  });

  it("resets on progress, leaves a failure's escalation alone, and falls back to afterMs", () => {
    const policy = createEscalationPolicy(settings, () => now);
    const old = new Date(now.getTime() - 11 * 60_000);
    const progressed = policy.recordWait(waitingSince("SVM svm-p on c1 is initializing", old, { status: "True", reason: "WaitingForSVM" }), "ManagedResource trident-crds is not healthy yet (not applied)");
    expect(progressed).toMatchObject({
      field: { [WAITING_FIELD]: { for: "ManagedResource trident-crds is not healthy yet", since: now.toISOString() } },
      escalation: { escalated: false, reason: "Progressed" },
      announce: false,
      escalated: false,
    });
    const tooLong = policy.recordWait(waitingSince("the webhook is not ready", old, { status: "True", reason: "WaitingTooLong" }), "the SVM is gone");
    expect(tooLong.escalation).toMatchObject({ escalated: false, reason: "Progressed" });
    const failed = policy.recordWait(waitingSince("SVM svm-p on c1 is initializing", old, { status: "True", reason: "RepeatedFailures" }), "SVM svm-p on c1 is initializing");
    expect(failed).toMatchObject({ escalation: undefined, announce: false, escalated: true });
    expect(waitingReason("waiting for ManagedResources no longer rendered to be deleted: a")).toBe("WaitingForManagedResources");
    expect(waitingReason("the webhook is not ready")).toBe("WaitingTooLong");
    const fallback = createEscalationPolicy({ consecutiveFailures: 3, afterMs: 20 * 60_000 }, () => now);
    expect(fallback.recordWait(waitingSince("x", old), "x").escalated).toBe(false);
    expect(policy.recovery(waitingSince("x", old)).clearFailures).toEqual({ [WAITING_FIELD]: null });
  });
});

describe("one function per operation", () => {
  function setup(initial: Extension, answer: ActuatorResult) {
    const s = store(initial);
    const events: string[] = [];
    const gone: string[] = [];
    const gauges: number[] = [];
    const act = async () => answer;
    const actuator: Actuator = { reconcile: act, delete: act, forceDelete: act, migrate: act, restore: act };
    const run = (type: OperationRun["type"]): OperationRun => ({
      actuator,
      kube: s.client,
      ctx: { extension: s.current(), cluster: undefined, signal: new AbortController().signal, recordProviderStatus: async () => undefined },
      type,
      announced: Promise.resolve(),
      status: createStatusUpdater(s.client, () => now),
      escalation: createEscalationPolicy({ consecutiveFailures: 3, afterMs: 60_000 }, () => now),
      obs: {
        event: (_e, type, reason) => events.push(`${type} ${reason}`),
        onGone: (_ns, name) => gone.push(name),
        onFailureCount: (_ns, _n, failures) => gauges.push(failures),
      },
    });
    return { s, events, gone, gauges, run };
  }

  it("reconcile: Succeeded with the actuator's status, the failures cleared, the escalation recovered", async () => {
    const failing = extension({}, {
      providerStatus: { [FAILURES_FIELD]: { count: 4, since: now.toISOString() } },
      conditions: [{ type: ESCALATION_CONDITION, status: "True", reason: "RepeatedFailures", message: "m", lastTransitionTime: "", lastUpdateTime: "" }],
    } as Extension["status"]);
    const t = setup(failing, { kind: "done", description: "all there", providerStatus: { svmName: "s" } });
    expect(await reconcileOperation(t.run("Reconcile"))).toEqual({ kind: "done" });
    const status = t.s.current().status;
    expect(status?.lastOperation).toMatchObject({ type: "Reconcile", state: "Succeeded", description: "all there", progress: 100 });
    expect(status?.observedGeneration).toBe(3);
    expect(status?.providerStatus).toEqual({ svmName: "s" });
    expect(status?.conditions?.find((c) => c.type === ESCALATION_CONDITION)).toMatchObject({ status: "False", reason: "Recovered" });
    expect(t.gauges).toEqual([0]);
    expect(t.events).toEqual([]);
  });

  it("a requeue says what it waits for in Processing and answers the queue's requeue", async () => {
    const t = setup(extension(), { kind: "requeue", afterMs: 30_000, reason: "SVM job running" });
    expect(await reconcileOperation(t.run("Create"))).toEqual({ kind: "requeue", afterMs: 30_000, reason: "SVM job running" });
    expect(t.s.current().status?.lastOperation).toMatchObject({ state: "Processing", description: "SVM job running; checking again in 30s", progress: 50 });
    expect(t.s.current().metadata.finalizers).toEqual([FINALIZER]);
  });

  it("a wait for the same thing past waitingMs escalates once (condition, one Warning event, gauge); success resets it", async () => {
    const since = new Date(now.getTime() - 2 * 60_000).toISOString();
    const waiting = extension({}, {
      lastOperation: { type: "Create", state: "Processing", description: "SVM svm-p on c1 is initializing; checking again shortly", progress: 50, lastUpdateTime: since },
      providerStatus: { [WAITING_FIELD]: { for: "SVM svm-p on c1 is initializing", since } },
    });
    const t = setup(waiting, { kind: "requeue", afterMs: 1_000, reason: "SVM svm-p on c1 is initializing" });
    const gaugeCalls: [number, boolean][] = [];
    const stale = t.s.current();
    const run = t.run("Create");
    run.obs.onFailureCount = (_ns, _n, failures, escalated) => gaugeCalls.push([failures, escalated]);
    await reconcileOperation(run);
    const escalated = t.s.current().status?.conditions?.find((c) => c.type === ESCALATION_CONDITION);
    expect(escalated).toMatchObject({ status: "True", reason: "WaitingForSVM" });
    expect(escalated?.message).toContain("for: SVM svm-p on c1 is initializing");
    expect(t.events).toEqual(["Warning Escalated"]);
    expect(gaugeCalls).toEqual([[0, true]]);
    // The next look at the same wait, from a cache that has not seen that write yet: the conflict re-reads,
    // nothing is left to write, no second event, the gauge stays up.
    const writes = t.s.calls.length;
    const next = t.run("Create");
    next.ctx.extension = stale;
    next.obs.onFailureCount = (_ns, _n, failures, escalated) => gaugeCalls.push([failures, escalated]);
    await reconcileOperation(next);
    expect(t.s.calls.length).toBe(writes);
    expect(t.events).toEqual(["Warning Escalated"]);
    expect(gaugeCalls).toEqual([[0, true], [0, true]]);
    // Success: the condition goes back to False, the stored wait goes, the gauge to zero.
    const ok = setup(t.s.current(), { kind: "done", description: "ready" });
    await reconcileOperation(ok.run("Create"));
    expect(ok.s.current().status?.conditions?.find((c) => c.type === ESCALATION_CONDITION)).toMatchObject({ status: "False", reason: "Recovered" });
    expect(ok.s.current().status?.providerStatus?.[WAITING_FIELD]).toBeUndefined();
    expect(ok.gauges).toEqual([0]);
  });

  it("restore consumes its annotation only after Succeeded is written", async () => {
    const t = setup(extension({ annotations: { [OPERATION_ANNOTATION]: "restore" } }), { kind: "done", description: "restored" });
    await restoreOperation(t.run("Restore"));
    expect(t.s.calls.map((c) => c.subresource ?? "object")).toEqual(["status", "object"]);
    expect(t.s.current().metadata.annotations?.[OPERATION_ANNOTATION]).toBeUndefined();
  });

  it("a requested restore of an Extension that already says Restore Succeeded still moves lastUpdateTime to the request", async () => {
    const restored = extension({ annotations: { [OPERATION_ANNOTATION]: "restore", [TIMESTAMP_ANNOTATION]: "2026-12-01T10:00:00.5Z" } }, {
      observedGeneration: 3,
      lastOperation: { type: "Restore", state: "Succeeded", description: "restored", progress: 100, lastUpdateTime: "2026-12-01T09:00:00Z" },
    });
    const t = setup(restored, { kind: "done", description: "restored" });
    await restoreOperation(t.run("Restore"));
    expect(t.s.calls.map((c) => c.subresource ?? "object")).toEqual(["status", "object"]);
    expect(t.s.current().status?.lastOperation?.lastUpdateTime).toBe("2026-12-01T10:00:00Z");
  });

  it("delete removes only our finalizer, as its last write, then announces and forgets the Extension", async () => {
    const t = setup(extension({ finalizers: ["other/keep", FINALIZER], deletionTimestamp: now.toISOString() }), { kind: "done", description: "gone" });
    await deleteOperation(t.run("Delete"));
    expect(t.s.calls).toHaveLength(1);
    expect(t.s.current().metadata.finalizers).toEqual(["other/keep"]);
    expect(t.events).toEqual(["Normal DeleteSucceeded"]);
    expect(t.gone).toEqual(["ontap"]);
  });

  it("migrate writes Succeeded, then drops every finalizer and its annotation together", async () => {
    const t = setup(extension({ annotations: { [OPERATION_ANNOTATION]: "migrate" }, finalizers: ["other/x", FINALIZER] }), { kind: "done", description: "migrated" });
    await migrateOperation(t.run("Migrate"));
    expect(t.s.calls.map((c) => c.subresource ?? "object")).toEqual(["status", "object"]);
    expect(t.s.current().status?.lastOperation).toMatchObject({ type: "Migrate", state: "Succeeded" });
    expect(t.s.current().metadata.finalizers).toEqual([]);
    expect(t.s.current().metadata.annotations?.[OPERATION_ANNOTATION]).toBeUndefined();
    expect(t.gone).toEqual([]);
  });

  it("a migrate that waits keeps the finalizers and the annotation", async () => {
    const t = setup(extension({ annotations: { [OPERATION_ANNOTATION]: "migrate" } }), { kind: "requeue", afterMs: 1000, reason: "ManagedResources deleting" });
    expect((await migrateOperation(t.run("Migrate"))).kind).toBe("requeue");
    expect(t.s.current().metadata.annotations?.[OPERATION_ANNOTATION]).toBe("migrate");
    expect(t.s.current().metadata.finalizers).toEqual([FINALIZER]);
  });
});

describe("the step runner", () => {
  it("counts each outcome under the step's name and wraps an unexpected error as a retriable ExtensionError naming the step", async () => {
    const seen: string[] = [];
    const onStep = (step: CountedName, outcome: string) => seen.push(`${step}:${outcome}`);
    expect(await runStep("lifs", async () => done(2), onStep)).toEqual({ kind: "done", value: 2 });
    expect((await runStep("svm", async () => requeue(5, "job"), onStep)).kind).toBe("requeue");
    const failed = runStep("credentials", async () => Promise.reject(new Error("ECONNRESET")), onStep);
    await expect(failed).rejects.toThrow(ExtensionError);
    await expect(failed).rejects.toMatchObject({ retriable: true, message: "step credentials failed: ECONNRESET; will retry" });
    // An ExtensionError keeps its own codes and retriability.
    const own = new ExtensionError("bad LIF address", ["ERR_CONFIGURATION_PROBLEM"], { retriable: false });
    await expect(runStep("lifs", async () => Promise.reject(own), onStep)).rejects.toBe(own);
    expect(seen).toEqual(["lifs:ok", "svm:requeue", "credentials:failed", "lifs:failed"]);
  });
});
