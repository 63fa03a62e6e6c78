import type { GardenerErrorCode } from "./types.js";

/**
 * An error an actuator reports to the generic reconciler: what failed, the Gardener error code an operator
 * acts on, and whether retrying can help. `retriable: false` marks the operation Failed and stops retries
 * until the spec changes.
 */
export class ExtensionError extends Error {
  override readonly name = "ExtensionError";
  constructor(
    message: string,
    readonly codes: GardenerErrorCode[],
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Anything with a Gardener code/transient classification, as thrown by the config, ONTAP or kube layers. */
interface Classified {
  code?: unknown;
  transient?: unknown;
  status?: unknown;
}

/** Maps a thrown value to Gardener error codes and retriability without knowing which layer threw it. */
export function classifyError(err: unknown): { codes: GardenerErrorCode[]; retriable: boolean; message: string } {
  if (err instanceof ExtensionError) return { codes: err.codes, retriable: err.retriable, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  const e = (typeof err === "object" && err !== null ? err : {}) as Classified;
  if (e.code === "ERR_CONFIGURATION_PROBLEM") return { codes: ["ERR_CONFIGURATION_PROBLEM"], retriable: false, message };
  if (e.status === 401) return { codes: ["ERR_INFRA_UNAUTHENTICATED"], retriable: true, message };
  if (e.status === 403) return { codes: ["ERR_INFRA_UNAUTHORIZED"], retriable: true, message };
  if (e.status === 429) return { codes: ["ERR_INFRA_RATE_LIMITS_EXCEEDED"], retriable: true, message };
  return { codes: ["ERR_RETRYABLE_INFRA_DEPENDENCIES"], retriable: true, message };
}
