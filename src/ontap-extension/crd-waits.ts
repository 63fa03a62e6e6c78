/**
 * Extensions whose reconcile stopped only to wait for `trident-crds` to be healthy, with what that pass had
 * established on ONTAP. Two readers:
 * - the next pass of the same generation within CRD_WAIT_CONTINUATION_MS of the ONTAP calls takes the results
 *   (once) and continues with the rest of Trident, so a new shoot does not look up its SVM and prove its
 *   password twice within a second; anything older, another generation, or a delete starts from ONTAP again;
 * - the controller's ManagedResource watch requeues an Extension when its `trident-crds` turns healthy only if
 *   it is waiting here (a shoot whose CRDs turned healthy while its first pass was still busy needs no second
 *   one).
 * In memory only: a restart loses them, which costs a full pass (and the poll interval instead of the watch).
 */

/** How long a pass that waits for trident-crds vouches for its ONTAP results. */
export const CRD_WAIT_CONTINUATION_MS = 30_000;

export interface CrdWaits<T extends { at: number }> {
  /** The pass for `key` waits for its CRDs; `outcome.at` is when its ONTAP calls were made. */
  remember(key: string, generation: number | undefined, outcome: T): void;
  /** The waiting pass's results, if still fresh and of this generation; removes them either way. */
  take(key: string, generation: number | undefined): T | undefined;
  isWaiting(key: string): boolean;
  forget(key: string): void;
}

export function createCrdWaits<T extends { at: number }>(now: () => number = Date.now): CrdWaits<T> {
  const waits = new Map<string, { generation: number | undefined; outcome: T }>();
  const fresh = (outcome: T, at: number) => at - outcome.at <= CRD_WAIT_CONTINUATION_MS;
  return {
    remember(key, generation, outcome) {
      const at = now();
      // Bounded by the shoots waiting at once: whatever went stale (its Extension deleted meanwhile) goes now.
      for (const [k, wait] of waits) if (!fresh(wait.outcome, at)) waits.delete(k);
      // A continuation that waits again keeps the time of its proof: the window counts from the ONTAP calls.
      waits.set(key, { generation, outcome });
    },
    take(key, generation) {
      const wait = waits.get(key);
      if (!wait) return undefined;
      waits.delete(key);
      return fresh(wait.outcome, now()) && wait.generation === generation ? wait.outcome : undefined;
    },
    isWaiting: (key) => waits.has(key),
    forget(key) {
      waits.delete(key);
    },
  };
}
