import type { ServerResponse } from "node:http";
import { SimFaults } from "./faults.js";
import { JobRunner } from "./jobs.js";
import { type ClusterState, createClusterState } from "./state.js";
import {
  accountView,
  aggregateView,
  bgpPeerGroupViews,
  clusterView,
  interfaceView,
  jobView,
  nodeView,
  type Rec,
  svmView,
  volumeView,
} from "./views.js";

export interface SimClusterOptions {
  name: string;
  adminUsername: string;
  adminPassword: string;
  bgp: boolean;
  jobMs: number;
  latencyMs: number;
  seed: number;
}

/** One simulated cluster: its state, jobs, fault rules and call counts. The server is separate. */
export class SimCluster {
  state: ClusterState;
  readonly faults: SimFaults;
  readonly jobs: JobRunner;
  private readonly calls = new Map<string, number>();
  /** Responses held open by a `hang` fault; they leave the set when the client disconnects. */
  readonly hanging = new Set<ServerResponse>();

  constructor(readonly options: SimClusterOptions) {
    this.state = this.freshState();
    this.faults = new SimFaults(options.name, options.seed);
    this.jobs = new JobRunner(options.jobMs, (operation) => this.faults.decideJob(operation));
  }

  get name(): string {
    return this.options.name;
  }

  countCall(key: string): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
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
      jobs: [...s.jobs.values()].map((j) => jobView(s, j)),
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
