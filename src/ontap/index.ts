export {
  type AuthenticateResult,
  type CallOptions,
  type ChangePasswordInput,
  type CreateAccountInput,
  type CreateInterfaceInput,
  type CreateRoleInput,
  type CreateSvmInput,
  createOntapClient,
  ENDPOINTS,
  type OntapClient,
  type OntapClientOptions,
  type OntapClusterConfig,
  type OntapRequestEvent,
} from "./client.js";
export { isOntapError, OntapError, type OntapErrorKind } from "./errors.js";
export {
  type BreakerSettings,
  type BreakerState,
  type ClusterGate,
  createClusterGate,
  DEFAULT_BREAKER,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
} from "./gate.js";
export type { WaitForJobOptions } from "./jobs.js";
export {
  combineLookups,
  createMetroCluster,
  goneFromHome,
  knownHome,
  type MetroCluster,
  type SvmLookup,
  type SvmOnCluster,
} from "./metrocluster.js";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
export type {
  Account,
  Aggregate,
  ClusterInfo,
  Job,
  JobRef,
  JobState,
  Lif,
  OntapNode,
  Role,
  RolePrivilege,
  Svm,
  SvmState,
} from "./schemas.js";
export { type OntapCallScope, scopeOntapClient } from "./scoped.js";
export {
  type CertificatePins,
  certificateChangedMessage,
  fileDialMap,
  memoryPins,
  overrideOntapDialing,
  PinnedCertificateChangedError,
  persistedPins,
  pinKey,
  setProcessCertificatePins,
} from "./tls-connect.js";
