/**
 * Passwords that were stored as `pendingPassword` and then given up on (a newer rotation replaced them, or
 * the stored password proved live and the pending one was cleared). Their ONTAP write may still be on the
 * wire: a client that timed out or lost its leadership does not take back a request the server already
 * holds, and ONTAP applies it when it gets to it. Until that can no longer happen, the Secret keeps them, so
 * whatever password ONTAP ends up holding is one the Secret holds (secret first), and the next reconcile finds
 * it and promotes it instead of locking Trident out.
 */

export interface SupersededPassword {
  password: string;
  /** When it was given up on (ISO 8601). */
  since: string;
}

/**
 * Far longer than any ONTAP request can stay in flight (the client's request timeout is seconds; a server-side
 * queue of minutes is already an outage): after this, a superseded password can no longer arrive on ONTAP.
 */
export const SUPERSEDED_RETENTION_MS = 15 * 60_000;
/** A bound on the Secret's size however often rotations fail within the retention window. */
export const SUPERSEDED_MAX = 8;

export const SUPERSEDED_KEY = "supersededPasswords";

export function parseSuperseded(raw: string | undefined): SupersededPassword[] {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (e): e is SupersededPassword =>
        typeof e === "object" && e !== null && typeof (e as SupersededPassword).password === "string" && typeof (e as SupersededPassword).since === "string",
    );
  } catch {
    // A hand-edited value is not worth failing a reconcile for; it only ever held fallbacks.
    return [];
  }
}

export function serializeSuperseded(list: readonly SupersededPassword[]): string | undefined {
  return list.length === 0 ? undefined : JSON.stringify(list);
}

/**
 * How far in the future an entry may be dated and still count: the replicas' clocks differ by a little. An entry
 * dated beyond it (a clock that was far off, a hand edit) would never expire, so it is dropped.
 */
export const SUPERSEDED_FUTURE_SKEW_MS = 60_000;

/** Drops entries past the retention window, dated in the future, and the oldest beyond the bound; newest first. */
export function pruneSuperseded(list: readonly SupersededPassword[], now: number): SupersededPassword[] {
  return [...list]
    .filter((e) => {
      const at = Date.parse(e.since);
      return Number.isFinite(at) && now - at < SUPERSEDED_RETENTION_MS && at - now <= SUPERSEDED_FUTURE_SKEW_MS;
    })
    .sort((a, b) => Date.parse(b.since) - Date.parse(a.since))
    .slice(0, SUPERSEDED_MAX);
}

/** Adds passwords given up on now (duplicates and the ones still in use excluded), then prunes. */
export function supersede(
  list: readonly SupersededPassword[],
  passwords: readonly (string | undefined)[],
  now: number,
  inUse: readonly (string | undefined)[] = [],
): SupersededPassword[] {
  const keep = list.filter((e) => !inUse.includes(e.password));
  const known = new Set(keep.map((e) => e.password));
  const added = passwords
    .filter((p): p is string => Boolean(p) && !inUse.includes(p) && !known.has(p as string))
    .map((password) => ({ password, since: new Date(now).toISOString() }));
  return pruneSuperseded([...added, ...keep], now);
}
