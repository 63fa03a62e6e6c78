import { createHash } from "node:crypto";

/**
 * When a shoot's stored password is proven again (a login at its SVM management LIF): once per period, each
 * shoot at its own moment in it, so 1,000 shoots make 1,000 logins spread over the period instead of a burst
 * every health interval. The moment is a deterministic offset from the shoot's key (the same after a restart
 * and on every replica). A proof that did not say "authenticates" is not kept: a rejected or unanswered
 * password is tried again every check, so a repaired one clears as soon as it works.
 */
export interface ProofSchedule<P> {
  /** The last proof when it is still good to use; undefined when a proof is due. */
  reuse(key: string): P | undefined;
  /** `good`: the proof said the stored password authenticates (only those are kept for the period). */
  record(key: string, proof: P, good: boolean): void;
  forget(key: string): void;
}

/** The shoot's offset into each period, in [0, periodMs). */
export function proofOffsetMs(key: string, periodMs: number): number {
  const digest = createHash("sha256").update(key).digest();
  return digest.readUInt32BE(0) % Math.max(1, Math.floor(periodMs));
}

/** Which period `atMs` falls in for this shoot: a new number means a proof is due. */
export function proofSlot(key: string, atMs: number, periodMs: number): number {
  return Math.floor((atMs - proofOffsetMs(key, periodMs)) / periodMs);
}

export function createProofSchedule<P>(opts: { periodMs: number; now?: () => number }): ProofSchedule<P> {
  const now = opts.now ?? Date.now;
  const last = new Map<string, { slot: number; proof: P }>();
  return {
    reuse(key) {
      if (opts.periodMs <= 0) return undefined;
      const kept = last.get(key);
      return kept && kept.slot === proofSlot(key, now(), opts.periodMs) ? kept.proof : undefined;
    },
    record(key, proof, good) {
      if (good && opts.periodMs > 0) last.set(key, { slot: proofSlot(key, now(), opts.periodMs), proof });
      else last.delete(key);
    },
    forget: (key) => void last.delete(key),
  };
}
