import type { GardenerErrorCode } from "./types.js";

/** Whether retrying can help, and the error this one wraps. */
export interface ExtensionErrorOptions {
  /** `false` marks the operation Failed and stops retries until the spec changes. */
  retriable: boolean;
  cause?: unknown;
}

/**
 * An error an actuator reports to the generic reconciler: what failed, the Gardener error code an operator
 * acts on, and whether retrying can help.
 */
export class ExtensionError extends Error {
  override readonly name = "ExtensionError";
  readonly retriable: boolean;
  constructor(
    message: string,
    readonly codes: GardenerErrorCode[],
    options: ExtensionErrorOptions,
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable;
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
  return { codes: [codeForInfraError(err)], retriable: true, message };
}

/**
 * The Gardener code an operator acts on for a failure of ONTAP or the seed API server: both clients' errors
 * (KubeError, OntapError) carry the HTTP `status`, so one mapping serves both.
 */
export function codeForInfraError(err: unknown): GardenerErrorCode {
  const status = (err as { status?: unknown } | undefined)?.status;
  if (status === 401) return "ERR_INFRA_UNAUTHENTICATED";
  if (status === 403) return "ERR_INFRA_UNAUTHORIZED";
  if (status === 429) return "ERR_INFRA_RATE_LIMITS_EXCEEDED";
  return "ERR_RETRYABLE_INFRA_DEPENDENCIES";
}

/** Several clusters failed at once: their distinct codes, most specific first. */
export function codesForInfraErrors(errors: readonly unknown[]): GardenerErrorCode[] {
  const codes = [...new Set(errors.map(codeForInfraError))];
  return codes.length > 1 ? codes.filter((c) => c !== "ERR_RETRYABLE_INFRA_DEPENDENCIES") : codes;
}
