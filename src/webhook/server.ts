import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { admit, type MutateOptions, type MutationOutcome } from "./mutate.js";
import { createReviewBudget, type Refusal, type ReviewBudget, type ReviewBudgetLimits, type ReviewTicket, refusalMessage } from "./review-budget.js";

/** Where the shoot's kube-apiserver posts AdmissionReviews. */
export const SHOOT_WEBHOOK_PATH = "/webhooks/ontap";
/** The Go extension's path, also served so a MutatingWebhookConfiguration it left behind keeps working. */
export const LEGACY_SHOOT_WEBHOOK_PATH = "/shoot";
/** kube-apiserver caps a request body at 3 MiB; a review carries object and oldObject (a CRD can be that large). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CERT_RELOAD_INTERVAL_MS = 60_000;
/**
 * Reviews processed at once (the body complete: parsed, mutated, answered); more are answered 429 (the API
 * server then applies failurePolicy Ignore). A slot is taken only once the body is in: a connection that
 * sends headers and then nothing holds none (review-budget.ts). With the body limit this bounds the memory
 * the webhook can take, measured in test/integration/webhook-load.test.ts.
 */
export const DEFAULT_MAX_CONCURRENT_REVIEWS = 8;
/**
 * How long a request's body may go without a byte arriving (from its headers, then from each chunk).
 * kube-apiserver sends the review at once and gives up on a webhook after its timeoutSeconds (10 s by default),
 * so a body stalled that long is no review anyone waits for: the request is answered 408 and its connection
 * closed. The whole request is bounded by the server's requestTimeout (30 s).
 */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
/**
 * Body bytes held at once, by all callers, whether waiting for a slot or processed. kube-apiserver sends at most
 * 3 MiB, so this holds ten of the largest reviews while eight are processed. It is what the webhook may add to the
 * controller's memory: with eight slots' worth of maximal bodies (64 MiB) the load test's peak RSS rose from
 * 266 MiB to 332 MiB, over its 320 MiB bound (the chart's limit is 512 MiB, shared with the controller).
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** Requests one caller (remote address) may have open at once; more are answered 429. */
export const DEFAULT_MAX_OPEN_PER_CALLER = 32;

/** The subset of a pino logger the server uses. */
export interface WebhookLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface WebhookServerOptions {
  port: number;
  host: string;
  /** Certificate and key files (reloaded when they change), or `keyPair` in memory (replaced with setKeyPair). */
  certFile?: string;
  keyFile?: string;
  keyPair?: { certPem: string; keyPem: string };
  logger?: WebhookLogger;
  maxBodyBytes?: number;
  maxConcurrentReviews?: number;
  /** See DEFAULT_BODY_TIMEOUT_MS. */
  bodyTimeoutMs?: number;
  /** See DEFAULT_MAX_OPEN_PER_CALLER. */
  maxOpenPerCaller?: number;
  /**
   * Body bytes held at once by all callers (default DEFAULT_MAX_BUFFERED_BYTES) and by one caller (default a
   * quarter of that, at least maxBodyBytes).
   */
  maxBufferedBytes?: number;
  callerShareBytes?: number;
  /** How often the certificate files are checked for rotation; 0 disables reloading. */
  certReloadIntervalMs?: number;
  mutateOptions?: MutateOptions;
  /** Called once per answered review, e.g. to count admissions in a metric. */
  onAdmission?: (outcome: MutationOutcome, durationMs: number) => void;
}

export interface WebhookServer {
  /** https URL of the webhook endpoint (with the actual port when `port` was 0). */
  url: string;
  /** Serves new connections with this certificate from now on (a rotated one); open ones keep theirs. */
  setKeyPair(pair: { certPem: string; keyPem: string }): void;
  /** Reviews being processed right now (their body complete). */
  inFlight(): number;
  /** Body bytes held right now, by every request together. */
  bufferedBytes(): number;
  stop(): Promise<void>;
}

export class WebhookServerError extends Error {
  readonly code: "ERR_WEBHOOK_TLS" | "ERR_WEBHOOK_LISTEN";
  readonly transient: boolean;
  constructor(message: string, code: WebhookServerError["code"], transient: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WebhookServerError";
    this.code = code;
    this.transient = transient;
  }
}

