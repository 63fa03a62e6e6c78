import {
  aggregateVolumeCount,
  type ClusterState,
  createClusterState,
  insertSvm,
  ownerName,
  type SimAccount,
  type SimRole,
  type SimAggregate,
  type SimInterface,
  type SimJob,
  type SimNode,
  type SimNamespace,
  type SimSnapshot,
  type SimSubsystem,
  type SimSubsystemMap,
  type SimSvm,
  type SimVolume,
} from "./state.js";

/** A REST record as ONTAP serializes it (before field selection). */
export type Rec = Record<string, unknown>;

/**
 * 9.15.1: the first release on which Trident (25.06, `InitializeOntapAPI` in storage_drivers/ontap/ontap_common.go)
 * talks REST without `useREST: true` in its backend config; below it, it falls back to ZAPI, which the simulator
 * does not serve. 9.16.1 and later would also make Trident ask for `san_optimized` and `disaggregated` with
 * `ignore_unknown_fields=true` (its ASA r2 check), which the simulator does not serve yet.
 */
export const ONTAP_VERSION = { full: "NetApp Release 9.15.1: Mon Jun 03 12:00:00 UTC 2024", generation: 9, major: 15, minor: 1 };

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

/**
 * What an SVM-scoped account gets from `GET /api/cluster` (even with `fields=**`): name, uuid and version only.
 * NetApp's REST role for Trident lists `/api/cluster` as readonly for an SVM role, and Trident's
 * `SystemGetOntapVersion` says ONTAP leaves out fields such as `san_optimized` for vsadmin credentials; which
 * other fields a real cluster hides is not established here, so the simulator shows the minimum a client needs.
 */
export function svmClusterView(state: ClusterState): Rec {
  const full = clusterView(state);
  return { name: full.name, uuid: full.uuid, version: full.version, _links: full._links };
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
    space: { block_storage: { size: aggregate.sizeBytes, available: aggregate.sizeBytes - used, used }, footprint: used },
    // Trident reads the disk type to label its storage pools (`GetSVMAggregateAttributes`).
    block_storage: { primary: { disk_type: "ssd" } },
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
    services: servicesOf(lif.servicePolicy),
    _links: link(`/api/network/ip/interfaces/${lif.uuid}`),
  };
}

/** The services of ONTAP's built-in service policies (the subset this simulator's LIFs use). */
function servicesOf(policy: string): string[] {
  switch (policy) {
    case "default-management":
      return ["management_https"];
    case "default-data-nvme-tcp":
      return ["data_core", "data_nvme_tcp"];
    case "default-data-iscsi":
      return ["data_core", "data_iscsi"];
    case "default-data-blocks":
      return ["data_core", "data_iscsi", "data_fc"];
    case "default-data-files":
      return ["data_core", "data_nfs", "data_cifs"];
    case "default-intercluster":
      return ["intercluster_core"];
    default:
      return ["data_core", "data_nvme_tcp"];
  }
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
  const reserve = volume.snapshotReservePercent ?? (volume.isSvmRoot ? 5 : 0);
  let used = 0;
  for (const ns of state.namespaces.values()) if (ns.volumeUuid === volume.uuid) used += ns.sizeBytes;
  const record: Rec = {
    uuid: volume.uuid,
    name: volume.name,
    state: "online",
    style: "flexvol",
    type: "rw",
    size: volume.sizeBytes,
    comment: volume.comment ?? "",
    is_svm_root: volume.isSvmRoot,
    svm: svmRef(state, volume.svmUuid),
    aggregates: [aggregateRef(state, volume.aggregateUuid)],
    guarantee: { type: volume.guarantee ?? "none" },
    snapshot_policy: { name: volume.snapshotPolicy ?? "none" },
    encryption: { enabled: volume.encrypted ?? false },
    tiering: { policy: volume.tieringPolicy ?? "none" },
    // Every FlexVol has NAS attributes on ONTAP, a SAN one too; Trident reads them with its volume info.
    nas: { security_style: "unix", unix_permissions: 755, export_policy: { name: "default" } },
    snapshot_directory_access_enabled: false,
    // ONTAP's default for a FlexVol created without autosize; Trident 26.06 reads it with its volume info.
    autosize: { mode: "off" },
    space: {
      size: volume.sizeBytes,
      used,
      available: volume.sizeBytes - used,
      snapshot: { reserve_percent: reserve, used: 0 },
      logical_space: { used },
    },
    clone: volume.clone
      ? {
          is_flexclone: true,
          parent_volume: { uuid: volume.clone.parentVolumeUuid, name: volume.clone.parentVolumeName },
          ...(volume.clone.parentSnapshotName ? { parent_snapshot: { name: volume.clone.parentSnapshotName } } : {}),
        }
      : { is_flexclone: false },
    _links: link(`/api/storage/volumes/${volume.uuid}`),
  };
  return record;
}

