import type { ServerResponse } from "node:http";
import { SimFaults } from "./faults.js";
import { JobRunner } from "./jobs.js";
import type { LifEndpoints } from "./lif-endpoints.js";
import { type ClusterState, createClusterState } from "./state.js";
import {
  accountView,
  aggregateView,
  bgpPeerGroupViews,
  clusterView,
  interfaceView,
  jobView,
  namespaceView,
  nodeView,
  roleView,
  type Rec,
  snapshotView,
  subsystemMapView,
  subsystemView,
  svmView,
  volumeView,
} from "./views.js";

/** One REST call in the order the simulator received it (admin calls are not logged). */
export interface SimCallLogEntry {
  /** Process-wide: the logs of several clusters of one simulator merge into one order by seq. */
  seq: number;
  /** Epoch milliseconds (sub-millisecond precision) when the call arrived, to merge with other logs. */
  at: number;
  cluster: string;
  method: string;
  /** The route template, as in the call counts; the raw path for an unknown path. */
  template: string;
  /** The query string without `?` (never a secret: credentials travel in headers and bodies). */
  query: string;
  /** The basic-auth user name the call carried ("" without one): the admin, or an SVM user verifying itself. */
  username: string;
  /**
   * The shape of a JSON body: every dotted path (through arrays) with its JSON type, never a value (bodies carry
   * passwords). What the conformance suite checks a client's bodies against the vendor's schema with.
   */
  bodyFields?: Record<string, string>;
  /** `lif <address>` for a call that reached an SVM management LIF; absent for the cluster interface. */
  endpoint?: string;
}

/**
 * One request and its answer in full, kept while a conversation is being recorded (`PUT /__sim/conversation`):
 * what a client such as Trident sent and got, to be replayed later. A body key that names a password is
 * replaced by "<redacted>", so a recording never holds a secret.
 */
export interface SimExchange {
  method: string;
  /** The path as sent (uuids and all), without the query string. */
  path: string;
  /** The query string without `?`. */
  query: string;
  /** The route template, or the raw path for an unknown path. */
  template: string;
  endpoint: string;
  body?: unknown;
  status: number;
  response?: unknown;
}

/** Bounds memory in long soaks; tests read the log long before it wraps. */
const CALL_LOG_LIMIT = 100_000;
let nextCallSeq = 1;

export interface SimClusterOptions {
  name: string;
  adminUsername: string;
  adminPassword: string;
  bgp: boolean;
  jobMs: number;
  latencyMs: number;
  seed: number;
  /** Lenient: SVM-scoped accounts may also log in on the cluster management interface (default: refused). */
  svmLoginOnCluster: boolean;
  /** The role password rules (`security login role config`); the minimum length is never below 8. */
  passwordRules: SimPasswordRules;
}

export interface SimPasswordRules {
  minLength?: number;
  minSpecialCharacters?: number;
  minUppercase?: number;
  minLowercase?: number;
  minDigits?: number;
}

/** One simulated cluster: its state, jobs, fault rules and call counts. The server is separate. */
export class SimCluster {
  state: ClusterState;
  readonly faults: SimFaults;
  readonly jobs: JobRunner;
  private readonly calls = new Map<string, number>();
  private callLog: SimCallLogEntry[] = [];
  /** Responses held open by a `hang` fault; they leave the set when the client disconnects. */
  readonly hanging = new Set<ServerResponse>();
  /** REST requests received and not yet answered (or abandoned), and the most there ever were at once. */
  private inFlight = 0;
  private peakInFlight = 0;
  /** The simulator's SVM management LIF listeners (shared by all clusters), for the admin API. */
  lifEndpoints: LifEndpoints | undefined;
  /** The exchanges of the conversation being recorded; undefined when none is. */
  private conversation: SimExchange[] | undefined;

  constructor(readonly options: SimClusterOptions) {
    this.state = this.freshState();
    this.faults = new SimFaults(options.name, options.seed);
    this.jobs = new JobRunner(options.jobMs, (operation) => this.faults.decideJob(operation));
  }

  get name(): string {
    return this.options.name;
  }

