import type { GardenerErrorCode, LastOperationState, LastOperationType, Condition, Extension, NamedResourceReference } from "./types.js";

export const ESCALATION_CONDITION = "ReconcileEscalated";

/** Longest description written to status (Gardener shows it in the dashboard; events are cut at 1024 too). */
export const MAX_STATUS_MESSAGE = 1024;

/** Replaces C0 control characters and DEL (terminal escapes, newlines in a one-line field). */
export function withoutControlCharacters(text: string, replacement: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? replacement : ch;
  }
  return out;
}

/** Cuts a message to `max` characters and replaces control characters: whatever an error carried. */
export function boundMessage(message: string, max = MAX_STATUS_MESSAGE): string {
  const printable = withoutControlCharacters(message, " ");
  return printable.length > max ? `${printable.slice(0, max - 3)}...` : printable;
}

export interface StatusUpdate {
  type: LastOperationType;
  state: LastOperationState;
  description: string;
  progress?: number;
  /** Set on success: the generation this status describes. */
  observedGeneration?: number;
  error?: { description: string; codes: GardenerErrorCode[] };
  providerStatus?: Record<string, unknown>;
  escalation?: { escalated: boolean; reason: string; message: string };
  /** Further conditions to upsert by type (an actuator's, e.g. CredentialsVerified). */
  conditions?: Array<{ type: string; status: Condition["status"]; reason: string; message: string }>;
  /** `status.resources`, replaced as a whole (gardenlet persists the objects they name on migration). */
  resources?: NamedResourceReference[];
}

/**
 * Builds the merge patch for `status`, touching only the fields this controller owns. Timestamps move only
 * when content moves, so a reconcile that changes nothing writes nothing (see `statusPatchIsNoop`).
 */
export function buildStatusPatch(current: Extension, update: StatusUpdate, now: Date): Record<string, unknown> {
  const time = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const status = current.status ?? {};
  const lastOperation = {
    type: update.type,
    state: update.state,
    description: boundMessage(update.description),
    progress: update.progress ?? (update.state === "Succeeded" ? 100 : 50),
    lastUpdateTime: time,
  };
  const patch: Record<string, unknown> = { lastOperation };
  if (update.observedGeneration !== undefined) patch.observedGeneration = update.observedGeneration;
  if (update.error) {
    patch.lastError = { description: boundMessage(update.error.description), codes: update.error.codes, lastUpdateTime: time };
  } else if (update.state === "Succeeded" && status.lastError) {
    patch.lastError = null;
  }
  if (update.resources) patch.resources = update.resources;
  if (update.providerStatus) patch.providerStatus = { ...(status.providerStatus ?? {}), ...update.providerStatus };
  let conditions = status.conditions ?? [];
  if (update.escalation) {
    conditions = upsertCondition(conditions, {
      type: ESCALATION_CONDITION,
      status: update.escalation.escalated ? "True" : "False",
      reason: update.escalation.reason,
      message: boundMessage(update.escalation.message),
      time,
    });
  }
  for (const condition of update.conditions ?? []) conditions = upsertCondition(conditions, { ...condition, time });
  if (update.escalation || (update.conditions?.length ?? 0) > 0) patch.conditions = conditions;
  return patch;
}

function upsertCondition(
  conditions: Condition[],
  next: { type: string; status: Condition["status"]; reason: string; message: string; time: string },
): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const unchanged = existing && existing.status === next.status && existing.reason === next.reason && existing.message === next.message;
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime: existing && existing.status === next.status ? existing.lastTransitionTime : next.time,
    lastUpdateTime: unchanged ? existing.lastUpdateTime : next.time,
  };
  return [...conditions.filter((c) => c.type !== next.type), condition];
}

/** True when applying the patch would change nothing but timestamps: the write can be skipped. */
/**
 * Times that move on every reconcile. A patch that differs only in these is not sent, so a no-op reconcile
 * writes nothing to status; `providerStatus.lastVerification` then says when the last verification that
 * changed anything else ran (the verification itself still runs every time).
 */
const VOLATILE_TIME_FIELDS = new Set(["lastUpdateTime", "lastTransitionTime", "lastVerification"]);

export function statusPatchIsNoop(current: Extension, patch: Record<string, unknown>): boolean {
  const status = (current.status ?? {}) as Record<string, unknown>;
  return Object.entries(patch).every(([key, value]) => sameIgnoringTimes(status[key], value));
}

function sameIgnoringTimes(a: unknown, b: unknown): boolean {
  if (b === null) return a === undefined || a === null;
  return JSON.stringify(stripTimes(a)) === JSON.stringify(stripTimes(b));
}

function stripTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripTimes);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !VOLATILE_TIME_FIELDS.has(k))
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, v]) => [k, stripTimes(v)]),
    );
  }
  return value;
}
