import { type Extension, TIMESTAMP_ANNOTATION } from "./types.js";

/**
 * gardenlet requests an operation with two annotations: `gardener.cloud/operation` and
 * `gardener.cloud/timestamp` (the time of the request, RFC 3339 with up to nine fractional digits). It then
 * waits until the Extension is ready by Gardener's `checkExtensionObject`, which, besides Succeeded, current
 * observedGeneration and no operation annotation, wants the timestamp truncated to the second not after
 * `status.lastOperation.lastUpdateTime`. A requested reconcile that changes nothing must still move that time,
 * or gardenlet waits until its timeout while the Extension says Succeeded.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch of an RFC 3339 time truncated to its second; undefined when it is not one. */
export function rfc3339Second(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , sign, oh, om] = m;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!Number.isFinite(utc)) return undefined;
  const offsetMs = sign ? (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  return utc - offsetMs;
}

/**
 * The request is newer than the status: the timestamp annotation (to the second, as Gardener compares) is
 * after lastOperation.lastUpdateTime, or there is no lastOperation yet. False without a parsable annotation
 * (gardenlet's check then does not wait on it either, or fails on it whatever this controller writes).
 */
export function requestAwaitsStatus(extension: Extension): boolean {
  const raw = extension.metadata.annotations?.[TIMESTAMP_ANNOTATION];
  const requested = raw === undefined ? undefined : rfc3339Second(raw);
  if (requested === undefined) return false;
  const last = extension.status?.lastOperation?.lastUpdateTime;
  const updated = last === undefined ? undefined : rfc3339Second(last);
  return updated === undefined || requested > updated;
}
