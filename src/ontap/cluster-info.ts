import { type Aggregate, AggregateRecord, type ClusterInfo, ClusterRecord, NodeRecord, type OntapNode } from "./schemas.js";
import { type CallOptions, ENDPOINTS, type RequestSpec, type Requester } from "./request.js";


/** The cluster itself, its nodes and aggregates, and whether BGP peer groups exist. */
export interface ClusterInfoOperations {
  getCluster(opts?: CallOptions): Promise<ClusterInfo>;
  listNodes(opts?: CallOptions): Promise<OntapNode[]>;
  listAggregates(opts?: CallOptions): Promise<Aggregate[]>;
  hasBgpPeerGroups(opts?: CallOptions): Promise<boolean>;
}

export function clusterInfoOperations(r: Requester): ClusterInfoOperations {
  const { request, parse, listAll, count } = r;
  const ops: ClusterInfoOperations = {
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

      async hasBgpPeerGroups(callOpts = {}) {
        const n = await count({
          operation: "count BGP peer groups",
          method: "GET",
          endpoint: ENDPOINTS.bgpPeerGroups,
          signal: callOpts.signal,
        });
        return n > 0;
      },
  };
  return ops;
}
