import { ESCALATION_CONDITION, type StatusUpdate } from "./status.js";
import type { Extension } from "./types.js";

/** When repeated failures, or a wait that does not end, of one Extension call for an operator (component config `escalation`). */
export interface EscalationSettings {
  consecutiveFailures: number;
  afterMs: number;
  /** How long one wait (a requeue for the same thing) may last; absent: as long as `afterMs`. */
  waitingMs?: number;
}

/**
 * The consecutive failures, kept in `status.providerStatus.failures` (this controller's own status field)
 * rather than in memory, so a restart or a new leader continues the count and the escalation clock
 * instead of starting over (and never escalating a shoot that fails on every leader for an hour).
 */
export const FAILURES_FIELD = "failures";

/**
 * What the operation waits for and since when, in `status.providerStatus.waiting` for the same reason as the
 * failures: a requeue every few seconds for an hour must escalate whoever leads meanwhile.
 */
export const WAITING_FIELD = "waiting";

/** Condition reasons of a wait's escalation start with this (`WaitingForSVM`, `WaitingTooLong`); a failure's is `RepeatedFailures`. */
const WAITING_REASON_PREFIX = "Waiting";

export interface FailureRecord {
  count: number;
  since: number;
  escalated: boolean;
  /** Escalated before this failure: the Warning event went out then (once per escalation, not per failure). */
  announced: boolean;
}

/** Counts failures from status and says when to escalate; knows nothing of Kubernetes (status.ts writes). */
export interface EscalationPolicy {
  /** This failure added to the ones status already counts (from whichever process wrote them). */
  recordFailure(extension: Extension): FailureRecord;
  /** The escalation condition a failure sets; undefined while the failures do not call for an operator. */
  escalationFor(record: FailureRecord): StatusUpdate["escalation"];
  /** The `providerStatus` fields that store a failure record. */
  failuresField(record: FailureRecord): Record<string, unknown>;
  /** What a success resets: the stored failures and wait (fields set to null) and the escalation condition. */
  recovery(extension: Extension): Recovery;
  /** A requeue: the wait it continues (or starts), whether it escalates now, and what status stores. */
  recordWait(extension: Extension, reason: string): WaitRecord;
}

export interface WaitRecord {
  /** The stored wait: `providerStatus` fields, unchanged while the same thing is waited for. */
  field: Record<string, unknown>;
  /** Escalated (True), back to False after progress, or undefined: the condition stays as it is. */
  escalation: StatusUpdate["escalation"];
  /** This requeue escalates and the condition did not say so before: the Warning event goes out once. */
  announce: boolean;
  /** The escalation condition is True after this write (for the gauge). */
  escalated: boolean;
  /** The failures status counts (for the gauge, which a requeue does not reset). */
  failures: number;
}

export interface Recovery {
  /** Status held a failure count or the escalation: the failure gauges go back to zero. */
  hadFailures: boolean;
  /** Merged into a success's `providerStatus`: clears the stored count (empty when none was stored). */
  clearFailures: Record<string, null>;
  /** The escalation condition back to False, when it was True. */
  escalation: StatusUpdate["escalation"];
}

interface StoredFailures {
  count?: number;
  since?: string;
}

function storedFailures(extension: Extension): StoredFailures | undefined {
  const value = (extension.status?.providerStatus as Record<string, unknown> | undefined)?.[FAILURES_FIELD];
  return value && typeof value === "object" ? (value as StoredFailures) : undefined;
}

function isEscalated(extension: Extension): boolean {
  return escalationCondition(extension)?.status === "True";
}

function escalationCondition(extension: Extension) {
  return extension.status?.conditions?.find((c) => c.type === ESCALATION_CONDITION);
}

interface StoredWait {
  for?: string;
  since?: string;
}

function storedWait(extension: Extension): StoredWait | undefined {
  const value = (extension.status?.providerStatus as Record<string, unknown> | undefined)?.[WAITING_FIELD];
  return value && typeof value === "object" ? (value as StoredWait) : undefined;
}

/**
 * What a requeue reason waits for, without the details that change while it waits (a job's progress, a
 * condition's message): `ManagedResource trident-crds is not healthy yet (ResourcesApplied False: ...)` waits
 * for the same thing as long as it says `ManagedResource trident-crds is not healthy yet`.
 */
