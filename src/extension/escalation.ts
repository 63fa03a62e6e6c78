import { ESCALATION_CONDITION, type StatusUpdate } from "./status.js";
import type { Extension } from "./types.js";

/** When repeated failures of one Extension call for an operator (component config `escalation`). */
export interface EscalationSettings {
  consecutiveFailures: number;
  afterMs: number;
}

/**
 * The consecutive failures, kept in `status.providerStatus.failures` (this controller's own status field)
 * rather than in memory, so a restart or a new leader continues the count and the escalation clock
 * instead of starting over (and never escalating a shoot that fails on every leader for an hour).
 */
export const FAILURES_FIELD = "failures";

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
  /** What a success resets: the stored failures (a field set to null) and the escalation condition. */
  recovery(extension: Extension): Recovery;
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
  return extension.status?.conditions?.some((c) => c.type === ESCALATION_CONDITION && c.status === "True") ?? false;
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
      const seconds = Math.round((now().getTime() - record.since) / 1000);
      const span = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
      return {
        escalated: true,
        reason: "RepeatedFailures",
        message: `${record.count} consecutive failures over ${span} without success; an operator should look (gardener-extension-ontap doctor)`,
      };
    },
    failuresField: (record) => ({ [FAILURES_FIELD]: { count: record.count, since: new Date(record.since).toISOString() } }),
    recovery(extension) {
      const stored = storedFailures(extension) !== undefined;
      const escalated = isEscalated(extension);
      const clearFailures: Record<string, null> = stored ? { [FAILURES_FIELD]: null } : {};
      return {
        hadFailures: stored || escalated,
        clearFailures,
        escalation: escalated ? { escalated: false, reason: "Recovered", message: "the last reconcile succeeded" } : undefined,
      };
    },
  };
}
