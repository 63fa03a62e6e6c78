import { randomUUID } from "node:crypto";

/** The simulated world of one ONTAP cluster. Plain data; views.ts turns it into REST records. */

export type SvmState = "starting" | "running" | "stopping" | "stopped" | "deleting" | "initializing";
/** The service policy of an SVM management LIF: the simulator serves such a LIF as its own endpoint. */
export const MANAGEMENT_SERVICE_POLICY = "default-management";

export const SVM_STATES: readonly SvmState[] = ["starting", "running", "stopping", "stopped", "deleting", "initializing"];

export interface SimNode {
  uuid: string;
  name: string;
  serialNumber: string;
}

export interface SimAggregate {
  uuid: string;
  name: string;
  nodeUuid: string;
  sizeBytes: number;
}

export interface SimSvm {
  uuid: string;
  name: string;
  state: SvmState;
  /** The aggr-list: aggregates the SVM may use (empty when the create named none). */
  aggregateUuids: string[];
  /** Where the SVM's volumes live; counted in that aggregate's `volume-count`. */
  homeAggregateUuid: string;
  nvme: { enabled: boolean; allowed: boolean };
  comment: string;
  language: string;
}

export interface SimVolume {
  uuid: string;
  name: string;
  svmUuid: string;
  aggregateUuid: string;
  isSvmRoot: boolean;
  sizeBytes: number;
  /** What a REST create or PATCH set; the admin API's volumes keep the defaults. */
  comment?: string;
  guarantee?: string;
  snapshotPolicy?: string;
  snapshotReservePercent?: number;
  encrypted?: boolean;
  tieringPolicy?: string;
  /** A FlexClone's parent: the volume and the snapshot it was cloned from. */
  clone?: { parentVolumeUuid: string; parentVolumeName: string; parentSnapshotName?: string };
}

export interface SimSnapshot {
  uuid: string;
  name: string;
  volumeUuid: string;
  createTime: string;
}

/** An NVMe namespace: a file in a volume (`/vol/<volume>/<name>`), the block device a host sees. */
export interface SimNamespace {
  uuid: string;
  /** The path, as ONTAP names a namespace: `/vol/<volume>/<namespace>`. */
  name: string;
  svmUuid: string;
  volumeUuid: string;
  osType: string;
  sizeBytes: number;
  blockSize: number;
  comment: string;
}

export interface SimSubsystem {
  uuid: string;
  name: string;
  svmUuid: string;
  osType: string;
  comment: string;
  /** Host NQNs allowed to connect, in the order they were added. */
  hosts: string[];
}

/** A namespace mapped into a subsystem (ONTAP allows one subsystem per namespace). */
export interface SimSubsystemMap {
  subsystemUuid: string;
  namespaceUuid: string;
  nsid: number;
}

/** One `POST /api/support/ems/application-logs`: what a client told ONTAP's event log. */
export interface SimEmsLog {
  at: string;
  svmUuid: string | undefined;
  eventSource: string;
  eventId: number;
  category: string;
}

export interface SimInterface {
  uuid: string;
  name: string;
  svmUuid: string;
  address: string;
  /** Prefix length as ONTAP reports it ("24"), whatever form the create used. */
  netmask: string;
  homeNodeUuid: string;
  servicePolicy: string;
  enabled: boolean;
  vip: boolean;
}

export interface SimApplication {
  application: string;
  authentication_methods: string[];
  second_authentication_method: string;
}

export interface SimAccount {
  /** An SVM uuid, or the cluster's admin SVM uuid for cluster-scoped accounts. */
  ownerUuid: string;
  name: string;
  role: string;
  applications: SimApplication[];
  /** Never leaves the simulator: views, state dumps and logs omit it. */
  password?: string;
  locked: boolean;
  comment: string;
}

/** One REST privilege tuple of a role: an API path and the access level on it. */
export interface SimRolePrivilege {
  path: string;
  access: string;
}

/** A custom SVM-scoped REST role (the built-in ones, vsadmin and its kin, are not stored: see auth.ts). */
export interface SimRole {
  ownerUuid: string;
  name: string;
  privileges: SimRolePrivilege[];
}

export type JobState = "queued" | "running" | "paused" | "success" | "failure";

export interface SimJob {
  uuid: string;
  description: string;
  state: JobState;
  message: string;
  code: number;
  startTime: string;
  endTime?: string;
  svm?: { uuid: string; name: string };
  /** HTTP status a return_timeout caller gets when the job fails. */
  failureStatus?: number;
}