export function snapshotView(state: ClusterState, snapshot: SimSnapshot): Rec {
  const volume = state.volumes.get(snapshot.volumeUuid);
  return {
    uuid: snapshot.uuid,
    name: snapshot.name,
    create_time: snapshot.createTime,
    state: "valid",
    volume: { uuid: snapshot.volumeUuid, name: volume?.name ?? "", _links: link(`/api/storage/volumes/${snapshot.volumeUuid}`) },
    svm: svmRef(state, volume?.svmUuid ?? ""),
    _links: link(`/api/storage/volumes/${snapshot.volumeUuid}/snapshots/${snapshot.uuid}`),
  };
}

/** The namespace's map, if it is mapped (ONTAP maps a namespace into at most one subsystem). */
function mapOfNamespace(state: ClusterState, namespaceUuid: string): SimSubsystemMap | undefined {
  for (const map of state.subsystemMaps.values()) if (map.namespaceUuid === namespaceUuid) return map;
  return undefined;
}

export function namespaceView(state: ClusterState, ns: SimNamespace): Rec {
  const volume = state.volumes.get(ns.volumeUuid);
  const map = mapOfNamespace(state, ns.uuid);
  const subsystem = map ? state.subsystems.get(map.subsystemUuid) : undefined;
  return {
    uuid: ns.uuid,
    name: ns.name,
    comment: ns.comment,
    enabled: true,
    os_type: ns.osType,
    create_time: "2024-06-03T12:00:00+00:00",
    location: {
      namespace: ns.name.split("/").pop() ?? "",
      volume: { uuid: ns.volumeUuid, name: volume?.name ?? "", _links: link(`/api/storage/volumes/${ns.volumeUuid}`) },
    },
    space: { size: ns.sizeBytes, block_size: ns.blockSize, used: 0, guarantee: { requested: false, reserved: false } },
    status: { state: "online", container_state: "online", mapped: map !== undefined, read_only: false },
    svm: svmRef(state, ns.svmUuid),
    ...(map && subsystem
      ? {
          subsystem_map: {
            nsid: nsidHex(map.nsid),
            anagrpid: nsidHex(map.nsid),
            subsystem: { uuid: subsystem.uuid, name: subsystem.name, _links: link(`/api/protocols/nvme/subsystems/${subsystem.uuid}`) },
            _links: link(`/api/protocols/nvme/subsystem-maps/${subsystem.uuid}/${ns.uuid}`),
          },
        }
      : {}),
    _links: link(`/api/storage/namespaces/${ns.uuid}`),
  };
}

/** ONTAP shows namespace and ANA group ids as hex strings ("00000001h"). */
function nsidHex(n: number): string {
  return `${n.toString(16).padStart(8, "0")}h`;
}

export function subsystemView(state: ClusterState, subsystem: SimSubsystem): Rec {
  return {
    uuid: subsystem.uuid,
    name: subsystem.name,
    comment: subsystem.comment,
    os_type: subsystem.osType,
    target_nqn: `nqn.1992-08.com.netapp:sn.${state.uuid.replaceAll("-", "")}:subsystem.${subsystem.name}`,
    serial_number: `8${subsystem.uuid.replaceAll("-", "").slice(0, 19)}`,
    hosts: subsystem.hosts.map((nqn) => ({ nqn })),
    svm: svmRef(state, subsystem.svmUuid),
    _links: link(`/api/protocols/nvme/subsystems/${subsystem.uuid}`),
  };
}

export function subsystemHostView(_state: ClusterState, subsystem: SimSubsystem, nqn: string): Rec {
  return {
    nqn,
    subsystem: { uuid: subsystem.uuid, name: subsystem.name, _links: link(`/api/protocols/nvme/subsystems/${subsystem.uuid}`) },
    _links: link(`/api/protocols/nvme/subsystems/${subsystem.uuid}/hosts/${encodeURIComponent(nqn)}`),
  };
}

