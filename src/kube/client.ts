import { fetch, type Response } from "undici";
import { kubeCredentials } from "./credentials.js";
import { KubeError, type KubeErrorReason, reasonFor } from "./errors.js";
import type { KubeConnectionConfig } from "./kubeconfig.js";
import type { KubeObject } from "./objects.js";
import { apiVersionOf, type ResourceType, resourcePath } from "./resources.js";

type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type KubeVerb = "get" | "list" | "create" | "update" | "patch" | "delete" | "watch";

export interface KubeRequestEvent {
  verb: KubeVerb;
  /** The resource's plural, with `/status` for the status subresource. */
  resource: string;
  /** HTTP status, or "error" when no response arrived (transport failure, timeout). */
  code: number | "error";
  durationMs: number;
}

export interface KubeClientOptions {
  onRequest?: (ev: KubeRequestEvent) => void;
  /** Deadline for one request, body included; for a watch, for its response headers. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the client follows `continue` tokens until the list is complete. Default 500. */
  limit?: number;
  /** Metadata only (PartialObjectMetadataList): for caches that must not hold content, e.g. Secrets. */
  metadataOnly?: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  // biome-ignore lint/suspicious/noExplicitAny: watch payloads are whatever the watched type is; callers narrow.
  object: any;
}

export interface WatchOptions {
  resourceVersion: string;
  signal: AbortSignal;
  fieldSelector?: string;
  labelSelector?: string;
  /** Metadata only (PartialObjectMetadata events). */
  metadataOnly?: boolean;
  /** Ask for BOOKMARK events so a resumed watch starts from a recent resourceVersion. Default true. */
  allowWatchBookmarks?: boolean;
  /**
   * The server ends the watch after this long (default 300). The client also gives up 30 s after that,
   * so a connection that silently hangs cannot stall an informer forever.
   */
  timeoutSeconds?: number;
}

