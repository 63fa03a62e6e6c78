import type { z } from "zod";
import { httpError, invalidResponse, isOntapError, type OntapError, type RequestContext } from "./errors.js";
import type { ClusterGate } from "./gate.js";
import { JOB_ENDPOINT } from "./jobs.js";
import { buildPath, collectPages, PaginationError, type Query } from "./query.js";
import { type RetryPolicy, resolvePolicy, withRetry } from "./retry.js";
import { CountOnly, collectionOf, JobAccepted, type JobRef } from "./schemas.js";
import {
  type Credentials,
  createTransport,
  type HttpMethod,
  type TransportLogger,
  type TransportResponse,
  type TransportConfig,
} from "./transport.js";
import type { CertificatePins } from "./tls-connect.js";

/**
 * The request layer under the typed ONTAP operations (like client-go's `rest` under its typed clients): one
 * cluster's transport, the retry policy, request events, response parsing, pagination, and the 404 rules
 * (absent on GET, already gone on DELETE). The operations of each resource kind (cluster-info.ts, svms.ts,
 * interfaces.ts, accounts.ts) are written against it; client.ts joins them into one OntapClient.
 */

/** One cluster's address and credentials: exactly what the transport needs. */
export type OntapClusterConfig = TransportConfig;

/** One per HTTP attempt, for metrics ("requests per reconcile"). */
export interface OntapRequestEvent {
  cluster: string;
  method: string;
  /** Path template, e.g. `/api/svm/svms/{uuid}`. */
  endpoint: string;
  status: number | "error";
  durationMs: number;
  /** 1 for the first try of an operation, 2 for its first retry, ... */
  attempt: number;
}

export interface OntapClientOptions {
  retry?: Partial<RetryPolicy>;
  onRequest?: (ev: OntapRequestEvent) => void;
  logger?: TransportLogger;
  /** `max_records` for collection GETs; unset lets ONTAP choose. Small values exercise pagination. */
  pageSize?: number;
  /** The cluster's concurrency cap and circuit breaker (gate.ts); default: one of its own with defaults. */
  gate?: ClusterGate;
  /** The client talks to another address of the gate's cluster: cap shared, breaker untouched (transport.ts). */
  capOnly?: boolean;
  /** Where pinned certificates are kept (pinCertificate); default: the process's store (tls-connect.ts). */
  pins?: CertificatePins;
}

/** Every operation takes an optional signal; an abort rejects with the signal's reason and is never retried. */
export interface CallOptions {
  signal?: AbortSignal;
}

export const ENDPOINTS = {
  cluster: "/api/cluster",
  nodes: "/api/cluster/nodes",
  aggregates: "/api/storage/aggregates",
  svms: "/api/svm/svms",
  svm: "/api/svm/svms/{uuid}",
  job: JOB_ENDPOINT,
  interfaces: "/api/network/ip/interfaces",
  interface: "/api/network/ip/interfaces/{uuid}",
  bgpPeerGroups: "/api/network/ip/bgp/peer-groups",
  accounts: "/api/security/accounts",
  account: "/api/security/accounts/{owner.uuid}/{name}",
  password: "/api/security/authentication/password",
  roles: "/api/security/roles",
  role: "/api/security/roles/{owner.uuid}/{name}",
  // `role.name`, as NetApp's schema names the key of the privileges sub-collection.
  rolePrivileges: "/api/security/roles/{owner.uuid}/{role.name}/privileges",
  rolePrivilege: "/api/security/roles/{owner.uuid}/{role.name}/privileges/{path}",
  volumes: "/api/storage/volumes",
} as const;

export interface RequestSpec {
  operation: string;
  method: HttpMethod;
  /** Path template; also what metrics and errors report. */
  endpoint: string;
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
  signal?: AbortSignal | undefined;
  credentials?: Credentials;
  /** Secrets in this request beyond the admin password (a new account password, an SVM user's password). */
  secrets?: readonly string[];
}
/** What the operations of one resource kind get: the layer's functions, bound to one cluster. */
export type Requester = ReturnType<typeof createRequester>;

