import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Codes, invalidValue, notFound, SimError } from "../errors.js";
import { parseBody } from "../http.js";
import type { RequestContext, Route } from "../routes.js";
import { findVolumeByName, removeVolume, type SimSnapshot, type SimVolume } from "../state.js";
import { snapshotView, volumeView } from "../views.js";
import { byName, getInstance, jobResponse, listCollection, readRoutes, Ref, svmForWrite, visibleSvm, writeQuery } from "./common.js";

/**
 * Volumes (FlexVols) and their snapshots, as Trident's ontap-san driver uses them: one volume per PV holding one
 * NVMe namespace, FlexClones from a snapshot, resize by PATCH. Every write is an asynchronous job (202), as on
 * ONTAP; an SVM-scoped caller works in its own SVM only.
 */

/** ONTAP's smallest FlexVol: 20 MiB. */
const MIN_VOLUME_BYTES = 20 * 1024 * 1024;
/** Letters, digits and `_`, starting with a letter or `_`, at most 203 characters (ONTAP's volume names). */
const VOLUME_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,202}$/;

const Named = z.object({ name: z.string().optional() }).strict();

const VolumeCreate = z
  .object({
    name: z.string(),
    size: z.number().int().optional(),
    svm: Ref.optional(),
    aggregates: z.array(Ref).optional(),
    comment: z.string().optional(),
    state: z.literal("online").optional(),
    style: z.literal("flexvol").optional(),
    type: z.enum(["rw", "dp"]).optional(),
    guarantee: z.object({ type: z.enum(["none", "volume"]).optional() }).strict().optional(),
    snapshot_policy: Named.optional(),
    space: z.object({ snapshot: z.object({ reserve_percent: z.number().int().min(0).max(90).optional() }).strict().optional() }).strict().optional(),
    encryption: z.object({ enabled: z.boolean().optional() }).strict().optional(),
    qos: z.object({ policy: Named.optional() }).strict().optional(),
    tiering: z.object({ policy: z.string().optional() }).strict().optional(),
    // NAS settings: accepted (Trident's common create path sends them for every driver), without effect on SAN.
    nas: z
      .object({ security_style: z.string().optional(), unix_permissions: z.number().int().optional(), export_policy: Named.optional() })
      .strict()
      .optional(),
    clone: z
      .object({
        is_flexclone: z.boolean().optional(),
        parent_volume: Ref.optional(),
        parent_snapshot: Ref.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const VolumePatch = z
  .object({
    name: z.string().optional(),
    size: z.number().int().optional(),
    comment: z.string().optional(),
    snapshot_policy: Named.optional(),
    qos: z.object({ policy: Named.optional() }).strict().optional(),
    clone: z.object({ split_initiated: z.boolean().optional() }).strict().optional(),
    snapshot_directory_access_enabled: z.boolean().optional(),
  })
  .strict();

const SnapshotCreate = z.object({ name: z.string(), svm: Ref.optional(), comment: z.string().optional() }).strict();

function checkVolumeName(name: string, target = "name"): void {
  if (!VOLUME_NAME.test(name)) {
    throw invalidValue(target, 'use letters, digits and "_", start with a letter or "_", at most 203 characters');
  }
}

function checkSize(size: number): void {
  if (size < MIN_VOLUME_BYTES) throw invalidValue("size", `the smallest volume is ${MIN_VOLUME_BYTES} bytes`);
}

/** A volume the caller may see and change; anything else does not exist for it (404). */
function visibleVolume(ctx: RequestContext, uuid: string): SimVolume {
  const volume = ctx.sim.state.volumes.get(uuid);
  if (!volume || !visibleSvm(ctx, volume.svmUuid)) throw notFound();
  return volume;
}

function volumeJob(ctx: RequestContext, volume: { svmUuid: string }, apply: () => void) {
  const svm = ctx.sim.state.svms.get(volume.svmUuid);
  return ctx.sim.jobs.start(ctx.sim.state, {
    operation: `${ctx.method} ${ctx.path}`,
    ...(svm ? { svm: { uuid: svm.uuid, name: svm.name } } : {}),
    apply,
    rollback: () => {},
  });
}

async function createVolume(ctx: RequestContext) {
  const query = writeQuery(ctx, true);
  const body = parseBody(VolumeCreate, ctx.body);
  const state = ctx.sim.state;
  const svmUuid = svmForWrite(ctx, body.svm);
  const svm = state.svms.get(svmUuid)!;
  checkVolumeName(body.name);
  if (findVolumeByName(state, svmUuid, body.name)) {
    throw new SimError(409, Codes.alreadyExists, `Duplicate volume name "${body.name}" in SVM "${svm.name}".`, "name");
  }
  let volume: SimVolume;
  if (body.clone?.parent_volume) {
    const ref = body.clone.parent_volume;
    const parent =
      ref.uuid !== undefined ? state.volumes.get(ref.uuid) : ref.name !== undefined ? findVolumeByName(state, svmUuid, ref.name) : undefined;
    if (!parent || parent.svmUuid !== svmUuid) throw new SimError(400, Codes.notFound, "entry doesn't exist", "clone.parent_volume.name");
    const snapshotName = body.clone.parent_snapshot?.name;
    if (snapshotName !== undefined && !snapshotOf(ctx, parent.uuid, snapshotName)) {
      throw new SimError(400, Codes.notFound, "entry doesn't exist", "clone.parent_snapshot.name");
    }
    volume = {
      ...parent,
      uuid: randomUUID(),
      name: body.name,
      isSvmRoot: false,
      comment: body.comment ?? parent.comment,
      clone: { parentVolumeUuid: parent.uuid, parentVolumeName: parent.name, ...(snapshotName ? { parentSnapshotName: snapshotName } : {}) },
    };
  } else {
    if (body.size === undefined) throw new SimError(400, Codes.missingField, 'Missing value for required field "size".', "size");
    checkSize(body.size);
    const aggregateUuid = placeVolume(ctx, svmUuid, body.aggregates);
    volume = {
      uuid: randomUUID(),
      name: body.name,
      svmUuid,
      aggregateUuid,
      isSvmRoot: false,
      sizeBytes: body.size,
      comment: body.comment ?? "",
      guarantee: body.guarantee?.type ?? "volume",
      snapshotPolicy: body.snapshot_policy?.name ?? "default",
      snapshotReservePercent: body.space?.snapshot?.reserve_percent ?? 5,
      encrypted: body.encryption?.enabled ?? false,
      tieringPolicy: body.tiering?.policy ?? "none",
    };
  }
  // The volume exists once the job succeeds, as on ONTAP (a client polls the job, then looks the volume up).
  const job = volumeJob(ctx, volume, () => {
    if (!findVolumeByName(state, svmUuid, volume.name)) state.volumes.set(volume.uuid, volume);
    if (volume.clone) cloneNamespaces(ctx, volume.clone.parentVolumeUuid, volume);
  });
  const extra = query.returnRecords ? { num_records: 1, records: [{ uuid: volume.uuid, name: volume.name }] } : {};
  const response = await jobResponse(ctx, job, query.returnTimeoutSeconds, 201, extra);
  return { ...response, headers: { Location: `/api/storage/volumes/${volume.uuid}` } };
}

/** A FlexClone carries the parent's namespaces (new uuids, the clone's path), as the files they are. */
function cloneNamespaces(ctx: RequestContext, parentUuid: string, clone: SimVolume): void {
  const state = ctx.sim.state;
  for (const ns of [...state.namespaces.values()]) {
    if (ns.volumeUuid !== parentUuid) continue;
    const uuid = randomUUID();
    state.namespaces.set(uuid, { ...ns, uuid, volumeUuid: clone.uuid, name: `/vol/${clone.name}/${ns.name.split("/").pop()}` });
  }
}

/** The named aggregate (which an SVM-scoped caller must have in its SVM's aggr-list), or the SVM's home aggregate. */
function placeVolume(ctx: RequestContext, svmUuid: string, refs: Array<{ uuid?: string; name?: string }> | undefined): string {
  const state = ctx.sim.state;
  const svm = state.svms.get(svmUuid)!;
  const ref = refs?.[0];
  if (!ref) return svm.aggregateUuids[0] ?? svm.homeAggregateUuid;
  const aggregate = state.aggregates.find((a) => (ref.uuid === undefined || a.uuid === ref.uuid) && (ref.name === undefined || a.name === ref.name));
  const allowed = ctx.identity.kind === "cluster" || svm.aggregateUuids.includes(aggregate?.uuid ?? "");
  if (!aggregate || !allowed) throw new SimError(400, Codes.notFound, `Aggregate ${ref.name ?? ref.uuid} not found for SVM "${svm.name}".`, "aggregates.name");
  return aggregate.uuid;
}

async function patchVolume(ctx: RequestContext) {
  const query = writeQuery(ctx);
  const body = parseBody(VolumePatch, ctx.body);
  const state = ctx.sim.state;
  const volume = visibleVolume(ctx, ctx.params.uuid!);
  if (body.name !== undefined && body.name !== volume.name) {
    checkVolumeName(body.name);
    if (findVolumeByName(state, volume.svmUuid, body.name)) {
      throw new SimError(409, Codes.alreadyExists, `Duplicate volume name "${body.name}".`, "name");
    }
  }
  if (body.size !== undefined) {
    checkSize(body.size);
    let used = 0;
    for (const ns of state.namespaces.values()) if (ns.volumeUuid === volume.uuid) used += ns.sizeBytes;
    if (body.size < used) throw invalidValue("size", `the volume holds ${used} bytes of namespaces`);
  }
  const job = volumeJob(ctx, volume, () => {
    if (body.size !== undefined) volume.sizeBytes = body.size;
    if (body.comment !== undefined) volume.comment = body.comment;
    if (body.snapshot_policy?.name !== undefined) volume.snapshotPolicy = body.snapshot_policy.name;
    // A split makes the clone an independent volume: it no longer needs its parent's snapshot.
    if (body.clone?.split_initiated) delete volume.clone;
    if (body.name !== undefined && body.name !== volume.name) {
      const old = volume.name;
      volume.name = body.name;
      for (const ns of state.namespaces.values()) if (ns.volumeUuid === volume.uuid) ns.name = ns.name.replace(`/vol/${old}/`, `/vol/${body.name}/`);
    }
  });
  return jobResponse(ctx, job, query.returnTimeoutSeconds, 200);
}

async function deleteVolume(ctx: RequestContext) {
  const query = writeQuery(ctx, false, ["force"]);
  const state = ctx.sim.state;
  const volume = visibleVolume(ctx, ctx.params.uuid!);
  if (volume.isSvmRoot) throw new SimError(409, Codes.inUse, `Volume "${volume.name}" is the SVM's root volume.`, "uuid");
  const children = [...state.volumes.values()].filter((v) => v.clone?.parentVolumeUuid === volume.uuid).map((v) => v.name);
  if (children.length > 0) {
    throw new SimError(409, Codes.inUse, `Volume "${volume.name}" has FlexClone volumes: ${children.join(", ")}. Split or delete them first.`, "uuid");
  }
  const job = volumeJob(ctx, volume, () => removeVolume(state, volume.uuid));
  return jobResponse(ctx, job, query.returnTimeoutSeconds, 200);
}

function snapshotOf(ctx: RequestContext, volumeUuid: string, name: string): SimSnapshot | undefined {
  for (const snapshot of ctx.sim.state.snapshots.values()) if (snapshot.volumeUuid === volumeUuid && snapshot.name === name) return snapshot;
  return undefined;
}

async function createSnapshot(ctx: RequestContext) {
  const query = writeQuery(ctx, true);
  const body = parseBody(SnapshotCreate, ctx.body);
  const volume = visibleVolume(ctx, ctx.params["volume.uuid"]!);
  if (body.svm) svmForWrite(ctx, body.svm);
  if (snapshotOf(ctx, volume.uuid, body.name)) {
    throw new SimError(409, Codes.alreadyExists, `Snapshot "${body.name}" already exists on volume "${volume.name}".`, "name");
  }
  const snapshot: SimSnapshot = {
    uuid: randomUUID(),
    name: body.name,
    volumeUuid: volume.uuid,
    createTime: new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00"),
  };
  const job = volumeJob(ctx, volume, () => {
    if (ctx.sim.state.volumes.has(volume.uuid) && !snapshotOf(ctx, volume.uuid, snapshot.name)) ctx.sim.state.snapshots.set(snapshot.uuid, snapshot);
  });
  return jobResponse(ctx, job, query.returnTimeoutSeconds, 201);
}

async function deleteSnapshot(ctx: RequestContext) {
  const query = writeQuery(ctx);
  const state = ctx.sim.state;
  const volume = visibleVolume(ctx, ctx.params["volume.uuid"]!);
  const snapshot = state.snapshots.get(ctx.params.uuid!);
  if (!snapshot || snapshot.volumeUuid !== volume.uuid) throw notFound();
  const clones = [...state.volumes.values()].filter(
    (v) => v.clone?.parentVolumeUuid === volume.uuid && v.clone.parentSnapshotName === snapshot.name,
  );
  if (clones.length > 0) {
    throw new SimError(409, Codes.inUse, `Snapshot "${snapshot.name}" is busy: FlexClone ${clones.map((v) => v.name).join(", ")} depends on it.`, "uuid");
  }
  const job = volumeJob(ctx, volume, () => state.snapshots.delete(snapshot.uuid));
  return jobResponse(ctx, job, query.returnTimeoutSeconds, 200);
}

const SNAPSHOTS = "/api/storage/volumes/{volume.uuid}/snapshots";

export const volumeRoutes: Route[] = [
  ...readRoutes({
    kind: "volumes",
    collection: "/api/storage/volumes",
    all: (s) => s.volumes.values(),
    find: (s, params) => s.volumes.get(params.uuid!),
    view: (s) => (v) => volumeView(s, v),
    scope: { svmOf: (v) => v.svmUuid },
  }),
  { method: "POST", template: "/api/storage/volumes", handler: createVolume },
  { method: "PATCH", template: "/api/storage/volumes/{uuid}", handler: patchVolume },
  { method: "DELETE", template: "/api/storage/volumes/{uuid}", handler: deleteVolume },
  {
    method: "GET",
    template: SNAPSHOTS,
    handler: (ctx) => {
      const volume = visibleVolume(ctx, ctx.params["volume.uuid"]!);
      const s = ctx.sim.state;
      const records = [...s.snapshots.values()].filter((snap) => snap.volumeUuid === volume.uuid).map((snap) => snapshotView(s, snap));
      return listCollection(ctx, "snapshots", records, { keyFields: ["uuid", "name"], sortKey: byName });
    },
  },
  { method: "POST", template: SNAPSHOTS, handler: createSnapshot },
  {
    method: "GET",
    template: `${SNAPSHOTS}/{uuid}`,
    handler: (ctx) => {
      const volume = visibleVolume(ctx, ctx.params["volume.uuid"]!);
      const snapshot = ctx.sim.state.snapshots.get(ctx.params.uuid!);
      const visible = snapshot && snapshot.volumeUuid === volume.uuid ? snapshotView(ctx.sim.state, snapshot) : undefined;
      return getInstance(ctx, "snapshots", visible, ["uuid", "name"]);
    },
  },
  { method: "DELETE", template: `${SNAPSHOTS}/{uuid}`, handler: deleteSnapshot },
];
