import type { z } from "zod";
import {
  connectionError,
  httpError,
  invalidResponse,
  isOntapError,
  type OntapError,
  type RequestContext,
} from "./errors.js";
import type { ClusterGate } from "./gate.js";
import { JOB_ENDPOINT, type WaitForJobOptions, waitForJob as waitForJobWith } from "./jobs.js";
import { buildPath, collectPages, exactFilterValue, PaginationError, type Query, svmNameFilter } from "./query.js";
import { createWithLookup, type RetryPolicy, resolvePolicy, withRetry } from "./retry.js";
import {
  type Account,
  AccountRecord,
  type Aggregate,
  AggregateRecord,
  type ClusterInfo,
  ClusterRecord,
  CountOnly,
  collectionOf,
  InterfaceRecord,
  type Job,
  JobAccepted,
  JobRecord,
  type JobRef,
  type Lif,
  NodeRecord,
  type OntapNode,
  type Svm,
  SvmRecord,
} from "./schemas.js";
import {
  type Credentials,
  createTransport,
  type HttpMethod,
  secretsOf,
  type TransportLogger,
  type TransportResponse,
  type TransportConfig,
} from "./transport.js";

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
}

/** Every operation takes an optional signal; an abort rejects with the signal's reason and is never retried. */
export interface CallOptions {
  signal?: AbortSignal;
}

export type AuthenticateResult = { result: "ok" } | { result: "wrong-password" } | { result: "error"; error: OntapError };

export interface CreateSvmInput {
  name: string;
  aggregateUuids: string[];
}

export interface CreateInterfaceInput {
  name: string;
  svmUuid: string;
  ipAddress: string;
  netmask: string;
  homeNodeUuid: string;
  servicePolicy: string;
  vip?: boolean;
}

export interface CreateAccountInput {
  ownerUuid: string;
  name: string;
  password: string;
  /** Default "vsadmin". */
  role?: string;
}

export interface ChangePasswordInput {
  svmName: string;
  name: string;
  password: string;
}

export interface OntapClient {
  readonly cluster: string;
  getCluster(opts?: CallOptions): Promise<ClusterInfo>;
  listNodes(opts?: CallOptions): Promise<OntapNode[]>;
  listAggregates(opts?: CallOptions): Promise<Aggregate[]>;
  /** SVMs named `name` or `name-mc` (a MetroCluster sync-destination copy) on this cluster. */
  findSvmsByName(name: string, opts?: CallOptions): Promise<Svm[]>;
  getSvm(uuid: string, opts?: CallOptions): Promise<Svm | undefined>;
  /** Never waits for the job: a 202 returns `{job}`, a 201 (or a create found by lookup) returns `{svm}`. */
  createSvm(input: CreateSvmInput, opts?: CallOptions): Promise<{ svm?: Svm; job?: JobRef }>;
  /** `{}` when deleted at once or already gone; `{job}` when ONTAP answered 202. */
  deleteSvm(uuid: string, opts?: CallOptions): Promise<{ job?: JobRef }>;
  getJob(uuid: string, opts?: CallOptions): Promise<Job>;
  waitForJob(job: JobRef, opts?: WaitForJobOptions): Promise<Job>;
  listInterfaces(svmUuid: string, opts?: CallOptions): Promise<Lif[]>;
  createInterface(input: CreateInterfaceInput, opts?: CallOptions): Promise<Lif>;
  patchInterface(uuid: string, change: { ipAddress: string; netmask: string }, opts?: CallOptions): Promise<void>;
  /** Already gone counts as deleted. */
  deleteInterface(uuid: string, opts?: CallOptions): Promise<void>;
  hasBgpPeerGroups(opts?: CallOptions): Promise<boolean>;
  getAccount(ownerUuid: string, name: string, opts?: CallOptions): Promise<Account | undefined>;
  listAccounts(ownerUuid: string, opts?: CallOptions): Promise<Account[]>;
  createAccount(input: CreateAccountInput, opts?: CallOptions): Promise<Account>;
  /** Already gone counts as deleted. */
  deleteAccount(ownerUuid: string, name: string, opts?: CallOptions): Promise<void>;
  changePassword(input: ChangePasswordInput, opts?: CallOptions): Promise<void>;
  countDataVolumes(svmUuid: string, opts?: CallOptions): Promise<number>;
  /** Never throws; a 401 is "wrong-password" and is not retried. */
  authenticateAs(credentials: { name: string; password: string }, opts?: CallOptions): Promise<AuthenticateResult>;
  close(): Promise<void>;
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
  volumes: "/api/storage/volumes",
} as const;

