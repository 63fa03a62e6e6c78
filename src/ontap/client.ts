import type { OntapError } from "./errors.js";
import type { WaitForJobOptions } from "./jobs.js";
import type { Account, Aggregate, ClusterInfo, Job, JobRef, Lif, OntapNode, Svm } from "./schemas.js";
import { accountOperations } from "./accounts.js";
import { clusterInfoOperations } from "./cluster-info.js";
import { interfaceOperations } from "./interfaces.js";
import { type CallOptions, createRequester, type OntapClientOptions, type OntapClusterConfig } from "./request.js";
import { svmOperations } from "./svms.js";

export { type CallOptions, ENDPOINTS, type OntapClientOptions, type OntapClusterConfig, type OntapRequestEvent } from "./request.js";

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
  /** Recorded on the account (who owns it). */
  comment?: string;
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
  /** PATCHes the account's `comment` (idempotent). */
  setAccountComment(ownerUuid: string, name: string, comment: string, opts?: CallOptions): Promise<void>;
  countDataVolumes(svmUuid: string, opts?: CallOptions): Promise<number>;
  /** Never throws; a 401 is "wrong-password" and is not retried. */
  authenticateAs(credentials: { name: string; password: string }, opts?: CallOptions): Promise<AuthenticateResult>;
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
    close() {
      return r.transport.close();
    },
  };
}
