import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Codes, invalidValue, notFound, SimError } from "../errors.js";
import { parseBody } from "../http.js";
import type { RequestContext, Route } from "../routes.js";
import {
  findVolumeByName,
  removeNamespace,
  removeSubsystem,
  type SimNamespace,
  type SimSubsystem,
  type SimSubsystemMap,
  subsystemMapKey,
} from "../state.js";
import { namespaceView, type Rec, subsystemHostView, subsystemMapView, subsystemView } from "../views.js";
import { createdResponse, getInstance, listCollection, readRoutes, Ref, svmForWrite, visibleSvm, writeQuery } from "./common.js";

/**
 * NVMe over TCP as Trident's ontap-san driver with `sanType: nvme` uses it: a namespace per volume
 * (`/api/storage/namespaces`), a subsystem per node or per volume (`/api/protocols/nvme/subsystems`), the node's
 * host NQN in the subsystem (`.../subsystems/{uuid}/hosts`) and the namespace mapped into the subsystem
 * (`/api/protocols/nvme/subsystem-maps`). These writes are synchronous on ONTAP (201/200, no job).
 */

const OS_TYPES = ["linux", "windows", "vmware", "hyper_v", "aix"] as const;
const BLOCK_SIZES = [512, 4096];
/** `/vol/<volume>/<namespace>`: where a namespace lives is part of its name. */
const NAMESPACE_PATH = /^\/vol\/([A-Za-z_][A-Za-z0-9_]*)\/([A-Za-z0-9_.-]+)$/;
const SUBSYSTEM_NAME = /^[A-Za-z0-9_.:-]{1,96}$/;
const NQN = /^nqn\.\d{4}-\d{2}\.[^\s]{1,200}$/;

const Named = z.object({ name: z.string().optional() }).strict();

const NamespaceCreate = z
  .object({
    name: z.string(),
    os_type: z.enum(OS_TYPES),
    space: z.object({ size: z.number().int().positive(), block_size: z.number().int().optional() }).strict(),
    comment: z.string().optional(),
    svm: Ref.optional(),
    qos_policy: Named.optional(),
  })
  .strict();

const NamespacePatch = z
  .object({
    name: z.string().optional(),
    comment: z.string().optional(),
    space: z.object({ size: z.number().int().positive().optional() }).strict().optional(),
    qos_policy: Named.optional(),
  })
  .strict();

const SubsystemCreate = z
  .object({
    name: z.string(),
    os_type: z.enum(OS_TYPES),
    svm: Ref.optional(),
    comment: z.string().optional(),
    hosts: z.array(z.object({ nqn: z.string() }).strict()).optional(),
  })
  .strict();

const HostCreate = z.object({ nqn: z.string() }).strict();

const MapCreate = z
  .object({
    namespace: Ref,
    subsystem: Ref,
    svm: Ref.optional(),
  })
  .strict();

function visibleNamespace(ctx: RequestContext, uuid: string): SimNamespace {
  const ns = ctx.sim.state.namespaces.get(uuid);
  if (!ns || !visibleSvm(ctx, ns.svmUuid)) throw notFound();
  return ns;
}

function visibleSubsystem(ctx: RequestContext, uuid: string, target = "uuid"): SimSubsystem {
  const subsystem = ctx.sim.state.subsystems.get(uuid);
  if (!subsystem || !visibleSvm(ctx, subsystem.svmUuid)) throw notFound(target);
  return subsystem;
}

function findNamespaceByPath(ctx: RequestContext, svmUuid: string, path: string): SimNamespace | undefined {
  for (const ns of ctx.sim.state.namespaces.values()) if (ns.svmUuid === svmUuid && ns.name === path) return ns;
  return undefined;
}

