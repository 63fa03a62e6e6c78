/**
 * How gardenlet requests an operation of an Extension and decides that it is done, written from Gardener's
 * source (not shared with the controller, so a mistake in the controller's reading is not mirrored here):
 * - the request: `pkg/component/extensions/extension/extension.go` (`deploy`) and `pkg/extensions`
 *   (`AnnotateObjectWithOperation`) set `gardener.cloud/operation` and `gardener.cloud/timestamp`, the time
 *   as `time.Now().UTC().Format(time.RFC3339Nano)`;
 * - ready: `pkg/utils/kubernetes/health/extensions.go` `checkExtensionObject`, in its order: no lastError,
 *   observedGeneration current, no operation annotation, a lastOperation, state Succeeded, and the timestamp
 *   (truncated to the second) not after lastOperation.lastUpdateTime; `WaitUntilExtensionObjectReady` adds
 *   that the timestamp annotation still has the value the waiter set (its cache saw the request);
 * - migrated: `WaitUntilExtensionObjectMigrated`: gone, or lastOperation Migrate and Succeeded.
 */

export const GARDENER_OPERATION = "gardener.cloud/operation";
export const GARDENER_TIMESTAMP = "gardener.cloud/timestamp";

/** The part of an Extension the checks read. */
export interface CheckedExtension {
  metadata: { generation?: number; annotations?: Record<string, string> };
  status?: {
    observedGeneration?: number;
    lastError?: { description?: string; codes?: string[] } | null;
    lastOperation?: { type?: string; state?: string; lastUpdateTime?: string } | null;
  };
}

/**
 * Go's `time.RFC3339Nano` of a UTC time: fractional seconds without trailing zeros, none when they are zero
 * (`2026-12-06T06:16:34.12Z`, `2026-12-06T06:16:34Z`). `extraNanos` (0-999999) adds the digits below the
 * millisecond a Go clock has and a Date has not.
 */
export function formatRfc3339Nano(time: Date, extraNanos = 0): string {
  const iso = time.toISOString(); // 2026-12-06T06:16:34.123Z
  const nanos = (time.getUTCMilliseconds() * 1_000_000 + extraNanos).toString().padStart(9, "0").replace(/0+$/, "");
  return `${iso.slice(0, 19)}${nanos ? `.${nanos}` : ""}Z`;
}

/** The timestamp gardenlet writes with a request made at `now` (with sub-millisecond digits, as a Go clock has). */
export function gardenletTimestamp(now: Date = new Date()): string {
  return formatRfc3339Nano(now, Math.floor(Math.random() * 1_000_000));
}

/** The annotations gardenlet sets to request `operation` at `now`. */
export function gardenletRequest(operation: "reconcile" | "restore" | "migrate", now: Date = new Date()): Record<string, string> {
  return { [GARDENER_OPERATION]: operation, [GARDENER_TIMESTAMP]: gardenletTimestamp(now) };
}

/** Go's `time.Parse(time.RFC3339Nano, ...)` for what appears here, then `Truncate(time.Second)`: epoch ms. */
function parseTruncatedToSecond(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `time.RFC3339` in UTC, as Gardener formats both times in its message. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Gardener's `checkExtensionObject`: undefined when gardenlet would call the Extension ready, else the reason
 * it keeps waiting, in Gardener's words.
 */
export function checkExtensionObject(ext: CheckedExtension): string | undefined {
  const status = ext.status ?? {};
  if (status.lastError) return `error during reconciliation: ${status.lastError.description ?? ""}`;
  const generation = ext.metadata.generation ?? 0;
  const observed = status.observedGeneration ?? 0;
  if (observed !== generation) return `observed generation outdated (${observed}/${generation})`;
  const annotations = ext.metadata.annotations ?? {};
  if (GARDENER_OPERATION in annotations) return `gardener operation "${annotations[GARDENER_OPERATION]}" is not yet picked up by controller`;
  const last = status.lastOperation;
  if (!last) return "extension did not record a last operation yet";
  if (last.state !== "Succeeded") return `extension state is not succeeded but ${last.state}`;
  const timestamp = annotations[GARDENER_TIMESTAMP];
  if (timestamp !== undefined) {
    const requested = parseTruncatedToSecond(timestamp);
    if (requested === undefined) return `cannot parse gardener.cloud/timestamp annotation: ${JSON.stringify(timestamp)}`;
    // metav1.Time: a missing or unparsable lastUpdateTime is the zero time, before any request.
    const updated = last.lastUpdateTime ? (parseTruncatedToSecond(last.lastUpdateTime) ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY;
    if (requested > updated) {
      return `extension is not reconciled yet - reconciliation requested at ${rfc3339(requested)}, last update time is: ${
        Number.isFinite(updated) ? rfc3339(updated) : "0001-01-01T00:00:00Z"
      }`;
    }
  }
  return undefined;
}

/**
 * `WaitUntilExtensionObjectReady`'s health function: `checkExtensionObject`, and, when the waiter set the
 * timestamp, that the object still carries it (a read that predates the request is not an answer to it).
 */
export function extensionReadiness(ext: CheckedExtension, requestedTimestamp?: string): string | undefined {
  if (requestedTimestamp !== undefined) {
    const actual = ext.metadata.annotations?.[GARDENER_TIMESTAMP];
    if (actual !== requestedTimestamp) return `annotation ${GARDENER_TIMESTAMP} is ${JSON.stringify(actual)}, expected ${JSON.stringify(requestedTimestamp)}`;
  }
  return checkExtensionObject(ext);
}

/** `WaitUntilExtensionObjectMigrated`: undefined once gone or Migrate Succeeded, else why not. */
export function extensionMigration(ext: CheckedExtension | undefined): string | undefined {
  if (!ext) return undefined;
  const last = ext.status?.lastOperation;
  if (last?.type === "Migrate" && last.state === "Succeeded") return undefined;
  return `not migrated yet: lastOperation ${last?.type ?? "none"} ${last?.state ?? ""}`.trimEnd();
}

/** `checkExtensionObject` as a predicate, for the helpers that poll with one. */
export const isExtensionReady = (ext: CheckedExtension | undefined): boolean => ext !== undefined && checkExtensionObject(ext) === undefined;
