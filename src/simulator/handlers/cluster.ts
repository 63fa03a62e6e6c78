import { type Route, requireClusterAdmin, svmScope } from "../routes.js";
import { aggregateView, bgpPeerGroupViews, clusterView, jobView, nodeView, svmClusterView } from "../views.js";
import { byName, getInstance, listCollection, readRoutes } from "./common.js";

const keys = ["uuid", "name"] as const;

/** Cluster identity, nodes, aggregates, BGP peer groups and jobs: read-only cluster objects. */
export const clusterRoutes: Route[] = [
  {
    method: "GET",
    template: "/api/cluster",
    // Readonly for an SVM role too (NetApp's REST role for Trident lists it): its callers get the reduced view.
    handler: (ctx) => {
      const view = ctx.identity.kind === "cluster" ? clusterView(ctx.sim.state) : svmClusterView(ctx.sim.state);
      return getInstance(ctx, "cluster", view, keys);
    },
  },
  ...readRoutes({
    kind: "nodes",
    collection: "/api/cluster/nodes",
    all: (s) => s.nodes,
    find: (s, params) => s.nodes.find((n) => n.uuid === params.uuid),
    view: (s) => (n) => nodeView(s, n),
    // Readonly for an SVM role (NetApp's REST role for Trident lists /api/cluster/nodes): every node is visible.
    scope: { svmOf: () => undefined, all: true },
  }),
  ...readRoutes({
    kind: "aggregates",
    collection: "/api/storage/aggregates",
    all: (s) => s.aggregates,
    find: (s, params) => s.aggregates.find((a) => a.uuid === params.uuid),
    view: (s) => (a) => aggregateView(s, a),
    // An SVM-scoped caller sees the aggregates assigned to its SVM (its aggr-list), as `vserver show-aggregates`.
    scope: { visibleTo: (s, svmUuid) => (a) => s.svms.get(svmUuid)?.aggregateUuids.includes(a.uuid) ?? false },
  }),
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
