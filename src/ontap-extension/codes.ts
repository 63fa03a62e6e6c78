import type { GardenerErrorCode } from "../extension/types.js";

/** The Gardener code an operator acts on for a failure of ONTAP or the seed API server. */
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
