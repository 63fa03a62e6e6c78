import type { IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { KubeCredentials } from "./credentials.js";
import { KubeError, type KubeErrorReason, reasonFor } from "./errors.js";
import { nodeHttp } from "./node-http.js";
import { type ResourceType, resourcePath } from "./resources.js";

/**
 * The request layer under the typed Kubernetes operations (like client-go's `rest` under its typed clients):
 * transport (node:https with the keep-alive agent of credentials.ts: Node's own HTTP parser, where undici's
 * fetch loaded web streams and a WebAssembly parser, about 35 MiB of the process's resident memory) and
 * authentication (credentials.ts), deadlines, request events, response parsing and the
 * mapping of failures onto KubeError. read.ts (get, list), write.ts (create, update, status, patch, delete) and watch.ts are written against
 * it; client.ts joins them into one KubeClient.
 */

export type KubeVerb = "get" | "list" | "create" | "update" | "patch" | "delete" | "watch";
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeRequestEvent {
  verb: KubeVerb;
  /** The resource's plural, with `/status` for the status subresource. */
  resource: string;
  /** HTTP status, or "error" when no response arrived (transport failure, timeout). */
  code: number | "error";
  durationMs: number;
}

export interface KubeRequestOptions {
  onRequest?: (ev: KubeRequestEvent) => void;
  /** Deadline for one request, body included; for a watch, for its response headers. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
}

/** One API request, described without a URL: the layer builds it and names it in errors. */
export interface RequestSpec {
  verb: KubeVerb;
  type: ResourceType;
  method: HttpMethod;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** Ask for PartialObjectMetadata(List): names, labels, annotations, resourceVersion, no content. */
  metadataOnly?: boolean;
}

export interface KubeRequests {
  /** The request layer's deadline, also the watch's deadline for its response headers. */
  readonly timeoutMs: number;
  /**
   * One request with a deadline covering the body: the parsed JSON of a 2xx answer, or `body: undefined`
   * with status 404 when the caller tolerates absence.
   */
  send<R>(spec: RequestSpec, allowNotFound?: boolean): Promise<{ status: number; body: R | undefined }>;
  /** Sends a request and returns the raw response (for a watch stream); the caller owns the deadline. */
  open(spec: RequestSpec, signal: AbortSignal): Promise<IncomingMessage>;
  report(spec: RequestSpec, code: number | "error", started: number): void;
  errorFor(spec: RequestSpec, reason: KubeErrorReason, extra?: { status?: number; serverMessage?: string; cause?: unknown }): KubeError;
  transportError(spec: RequestSpec, err: unknown, timedOut: boolean): KubeError;
  statusError(spec: RequestSpec, res: IncomingMessage): Promise<KubeError>;
}

/**
 * Server-side projection to metadata: a cache of Secrets that holds no Secret content. The plain JSON
 * alternative lets an older server answer with full objects, which the callers tolerate.
 */
const METADATA_ONLY_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const METADATA_ONLY_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

const DEFAULT_TIMEOUT_MS = 30_000;

/** The resource as requests name it: the plural, with `/status` for the status subresource. */
const resourceOf = (spec: RequestSpec) => (spec.subresource ? `${spec.type.plural}/${spec.subresource}` : spec.type.plural);

export function createKubeRequests(credentials: KubeCredentials, opts: KubeRequestOptions = {}): KubeRequests {
  const { server, agent } = credentials;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const onRequest = opts.onRequest;

  function report(spec: RequestSpec, code: number | "error", started: number): void {
    if (!onRequest) return;
    try {
      onRequest({ verb: spec.verb, resource: resourceOf(spec), code, durationMs: performance.now() - started });
    } catch {
      // A metrics hook must never fail a request.
    }
  }

  function errorFor(
    spec: RequestSpec,
    reason: KubeErrorReason,
    extra: { status?: number; serverMessage?: string; cause?: unknown } = {},
  ): KubeError {
    return new KubeError({
      reason,
      verb: spec.verb,
      resource: resourceOf(spec),
      ...(spec.namespace ? { namespace: spec.namespace } : {}),
      ...(spec.name ? { name: spec.name } : {}),
      ...extra,
    });
  }

  function transportError(spec: RequestSpec, err: unknown, timedOut: boolean): KubeError {
    if (timedOut) return errorFor(spec, "Timeout", { cause: err, serverMessage: "no response within the deadline" });
    const code = errorCode(err);
    return errorFor(spec, "Transport", { cause: err, ...(code ? { serverMessage: code } : {}) });
  }

  async function statusError(spec: RequestSpec, res: IncomingMessage): Promise<KubeError> {
    let statusReason: string | undefined;
    let serverMessage: string | undefined;
    const contentType = res.headers["content-type"] ?? "";
    const status = res.statusCode ?? 0;
    try {
      if (contentType.includes("json")) {
        const body = JSON.parse(await readText(res)) as { kind?: string; reason?: string; message?: string };
        if (body?.kind === "Status") {
          statusReason = body.reason;
          serverMessage = body.message;
        }
      } else {
        // Non-Status bodies (a proxy's HTML page, an echo) are not quoted: they could contain the request.
        res.destroy();
      }
    } catch {
      // The status code alone still classifies the error.
    }
    return errorFor(spec, reasonFor(status, statusReason), {
      status,
      ...(serverMessage ? { serverMessage } : {}),
    });
  }

  function buildUrl(spec: RequestSpec): URL {
    const url = new URL(server + resourcePath(spec.type, spec.namespace, spec.name, spec.subresource));
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    return url;
  }

  function open(spec: RequestSpec, signal: AbortSignal): Promise<IncomingMessage> {
    const accept = spec.metadataOnly
      ? spec.verb === "watch"
        ? METADATA_ONLY_WATCH_ACCEPT
        : METADATA_ONLY_LIST_ACCEPT
      : "application/json";
    const requestHeaders: Record<string, string> = { ...credentials.headers(), accept };
    if (opts.userAgent) requestHeaders["user-agent"] = opts.userAgent;
    let body: Buffer | undefined;
    if (spec.body !== undefined) {
      body = Buffer.from(JSON.stringify(spec.body), "utf8");
      requestHeaders["content-type"] = spec.contentType ?? "application/json";
      requestHeaders["content-length"] = String(body.length);
    }
    const url = buildUrl(spec);
    const send = url.protocol === "https:" ? httpsRequest : nodeHttp.request;
    return new Promise((resolve, reject) => {
      // An abort destroys the request with an AbortError; after the answer's headers it ends the body's stream.
      const req = send(url, { method: spec.method, headers: requestHeaders, agent, signal }, resolve);
      req.on("error", reject);
      req.end(body);
    });
  }

  async function send<R>(spec: RequestSpec, allowNotFound = false): Promise<{ status: number; body: R | undefined }> {
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let res: IncomingMessage;
    try {
      res = await open(spec, controller.signal);
    } catch (err) {
      clearTimeout(timer);
      report(spec, "error", started);
      throw transportError(spec, err, timedOut);
    }
    const status = res.statusCode ?? 0;
    try {
      if (status >= 200 && status < 300) {
        let parsed: R | undefined;
        try {
          const text = await readText(res);
          parsed = text ? (JSON.parse(text) as R) : undefined;
        } catch (err) {
          report(spec, "error", started);
          if (err instanceof SyntaxError) {
            throw errorFor(spec, "Unknown", { status, serverMessage: "response is not JSON" });
          }
          throw transportError(spec, err, timedOut);
        }
        report(spec, status, started);
        return { status, body: parsed };
      }
      if (allowNotFound && status === 404) {
        // Read to its end (a Status of a few hundred bytes) so the connection stays in the pool.
        await readText(res).catch(() => {});
        report(spec, status, started);
        return { status: 404, body: undefined };
      }
      const error = await statusError(spec, res);
      report(spec, status, started);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  return { timeoutMs, send, open, report, errorFor, transportError, statusError };
}

/** The whole body as text; rejects when the stream fails (reset, aborted by the deadline). */
async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The first string `code` on an error's cause chain (Node's `ECONNRESET`, `ECONNREFUSED`, `ABORT_ERR`). */
function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let i = 0; i < 4 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
