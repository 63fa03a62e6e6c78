import { type AccountOperations, accountOperations } from "./accounts.js";
import { type ClusterInfoOperations, clusterInfoOperations } from "./cluster-info.js";
import { type InterfaceOperations, interfaceOperations } from "./interfaces.js";
import { type RoleOperations, roleOperations } from "./roles.js";
import { createRequester, type OntapClientOptions, type OntapClusterConfig } from "./request.js";
import { type SvmOperations, svmOperations } from "./svms.js";

export { type CallOptions, ENDPOINTS, type OntapClientOptions, type OntapClusterConfig, type OntapRequestEvent } from "./request.js";

export type { AuthenticateResult, ChangePasswordInput, CreateAccountInput } from "./accounts.js";
export type { CreateInterfaceInput } from "./interfaces.js";
export type { CreateRoleInput } from "./roles.js";
export type { CreateSvmInput } from "./svms.js";

/** One ONTAP cluster's operations, each resource kind from its own module. */
export interface OntapClient extends ClusterInfoOperations, SvmOperations, InterfaceOperations, AccountOperations, RoleOperations {
  readonly cluster: string;
  close(): Promise<void>;
}

/** One ONTAP cluster's client: the operations of each resource kind over one request layer (request.ts). */
export function createOntapClient(cfg: OntapClusterConfig, opts: OntapClientOptions = {}): OntapClient {
  const r = createRequester(cfg, opts);
  return {
    cluster: r.cluster,
    ...clusterInfoOperations(r),
    ...svmOperations(r),
    ...interfaceOperations(r),
    ...accountOperations(r),
    ...roleOperations(r),
    close() {
      return r.transport.close();
    },
  };
}