export function waitSubject(reason: string): string {
  return reason.replace(/\s*\([^()]*\)/g, "").replace(/\s+/g, " ").trim();
}

/**
 * The condition reason of a wait's escalation: `WaitingFor` and the kind of thing the reason starts with
 * (`SVM ...` -> `WaitingForSVM`, `ManagedResource ...` -> `WaitingForManagedResource`), `WaitingTooLong`
 * when it starts with no such name.
 */
export function waitingReason(subject: string): string {
  const head = subject.replace(/^waiting for /i, "").split(" ")[0] ?? "";
  return /^[A-Z][A-Za-z0-9]*$/.test(head) ? `${WAITING_REASON_PREFIX}For${head}` : `${WAITING_REASON_PREFIX}TooLong`;
}

function span(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

export function createEscalationPolicy(settings: EscalationSettings, now: () => Date = () => new Date()): EscalationPolicy {
  return {
    recordFailure(extension) {
      const stored = storedFailures(extension);
      const storedSince = stored?.since ? Date.parse(stored.since) : Number.NaN;
      const since = Number.isFinite(storedSince) ? storedSince : now().getTime();
      const count = (typeof stored?.count === "number" && stored.count > 0 ? stored.count : 0) + 1;
      const escalated = count >= settings.consecutiveFailures || now().getTime() - since >= settings.afterMs;
      return { count, since, escalated, announced: isEscalated(extension) };
    },
    escalationFor(record) {
      if (!record.escalated) return undefined;
      return {
        escalated: true,
        reason: "RepeatedFailures",
        message: `${record.count} consecutive failures over ${span(now().getTime() - record.since)} without success; an operator should look (gardener-extension-ontap doctor)`,
      };
    },
    failuresField: (record) => ({ [FAILURES_FIELD]: { count: record.count, since: new Date(record.since).toISOString() } }),
    recovery(extension) {
      const stored = storedFailures(extension) !== undefined;
      const escalated = isEscalated(extension);
      const clearFailures: Record<string, null> = {
        ...(stored ? { [FAILURES_FIELD]: null } : {}),
        ...(storedWait(extension) !== undefined ? { [WAITING_FIELD]: null } : {}),
      };
      return {
        hadFailures: stored || escalated,
        clearFailures,
        escalation: escalated ? { escalated: false, reason: "Recovered", message: "the last reconcile succeeded" } : undefined,
      };
    },
    recordWait(extension, reason) {
      const subject = waitSubject(reason);
      const stored = storedWait(extension);
      const storedSince = stored?.for === subject && stored.since ? Date.parse(stored.since) : Number.NaN;
      const since = Number.isFinite(storedSince) ? storedSince : now().getTime();
      const field = { [WAITING_FIELD]: { for: subject, since: new Date(since).toISOString() } };
      const failures = storedFailures(extension)?.count ?? 0;
      const condition = escalationCondition(extension);
      const waitEscalated = condition?.status === "True" && condition.reason.startsWith(WAITING_REASON_PREFIX);
      const waited = now().getTime() - since;
      if (waited >= (settings.waitingMs ?? settings.afterMs)) {
        const escalation = {
          escalated: true,
          reason: waitingReason(subject),
          // Stable while the wait lasts (no growing duration in it), so a requeue that changes nothing writes nothing.
          message: `waiting since ${field[WAITING_FIELD].since} (over ${span(settings.waitingMs ?? settings.afterMs)}) for: ${subject}; an operator should look (gardener-extension-ontap doctor)`,
        };
        // A failure's escalation stays as it is (its message names the failures); a wait's is kept current.
        if (isEscalated(extension) && !waitEscalated) return { field, escalation: undefined, announce: false, escalated: true, failures };
        return { field, escalation, announce: !isEscalated(extension), escalated: true, failures };
      }
      // Progress (something else is waited for now): a wait that escalated is over, the next one has its own clock.
      const progressed = waitEscalated && stored?.for !== subject;
      const escalation = progressed ? { escalated: false, reason: "Progressed", message: `no longer waiting for: ${stored?.for ?? "the earlier wait"}` } : undefined;
      return { field, escalation, announce: false, escalated: isEscalated(extension) && !progressed, failures };
    },
  };
}