export interface DeleteOptions {
  propagationPolicy?: string;
  /** Delete only if the object still has this uid / resourceVersion (else Conflict). */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface KubeClient {
  get<T = KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T = KubeObject>(
    type: ResourceType,
    namespace?: string,
    opts?: ListOptions,
  ): Promise<{ items: T[]; resourceVersion: string }>;
  create<T = KubeObject>(type: ResourceType, obj: T): Promise<T>;
  update<T = KubeObject>(type: ResourceType, obj: T): Promise<T>;
  updateStatus<T = KubeObject>(type: ResourceType, obj: T): Promise<T>;
  mergePatch<T = KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts?: { subresource?: "status" },
  ): Promise<T>;
  delete(type: ResourceType, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<boolean>;
  watch(
    type: ResourceType,
    namespace: string | undefined,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
  ): Promise<void>;
}

interface RequestSpec {
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

/**
 * Server-side projection to metadata: a cache of Secrets that holds no Secret content. The plain JSON
 * alternative lets an older server answer with full objects, which the callers tolerate.
 */
const METADATA_ONLY_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const METADATA_ONLY_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

interface ObjectMeta {
  name?: string;
  namespace?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WATCH_GRACE_MS = 30_000;

/**
 * Typed access to the Kubernetes API with undici's fetch, authenticated by our own kubeconfig reading
 * (credentials.ts). No generated API classes: they hide status codes behind exception types and cannot
 * stream a watch with an AbortSignal, and this client needs exact codes (a fault proxy answers Status
 * errors and resets connections) and must never put a request body into an error message.
 */
export function createKubeClient(kc: KubeConnectionConfig, opts: KubeClientOptions = {}): KubeClient {
  const credentials = kubeCredentials(kc);
  const server = credentials.server;
  const dispatcher = credentials.dispatcher;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const onRequest = opts.onRequest;

  function report(spec: RequestSpec, code: number | "error", started: number): void {
    if (!onRequest) return;
    try {
      onRequest({
        verb: spec.verb,
        resource: spec.subresource ? `${spec.type.plural}/${spec.subresource}` : spec.type.plural,
        code,
        durationMs: performance.now() - started,
      });
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
      resource: spec.subresource ? `${spec.type.plural}/${spec.subresource}` : spec.type.plural,
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

  async function statusError(spec: RequestSpec, res: Response): Promise<KubeError> {
    let statusReason: string | undefined;
    let serverMessage: string | undefined;
    const contentType = res.headers.get("content-type") ?? "";
    try {
      if (contentType.includes("json")) {
        const body = (await res.json()) as { kind?: string; reason?: string; message?: string };
        if (body?.kind === "Status") {
          statusReason = body.reason;
          serverMessage = body.message;
        }
      } else {
        // Non-Status bodies (a proxy's HTML page, an echo) are not quoted: they could contain the request.
        await res.body?.cancel();
      }
    } catch {
      // The status code alone still classifies the error.
    }
    return errorFor(spec, reasonFor(res.status, statusReason), {
      status: res.status,
      ...(serverMessage ? { serverMessage } : {}),
    });
  }

  function buildUrl(spec: RequestSpec): string {
    const url = new URL(server + resourcePath(spec.type, spec.namespace, spec.name, spec.subresource));
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    return url.toString();
  }

  async function open(spec: RequestSpec, signal: AbortSignal): Promise<Response> {
    const headers = credentials.headers();
    const accept = spec.metadataOnly
      ? spec.verb === "watch"
        ? METADATA_ONLY_WATCH_ACCEPT
        : METADATA_ONLY_LIST_ACCEPT
      : "application/json";
    const requestHeaders: Record<string, string> = { ...headers, accept };
    if (opts.userAgent) requestHeaders["user-agent"] = opts.userAgent;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      requestHeaders["content-type"] = spec.contentType ?? "application/json";
    }
    return fetch(buildUrl(spec), {
      method: spec.method,
      headers: requestHeaders,
      ...(body !== undefined ? { body } : {}),
      ...(dispatcher ? { dispatcher } : {}),
      signal,
    });
  }

  /**
   * One request with a deadline covering the body. Returns the parsed JSON of a 2xx answer, or
   * `{ notFound: true }` for a 404 when the caller tolerates it.
   */
  async function send<R>(spec: RequestSpec, allowNotFound = false): Promise<{ status: number; body: R | undefined }> {
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let res: Response;
    try {
      res = await open(spec, controller.signal);
    } catch (err) {
      clearTimeout(timer);
      report(spec, "error", started);
      throw transportError(spec, err, timedOut);
    }
    try {
      if (res.status >= 200 && res.status < 300) {
        let parsed: R | undefined;
        try {
          const text = await res.text();
          parsed = text ? (JSON.parse(text) as R) : undefined;
        } catch (err) {
          report(spec, "error", started);
          if (err instanceof SyntaxError) {
            throw errorFor(spec, "Unknown", { status: res.status, serverMessage: "response is not JSON" });
          }
          throw transportError(spec, err, timedOut);
        }
        report(spec, res.status, started);
        return { status: res.status, body: parsed };
      }
      if (allowNotFound && res.status === 404) {
        await res.body?.cancel().catch(() => {});
        report(spec, res.status, started);
        return { status: 404, body: undefined };
      }
      const error = await statusError(spec, res);
      report(spec, res.status, started);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  function metaOf(obj: unknown): ObjectMeta {
    return ((obj as { metadata?: ObjectMeta })?.metadata ?? {}) as ObjectMeta;
  }

  function withTypeMeta<T>(type: ResourceType, obj: T): T {
    const o = obj as { apiVersion?: string; kind?: string };
    if (o.apiVersion && o.kind) return obj;
    return { ...obj, apiVersion: o.apiVersion ?? apiVersionOf(type), kind: o.kind ?? type.kind };
  }

  function requireNamespace(spec: RequestSpec): void {
    if (spec.type.namespaced && !spec.namespace) {
      throw errorFor(spec, "Invalid", { serverMessage: "metadata.namespace is required for a namespaced type" });
    }
  }

  function requireName(spec: RequestSpec): void {
    if (!spec.name) throw errorFor(spec, "Invalid", { serverMessage: "metadata.name is required" });
  }

  return {
    async get<T>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
      const spec: RequestSpec = { verb: "get", type, method: "GET", namespace, name };
      requireNamespace(spec);
      const { body } = await send<T>(spec, true);
      return body;
    },

    async list<T>(type: ResourceType, namespace?: string, listOpts: ListOptions = {}) {
      const items: T[] = [];
      let resourceVersion = "";
      let continueToken: string | undefined;
      do {
        const spec: RequestSpec = {
          verb: "list",
          type,
          method: "GET",
          namespace,
          query: {
            labelSelector: listOpts.labelSelector,
            fieldSelector: listOpts.fieldSelector,
            limit: String(listOpts.limit ?? 500),
            continue: continueToken,
          },
          metadataOnly: listOpts.metadataOnly,
        };
        const { body } = await send<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(spec);
        items.push(...(body?.items ?? []));
        resourceVersion = body?.metadata?.resourceVersion ?? resourceVersion;
        continueToken = body?.metadata?.continue || undefined;
      } while (continueToken);
      // List items carry no apiVersion/kind; fill them so cached objects look like fetched ones.
      return { items: items.map((item) => withTypeMeta(type, item)), resourceVersion };
    },

    async create<T>(type: ResourceType, obj: T): Promise<T> {
      const meta = metaOf(obj);
      const spec: RequestSpec = {
        verb: "create",
        type,
        method: "POST",
        namespace: meta.namespace,
        body: withTypeMeta(type, obj),
      };
      requireNamespace(spec);
      const { body } = await send<T>(spec);
      return body as T;
    },

    async update<T>(type: ResourceType, obj: T): Promise<T> {
      const meta = metaOf(obj);
      const spec: RequestSpec = {
        verb: "update",
        type,
        method: "PUT",
        namespace: meta.namespace,
        name: meta.name,
        body: withTypeMeta(type, obj),
      };
      requireNamespace(spec);
      requireName(spec);
      const { body } = await send<T>(spec);
      return body as T;
    },

    async updateStatus<T>(type: ResourceType, obj: T): Promise<T> {
      const meta = metaOf(obj);
      const spec: RequestSpec = {
        verb: "update",
        type,
        method: "PUT",
        namespace: meta.namespace,
        name: meta.name,
        subresource: "status",
        body: withTypeMeta(type, obj),
      };
      requireNamespace(spec);
      requireName(spec);
      const { body } = await send<T>(spec);
      return body as T;
    },

    async mergePatch<T>(
      type: ResourceType,
      namespace: string | undefined,
      name: string,
      patch: unknown,
      patchOpts: { subresource?: "status" } = {},
    ): Promise<T> {
      const spec: RequestSpec = {
        verb: "patch",
        type,
        method: "PATCH",
        namespace,
        name,
        body: patch,
        contentType: "application/merge-patch+json",
        ...(patchOpts.subresource ? { subresource: patchOpts.subresource } : {}),
      };
      requireNamespace(spec);
      const { body } = await send<T>(spec);
      return body as T;
    },

    async delete(
      type: ResourceType,
      namespace: string | undefined,
      name: string,
      deleteOpts: DeleteOptions = {},
    ): Promise<boolean> {
      const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
      if (deleteOpts.propagationPolicy) body["propagationPolicy"] = deleteOpts.propagationPolicy;
      if (deleteOpts.preconditions) body["preconditions"] = deleteOpts.preconditions;
      const spec: RequestSpec = { verb: "delete", type, method: "DELETE", namespace, name, body };
      requireNamespace(spec);
      const { status } = await send<unknown>(spec, true);
      return status !== 404;
    },

    async watch(type, namespace, watchOpts, onEvent): Promise<void> {
      const timeoutSeconds = watchOpts.timeoutSeconds ?? 300;
      const spec: RequestSpec = {
        verb: "watch",
        type,
        method: "GET",
        namespace,
        query: {
          watch: "true",
          resourceVersion: watchOpts.resourceVersion,
          allowWatchBookmarks: String(watchOpts.allowWatchBookmarks ?? true),
          timeoutSeconds: String(timeoutSeconds),
          labelSelector: watchOpts.labelSelector,
          fieldSelector: watchOpts.fieldSelector,
        },
        metadataOnly: watchOpts.metadataOnly,
      };
      if (watchOpts.signal.aborted) return;
      const started = performance.now();
      const controller = new AbortController();
      let phase: "headers" | "stream" | "expired" = "headers";
      const onAbort = () => controller.abort();
      watchOpts.signal.addEventListener("abort", onAbort, { once: true });
      let headersTimedOut = false;
      const headerTimer = setTimeout(() => {
        headersTimedOut = true;
        controller.abort();
      }, timeoutMs);
      const deadline = setTimeout(
        () => {
          phase = "expired";
          controller.abort();
        },
        timeoutSeconds * 1000 + WATCH_GRACE_MS,
      );
      const stopped = () => watchOpts.signal.aborted || phase === "expired";
      try {
        let res: Response;
        try {
          res = await open(spec, controller.signal);
        } catch (err) {
          if (stopped()) return;
          report(spec, "error", started);
          throw transportError(spec, err, headersTimedOut);
        }
        clearTimeout(headerTimer);
        if (res.status !== 200) {
          const error = await statusError(spec, res);
          report(spec, res.status, started);
          throw error;
        }
        report(spec, res.status, started);
        phase = "stream";
        if (!res.body) return;
        const decoder = new TextDecoder();
        let buffered = "";
        // A handler's own exception passes through untouched; only stream failures become KubeErrors.
        let handlerFailure: unknown;
        const handle = (ev: WatchEvent) => {
          try {
            onEvent(ev);
          } catch (err) {
            handlerFailure = err;
            throw err;
          }
        };
        try {
          for await (const chunk of res.body) {
            buffered += decoder.decode(chunk as Uint8Array, { stream: true });
            let newline = buffered.indexOf("\n");
            while (newline >= 0) {
              const line = buffered.slice(0, newline).trim();
              buffered = buffered.slice(newline + 1);
              if (line) deliver(spec, line, handle);
              newline = buffered.indexOf("\n");
            }
          }
          const rest = (buffered + decoder.decode()).trim();
          if (rest) deliver(spec, rest, handle);
        } catch (err) {
          if (err instanceof KubeError || (handlerFailure !== undefined && err === handlerFailure)) throw err;
          if (stopped()) return;
          throw transportError(spec, err, false);
        }
      } finally {
        clearTimeout(headerTimer);
        clearTimeout(deadline);
        watchOpts.signal.removeEventListener("abort", onAbort);
        controller.abort();
      }
    },
  };

  function deliver(spec: RequestSpec, line: string, onEvent: (ev: WatchEvent) => void): void {
    let ev: { type?: string; object?: { kind?: string; code?: number; reason?: string; message?: string } };
    try {
      ev = JSON.parse(line);
    } catch {
      throw errorFor(spec, "Unknown", { serverMessage: "watch stream carried a line that is not JSON" });
    }
    if (ev.type === "ERROR") {
      // The server ends a watch with an ERROR event (410 Gone when the resourceVersion is too old).
      const status = ev.object?.code;
      throw errorFor(spec, reasonFor(status, ev.object?.reason), {
        ...(status !== undefined ? { status } : {}),
        ...(ev.object?.message ? { serverMessage: ev.object.message } : {}),
      });
    }
    if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED" || ev.type === "BOOKMARK") {
      onEvent({ type: ev.type, object: ev.object });
    }
  }
}

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let i = 0; i < 4 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