export function subsystemMapView(state: ClusterState, map: SimSubsystemMap): Rec {
  const subsystem = state.subsystems.get(map.subsystemUuid);
  const ns = state.namespaces.get(map.namespaceUuid);
  return {
    nsid: nsidHex(map.nsid),
    anagrpid: nsidHex(map.nsid),
    namespace: { uuid: map.namespaceUuid, name: ns?.name ?? "", _links: link(`/api/storage/namespaces/${map.namespaceUuid}`) },
    subsystem: { uuid: map.subsystemUuid, name: subsystem?.name ?? "", _links: link(`/api/protocols/nvme/subsystems/${map.subsystemUuid}`) },
    svm: svmRef(state, subsystem?.svmUuid ?? ns?.svmUuid ?? ""),
    _links: link(`/api/protocols/nvme/subsystem-maps/${map.subsystemUuid}/${map.namespaceUuid}`),
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
    // What Trident filters data LIFs by (`services=data_nvme_tcp`), from the service policy.
    services: servicesOf(lif.servicePolicy),
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

export function roleView(state: ClusterState, role: SimRole): Rec {
  const self = `/api/security/roles/${role.ownerUuid}/${encodeURIComponent(role.name)}`;
  return {
    owner: { uuid: role.ownerUuid, name: ownerName(state, role.ownerUuid) ?? "", _links: link(`/api/svm/svms/${role.ownerUuid}`) },
    name: role.name,
    privileges: role.privileges.map((p) => ({ path: p.path, access: p.access, _links: link(`${self}/privileges/${encodeURIComponent(p.path)}`) })),
    builtin: false,
    scope: role.ownerUuid === state.adminSvmUuid ? "cluster" : "svm",
    _links: link(self),
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
/**
 * The shape of a SnapMirror relationship (`/api/snapmirror/relationships`). The simulator models no SnapMirror,
 * so no record has it; it names the fields the collection serves, so a query for them is valid as on ONTAP.
 */
export function snapmirrorRelationshipShape(state: ClusterState, svm: SimSvm, volume: SimVolume): Rec {
  const endpoint = { path: `${svm.name}:${volume.name}`, svm: svmRef(state, svm.uuid) };
  return { uuid: "r", source: endpoint, destination: endpoint, state: "snapmirrored", healthy: true };
}

/** The shape of an SVM peering (`/api/svm/peers`): like SnapMirror, not modelled; it names the fields served. */
export function svmPeerShape(state: ClusterState, svm: SimSvm): Rec {
  return {
    uuid: "p",
    name: svm.name,
    svm: svmRef(state, svm.uuid),
    peer: { svm: { uuid: "p", name: "peer" }, cluster: { uuid: "c", name: "peer-cluster" } },
    state: "peered",
    applications: ["snapmirror"],
  };
}

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
  const clone: SimVolume = {
    uuid: "c",
    name: "clone",
    svmUuid: svm.uuid,
    aggregateUuid: volume.aggregateUuid,
    isSvmRoot: false,
    sizeBytes: 1,
    clone: { parentVolumeUuid: volume.uuid, parentVolumeName: volume.name, parentSnapshotName: "s" },
  };
  state.volumes.set(clone.uuid, clone);
  const snapshot: SimSnapshot = { uuid: "s", name: "s", volumeUuid: volume.uuid, createTime: "t" };
  const ns: SimNamespace = {
    uuid: "ns",
    name: "/vol/clone/ns",
    svmUuid: svm.uuid,
    volumeUuid: clone.uuid,
    osType: "linux",
    sizeBytes: 1,
    blockSize: 4096,
    comment: "",
  };
  state.namespaces.set(ns.uuid, ns);
  const subsystem: SimSubsystem = { uuid: "ss", name: "ss", svmUuid: svm.uuid, osType: "linux", comment: "", hosts: ["nqn.h"] };
  state.subsystems.set(subsystem.uuid, subsystem);
  const map: SimSubsystemMap = { subsystemUuid: subsystem.uuid, namespaceUuid: ns.uuid, nsid: 1 };
  state.subsystemMaps.set("m", map);
  return {
    cluster: clusterView(state),
    nodes: nodeView(state, state.nodes[0]!),
    aggregates: aggregateView(state, state.aggregates[0]!),
    svms: svmView(state, svm),
    volumes: volumeView(state, clone),
    snapshots: snapshotView(state, snapshot),
    namespaces: namespaceView(state, ns),
    subsystems: subsystemView(state, subsystem),
    subsystemHosts: subsystemHostView(state, subsystem, "nqn.h"),
    subsystemMaps: subsystemMapView(state, map),
    interfaces: interfaceView(state, lif),
    accounts: accountView(state, account),
    roles: roleView(state, { ownerUuid: svm.uuid, name: "proto-role", privileges: [{ path: "/api/cluster", access: "readonly" }] }),
    bgpPeerGroups: bgpPeerGroupViews(state)[0]!,
    jobs: jobView(state, job),
    snapmirrorRelationships: snapmirrorRelationshipShape(state, svm, clone),
    svmPeers: svmPeerShape(state, svm),
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
  roles: "/api/security/roles",
  bgpPeerGroups: "/api/network/ip/bgp/peer-groups",
  jobs: "/api/cluster/jobs",
  snapshots: "/api/storage/volumes/{volume.uuid}/snapshots",
  namespaces: "/api/storage/namespaces",
  subsystems: "/api/protocols/nvme/subsystems",
  subsystemHosts: "/api/protocols/nvme/subsystems/{subsystem.uuid}/hosts",
  subsystemMaps: "/api/protocols/nvme/subsystem-maps",
  snapmirrorRelationships: "/api/snapmirror/relationships",
  svmPeers: "/api/svm/peers",
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
