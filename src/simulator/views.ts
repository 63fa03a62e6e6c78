import {
  aggregateVolumeCount,
  type ClusterState,
  createClusterState,
  insertSvm,
  ownerName,
  type SimAccount,
  type SimAggregate,
  type SimInterface,
  type SimJob,
  type SimNode,
  type SimSvm,
  type SimVolume,
} from "./state.js";

/** A REST record as ONTAP serializes it (before field selection). */
export type Rec = Record<string, unknown>;

export const ONTAP_VERSION = { full: "NetApp Release 9.14.1: Mon Jan 15 12:00:00 UTC 2024", generation: 9, major: 14, minor: 1 };

const link = (href: string) => ({ self: { href } });

function nodeRef(state: ClusterState, uuid: string): Rec {
  const node = state.nodes.find((n) => n.uuid === uuid);
  return { uuid, name: node?.name ?? "", _links: link(`/api/cluster/nodes/${uuid}`) };
}

function svmRef(state: ClusterState, uuid: string): Rec {
  return { uuid, name: state.svms.get(uuid)?.name ?? "", _links: link(`/api/svm/svms/${uuid}`) };
}

function aggregateRef(state: ClusterState, uuid: string): Rec {
  const aggregate = state.aggregates.find((a) => a.uuid === uuid);
  return { uuid, name: aggregate?.name ?? "", _links: link(`/api/storage/aggregates/${uuid}`) };
}

const defaultIpspace = (state: ClusterState) => ({ name: "Default", uuid: state.uuid.replace(/^.{8}/, "00000000") });

/** Read, write, other, total: the shape of every IOPS, latency and throughput counter. */
const counters = () => ({ read: 0, write: 0, other: 0, total: 0 });

/**
 * What `GET /api/cluster` carries without `fields`, after the vendor's own example answer
 * (netapp_ontap/resources/cluster.py, "Verifying the cluster information"): real clusters include `metric` and
 * `statistics` by default, and clients (the Go extension) dereference them.
 */
export function clusterView(state: ClusterState): Rec {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "+00:00");
  return {
    name: state.name,
    uuid: state.uuid,
    version: { ...ONTAP_VERSION },
    location: "simulated",
    contact: "",
    dns_domains: ["sim.invalid"],
    name_servers: ["127.0.0.53"],
    ntp_servers: ["127.0.0.123"],
    timezone: { name: "Etc/UTC" },
    san_optimized: false,
    ha: { failover_protection_level: "nplusone" },
    peering_policy: { authentication_required: true, encryption_required: false, minimum_passphrase_length: 8 },
    management_interfaces: [
      {
        uuid: state.clusterLifUuid,
        name: "cluster_mgmt",
        ip: { address: "127.0.0.1" },
        _links: link(`/api/network/ip/interfaces/${state.clusterLifUuid}`),
      },
    ],
    metric: {
      timestamp: now,
      duration: "PT15S",
      status: "ok",
      iops: counters(),
      latency: counters(),
      throughput: counters(),
    },
    statistics: {
      timestamp: now,
      status: "ok",
      iops_raw: counters(),
      latency_raw: counters(),
      throughput_raw: counters(),
    },
    _links: link("/api/cluster"),
  };
}

export function nodeView(_state: ClusterState, node: SimNode): Rec {
  return {
    uuid: node.uuid,
    name: node.name,
    model: "FAS-SIM",
    serial_number: node.serialNumber,
    state: "up",
    membership: "member",
    version: { ...ONTAP_VERSION },
    _links: link(`/api/cluster/nodes/${node.uuid}`),
  };
}

export function aggregateView(state: ClusterState, aggregate: SimAggregate): Rec {
  let used = 0;
  for (const volume of state.volumes.values()) if (volume.aggregateUuid === aggregate.uuid) used += volume.sizeBytes;
  return {
    uuid: aggregate.uuid,
    name: aggregate.name,
    node: nodeRef(state, aggregate.nodeUuid),
    state: "online",
    // The vendor's wire name (netapp_ontap aggregate.py: data_key="volume-count"), not the Python attribute name.
    "volume-count": aggregateVolumeCount(state, aggregate.uuid),
    space: { block_storage: { size: aggregate.sizeBytes, available: aggregate.sizeBytes - used, used } },
    _links: link(`/api/storage/aggregates/${aggregate.uuid}`),
  };
}

/**
 * The SVM's `ip_interfaces` as NetApp's schema names them (`netapp_ontap/models/ip_interface_svm.py`):
 * `service_policy` is a plain string here, not the `{name}` object of the interfaces collection.
 */