  countCall(
    key: string,
    details?: { query: string; username: string; bodyFields?: Record<string, string> | undefined; endpoint?: string },
  ): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const space = key.indexOf(" ");
    this.callLog.push({
      seq: nextCallSeq++,
      at: performance.timeOrigin + performance.now(),
      cluster: this.options.name,
      method: key.slice(0, space),
      template: key.slice(space + 1),
      query: details?.query ?? "",
      username: details?.username ?? "",
      ...(details?.bodyFields ? { bodyFields: details.bodyFields } : {}),
      ...(details?.endpoint ? { endpoint: details.endpoint } : {}),
    });
    if (this.callLog.length > CALL_LOG_LIMIT) this.callLog = this.callLog.slice(-CALL_LOG_LIMIT / 2);
  }

  /** Starts (or restarts) recording every REST exchange in full; `stopConversation` hands them over. */
  startConversation(): void {
    this.conversation = [];
  }

  /** The exchanges recorded so far; recording goes on unless `stop` is true. */
  conversationSoFar(stop = false): SimExchange[] {
    const recorded = this.conversation ?? [];
    if (stop) this.conversation = undefined;
    return recorded;
  }

  get recording(): boolean {
    return this.conversation !== undefined;
  }

  recordExchange(exchange: SimExchange): void {
    if (!this.conversation) return;
    this.conversation.push({ ...exchange, body: redactPasswords(exchange.body), response: redactPasswords(exchange.response) });
    if (this.conversation.length > CALL_LOG_LIMIT) this.conversation.splice(0, this.conversation.length - CALL_LOG_LIMIT);
  }

  /** One REST request arrived; the returned function marks it answered (idempotent). */
  requestStarted(): () => void {
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
    };
  }

  /** What a client's concurrency cap is measured against: requests in flight now, and the peak. */
  concurrency(): { inFlight: number; peak: number } {
    return { inFlight: this.inFlight, peak: this.peakInFlight };
  }

  /** Starts a new measurement: the peak becomes what is in flight now. */
  resetConcurrencyPeak(): void {
    this.peakInFlight = this.inFlight;
  }

  /** The logged calls with a seq above `since`, oldest first. */
  callLogSince(since = 0): SimCallLogEntry[] {
    return this.callLog.filter((entry) => entry.seq > since);
  }

  callCounts(): Record<string, number> {
    return Object.fromEntries([...this.calls].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Back to a fresh cluster: state, fault rules and call counts (the admin password stays). */
  reset(): void {
    this.jobs.cancelAll(this.state.jobs.values());
    this.state = this.freshState();
    this.faults.clear();
    this.calls.clear();
    this.callLog = [];
    this.resetConcurrencyPeak();
  }

  shutdown(): void {
    this.jobs.cancelAll(this.state.jobs.values());
  }

  /** The whole state as REST-shaped records; passwords are never part of it. */
  snapshot(): Rec {
    const s = this.state;
    return {
      cluster: clusterView(s),
      nodes: s.nodes.map((n) => nodeView(s, n)),
      aggregates: s.aggregates.map((a) => aggregateView(s, a)),
      svms: [...s.svms.values()].map((v) => svmView(s, v)),
      volumes: [...s.volumes.values()].map((v) => volumeView(s, v)),
      interfaces: [...s.interfaces.values()].map((i) => interfaceView(s, i)),
      accounts: [...s.accounts.values()].map((a) => ({ ...accountView(s, a), has_password: a.password !== undefined })),
      roles: [...s.roles.values()].map((r) => roleView(s, r)),
      jobs: [...s.jobs.values()].map((j) => jobView(s, j)),
      snapshots: [...s.snapshots.values()].map((x) => snapshotView(s, x)),
      namespaces: [...s.namespaces.values()].map((x) => namespaceView(s, x)),
      subsystems: [...s.subsystems.values()].map((x) => subsystemView(s, x)),
      subsystem_maps: [...s.subsystemMaps.values()].map((x) => subsystemMapView(s, x)),
      ems_logs: s.emsLogs.map((x) => ({ ...x })),
      bgp: { enabled: s.bgp, peer_groups: bgpPeerGroupViews(s) },
    };
  }

  private freshState(): ClusterState {
    return createClusterState({
      name: this.options.name,
      adminUsername: this.options.adminUsername,
      adminPassword: this.options.adminPassword,
      bgp: this.options.bgp,
    });
  }
}

function redactPasswords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactPasswords);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, /pass(word|wd)/i.test(key) ? "<redacted>" : redactPasswords(item)]),
  );
}