function namespaceCreate(ctx: RequestContext) {
  const query = writeQuery(ctx, true);
  const body = parseBody(NamespaceCreate, ctx.body);
  const state = ctx.sim.state;
  const svmUuid = svmForWrite(ctx, body.svm);
  const path = NAMESPACE_PATH.exec(body.name);
  if (!path) throw invalidValue("name", 'expected "/vol/<volume>/<namespace>"');
  const volume = findVolumeByName(state, svmUuid, path[1]!);
  if (!volume) throw new SimError(400, Codes.notFound, `Volume "${path[1]}" not found in the SVM.`, "name");
  if (findNamespaceByPath(ctx, svmUuid, body.name)) {
    throw new SimError(409, Codes.alreadyExists, `Namespace "${body.name}" already exists.`, "name");
  }
  const blockSize = body.space.block_size ?? 4096;
  if (!BLOCK_SIZES.includes(blockSize)) throw invalidValue("space.block_size", "expected 512 or 4096");
  let used = 0;
  for (const other of state.namespaces.values()) if (other.volumeUuid === volume.uuid) used += other.sizeBytes;
  if (used + body.space.size > volume.sizeBytes) {
    throw invalidValue("space.size", `volume "${volume.name}" has ${volume.sizeBytes - used} bytes left`);
  }
  const ns: SimNamespace = {
    uuid: randomUUID(),
    name: body.name,
    svmUuid,
    volumeUuid: volume.uuid,
    osType: body.os_type,
    sizeBytes: body.space.size,
    blockSize,
    comment: body.comment ?? "",
  };
  state.namespaces.set(ns.uuid, ns);
  return createdResponse(`/api/storage/namespaces/${ns.uuid}`, namespaceView(state, ns), query.returnRecords);
}

function namespacePatch(ctx: RequestContext) {
  writeQuery(ctx);
  const body = parseBody(NamespacePatch, ctx.body);
  const state = ctx.sim.state;
  const ns = visibleNamespace(ctx, ctx.params.uuid!);
  const volume = state.volumes.get(ns.volumeUuid)!;
  if (body.space?.size !== undefined) {
    // ONTAP grows a namespace but does not shrink one.
    if (body.space.size < ns.sizeBytes) throw invalidValue("space.size", "a namespace cannot be made smaller");
    let others = 0;
    for (const other of state.namespaces.values()) if (other.volumeUuid === volume.uuid && other.uuid !== ns.uuid) others += other.sizeBytes;
    if (others + body.space.size > volume.sizeBytes) {
      throw invalidValue("space.size", `volume "${volume.name}" has ${volume.sizeBytes - others} bytes for this namespace; grow the volume first`);
    }
  }
  if (body.name !== undefined && body.name !== ns.name) {
    const path = NAMESPACE_PATH.exec(body.name);
    if (!path || path[1] !== volume.name) throw invalidValue("name", `expected "/vol/${volume.name}/<namespace>"`);
    if (findNamespaceByPath(ctx, ns.svmUuid, body.name)) throw new SimError(409, Codes.alreadyExists, `Namespace "${body.name}" already exists.`, "name");
  }
  if (body.space?.size !== undefined) ns.sizeBytes = body.space.size;
  if (body.comment !== undefined) ns.comment = body.comment;
  if (body.name !== undefined) ns.name = body.name;
  return { status: 200, body: {} };
}

function namespaceDelete(ctx: RequestContext) {
  writeQuery(ctx, false, ["allow_delete_while_mapped"]);
  const ns = visibleNamespace(ctx, ctx.params.uuid!);
  const mapped = [...ctx.sim.state.subsystemMaps.values()].some((m) => m.namespaceUuid === ns.uuid);
  if (mapped && ctx.query.get("allow_delete_while_mapped") !== "true") {
    throw new SimError(409, Codes.inUse, `Namespace "${ns.name}" is mapped to a subsystem.`, "uuid");
  }
  removeNamespace(ctx.sim.state, ns.uuid);
  return { status: 200, body: {} };
}

function checkNqn(nqn: string, target: string): void {
  if (!NQN.test(nqn)) throw invalidValue(target, 'expected an NVMe qualified name "nqn.yyyy-mm.<reverse domain>:<name>"');
}

function subsystemCreate(ctx: RequestContext) {
  const query = writeQuery(ctx, true);
  const body = parseBody(SubsystemCreate, ctx.body);
  const state = ctx.sim.state;
  const svmUuid = svmForWrite(ctx, body.svm);
  if (!SUBSYSTEM_NAME.test(body.name)) throw invalidValue("name", "use letters, digits, _ . : -, at most 96 characters");
  for (const existing of state.subsystems.values()) {
    if (existing.svmUuid === svmUuid && existing.name === body.name) {
      throw new SimError(409, Codes.alreadyExists, `Subsystem "${body.name}" already exists.`, "name");
    }
  }
  const hosts = (body.hosts ?? []).map((h, i) => {
    checkNqn(h.nqn, `hosts.${i}.nqn`);
    return h.nqn;
  });
  const subsystem: SimSubsystem = { uuid: randomUUID(), name: body.name, svmUuid, osType: body.os_type, comment: body.comment ?? "", hosts };
  state.subsystems.set(subsystem.uuid, subsystem);
  return createdResponse(`/api/protocols/nvme/subsystems/${subsystem.uuid}`, subsystemView(state, subsystem), query.returnRecords);
}

