/**
 * The one error type of the ONTAP client. Every failure (transport, HTTP, job, unparseable answer) becomes an
 * OntapError that says which cluster, which operation, which endpoint, and whether trying again can help.
 * Messages are built only from values we control or have scrubbed, so credentials cannot leak through them.
 */

/** `unavailable`: not sent, because the cluster's circuit breaker is open (see gate.ts). */
export type OntapErrorKind = "connection" | "timeout" | "http" | "job" | "invalid-response" | "unavailable";

export interface OntapErrorInit {
  cluster: string;
  /** What was being attempted, e.g. "create SVM p123". */
  operation: string;
  method: string;
  /** Path template, e.g. `/api/svm/svms/{uuid}`; never a concrete URL with a query. */
  endpoint: string;
  kind: OntapErrorKind;
  transient: boolean;
  /** The tail of the message after "failed: ". Must already be free of secrets. */
  detail: string;
  status?: number;
  code?: string;
  target?: string;
  cause?: unknown;
}

export class OntapError extends Error {
  override readonly name = "OntapError";
  readonly cluster: string;
  readonly operation: string;
  readonly method: string;
  readonly endpoint: string;
  readonly status?: number;
  readonly code?: string;
  readonly target?: string;
  readonly transient: boolean;
  readonly kind: OntapErrorKind;

  constructor(init: OntapErrorInit) {
    super(`ONTAP ${init.cluster}: ${init.operation} failed: ${init.detail}`, { cause: init.cause });
    this.cluster = init.cluster;
    this.operation = init.operation;
    this.method = init.method;
    this.endpoint = init.endpoint;
    this.kind = init.kind;
    this.transient = init.transient;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
    if (init.target !== undefined) this.target = init.target;
  }
}

export function isOntapError(err: unknown): err is OntapError {
  return err instanceof OntapError;
}

/**
 * ONTAP codes that mean "wait and retry" whatever the HTTP status. 1967102 ("the POST might have left the
 * configuration inconsistent, check it") is here too: retrying is right, but a create must look before it
 * retries, which the create path always does after a transient failure.
 */
export const TRANSIENT_ONTAP_CODES: ReadonlySet<string> = new Set(["13434889", "13434894", "13434916", "1967102"]);

/** Codes ONTAP uses for "this already exists"; after an ambiguous create they mean "maybe it was us". */
export const DUPLICATE_ONTAP_CODES: ReadonlySet<string> = new Set(["13434908", "1966140", "1376963"]);

export function isTransientHttp(status: number, code: string | undefined): boolean {
  if (code !== undefined && TRANSIENT_ONTAP_CODES.has(code)) return true;
  // 429 is "too many requests": the standard wait-and-retry answer of any HTTP server or proxy in front of ONTAP.
  return status >= 500 || status === 429;
}

/** Where a request was going; enough to build an OntapError without seeing the request itself. */
export interface RequestContext {
  cluster: string;
  operation: string;
  method: string;
  endpoint: string;
  /** Strings that must never appear in a message (passwords, the Authorization value). */
  secrets: readonly string[];
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short secrets would turn every message into asterisks; ONTAP refuses passwords under 8 characters.
    if (secret.length < 4) continue;
    out = out.split(secret).join("***");
  }
  return out;
}

export interface OntapErrorBody {
  message?: string;
  code?: string;
  target?: string;
}