export interface ClusterState {
  name: string;
  uuid: string;
  /** The cluster's admin SVM: owner of cluster-scoped accounts such as `admin`. */
  adminSvmUuid: string;
  /** The cluster management interface (listed in the cluster record, not an SVM interface). */
  clusterLifUuid: string;
  nodes: SimNode[];
  aggregates: SimAggregate[];
  svms: Map<string, SimSvm>;
  volumes: Map<string, SimVolume>;
  interfaces: Map<string, SimInterface>;
  /** Keyed by `${ownerUuid}/${name}`. */
  accounts: Map<string, SimAccount>;
  /** Custom roles, keyed like accounts by `${ownerUuid}/${name}`. */
  roles: Map<string, SimRole>;
  jobs: Map<string, SimJob>;
  snapshots: Map<string, SimSnapshot>;
  namespaces: Map<string, SimNamespace>;
  subsystems: Map<string, SimSubsystem>;
  /** Keyed by `${subsystemUuid}/${namespaceUuid}`. */
  subsystemMaps: Map<string, SimSubsystemMap>;
  emsLogs: SimEmsLog[];
  bgp: boolean;
}

export const ROOT_VOLUME_BYTES = 1024 ** 3;
export const DATA_VOLUME_BYTES = 10 * 1024 ** 3;
const AGGREGATE_BYTES = 10 * 1024 ** 4;

export function accountKey(ownerUuid: string, name: string): string {
  return `${ownerUuid}/${name}`;
}

export function createClusterState(opts: {
  name: string;
  adminUsername: string;
  adminPassword: string;
  bgp: boolean;
}): ClusterState {
  const nodeBase = opts.name.replaceAll("-", "_");
  const nodes: SimNode[] = [1, 2].map((i) => ({
    uuid: randomUUID(),
    name: `${opts.name}-0${i}`,
    serialNumber: `9${String(Math.floor(Math.random() * 1e10)).padStart(10, "0")}`,
  }));
  const aggregates: SimAggregate[] = nodes.map((node, i) => ({
    uuid: randomUUID(),
    name: `aggr1_${nodeBase}_0${i + 1}`,
    nodeUuid: node.uuid,
    sizeBytes: AGGREGATE_BYTES,
  }));
  const state: ClusterState = {
    name: opts.name,
    uuid: randomUUID(),
    adminSvmUuid: randomUUID(),
    clusterLifUuid: randomUUID(),
    nodes,
    aggregates,
    svms: new Map(),
    volumes: new Map(),
    interfaces: new Map(),
    accounts: new Map(),
    roles: new Map(),
    jobs: new Map(),
    snapshots: new Map(),
    namespaces: new Map(),
    subsystems: new Map(),
    subsystemMaps: new Map(),
    emsLogs: [],
    bgp: opts.bgp,
  };
  const admin: SimAccount = {
    ownerUuid: state.adminSvmUuid,
    name: opts.adminUsername,
    role: "admin",
    applications: ["http", "ontapi", "ssh", "console"].map((application) => ({
      application,
      authentication_methods: ["password"],
      second_authentication_method: "none",
    })),
    password: opts.adminPassword,
    locked: false,
    comment: "",
  };
  state.accounts.set(accountKey(admin.ownerUuid, admin.name), admin);
  return state;
}

/** A new, empty aggregate of the standard size on `nodeUuid` (the admin API's "capacity added later"). */
export function addAggregate(state: ClusterState, name: string, nodeUuid: string): SimAggregate {
  const aggregate: SimAggregate = { uuid: randomUUID(), name, nodeUuid, sizeBytes: AGGREGATE_BYTES };
  state.aggregates.push(aggregate);
  return aggregate;
}

export function findSvmByName(state: ClusterState, name: string): SimSvm | undefined {
  for (const svm of state.svms.values()) if (svm.name === name) return svm;
  return undefined;
}

/** Resolves an owner reference to a name: an SVM, or the cluster itself for cluster-scoped objects. */
export function ownerName(state: ClusterState, ownerUuid: string): string | undefined {
  if (ownerUuid === state.adminSvmUuid) return state.name;
  return state.svms.get(ownerUuid)?.name;
}

export function aggregateVolumeCount(state: ClusterState, aggregateUuid: string): number {
  let count = 0;
  for (const volume of state.volumes.values()) if (volume.aggregateUuid === aggregateUuid) count++;
  return count;
}

/** ONTAP places an SVM without an explicit aggr-list on the least used aggregate. */
export function leastUsedAggregate(state: ClusterState): SimAggregate {
  const sorted = [...state.aggregates].sort(
    (a, b) => aggregateVolumeCount(state, a.uuid) - aggregateVolumeCount(state, b.uuid) || a.name.localeCompare(b.name),
  );
  return sorted[0]!;
}

export function dataVolumes(state: ClusterState, svmUuid: string): SimVolume[] {
  return [...state.volumes.values()].filter((v) => v.svmUuid === svmUuid && !v.isSvmRoot);
}

/**
 * Adds an SVM as a create does on a real cluster: the SVM record, its root volume and a locked
 * `vsadmin` account owned by it. Uniqueness and validation are the caller's job.
 */