const SERVED_PATHS = new Set([SHOOT_WEBHOOK_PATH, LEGACY_SHOOT_WEBHOOK_PATH]);

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.logger;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxConcurrent = options.maxConcurrentReviews ?? DEFAULT_MAX_CONCURRENT_REVIEWS;
  const files = options.certFile && options.keyFile ? { certFile: options.certFile, keyFile: options.keyFile } : undefined;
  if (!files && !options.keyPair) {
    throw new WebhookServerError("the webhook server needs certFile and keyFile, or a keyPair", "ERR_WEBHOOK_TLS", false);
  }
  const tls = files ? await loadKeyPair(files.certFile, files.keyFile) : { cert: Buffer.from(options.keyPair!.certPem), key: Buffer.from(options.keyPair!.keyPem) };
  let loadedStamp = files ? await fileStamp(files.certFile, files.keyFile) : "";
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const limits: ReviewBudgetLimits = {
    maxProcessing: maxConcurrent,
    maxBufferedBytes,
    callerShareBytes: options.callerShareBytes ?? Math.max(maxBodyBytes, Math.floor(maxBufferedBytes / 4)),
    maxOpenPerCaller: options.maxOpenPerCaller ?? DEFAULT_MAX_OPEN_PER_CALLER,
  };
  const budget = createReviewBudget(limits);

  const server: Server = createServer({ ...tls, minVersion: "TLSv1.2" }, (req, res) => {
    handle(req, res, { maxBodyBytes, bodyTimeoutMs, budget, limits, options }).catch((err: unknown) => {
      log?.error({ err }, "shoot webhook request failed");
      if (!res.headersSent) respond(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (cause: Error) =>
      reject(new WebhookServerError(`cannot listen on ${options.host}:${options.port}: ${cause.message}`, "ERR_WEBHOOK_LISTEN", true, { cause }));
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });

  // Certificates are rotated by whoever issues them; pick the new pair up without a restart.
  const interval = files ? (options.certReloadIntervalMs ?? DEFAULT_CERT_RELOAD_INTERVAL_MS) : 0;
  let reloading = false;
  const timer =
    interval > 0
      ? setInterval(() => {
          if (reloading) return;
          reloading = true;
          reloadIfChanged()
            .catch((err: unknown) => log?.warn({ err }, "shoot webhook certificate reload failed; keeping the current one"))
            .finally(() => {
              reloading = false;
            });
        }, interval)
      : undefined;
  timer?.unref();

  async function reloadIfChanged(): Promise<void> {
    if (!files) return;
    const stamp = await fileStamp(files.certFile, files.keyFile);
    if (stamp === loadedStamp) return;
    server.setSecureContext({ ...(await loadKeyPair(files.certFile, files.keyFile)), minVersion: "TLSv1.2" });
    loadedStamp = stamp;
    log?.info({ certFile: options.certFile }, "shoot webhook certificate reloaded");
  }

  const address = server.address() as AddressInfo;
  // The bound address, so a test that asked for port 0 learns the port; behind a Service the caller builds its own URL.
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `https://${host}:${address.port}${SHOOT_WEBHOOK_PATH}`;
  log?.info({ url }, "shoot webhook server listening");

  return {
    url,
    setKeyPair(pair) {
      server.setSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: "TLSv1.2" });
      log?.info({}, "shoot webhook serving certificate replaced");
    },
    inFlight: () => budget.processing(),
    bufferedBytes: () => budget.bufferedBytes(),
    stop: async () => {
      if (timer) clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

interface HandleContext {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  budget: ReviewBudget;
  limits: ReviewBudgetLimits;
  options: WebhookServerOptions;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HandleContext): Promise<void> {
  const started = performance.now();
  const path = (req.url ?? "/").split("?", 1)[0]!;
  if (path === "/healthz" && req.method === "GET") {
    respond(res, 200, { status: "ok" });
    return;
  }
  if (!SERVED_PATHS.has(path)) {
    respond(res, 404, { error: `no webhook at ${path.slice(0, 100)}` });
    return;
  }
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST");
    respond(res, 405, { error: "only POST is served" });
    return;
  }
  const contentType = (req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (contentType !== "application/json") {
    respond(res, 415, { error: "content type must be application/json" });
    return;
  }
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > ctx.maxBodyBytes) {
    refuse(req, res, 413, `request body exceeds ${ctx.maxBodyBytes} bytes`, "close");
    return;
  }
  const ticket = ctx.budget.open(req.socket.remoteAddress ?? "unknown");
  if (typeof ticket === "string") {
    refuse(req, res, 429, refusalMessage(ticket, ctx.limits));
    return;
  }
  res.on("close", ticket.close);
  const read = await readBody(req, ctx.maxBodyBytes, ctx.bodyTimeoutMs, ticket);
  if (read.kind === "too-large") {
    refuse(req, res, 413, `request body exceeds ${ctx.maxBodyBytes} bytes`, "close");
    return;
  }
  if (read.kind === "refused") {
    refuse(req, res, 429, refusalMessage(read.refusal, ctx.limits), "after-body", ctx.bodyTimeoutMs);
    return;
  }
  if (read.kind === "timeout") {
    refuse(req, res, 408, `request body did not arrive within ${ctx.bodyTimeoutMs} ms`, "close");
    return;
  }
  if (read.kind === "gone") return;
  const busy = ticket.startProcessing();
  if (busy) {
    refuse(req, res, 429, refusalMessage(busy, ctx.limits));
    return;
  }

  let review: unknown;
  try {
    review = JSON.parse(read.body.toString("utf8"));
  } catch {
    review = undefined; // admit() answers allowed with a warning
  }
  const { review: answer, outcome } = admit(review, ctx.options.mutateOptions);
  const durationMs = performance.now() - started;
  const log = ctx.options.logger;
  const fields = { target: outcome.target, operations: outcome.operations, skipped: outcome.skipped, durationMs: Math.round(durationMs) };
  if (outcome.warning) log?.warn({ ...fields, warning: outcome.warning }, "shoot webhook allowed a request it could not handle");
  else if (outcome.operations > 0) log?.info(fields, "shoot webhook mutated an object");
  else log?.debug?.(fields, "shoot webhook left an object unchanged");
  ctx.options.onAdmission?.(outcome, durationMs);
  respond(res, 200, answer);
}

type BodyRead =
  | { kind: "ok"; body: Buffer }
  | { kind: "too-large" }
  | { kind: "refused"; refusal: Refusal }
  | { kind: "timeout" }
  /** The client went away before the body was complete: nobody to answer. */
  | { kind: "gone" };

/**
 * The body, counted against the budget as it arrives: stops at `limit` bytes, at a refusal of the budget,
 * at the deadline, or when the client goes away. What was read is dropped on every outcome but "ok".
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number, ticket: ReviewTicket): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      chunks.length = 0;
      req.off("data", onData);
      resolve(result);
    };
    // A body that stops arriving is cut off; one that keeps arriving (slowly, on a loaded webhook) is not: the
    // server's requestTimeout (30 s) bounds the whole request.
    let timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    const onData = (chunk: Buffer) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
      size += chunk.length;
      if (size > limit) return finish({ kind: "too-large" });
      const refusal = ticket.add(chunk.length);
      if (refusal) return finish({ kind: "refused", refusal });
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => {
      if (settled) return;
      const body = Buffer.concat(chunks, size);
      finish({ kind: "ok", body });
    });
    req.on("error", () => finish({ kind: "gone" }));
    req.on("close", () => {
      if (!req.complete) finish({ kind: "gone" });
    });
  });
}

/**
 * Answers `status`; the rest of the body is drained, never held. "now": at once (refused at the headers, as
 * before any body arrived). "after-body": once the body is drained, since an answer while the client is still
 * sending makes some clients reset the connection; a body that stalls meanwhile gets the answer with the
 * connection closed after `stallMs`. "close": at once, then the connection is closed (a body past its deadline,
 * one over the size limit).
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string, mode: "now" | "after-body" | "close" = "now", stallMs = DEFAULT_BODY_TIMEOUT_MS): void {
  if (status === 429) res.setHeader("Retry-After", "1");
  req.resume();
  if (mode === "after-body" && !req.complete) {
    const stalled = setTimeout(() => refuse(req, res, status, error, "close"), stallMs);
    req.once("end", () => {
      clearTimeout(stalled);
      if (!res.headersSent) respond(res, status, { error });
    });
    return;
  }
  if (res.headersSent) return;
  if (mode === "close") {
    res.setHeader("Connection", "close");
    res.once("finish", () => req.socket.destroySoon?.());
  }
  respond(res, status, { error });
}

function respond(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) });
  res.end(payload);
}

async function loadKeyPair(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return { cert, key };
  } catch (cause) {
    throw new WebhookServerError(`cannot read the webhook certificate or key: ${(cause as Error).message}`, "ERR_WEBHOOK_TLS", true, { cause });
  }
}

async function fileStamp(certFile: string, keyFile: string): Promise<string> {
  const [c, k] = await Promise.all([stat(certFile), stat(keyFile)]);
  return `${c.mtimeMs}:${c.size}:${k.mtimeMs}:${k.size}`;
}