export function svmInterfaceView(state: ClusterState, lif: SimInterface): Rec {
  return {
    uuid: lif.uuid,
    name: lif.name,
    ip: { address: lif.address, netmask: lif.netmask },
    location: { home_node: nodeRef(state, lif.homeNodeUuid) },
    service_policy: lif.servicePolicy,
    services: lif.servicePolicy === "default-management" ? ["management_https"] : ["data_core", "data_nvme_tcp"],
    _links: link(`/api/network/ip/interfaces/${lif.uuid}`),
  };
}

/** Interfaces grouped by SVM, built once per request so a list of many SVMs stays linear. */
export function interfacesBySvm(state: ClusterState): Map<string, SimInterface[]> {
  const bySvm = new Map<string, SimInterface[]>();
  for (const lif of state.interfaces.values()) {
    const list = bySvm.get(lif.svmUuid);
    if (list) list.push(lif);
    else bySvm.set(lif.svmUuid, [lif]);
  }
  return bySvm;
}

export function svmView(state: ClusterState, svm: SimSvm, lifs: Map<string, SimInterface[]> = interfacesBySvm(state)): Rec {
  return {
    uuid: svm.uuid,
    name: svm.name,
    state: svm.state,
    subtype: "default",
    language: svm.language,
    comment: svm.comment,
    aggregates: svm.aggregateUuids.map((uuid) => aggregateRef(state, uuid)),
    ipspace: defaultIpspace(state),
    nvme: { enabled: svm.nvme.enabled, allowed: svm.nvme.allowed },
    ip_interfaces: (lifs.get(svm.uuid) ?? [])
      .slice()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((lif) => svmInterfaceView(state, lif)),
    _links: link(`/api/svm/svms/${svm.uuid}`),
  };
}

export function volumeView(state: ClusterState, volume: SimVolume): Rec {
  return {
    uuid: volume.uuid,
    name: volume.name,
    state: "online",
    style: "flexvol",
    type: "rw",
    size: volume.sizeBytes,
    is_svm_root: volume.isSvmRoot,
    svm: svmRef(state, volume.svmUuid),
    aggregates: [aggregateRef(state, volume.aggregateUuid)],
    _links: link(`/api/storage/volumes/${volume.uuid}`),
  };
}

export function interfaceView(state: ClusterState, lif: SimInterface): Rec {
  const node = nodeRef(state, lif.homeNodeUuid);
  return {
    uuid: lif.uuid,
    name: lif.name,
    ip: { address: lif.address, netmask: lif.netmask, family: "ipv4" },
    enabled: lif.enabled,
    state: lif.enabled ? "up" : "down",
    scope: "svm",
    vip: lif.vip,
    svm: svmRef(state, lif.svmUuid),
    ipspace: defaultIpspace(state),
    location: { home_node: node, node, is_home: true },
    service_policy: { name: lif.servicePolicy },
    _links: link(`/api/network/ip/interfaces/${lif.uuid}`),
  };
}

export function accountView(state: ClusterState, account: SimAccount): Rec {
  const clusterScoped = account.ownerUuid === state.adminSvmUuid;
  return {
    owner: {
      uuid: account.ownerUuid,
      name: ownerName(state, account.ownerUuid) ?? "",
      _links: link(`/api/svm/svms/${account.ownerUuid}`),
    },
    name: account.name,
    scope: clusterScoped ? "cluster" : "svm",
    role: { name: account.role, _links: link(`/api/security/roles/${account.ownerUuid}/${account.role}`) },
    applications: account.applications.map((a) => ({ ...a, authentication_methods: [...a.authentication_methods] })),
    locked: account.locked,
    comment: account.comment,
    _links: link(`/api/security/accounts/${account.ownerUuid}/${encodeURIComponent(account.name)}`),
  };
}

export function bgpPeerGroupViews(state: ClusterState): Rec[] {
  if (!state.bgp) return [];
  return state.nodes.map((node, i) => ({
    uuid: `${node.uuid.slice(0, 24)}b9b9b9b9b9b${i}`,
    name: `bgp-${node.name}`,
    ipspace: defaultIpspace(state),
    state: "up",
    local: { interface: { name: `bgp_lif_${i + 1}` }, port: { name: "e0c", node: { name: node.name } } },
    peer: { address: `10.255.${i}.1`, asn: 65000 + i, is_next_hop: false },
    // No `_links` of its own: the vendor's BgpPeerGroupSchema has none (netapp_ontap/resources/bgp_peer_group.py).
  }));
}