// `ip_interfaces` rides along so the LIF check of a reconcile needs no request of its own.
const SVM_FIELDS = ["uuid", "name", "state", "subtype", "nvme.enabled", "ip_interfaces"];
// `state` (up/down) is only read by the health check; the reconcile never changes a LIF's state.
const LIF_FIELDS = ["uuid", "name", "ip.address", "ip.netmask", "location.home_node.uuid", "service_policy.name", "state"];
const ACCOUNT_FIELDS = ["name", "owner.uuid", "owner.name", "role.name", "locked"];

interface RequestSpec {
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

export function createOntapClient(cfg: OntapClusterConfig, opts: OntapClientOptions = {}): OntapClient {
  const transport = createTransport(cfg, {
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.gate ? { gate: opts.gate } : {}),
    ...(opts.capOnly ? { capOnly: true } : {}),
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

  function svmsByNameSpec(operation: string, nameFilter: string, signal?: AbortSignal): RequestSpec {
    return {
      operation,
      method: "GET",
      endpoint: ENDPOINTS.svms,
      query: { name: nameFilter, fields: SVM_FIELDS },
      signal,
    };
  }

  async function findSvmExact(name: string, operation: string, signal: AbortSignal | undefined, attempt: number) {
    // Single attempt: the caller (a create's retry loop) owns retries.
    const spec = svmsByNameSpec(operation, name, signal);
    const res = await sendOnce(spec, attempt);
    const records = parse(collectionOf(SvmRecord), res.body, spec).records;
    return records.find((s) => s.name === name);
  }

  async function findInterfaceExact(
    svmUuid: string,
    name: string,
    operation: string,
    signal: AbortSignal | undefined,
    attempt: number,
  ) {
    const spec: RequestSpec = {
      operation,
      method: "GET",
      endpoint: ENDPOINTS.interfaces,
      query: { "svm.uuid": svmUuid, name, fields: LIF_FIELDS },
      signal,
    };
    const res = await sendOnce(spec, attempt);
    const records = parse(collectionOf(InterfaceRecord), res.body, spec).records;
    return records.find((l) => l.name === name);
  }

  async function fetchAccount(
    ownerUuid: string,
    name: string,
    operation: string,
    signal: AbortSignal | undefined,
    attempt: number,
  ) {
    const spec: RequestSpec = {
      operation,
      method: "GET",
      endpoint: ENDPOINTS.account,
      params: { "owner.uuid": ownerUuid, name },
      query: { fields: ACCOUNT_FIELDS },
      signal,
    };
    try {
      const res = await sendOnce(spec, attempt);
      return parse(AccountRecord, res.body, spec);
    } catch (err) {
      if (isOntapError(err) && err.kind === "http" && err.status === 404) return undefined;
      throw err;
    }
  }

  async function authenticateAs(
    user: { name: string; password: string },
    callOpts: CallOptions = {},
  ): Promise<AuthenticateResult> {
    const spec: RequestSpec = {
      operation: `authenticate as ${user.name}`,
      method: "GET",
      endpoint: ENDPOINTS.svms,
      query: { return_records: false },
      signal: callOpts.signal,
      credentials: { username: user.name, password: user.password },
      secrets: secretsOf({ username: user.name, password: user.password }),
    };
    try {
      await request(spec);
      return { result: "ok" };
    } catch (err) {
      if (isOntapError(err)) {
        if (err.kind === "http" && err.status === 401) return { result: "wrong-password" };
        return { result: "error", error: err };
      }
      return { result: "error", error: connectionError(contextOf(spec), err) };
    }
  }

  const client: OntapClient = {
    cluster,

    async getCluster(callOpts = {}) {
      const spec: RequestSpec = {
        operation: "get cluster",
        method: "GET",
        endpoint: ENDPOINTS.cluster,
        query: { fields: ["name", "uuid", "version"] },
        signal: callOpts.signal,
      };
      return parse(ClusterRecord, (await request(spec)).body, spec);
    },

    listNodes(callOpts = {}) {
      return listAll(
        {
          operation: "list nodes",
          method: "GET",
          endpoint: ENDPOINTS.nodes,
          query: { fields: ["uuid", "name"] },
          signal: callOpts.signal,
        },
        NodeRecord,
      );
    },

    listAggregates(callOpts = {}) {
      return listAll(
        {
          operation: "list aggregates",
          method: "GET",
          endpoint: ENDPOINTS.aggregates,
          query: { fields: ["uuid", "name", "volume-count"] },
          signal: callOpts.signal,
        },
        AggregateRecord,
      );
    },

    findSvmsByName(name, callOpts = {}) {
      return listAll(svmsByNameSpec(`find SVM ${name}`, svmNameFilter(name), callOpts.signal), SvmRecord);
    },

    getSvm(uuid, callOpts = {}) {
      return getOptional(
        {
          operation: `get SVM ${uuid}`,
          method: "GET",
          endpoint: ENDPOINTS.svm,
          params: { uuid },
          query: { fields: SVM_FIELDS },
          signal: callOpts.signal,
        },
        SvmRecord,
      );
    },

    async createSvm(input, callOpts = {}) {
      const name = exactFilterValue(input.name, "SVM name");
      const operation = `create SVM ${name}`;
      const spec: RequestSpec = {
        operation,
        method: "POST",
        endpoint: ENDPOINTS.svms,
        body: {
          name,
          aggregates: input.aggregateUuids.map((uuid) => ({ uuid })),
          nvme: { enabled: true, allowed: true },
        },
        signal: callOpts.signal,
      };
      return createWithLookup<{ svm?: Svm; job?: JobRef }>({
        ...retryOptions(spec),
        create: async (attempt) => {
          const res = await sendOnce(spec, attempt);
          const job = jobOf(res, spec);
          if (job) return { job };
          // 201 without a job: the SVM exists now; fetch it so the caller gets its uuid and state.
          const svm = await findSvmExact(name, operation, callOpts.signal, attempt);
          return svm ? { svm } : {};
        },
        lookup: async (attempt) => {
          const svm = await findSvmExact(name, operation, callOpts.signal, attempt);
          return svm ? { svm } : undefined;
        },
      });
    },

    async deleteSvm(uuid, callOpts = {}) {
      const spec: RequestSpec = {
        operation: `delete SVM ${uuid}`,
        method: "DELETE",
        endpoint: ENDPOINTS.svm,
        params: { uuid },
        signal: callOpts.signal,
      };
      const res = await deleteIdempotent(spec);
      const job = res ? jobOf(res, spec) : undefined;
      return job ? { job } : {};
    },

    async getJob(uuid, callOpts = {}) {
      const spec: RequestSpec = {
        operation: `get job ${uuid}`,
        method: "GET",
        endpoint: ENDPOINTS.job,
        params: { uuid },
        query: { fields: ["uuid", "state", "code", "message"] },
        signal: callOpts.signal,
      };
      return parse(JobRecord, (await request(spec)).body, spec);
    },

    waitForJob(job, waitOpts = {}) {
      return waitForJobWith(
        {
          cluster,
          secrets: transport.secrets,
          getJob: (uuid, signal) => client.getJob(uuid, signal ? { signal } : {}),
        },
        job,
        waitOpts,
      );
    },

    listInterfaces(svmUuid, callOpts = {}) {
      return listAll(
        {
          operation: `list interfaces of SVM ${svmUuid}`,
          method: "GET",
          endpoint: ENDPOINTS.interfaces,
          query: { "svm.uuid": exactFilterValue(svmUuid, "SVM uuid"), fields: LIF_FIELDS },
          signal: callOpts.signal,
        },
        InterfaceRecord,
      );
    },

    async createInterface(input, callOpts = {}) {
      const name = exactFilterValue(input.name, "interface name");
      const svmUuid = exactFilterValue(input.svmUuid, "SVM uuid");
      const operation = `create interface ${name} on SVM ${svmUuid}`;
      const spec: RequestSpec = {
        operation,
        method: "POST",
        endpoint: ENDPOINTS.interfaces,
        // The created record comes back in the answer, sparing a lookup per interface.
        query: { return_records: true },
        body: {
          name,
          ip: { address: input.ipAddress, netmask: input.netmask },
          svm: { uuid: svmUuid },
          location: { home_node: { uuid: input.homeNodeUuid } },
          service_policy: { name: input.servicePolicy },
          enabled: true,
          ...(input.vip !== undefined ? { vip: input.vip } : {}),
        },
        signal: callOpts.signal,
      };
      return createWithLookup<Lif>({
        ...retryOptions(spec),
        create: async (attempt) => {
          const res = await sendOnce(spec, attempt);
          const returned = collectionOf(InterfaceRecord).safeParse(res.body);
          const record = returned.success ? returned.data.records.find((l) => l.name === name) : undefined;
          if (record) return record;
          const lif = await findInterfaceExact(svmUuid, name, operation, callOpts.signal, attempt);
          if (!lif) throw invalidResponse(contextOf(spec), "interface created but not found by name");
          return lif;
        },
        lookup: (attempt) => findInterfaceExact(svmUuid, name, operation, callOpts.signal, attempt),
      });
    },

    async patchInterface(uuid, change, callOpts = {}) {
      await request({
        operation: `patch interface ${uuid}`,
        method: "PATCH",
        endpoint: ENDPOINTS.interface,
        params: { uuid },
        body: { ip: { address: change.ipAddress, netmask: change.netmask } },
        signal: callOpts.signal,
      });
    },

    async deleteInterface(uuid, callOpts = {}) {
      await deleteIdempotent({
        operation: `delete interface ${uuid}`,
        method: "DELETE",
        endpoint: ENDPOINTS.interface,
        params: { uuid },
        signal: callOpts.signal,
      });
    },

    async hasBgpPeerGroups(callOpts = {}) {
      const n = await count({
        operation: "count BGP peer groups",
        method: "GET",
        endpoint: ENDPOINTS.bgpPeerGroups,
        signal: callOpts.signal,
      });
      return n > 0;
    },

    getAccount(ownerUuid, name, callOpts = {}) {
      return getOptional(
        {
          operation: `get account ${name} of SVM ${ownerUuid}`,
          method: "GET",
          endpoint: ENDPOINTS.account,
          params: { "owner.uuid": ownerUuid, name },
          query: { fields: ACCOUNT_FIELDS },
          signal: callOpts.signal,
        },
        AccountRecord,
      );
    },

    listAccounts(ownerUuid, callOpts = {}) {
      return listAll(
        {
          operation: `list accounts of SVM ${ownerUuid}`,
          method: "GET",
          endpoint: ENDPOINTS.accounts,
          query: { "owner.uuid": exactFilterValue(ownerUuid, "SVM uuid"), fields: ACCOUNT_FIELDS },
          signal: callOpts.signal,
        },
        AccountRecord,
      );
    },

    async createAccount(input, callOpts = {}) {
      const role = input.role ?? "vsadmin";
      const operation = `create account ${input.name} on SVM ${input.ownerUuid}`;
      const spec: RequestSpec = {
        operation,
        method: "POST",
        endpoint: ENDPOINTS.accounts,
        body: {
          name: input.name,
          owner: { uuid: input.ownerUuid },
          role: { name: role },
          applications: [{ application: "http", authentication_methods: ["password"] }],
          password: input.password,
          locked: false,
        },
        signal: callOpts.signal,
        secrets: [input.password],
      };
      return createWithLookup<Account>({
        ...retryOptions(spec),
        create: async (attempt) => {
          await sendOnce(spec, attempt);
          return { name: input.name, ownerUuid: input.ownerUuid, role, locked: false };
        },
        lookup: (attempt) => fetchAccount(input.ownerUuid, input.name, operation, callOpts.signal, attempt),
      });
    },

    async deleteAccount(ownerUuid, name, callOpts = {}) {
      await deleteIdempotent({
        operation: `delete account ${name} of SVM ${ownerUuid}`,
        method: "DELETE",
        endpoint: ENDPOINTS.account,
        params: { "owner.uuid": ownerUuid, name },
        signal: callOpts.signal,
      });
    },

    async changePassword(input, callOpts = {}) {
      const spec: RequestSpec = {
        operation: `change password of ${input.name} on SVM ${input.svmName}`,
        method: "POST",
        endpoint: ENDPOINTS.password,
        body: { owner: { name: input.svmName }, name: input.name, password: input.password },
        signal: callOpts.signal,
        secrets: [input.password],
      };
      // Setting a password twice is harmless, but ONTAP may refuse a password equal to the current one, so
      // after a lost answer the "lookup" is: does the new password already work?
      await createWithLookup<true>({
        ...retryOptions(spec),
        create: async (attempt) => {
          await sendOnce(spec, attempt);
          return true;
        },
        lookup: async () => {
          const auth = await authenticateAs({ name: input.name, password: input.password }, callOpts);
          if (auth.result === "ok") return true;
          if (auth.result === "error") throw auth.error;
          return undefined;
        },
      });
    },

    countDataVolumes(svmUuid, callOpts = {}) {
      return count({
        operation: `count data volumes of SVM ${svmUuid}`,
        method: "GET",
        endpoint: ENDPOINTS.volumes,
        query: { "svm.uuid": exactFilterValue(svmUuid, "SVM uuid"), is_svm_root: false },
        signal: callOpts.signal,
      });
    },

    authenticateAs,

    close() {
      return transport.close();
    },
  };
  return client;
}

function textBody(text: string | undefined): unknown {
  // A non-JSON error page (a proxy's 502) still gives a message, cut short.
  return text === undefined ? undefined : { error: { message: text.replace(/\s+/g, " ").trim().slice(0, 200) } };
}
