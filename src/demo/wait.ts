import type { Extension } from "../extension/types.js";
import type { KubeClient } from "../kube/client.js";
import { Extensions } from "../kube/resources.js";
import { checkExtensionObject, sleep } from "../testenv/index.js";
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

/**
 * Waits as gardenlet does after its request: every Extension `ontap` of `namespaces` ready by Gardener's
 * `checkExtensionObject` (src/testenv/extension-readiness.ts), read from the API server every 100 ms.
 */
export async function waitForGardenerReady(kube: KubeClient, namespaces: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const waiting: string[] = [];
    for (const namespace of namespaces) {
      const ext = await kube.get<Extension>(Extensions, namespace, "ontap");
      const reason = ext ? checkExtensionObject(ext) : "the Extension does not exist";
      if (reason) waiting.push(`${namespace}: ${reason}`);
    }
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new DemoError(`timed out after ${timeoutMs / 1000}s waiting as gardenlet does: ${waiting.join("; ")}`, "TIMEOUT");
    await sleep(100);
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new DemoError("interrupted", "INTERRUPTED");
}
