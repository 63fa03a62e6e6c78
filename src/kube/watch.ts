import type { IncomingMessage } from "node:http";
import { KubeError, reasonFor } from "./errors.js";
import type { KubeRequests, RequestSpec } from "./request.js";
import type { ResourceType } from "./resources.js";

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

const WATCH_GRACE_MS = 30_000;

/**
 * One watch request: events are handed to `onEvent` as their lines arrive; resolves when the server ends
 * the watch, the caller's signal aborts or the client's own deadline passes; rejects with a KubeError for
 * a failed request, a broken stream or an ERROR event (410 Gone: the resourceVersion is too old).
 */
export async function watchObjects(
  requests: KubeRequests,
  type: ResourceType,
  namespace: string | undefined,
  watchOpts: WatchOptions,
  onEvent: (ev: WatchEvent) => void,
): Promise<void> {
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
  }, requests.timeoutMs);
  const deadline = setTimeout(
    () => {
      phase = "expired";
      controller.abort();
    },
    timeoutSeconds * 1000 + WATCH_GRACE_MS,
  );
  const stopped = () => watchOpts.signal.aborted || phase === "expired";
  try {
    let res: IncomingMessage;
    try {
      res = await requests.open(spec, controller.signal);
    } catch (err) {
      if (stopped()) return;
      requests.report(spec, "error", started);
      throw requests.transportError(spec, err, headersTimedOut);
    }
    clearTimeout(headerTimer);
    if (res.statusCode !== 200) {
      const error = await requests.statusError(spec, res);
      requests.report(spec, res.statusCode ?? "error", started);
      throw error;
    }
    requests.report(spec, res.statusCode, started);
    phase = "stream";
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
      for await (const chunk of res) {
        buffered += decoder.decode(chunk as Buffer, { stream: true });
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) deliver(requests, spec, line, handle);
          newline = buffered.indexOf("\n");
        }
      }
      const rest = (buffered + decoder.decode()).trim();
      if (rest) deliver(requests, spec, rest, handle);
    } catch (err) {
      if (err instanceof KubeError || (handlerFailure !== undefined && err === handlerFailure)) throw err;
      if (stopped()) return;
      throw requests.transportError(spec, err, false);
    }
  } finally {
    clearTimeout(headerTimer);
    clearTimeout(deadline);
    watchOpts.signal.removeEventListener("abort", onAbort);
    controller.abort();
  }
}

function deliver(requests: KubeRequests, spec: RequestSpec, line: string, onEvent: (ev: WatchEvent) => void): void {
  let ev: { type?: string; object?: { kind?: string; code?: number; reason?: string; message?: string } };
  try {
    ev = JSON.parse(line);
  } catch {
    throw requests.errorFor(spec, "Unknown", { serverMessage: "watch stream carried a line that is not JSON" });
  }
  if (ev.type === "ERROR") {
    // The server ends a watch with an ERROR event (410 Gone when the resourceVersion is too old).
    const status = ev.object?.code;
    throw requests.errorFor(spec, reasonFor(status, ev.object?.reason), {
      ...(status !== undefined ? { status } : {}),
      ...(ev.object?.message ? { serverMessage: ev.object.message } : {}),
    });
  }
  if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED" || ev.type === "BOOKMARK") {
    onEvent({ type: ev.type, object: ev.object });
  }
}
