import { setTimeout } from "node:timers/promises";

/** Waits `ms`, or less if `signal` aborts first (never rejects). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return;
  await setTimeout(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