function subsystemDelete(ctx: RequestContext) {
  const query = writeQuery(ctx, false, ["allow_delete_while_mapped", "allow_delete_with_hosts"]);
  const state = ctx.sim.state;
  const subsystem = visibleSubsystem(ctx, ctx.params.uuid!);
  const mapped = [...state.subsystemMaps.values()].some((m) => m.subsystemUuid === subsystem.uuid);
  if (mapped && !query.flags.allow_delete_while_mapped) {
    throw new SimError(409, Codes.inUse, `Subsystem "${subsystem.name}" has mapped namespaces.`, "uuid");
  }
  if (subsystem.hosts.length > 0 && !query.flags.allow_delete_with_hosts) {
    throw new SimError(409, Codes.inUse, `Subsystem "${subsystem.name}" has hosts; set allow_delete_with_hosts.`, "uuid");
  }
  removeSubsystem(state, subsystem.uuid);
  return { status: 200, body: {} };
}

function hostCreate(ctx: RequestContext) {
  const query = writeQuery(ctx, true);
  const body = parseBody(HostCreate, ctx.body);
  const subsystem = visibleSubsystem(ctx, ctx.params["subsystem.uuid"]!, "subsystem.uuid");
  checkNqn(body.nqn, "nqn");
  if (subsystem.hosts.includes(body.nqn)) {
    throw new SimError(409, Codes.alreadyExists, `Host "${body.nqn}" is already in subsystem "${subsystem.name}".`, "nqn");
  }
  subsystem.hosts.push(body.nqn);
  const location = `/api/protocols/nvme/subsystems/${subsystem.uuid}/hosts/${encodeURIComponent(body.nqn)}`;
  return createdResponse(location, subsystemHostView(ctx.sim.state, subsystem, body.nqn), query.returnRecords);
}

function hostDelete(ctx: RequestContext) {
  writeQuery(ctx);
  const subsystem = visibleSubsystem(ctx, ctx.params["subsystem.uuid"]!, "subsystem.uuid");
  const index = subsystem.hosts.indexOf(ctx.params.nqn!);
  if (index < 0) throw notFound("nqn");
  subsystem.hosts.splice(index, 1);
  return { status: 200, body: {} };
}

function resolveByRef<T extends { uuid: string; name: string; svmUuid: string }>(
  items: Iterable<T>,
  ref: { uuid?: string; name?: string },
  svmUuid: string,
  target: string,
): T {
  for (const item of items) {
    if (item.svmUuid !== svmUuid) continue;
    if ((ref.uuid === undefined || item.uuid === ref.uuid) && (ref.name === undefined || item.name === ref.name) && (ref.uuid ?? ref.name) !== undefined) {
      return item;
    }
  }
  throw new SimError(400, Codes.notFound, "entry doesn't exist", target);
}

function mapCreate(ctx: RequestContext) {
  const query = writeQuery(ctx, true);
  const body = parseBody(MapCreate, ctx.body);
  const state = ctx.sim.state;
  const svmUuid = svmForWrite(ctx, body.svm);
  const ns = resolveByRef(state.namespaces.values(), body.namespace, svmUuid, "namespace.uuid");
  const subsystem = resolveByRef(state.subsystems.values(), body.subsystem, svmUuid, "subsystem.uuid");
  for (const map of state.subsystemMaps.values()) {
    if (map.namespaceUuid === ns.uuid) {
      throw new SimError(409, Codes.alreadyExists, `Namespace "${ns.name}" is already mapped to a subsystem.`, "namespace.uuid");
    }
  }
  const used = new Set([...state.subsystemMaps.values()].filter((m) => m.subsystemUuid === subsystem.uuid).map((m) => m.nsid));
  let nsid = 1;
  while (used.has(nsid)) nsid++;
  const map: SimSubsystemMap = { subsystemUuid: subsystem.uuid, namespaceUuid: ns.uuid, nsid };
  state.subsystemMaps.set(subsystemMapKey(subsystem.uuid, ns.uuid), map);
  return createdResponse(`/api/protocols/nvme/subsystem-maps/${subsystem.uuid}/${ns.uuid}`, subsystemMapView(state, map), query.returnRecords);
}