/** Reads `{"error": {"message", "code", "target"}}` leniently: an error answer may come from a proxy, not ONTAP. */
export function readErrorBody(body: unknown): OntapErrorBody {
  if (typeof body !== "object" || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return {};
  const e = error as Record<string, unknown>;
  const out: OntapErrorBody = {};
  if (typeof e.message === "string") out.message = e.message;
  // ONTAP codes are numbers (as strings); anything else is not a code, and could be whatever a proxy echoed.
  const code = typeof e.code === "string" || typeof e.code === "number" ? String(e.code) : undefined;
  if (code !== undefined && /^\d{1,12}$/.test(code)) out.code = code;
  if (typeof e.target === "string") out.target = e.target;
  return out;
}

export function httpError(ctx: RequestContext, status: number, body: unknown): OntapError {
  const parsed = readErrorBody(body);
  const message = parsed.message !== undefined ? redact(parsed.message, ctx.secrets) : undefined;
  const target = parsed.target !== undefined ? redact(parsed.target, ctx.secrets) : undefined;
  const parts = [String(status)];
  if (parsed.code !== undefined) parts.push(parsed.code);
  parts.push(message ?? httpStatusText(status));
  let detail = parts.join(" ");
  if (target !== undefined) detail += ` (target ${target})`;
  return new OntapError({
    cluster: ctx.cluster,
    operation: ctx.operation,
    method: ctx.method,
    endpoint: ctx.endpoint,
    kind: "http",
    transient: isTransientHttp(status, parsed.code),
    detail,
    status,
    ...(parsed.code !== undefined ? { code: parsed.code } : {}),
    ...(target !== undefined ? { target } : {}),
    // The cause is the scrubbed envelope, not the raw response: nothing from the request rides along.
    cause: { status, code: parsed.code, message, target },
  });
}

export function invalidResponse(ctx: RequestContext, why: string, cause?: unknown, code?: string): OntapError {
  return new OntapError({
    cluster: ctx.cluster,
    operation: ctx.operation,
    method: ctx.method,
    endpoint: ctx.endpoint,
    kind: "invalid-response",
    // A malformed (or oversized) answer is a client/server mismatch; repeating the request will not fix it.
    transient: false,
    ...(code !== undefined ? { code } : {}),
    detail: `invalid response: ${redact(why, ctx.secrets)}`,
    cause: sanitizeCause(cause, ctx.secrets),
  });
}

export function timeoutError(ctx: RequestContext, timeoutMs: number, cause?: unknown): OntapError {
  return new OntapError({
    cluster: ctx.cluster,
    operation: ctx.operation,
    method: ctx.method,
    endpoint: ctx.endpoint,
    kind: "timeout",
    transient: true,
    detail: `timed out after ${timeoutMs} ms`,
    cause: sanitizeCause(cause, ctx.secrets),
  });
}

const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_RESPONSE_STATUS_CODE",
  "UND_ERR_REQ_RETRY",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Finds the most specific error code in an error and its causes (undici wraps the socket error). */
export function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  let first: string | undefined;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      // Prefer the OS-level code (ECONNRESET) over undici's generic wrapper (UND_ERR_SOCKET).
      if (!code.startsWith("UND_ERR_")) return code;
      first ??= code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return first;
}

/**
 * Classifies a failure that produced no HTTP answer. TLS verification failures are permanent: the next
 * attempt meets the same certificate. Unknown errors are permanent too, so a bug is not retried to death.
 */
export function connectionError(ctx: RequestContext, err: unknown): OntapError {
  const code = networkCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  const base = {
    cluster: ctx.cluster,
    operation: ctx.operation,
    method: ctx.method,
    endpoint: ctx.endpoint,
    cause: sanitizeCause(err, ctx.secrets),
  };
  const codeText = code !== undefined ? `${code} ` : "";
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new OntapError({
      ...base,
      kind: "timeout",
      transient: true,
      detail: `timed out (${code}: ${redact(reason, ctx.secrets)})`,
    });
  }
  const transient = code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
  const tls = code !== undefined && isTlsCode(code);
  return new OntapError({
    ...base,
    kind: "connection",
    transient: transient && !tls,
    detail: `${tls ? "TLS error" : "connection error"} ${codeText}(${redact(reason, ctx.secrets)})`,
    ...(code !== undefined ? { code } : {}),
  });
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.includes("CERT") ||
    code.includes("SELF_SIGNED") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code.startsWith("ERR_SSL_")
  );
}

/**
 * Keeps the useful part of a low-level error (name, message, code, errno, syscall, cause chain) and drops the
 * rest: undici errors can reference sockets and request state, which is nothing an error report needs and
 * everything a credential could hide in.
 */
export function sanitizeCause(err: unknown, secrets: readonly string[], depth = 0): unknown {
  if (err === undefined || err === null) return undefined;
  if (!(err instanceof Error)) return redact(String(err), secrets);
  const clean = new Error(redact(err.message, secrets));
  clean.name = err.name;
  if (err.stack) clean.stack = redact(err.stack, secrets);
  const source = err as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  const target = clean as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  if (typeof source.code === "string") target.code = source.code;
  if (typeof source.errno === "number") target.errno = source.errno;
  if (typeof source.syscall === "string") target.syscall = source.syscall;
  if (depth < 4 && err.cause !== undefined) clean.cause = sanitizeCause(err.cause, secrets, depth + 1);
  return clean;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function httpStatusText(status: number): string {
  return STATUS_TEXT[status] ?? "HTTP error";
}
