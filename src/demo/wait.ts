import { sleep } from "../testenv/index.js";
import { DemoError } from "./binaries.js";

/** Polls `probe` every 100 ms until it returns a value (not undefined or false); each phase of the story waits so. */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string, signal: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new DemoError(`timed out after ${timeoutMs / 1000}s waiting for ${what}`, "TIMEOUT");
    await sleep(100);
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new DemoError("interrupted", "INTERRUPTED");
}