function mapDelete(ctx: RequestContext) {
  writeQuery(ctx);
  const state = ctx.sim.state;
  const key = subsystemMapKey(ctx.params["subsystem.uuid"]!, ctx.params["namespace.uuid"]!);
  const map = state.subsystemMaps.get(key);
  const subsystem = map && state.subsystems.get(map.subsystemUuid);
  if (!map || !subsystem || !visibleSvm(ctx, subsystem.svmUuid)) throw notFound("namespace.uuid");
  state.subsystemMaps.delete(key);
  return { status: 200, body: {} };
}

const HOSTS = "/api/protocols/nvme/subsystems/{subsystem.uuid}/hosts";
const MAPS = "/api/protocols/nvme/subsystem-maps";

export const nvmeRoutes: Route[] = [
  ...readRoutes({
    kind: "namespaces",
    collection: "/api/storage/namespaces",
    all: (s) => s.namespaces.values(),
    find: (s, params) => s.namespaces.get(params.uuid!),
    view: (s) => (ns) => namespaceView(s, ns),
    scope: { svmOf: (ns) => ns.svmUuid },
  }),
  { method: "POST", template: "/api/storage/namespaces", handler: namespaceCreate },
  { method: "PATCH", template: "/api/storage/namespaces/{uuid}", handler: namespacePatch },
  { method: "DELETE", template: "/api/storage/namespaces/{uuid}", handler: namespaceDelete },
  ...readRoutes({
    kind: "subsystems",
    collection: "/api/protocols/nvme/subsystems",
    all: (s) => s.subsystems.values(),
    find: (s, params) => s.subsystems.get(params.uuid!),
    view: (s) => (sub) => subsystemView(s, sub),
    scope: { svmOf: (sub) => sub.svmUuid },
  }),
  { method: "POST", template: "/api/protocols/nvme/subsystems", handler: subsystemCreate },
  { method: "DELETE", template: "/api/protocols/nvme/subsystems/{uuid}", handler: subsystemDelete },
  {
    method: "GET",
    template: HOSTS,
    handler: (ctx) => {
      const subsystem = visibleSubsystem(ctx, ctx.params["subsystem.uuid"]!, "subsystem.uuid");
      const records = subsystem.hosts.map((nqn) => subsystemHostView(ctx.sim.state, subsystem, nqn));
      return listCollection(ctx, "subsystemHosts", records, { keyFields: ["nqn"], sortKey: (r) => String(r.nqn) });
    },
  },
  { method: "POST", template: HOSTS, handler: hostCreate },
  {
    method: "GET",
    template: `${HOSTS}/{nqn}`,
    handler: (ctx) => {
      const subsystem = visibleSubsystem(ctx, ctx.params["subsystem.uuid"]!, "subsystem.uuid");
      const nqn = ctx.params.nqn!;
      const record = subsystem.hosts.includes(nqn) ? subsystemHostView(ctx.sim.state, subsystem, nqn) : undefined;
      return getInstance(ctx, "subsystemHosts", record, ["nqn"]);
    },
  },
  { method: "DELETE", template: `${HOSTS}/{nqn}`, handler: hostDelete },
  {
    method: "GET",
    template: MAPS,
    handler: (ctx) => {
      const s = ctx.sim.state;
      const records: Rec[] = [];
      for (const map of s.subsystemMaps.values()) {
        const subsystem = s.subsystems.get(map.subsystemUuid);
        if (subsystem && visibleSvm(ctx, subsystem.svmUuid)) records.push(subsystemMapView(s, map));
      }
      const sortKey = (r: Rec) => `${(r.subsystem as Rec).name}\u0000${(r.namespace as Rec).name}`;
      return listCollection(ctx, "subsystemMaps", records, { keyFields: ["subsystem.uuid", "subsystem.name", "namespace.uuid", "namespace.name"], sortKey });
    },
  },
  { method: "POST", template: MAPS, handler: mapCreate },
  {
    method: "GET",
    template: `${MAPS}/{subsystem.uuid}/{namespace.uuid}`,
    handler: (ctx) => {
      const s = ctx.sim.state;
      const map = s.subsystemMaps.get(subsystemMapKey(ctx.params["subsystem.uuid"]!, ctx.params["namespace.uuid"]!));
      const subsystem = map && s.subsystems.get(map.subsystemUuid);
      const record = map && subsystem && visibleSvm(ctx, subsystem.svmUuid) ? subsystemMapView(s, map) : undefined;
      return getInstance(ctx, "subsystemMaps", record, ["subsystem.uuid", "namespace.uuid"]);
    },
  },
  { method: "DELETE", template: `${MAPS}/{subsystem.uuid}/{namespace.uuid}`, handler: mapDelete },
];

