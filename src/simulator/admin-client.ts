import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import type { FaultRule, FaultRuleSpec } from "../faults/rules.js";
import type { SimClusterInfo } from "./index.js";

/**
 * A small typed client for the simulator's admin API (`/__sim/`) and for raw REST calls in tests.
 * Test support only: the extension talks to ONTAP through src/ontap/, never through this.
 */

/** The loose shape of ONTAP JSON answers, enough for assertions without casts everywhere. */
export interface OntapJson {
  records?: OntapRecord[];
  num_records?: number;
  _links?: { self?: { href: string }; next?: { href: string } };
  error?: { message: string; code: string; target?: string };
  job?: { uuid: string; _links: { self: { href: string } } };
  [key: string]: unknown;
}
export type OntapRecord = Record<string, unknown> & { uuid?: string; name?: string };

export interface SimHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: OntapJson;
  text: string;
}

export interface RestOptions {
  body?: unknown;
  /** Sent as is, for malformed-JSON tests. */
  rawBody?: string;
  /** Basic credentials; null sends none; default the cluster admin. */
  auth?: { username: string; password: string } | null;
  signal?: AbortSignal;
}

export interface SimStateDump {
  cluster: OntapRecord;
  nodes: OntapRecord[];
  aggregates: OntapRecord[];
  svms: OntapRecord[];
  volumes: OntapRecord[];
  interfaces: OntapRecord[];
  accounts: OntapRecord[];
  roles: OntapRecord[];
  jobs: OntapRecord[];
  snapshots: OntapRecord[];
  namespaces: OntapRecord[];
  subsystems: OntapRecord[];
  subsystem_maps: OntapRecord[];
  ems_logs: Array<{ at: string; svmUuid?: string; eventSource: string; eventId: number; category: string }>;
  bgp: { enabled: boolean; peer_groups: OntapRecord[] };
}

export type SvmStateName = "starting" | "running" | "stopping" | "stopped" | "deleting" | "initializing";

export class SimAdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "SimAdminError";
  }
}

export class SimAdmin {
  private readonly agent: Agent;

  constructor(readonly cluster: SimClusterInfo) {
    this.agent = new Agent({ connect: { ca: readFileSync(cluster.caFile) } });
  }

  /** Any call against the cluster's port, REST or admin, answered as status + parsed JSON. */
  async rest(method: string, path: string, opts: RestOptions = {}): Promise<SimHttpResponse> {
    const headers: Record<string, string> = { accept: "application/hal+json, application/json" };
    const auth = opts.auth === undefined ? { username: this.cluster.username, password: this.cluster.password } : opts.auth;
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    let payload: string | undefined = opts.rawBody;
    if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined) headers["content-type"] = "application/json";
    const res = await request(new URL(path, this.cluster.url), {
      method: method as "GET",
      headers,
      body: payload,
      dispatcher: this.agent,
      signal: opts.signal,
    });
    const text = await res.body.text();
    let body: OntapJson = {};
    if (text) body = JSON.parse(text) as OntapJson;
    return { status: res.statusCode, headers: res.headers, body, text };
  }

  async addFault(rule: FaultRuleSpec): Promise<string> {
    return ((await this.admin("POST", "/__sim/faults", rule)) as { id: string }).id;
  }

  async removeFault(id: string): Promise<void> {
    await this.admin("DELETE", `/__sim/faults/${encodeURIComponent(id)}`);
  }

  async clearFaults(): Promise<void> {
    await this.admin("DELETE", "/__sim/faults");
  }

  async listFaults(): Promise<{ rules: FaultRule[]; hanging: number }> {
    return (await this.admin("GET", "/__sim/faults")) as { rules: FaultRule[]; hanging: number };
  }

  async state(): Promise<SimStateDump> {
    return (await this.admin("GET", "/__sim/state")) as SimStateDump;
  }

  async calls(): Promise<Record<string, number>> {
    return ((await this.admin("GET", "/__sim/calls")) as { calls: Record<string, number> }).calls;
  }

  async reset(): Promise<void> {
    await this.admin("POST", "/__sim/reset");
  }

  async setVolumes(svmName: string, count: number): Promise<void> {
    await this.admin("PUT", `/__sim/svms/${encodeURIComponent(svmName)}/volumes`, { count });
  }

  async setBgp(enabled: boolean): Promise<void> {
    await this.admin("PUT", "/__sim/bgp", { enabled });
  }

  /** Adds an empty aggregate to the cluster (capacity added later), on the named node or the first. */
  async addAggregate(name: string, node?: string): Promise<OntapRecord & { uuid: string; name: string }> {
    return (await this.admin("POST", "/__sim/aggregates", { name, ...(node ? { node } : {}) })) as OntapRecord & { uuid: string; name: string };
  }

  async setSvmState(svmName: string, state: SvmStateName): Promise<void> {
    await this.admin("PATCH", `/__sim/svms/${encodeURIComponent(svmName)}`, { state });
  }

  /** Creates a running SVM (with root volume and locked vsadmin) without a job. */
  async createSvmDirect(svm: {
    name: string;
    aggregates?: Array<{ uuid?: string; name?: string }>;
    nvme?: { enabled?: boolean; allowed?: boolean };
    state?: SvmStateName;
  }): Promise<OntapRecord & { uuid: string; name: string }> {
    return (await this.admin("POST", "/__sim/svms", svm)) as OntapRecord & { uuid: string; name: string };
  }

  /** Changes an SVM account's password behind the extension's back. */
  async setAccountPassword(svmName: string, account: string, password: string): Promise<void> {
    await this.admin(
      "POST",
      `/__sim/accounts/${encodeURIComponent(svmName)}/${encodeURIComponent(account)}/password`,
      { password },
    );
  }

  /** Polls a job over REST until it is terminal; answers the final job record. */
  async waitForJob(uuid: string, timeoutMs = 5_000): Promise<OntapRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.rest("GET", `/api/cluster/jobs/${uuid}`);
      if (res.status !== 200) throw new SimAdminError(res.status, res.body.error?.code, `job ${uuid}: ${res.text}`);
      if (res.body.state === "success" || res.body.state === "failure") return res.body as OntapRecord;
      if (Date.now() > deadline) throw new Error(`job ${uuid} still ${String(res.body.state)} after ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.rest(method, path, { body });
    if (res.status < 200 || res.status > 299) {
      throw new SimAdminError(
        res.status,
        res.body.error?.code,
        `simulator admin ${method} ${path} answered ${res.status}: ${res.body.error?.message ?? res.text}`,
      );
    }
    return res.body;
  }
}
