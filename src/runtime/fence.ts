/**
 * The write fence: a write to ONTAP or the seed is sent only while this process may write, checked
 * immediately before each write (not once per reconcile), so work that outlived its leadership term stops
 * at its next write instead of racing the new leader.
 */
export type WriteFence = () => void;

/** Thrown by a fence: the write was not sent. Transient: the key is reconciled again by whoever leads. */
export class FencedError extends Error {
  override readonly name = "FencedError";
  readonly transient = true;
  constructor(reason: string) {
    super(`write not sent: ${reason}`);
  }
}

/** True when `err`, or any error in its `cause` chain, is a FencedError (steps wrap what they throw). */
export function isFencedError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof FencedError) return true;
  }
  return false;
}
