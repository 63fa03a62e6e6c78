import { type Route, requireClusterAdmin, svmScope } from "../routes.js";
import { aggregateView, bgpPeerGroupViews, clusterView, jobView, nodeView } from "../views.js";
import { byName, getInstance, listCollection } from "./common.js";

const keys = ["uuid", "name"] as const;

/** Cluster identity, nodes, aggregates, BGP peer groups and jobs: read-only cluster objects. */
export const clusterRoutes: Route[] = [
  {
    method: "GET",
    template: "/api/cluster",
    handler: (ctx) => {
      requireClusterAdmin(ctx);
      return getInstance(ctx, "cluster", clusterView(ctx.sim.state), keys);
    },
  },
  {
    method: "GET",
    template: "/api/cluster/nodes",
    handler: (ctx) => {
      requireClusterAdmin(ctx);
      const s = ctx.sim.state;
      return listCollection(ctx, "nodes", s.nodes.map((n) => nodeView(s, n)), { keyFields: keys, sortKey: byName });
    },
  },
  {
    method: "GET",
    template: "/api/cluster/nodes/{uuid}",
    handler: (ctx) => {
      requireClusterAdmin(ctx);
      const s = ctx.sim.state;
      const node = s.nodes.find((n) => n.uuid === ctx.params.uuid);
      return getInstance(ctx, "nodes", node && nodeView(s, node), keys);
    },
  },
  {
    method: "GET",
    template: "/api/storage/aggregates",
    handler: (ctx) => {
      requireClusterAdmin(ctx);
      const s = ctx.sim.state;
      const records = s.aggregates.map((a) => aggregateView(s, a));
      return listCollection(ctx, "aggregates", records, { keyFields: keys, sortKey: byName });
    },
  },
  {
    method: "GET",
    template: "/api/storage/aggregates/{uuid}",
    handler: (ctx) => {
      requireClusterAdmin(ctx);
      const s = ctx.sim.state;
      const aggregate = s.aggregates.find((a) => a.uuid === ctx.params.uuid);
      return getInstance(ctx, "aggregates", aggregate && aggregateView(s, aggregate), keys);
    },
  },
  {
    method: "GET",
    template: "/api/network/ip/bgp/peer-groups",
    handler: (ctx) => {
      requireClusterAdmin(ctx);
      return listCollection(ctx, "bgpPeerGroups", bgpPeerGroupViews(ctx.sim.state), { keyFields: keys, sortKey: byName });
    },
  },
  {
    method: "GET",
    template: "/api/cluster/jobs/{uuid}",
    handler: (ctx) => {
      const s = ctx.sim.state;
      const job = s.jobs.get(ctx.params.uuid!);
      const scope = svmScope(ctx);
      // An SVM user may follow the jobs of its own SVM only; others do not exist for it.
      const visible = job && (scope === undefined || job.svm?.uuid === scope) ? job : undefined;
      return getInstance(ctx, "jobs", visible && jobView(s, visible), ["uuid"]);
    },
  },
];