export function insertSvm(
  state: ClusterState,
  input: { name: string; state: SvmState; aggregateUuids: string[]; nvme: { enabled: boolean; allowed: boolean }; comment?: string; language?: string },
): SimSvm {
  const home = input.aggregateUuids[0] ?? leastUsedAggregate(state).uuid;
  const svm: SimSvm = {
    uuid: randomUUID(),
    name: input.name,
    state: input.state,
    aggregateUuids: [...input.aggregateUuids],
    homeAggregateUuid: home,
    nvme: { ...input.nvme },
    comment: input.comment ?? "",
    language: input.language ?? "c.utf_8",
  };
  state.svms.set(svm.uuid, svm);
  const root: SimVolume = {
    uuid: randomUUID(),
    name: `${svm.name.replaceAll("-", "_").replaceAll(".", "_")}_root`,
    svmUuid: svm.uuid,
    aggregateUuid: home,
    isSvmRoot: true,
    sizeBytes: ROOT_VOLUME_BYTES,
  };
  state.volumes.set(root.uuid, root);
  const vsadmin: SimAccount = {
    ownerUuid: svm.uuid,
    name: "vsadmin",
    role: "vsadmin",
    applications: ["http", "ontapi", "ssh"].map((application) => ({
      application,
      authentication_methods: ["password"],
      second_authentication_method: "none",
    })),
    locked: true,
    comment: "",
  };
  state.accounts.set(accountKey(svm.uuid, vsadmin.name), vsadmin);
  return svm;
}

/** Removes an SVM with everything it owns, as a successful SVM delete does on ONTAP. */
export function removeSvm(state: ClusterState, svmUuid: string): void {
  state.svms.delete(svmUuid);
  for (const volume of [...state.volumes.values()]) if (volume.svmUuid === svmUuid) removeVolume(state, volume.uuid);
  for (const [uuid, subsystem] of state.subsystems) if (subsystem.svmUuid === svmUuid) removeSubsystem(state, uuid);
  for (const [uuid, lif] of state.interfaces) if (lif.svmUuid === svmUuid) state.interfaces.delete(uuid);
  for (const [key, account] of state.accounts) if (account.ownerUuid === svmUuid) state.accounts.delete(key);
  for (const [key, role] of state.roles) if (role.ownerUuid === svmUuid) state.roles.delete(key);
}

/** Makes the SVM hold exactly `count` data volumes (admin API), keeping existing ones where possible. */
export function setDataVolumeCount(state: ClusterState, svm: SimSvm, count: number): void {
  const existing = dataVolumes(state, svm.uuid).sort((a, b) => a.name.localeCompare(b.name));
  for (const volume of existing.slice(count)) state.volumes.delete(volume.uuid);
  const names = new Set(existing.map((v) => v.name));
  let index = 1;
  for (let have = Math.min(existing.length, count); have < count; have++) {
    while (names.has(dataVolumeName(svm, index))) index++;
    const volume: SimVolume = {
      uuid: randomUUID(),
      name: dataVolumeName(svm, index),
      svmUuid: svm.uuid,
      aggregateUuid: svm.homeAggregateUuid,
      isSvmRoot: false,
      sizeBytes: DATA_VOLUME_BYTES,
    };
    names.add(volume.name);
    state.volumes.set(volume.uuid, volume);
  }
}

function dataVolumeName(svm: SimSvm, index: number): string {
  return `${svm.name.replaceAll("-", "_").replaceAll(".", "_")}_vol${String(index).padStart(3, "0")}`;
}

/** Removes a volume with its snapshots and namespaces (and their maps), as a volume delete does on ONTAP. */
export function removeVolume(state: ClusterState, volumeUuid: string): void {
  state.volumes.delete(volumeUuid);
  for (const [uuid, snapshot] of state.snapshots) if (snapshot.volumeUuid === volumeUuid) state.snapshots.delete(uuid);
  for (const [uuid, namespace] of state.namespaces) if (namespace.volumeUuid === volumeUuid) removeNamespace(state, uuid);
}

export function removeNamespace(state: ClusterState, namespaceUuid: string): void {
  state.namespaces.delete(namespaceUuid);
  for (const [key, map] of state.subsystemMaps) if (map.namespaceUuid === namespaceUuid) state.subsystemMaps.delete(key);
}

export function removeSubsystem(state: ClusterState, subsystemUuid: string): void {
  state.subsystems.delete(subsystemUuid);
  for (const [key, map] of state.subsystemMaps) if (map.subsystemUuid === subsystemUuid) state.subsystemMaps.delete(key);
}

export function subsystemMapKey(subsystemUuid: string, namespaceUuid: string): string {
  return `${subsystemUuid}/${namespaceUuid}`;
}

export function findVolumeByName(state: ClusterState, svmUuid: string, name: string): SimVolume | undefined {
  for (const volume of state.volumes.values()) if (volume.svmUuid === svmUuid && volume.name === name) return volume;
  return undefined;
}
