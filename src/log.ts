import pino from "pino";

export type Logger = pino.Logger;

export const REDACTED = "[REDACTED]";

/**
 * Keys whose values are never logged, wherever they appear in a logged object. Compared case-insensitively
 * and without `-`/`_`, so `Authorization` (a header), `client-key-data` (kubeconfig) and `client_secret`
 * are all caught. `stringData` and a Secret's `data` hold credentials in plain or base64 form; base64 is
 * not protection.
 */
const SECRET_KEYS = new Set([
  "authorization",
  "proxyauthorization",
  "cookie",
  "setcookie",
  "stringdata",
  "credentials",
  "clientkeydata",
]);
/** Suffixes of secret-bearing key names: `pendingPassword`, `accessToken`, `clientSecret`, `x-api-key`. */
const SECRET_KEY_SUFFIXES = ["password", "passwd", "passphrase", "token", "secret", "apikey", "privatekey", "keydata"];

const MAX_DEPTH = 12;

function isSecretKey(key: string, value: unknown): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, "");
  // A key named just `secret` usually holds a Secret object (whose `data` is redacted below); a string is a value.
  if (normalized === "secret") return typeof value === "string";
  return SECRET_KEYS.has(normalized) || SECRET_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/** An HTTP credential in a string value (a header logged under a harmless key). */
const CREDENTIAL_VALUE = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g;

function isSecretObject(value: Record<string, unknown>): boolean {
  return value["kind"] === "Secret";
}

/**
 * Returns a copy of `value` in which every secret-bearing key is replaced by `[REDACTED]`, at any depth.
 * Errors become plain objects first (pino's serializer shape) so properties hung on an error, such as a
 * request body, are redacted too. Cycles and very deep structures are cut rather than followed.
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, 0, new WeakSet()) as T;
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return value.replace(CREDENTIAL_VALUE, `$1 ${REDACTED}`);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  if (depth > MAX_DEPTH) return "[Truncated]";
  seen.add(value);
  try {
    if (value instanceof Error) {
      return redactValue(pino.stdSerializers.errWithCause(value), depth + 1, seen);
    }
    if (Array.isArray(value)) {
      return value.map((item) => redactValue(item, depth + 1, seen));
    }
    if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
      return Buffer.isBuffer(value) || ArrayBuffer.isView(value) ? "[Binary]" : value;
    }
    const source = value as Record<string, unknown>;
    const secretObject = isSecretObject(source);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(source)) {
      if (isSecretKey(key, item) || (secretObject && key === "data")) {
        out[key] = REDACTED;
      } else {
        out[key] = redactValue(item, depth + 1, seen);
      }
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** pino's level names, quietest last. */
export const LOG_LEVELS: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export interface LoggerOptions {
  /** pino level name; default `info`, or `LOG_LEVEL` from the environment. */
  level?: string;
  /** A file to append JSON lines to; default standard output. */
  destination?: string;
  /** Any writable destination (tests capture lines with it); wins over `destination`. */
  stream?: pino.DestinationStream;
  /** Base bindings added to every line (default: none; pino's pid/hostname are left out). */
  base?: Record<string, unknown>;
}

/**
 * JSON logger with secret redaction applied to every logged object and every child binding. Redaction is
 * a deep walk rather than pino's path-based `redact`, because a password can sit at any depth of an object
 * handed to the logger (an ONTAP request body, a Secret, a Kubernetes object in an error).
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env["LOG_LEVEL"] ?? "info";
  const stream =
    opts.stream ??
    (opts.destination ? pino.destination({ dest: opts.destination, mkdir: true, sync: true }) : pino.destination(1));
  return pino(
    {
      level,
      base: opts.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors are already plain (and redacted) objects by the time serializers run; pino's own err
      // serializer would otherwise re-serialize them and report their type as "Object".
      serializers: { err: (value: unknown) => redactSecrets(value) },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactSecrets(bindings),
        log: (obj) => redactSecrets(obj),
      },
      // A second line of defence for the well-known paths, in case a custom serializer reintroduces them.
      redact: {
        paths: ["password", "pendingPassword", "token", "authorization", "stringData", "data.password", "*.password"],
        censor: REDACTED,
      },
    },
    stream,
  );
}