export function jobView(_state: ClusterState, job: SimJob): Rec {
  const record: Rec = {
    uuid: job.uuid,
    description: job.description,
    state: job.state,
    message: job.message,
    code: job.code,
    start_time: job.startTime,
    _links: link(`/api/cluster/jobs/${job.uuid}`),
  };
  if (job.endTime) record.end_time = job.endTime;
  if (job.svm) record.svm = { ...job.svm, _links: link(`/api/svm/svms/${job.svm.uuid}`) };
  return record;
}

/** Every dotted path present in a record, through arrays: the fields a query may name. */
export function fieldPaths(record: unknown, prefix = "", into = new Set<string>()): Set<string> {
  if (Array.isArray(record)) {
    for (const item of record) fieldPaths(item, prefix, into);
  } else if (record !== null && typeof record === "object") {
    for (const [key, value] of Object.entries(record)) {
      const path = prefix ? `${prefix}.${key}` : key;
      into.add(path);
      fieldPaths(value, path, into);
    }
  }
  return into;
}

/** Every dotted path of a record (through arrays) with the JSON types found there. */
export function fieldTypes(record: unknown, prefix = "", into: Record<string, string[]> = {}): Record<string, string[]> {
  if (Array.isArray(record)) {
    for (const item of record) fieldTypes(item, prefix, into);
  } else if (record !== null && typeof record === "object") {
    for (const [key, value] of Object.entries(record)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
      const types = into[path] ?? [];
      if (!types.includes(type)) types.push(type);
      into[path] = types;
      fieldTypes(value, path, into);
    }
  }
  return into;
}

/**
 * Fully populated prototype records, one per collection: the list of queryable fields and the list of served
 * fields (which the conformance suite checks against the vendor's schema) both come from them, so neither can
 * drift from what the views produce.
 */
function prototypeRecords(): Record<string, Rec> {
  const state = createClusterState({ name: "proto", adminUsername: "admin", adminPassword: "x", bgp: true });
  const svm = insertSvm(state, {
    name: "proto",
    state: "running",
    aggregateUuids: [state.aggregates[0]!.uuid],
    nvme: { enabled: true, allowed: true },
  });
  const lif: SimInterface = {
    uuid: "u",
    name: "n",
    svmUuid: svm.uuid,
    address: "10.0.0.1",
    netmask: "24",
    homeNodeUuid: state.nodes[0]!.uuid,
    servicePolicy: "default-management",
    enabled: true,
    vip: false,
  };
  // In the state, so the SVM prototype lists it and `ip_interfaces.*` paths are known fields.
  state.interfaces.set(lif.uuid, lif);
  const job: SimJob = {
    uuid: "j",
    description: "d",
    state: "success",
    message: "m",
    code: 0,
    startTime: "t",
    endTime: "t",
    svm: { uuid: svm.uuid, name: svm.name },
  };
  const volume = [...state.volumes.values()][0]!;
  const account = [...state.accounts.values()][0]!;
  return {
    cluster: clusterView(state),
    nodes: nodeView(state, state.nodes[0]!),
    aggregates: aggregateView(state, state.aggregates[0]!),
    svms: svmView(state, svm),
    volumes: volumeView(state, volume),
    interfaces: interfaceView(state, lif),
    accounts: accountView(state, account),
    bgpPeerGroups: bgpPeerGroupViews(state)[0]!,
    jobs: jobView(state, job),
  };
}

/** The REST path each kind of record is served under (the collection, or the singleton `/api/cluster`). */
export const SERVED_PATHS = {
  cluster: "/api/cluster",
  nodes: "/api/cluster/nodes",
  aggregates: "/api/storage/aggregates",
  svms: "/api/svm/svms",
  volumes: "/api/storage/volumes",
  interfaces: "/api/network/ip/interfaces",
  accounts: "/api/security/accounts",
  bgpPeerGroups: "/api/network/ip/bgp/peer-groups",
  jobs: "/api/cluster/jobs",
} as const;

const PROTOTYPES = prototypeRecords() as Record<keyof typeof SERVED_PATHS, Rec>;

export const KNOWN_FIELDS = Object.fromEntries(
  Object.entries(PROTOTYPES).map(([kind, record]) => [kind, fieldPaths(record)]),
) as Record<keyof typeof SERVED_PATHS, Set<string>>;

/** Every field the simulator serves, per REST path, with its JSON types. */
export function servedFields(): Record<string, Record<string, string[]>> {
  return Object.fromEntries(
    Object.entries(PROTOTYPES).map(([kind, record]) => [SERVED_PATHS[kind as keyof typeof SERVED_PATHS], fieldTypes(record)]),
  );
}