export function createRequester(cfg: OntapClusterConfig, opts: OntapClientOptions = {}) {
  const transport = createTransport(cfg, {
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.gate ? { gate: opts.gate } : {}),
    ...(opts.capOnly ? { capOnly: true } : {}),
    ...(opts.pins ? { pins: opts.pins } : {}),
  });
  const policy = resolvePolicy(opts.retry);
  const cluster = cfg.name;
  const pageSize = opts.pageSize;

  function contextOf(spec: RequestSpec): RequestContext {
    return {
      cluster,
      operation: spec.operation,
      method: spec.method,
      endpoint: spec.endpoint,
      secrets: [...transport.secrets, ...(spec.secrets ?? [])],
    };
  }

  function emit(ev: OntapRequestEvent): void {
    if (!opts.onRequest) return;
    try {
      opts.onRequest(ev);
    } catch {
      // A broken metrics hook must not break ONTAP calls.
    }
  }

  /** One HTTP attempt; any non-2xx becomes an OntapError. */
  async function sendOnce(spec: RequestSpec, attempt: number, path?: string): Promise<TransportResponse> {
    const ctx = contextOf(spec);
    const started = performance.now();
    let status: number | "error" = "error";
    try {
      const res = await transport.send(
        {
          method: spec.method,
          path: path ?? buildPath(spec.endpoint, spec.params, spec.query),
          body: spec.body,
          ...(spec.signal ? { signal: spec.signal } : {}),
          ...(spec.credentials ? { credentials: spec.credentials } : {}),
        },
        ctx,
      );
      status = res.status;
      if (res.status < 200 || res.status > 299) throw httpError(ctx, res.status, res.body ?? textBody(res.text));
      return res;
    } finally {
      emit({
        cluster,
        method: spec.method,
        endpoint: spec.endpoint,
        status,
        durationMs: performance.now() - started,
        attempt,
      });
    }
  }

  function onRetry(spec: RequestSpec) {
    return (err: OntapError, attempt: number, delayMs: number) => {
      opts.logger?.debug?.(
        { cluster, operation: spec.operation, endpoint: spec.endpoint, attempt, delayMs, err: err.message },
        "retrying transient ONTAP failure",
      );
    };
  }

  function retryOptions(spec: RequestSpec) {
    return { policy, onRetry: onRetry(spec), ...(spec.signal ? { signal: spec.signal } : {}) };
  }

  async function request(spec: RequestSpec): Promise<TransportResponse> {
    return withRetry((attempt) => sendOnce(spec, attempt), retryOptions(spec));
  }

  function parse<S extends z.ZodType>(schema: S, body: unknown, spec: RequestSpec): z.output<S> {
    const result = schema.safeParse(body);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
      throw invalidResponse(contextOf(spec), `${where}: ${issue?.message ?? "unexpected shape"}`);
    }
    return result.data;
  }

  /** Follows `_links.next` to the end; each page is its own retried GET. */
  async function listAll<S extends z.ZodType>(spec: RequestSpec, record: S): Promise<z.output<S>[]> {
    const schema = collectionOf(record);
    const query: Query = pageSize !== undefined ? { ...spec.query, max_records: pageSize } : (spec.query ?? {});
    const first = buildPath(spec.endpoint, spec.params, query);
    try {
      return await collectPages<z.output<S>>(first, transport.origin, async (path) => {
        const res = await withRetry((attempt) => sendOnce(spec, attempt, path), retryOptions(spec));
        const page = parse(schema, res.body, spec);
        return { records: page.records as z.output<S>[], ...(page._links ? { nextHref: page._links } : {}) };
      });
    } catch (err) {
      if (err instanceof PaginationError) throw invalidResponse(contextOf(spec), err.message);
      throw err;
    }
  }

  async function count(spec: RequestSpec): Promise<number> {
    const res = await request({ ...spec, query: { ...spec.query, return_records: false } });
    return parse(CountOnly, res.body, spec).num_records;
  }

  /** A GET of one object where 404 means "not there". */
  async function getOptional<S extends z.ZodType>(spec: RequestSpec, schema: S): Promise<z.output<S> | undefined> {
    try {
      const res = await request(spec);
      return parse(schema, res.body, spec);
    } catch (err) {
      if (isOntapError(err) && err.kind === "http" && err.status === 404) return undefined;
      throw err;
    }
  }

  /** A DELETE where 404 means "already gone", which is what a retried delete after a lost answer sees. */
  async function deleteIdempotent(spec: RequestSpec): Promise<TransportResponse | undefined> {
    try {
      return await request(spec);
    } catch (err) {
      if (isOntapError(err) && err.kind === "http" && err.status === 404) return undefined;
      throw err;
    }
  }

  function jobOf(res: TransportResponse, spec: RequestSpec): JobRef | undefined {
    if (res.status === 202) return parse(JobAccepted, res.body, spec);
    const maybe = JobAccepted.safeParse(res.body);
    return maybe.success ? maybe.data : undefined;
  }

  return { cluster, transport, policy, opts, contextOf, sendOnce, retryOptions, request, parse, listAll, count, getOptional, deleteIdempotent, jobOf };
}

function textBody(text: string | undefined): unknown {
  // A non-JSON error page (a proxy's 502) still gives a message, cut short.
  return text === undefined ? undefined : { error: { message: text.replace(/\s+/g, " ").trim().slice(0, 200) } };
}
