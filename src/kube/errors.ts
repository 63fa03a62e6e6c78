export type KubeErrorReason =
  | "NotFound"
  | "Conflict"
  | "AlreadyExists"
  | "Forbidden"
  | "Unauthorized"
  | "Invalid"
  | "Gone"
  | "TooManyRequests"
  | "ServerError"
  | "Timeout"
  | "Transport"
  | "Unknown";

export interface KubeErrorInit {
  reason: KubeErrorReason;
  status?: number;
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** The API server's own message (from a Status body); scrubbed of values before use. */
  serverMessage?: string;
  cause?: unknown;
}

const TRANSIENT: ReadonlySet<KubeErrorReason> = new Set(["ServerError", "TooManyRequests", "Timeout", "Transport"]);

/**
 * A failed Kubernetes API call. The message names the verb, the resource and the object and carries the
 * API server's reason, never a request body: the bodies this client sends include Secrets.
 */
export class KubeError extends Error {
  override readonly name = "KubeError";
  readonly reason: KubeErrorReason;
  readonly status?: number;
  /** Worth retrying unchanged: transport failures, 5xx, 429, timeouts. */
  readonly transient: boolean;
  readonly verb: string;
  readonly resource: string;
  readonly namespace?: string;
  /** The object's name. (`name` stays Error's own: the class name, as stack traces and loggers expect.) */
  readonly objectName?: string;
  /** Stable code for callers that switch on error codes, e.g. `KUBE_NOT_FOUND`. */
  readonly code: string;

  constructor(init: KubeErrorInit) {
    const target = init.name ? ` ${init.namespace ? `${init.namespace}/` : ""}${init.name}` : "";
    const scope = !init.name && init.namespace ? ` in namespace ${init.namespace}` : "";
    const detail = init.serverMessage ? `: ${scrubServerMessage(init.serverMessage)}` : "";
    const status = init.status !== undefined ? ` (HTTP ${init.status})` : "";
    super(`${init.verb} ${init.resource}${target}${scope} failed: ${init.reason}${status}${detail}`, {
      cause: init.cause,
    });
    this.reason = init.reason;
    if (init.status !== undefined) this.status = init.status;
    this.transient = TRANSIENT.has(init.reason);
    this.verb = init.verb;
    this.resource = init.resource;
    if (init.namespace !== undefined) this.namespace = init.namespace;
    if (init.name !== undefined) this.objectName = init.name;
    this.code = `KUBE_${init.reason.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}`;
  }
}

export function isKubeError(err: unknown, reason?: KubeErrorReason): err is KubeError {
  return err instanceof KubeError && (reason === undefined || err.reason === reason);
}

export const isNotFound = (err: unknown): err is KubeError => isKubeError(err, "NotFound");
export const isConflict = (err: unknown): err is KubeError => isKubeError(err, "Conflict");
export const isAlreadyExists = (err: unknown): err is KubeError => isKubeError(err, "AlreadyExists");
export const isGone = (err: unknown): err is KubeError => isKubeError(err, "Gone");

/** Status `reason` strings of the API server mapped onto ours. */
const STATUS_REASONS: Record<string, KubeErrorReason> = {
  NotFound: "NotFound",
  Conflict: "Conflict",
  AlreadyExists: "AlreadyExists",
  Forbidden: "Forbidden",
  Unauthorized: "Unauthorized",
  Invalid: "Invalid",
  Gone: "Gone",
  Expired: "Gone",
  TooManyRequests: "TooManyRequests",
  InternalError: "ServerError",
  ServiceUnavailable: "ServerError",
  ServerTimeout: "Timeout",
  Timeout: "Timeout",
};

export function reasonFor(status: number | undefined, statusReason?: string): KubeErrorReason {
  const mapped = statusReason ? STATUS_REASONS[statusReason] : undefined;
  if (mapped) return mapped;
  switch (status) {
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 410:
      return "Gone";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 408:
    case 504:
      return "Timeout";
  }
  if (status !== undefined && status >= 500) return "ServerError";
  return "Unknown";
}

const MAX_SERVER_MESSAGE = 400;

/**
 * Validation messages quote the offending value (`Invalid value: "..."`); for a Secret that value could be
 * the credential itself, so quoted values are dropped and the message is bounded.
 */
export function scrubServerMessage(message: string): string {
  const scrubbed = message.replace(/Invalid value: (?:"(?:[^"\\]|\\.)*"|\S+)/g, "Invalid value: [value omitted]");
  return scrubbed.length > MAX_SERVER_MESSAGE ? `${scrubbed.slice(0, MAX_SERVER_MESSAGE)}...` : scrubbed;
}
