import { z } from "zod";
import { Codes, notFound, SimError } from "../errors.js";
import { parseBody } from "../http.js";
import { type RequestContext, type Route, requireClusterAdmin, } from "../routes.js";
import { type ClusterState, dataVolumes, findSvmByName, insertSvm, removeSvm, type SimAggregate, type SimSvm } from "../state.js";
import { interfacesBySvm, svmView } from "../views.js";
import { createdResponse, jobResponse, readRoutes, Ref, writeQuery } from "./common.js";

const SvmCreate = z
  .object({
    name: z.string(),
    aggregates: z.array(Ref).optional(),
    nvme: z.object({ enabled: z.boolean().optional(), allowed: z.boolean().optional() }).strict().optional(),
    comment: z.string().optional(),
    language: z.string().optional(),
    ipspace: Ref.optional(),
    subtype: z.literal("default").optional(),
  })
  .strict();

/**
 * What this simulator lets a PATCH change: the aggr-list (`vserver add-aggregates`), replaced by the list sent,
 * as ONTAP does. Other patchable SVM fields are not simulated and refused as unknown.
 */
const SvmPatch = z.object({ aggregates: z.array(Ref) }).strict();

/** Letters, digits, `_`, `-`, `.`; starting with a letter or `_`; at most 47 characters. */
const SVM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,46}$/;

export function resolveAggregates(state: ClusterState, refs: Array<{ uuid?: string; name?: string }>): SimAggregate[] {
  return refs.map((ref, i) => {
    const found = state.aggregates.find(
      (a) => (ref.uuid === undefined || a.uuid === ref.uuid) && (ref.name === undefined || a.name === ref.name),
    );
    if (!found || (ref.uuid === undefined && ref.name === undefined)) {
      throw new SimError(400, Codes.svmIncorrectFields, `Aggregate ${ref.uuid ?? ref.name ?? `#${i}`} not found.`, "aggregates");
    }
    return found;
  });
}

/** SVM name rules shared by the REST create and the admin API's direct create. */
export function checkNewSvmName(state: ClusterState, name: string): void {
  if (!SVM_NAME.test(name)) {
    throw new SimError(
      400,
      Codes.svmIncorrectFields,
      `The specified SVM name "${name}" is invalid: use letters, digits, "_", "-" and "."; start with a letter or "_"; at most 47 characters.`,
      "name",
    );
  }
  if (findSvmByName(state, name) || name === state.name || name === "Default") {
    throw new SimError(
      400,
      Codes.svmNameInUse,
      `Duplicate SVM name "${name}": the name is already in use by another SVM, an IPspace or the cluster.`,
      "name",
    );
  }
}

async function createSvm(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  const query = writeQuery(ctx, true);
  const body = parseBody(SvmCreate, ctx.body);
  const state = ctx.sim.state;
  checkNewSvmName(state, body.name);
  if (body.ipspace && (body.ipspace.name ?? "Default") !== "Default") {
    throw new SimError(400, Codes.svmIncorrectFields, `IPspace "${body.ipspace.name}" not found.`, "ipspace.name");
  }
  const aggregates = resolveAggregates(state, body.aggregates ?? []);
  const nvme = { enabled: body.nvme?.enabled ?? false, allowed: body.nvme?.allowed ?? true };
  if (nvme.enabled && !nvme.allowed) {
    throw new SimError(400, Codes.svmIncorrectFields, "NVMe cannot be enabled when it is not allowed.", "nvme.enabled");
  }
  const svm = insertSvm(state, {
    name: body.name,
    state: "initializing",
    aggregateUuids: aggregates.map((a) => a.uuid),
    nvme,
    comment: body.comment,
    language: body.language,
  });
  const job = ctx.sim.jobs.start(state, {
    operation: "POST /api/svm/svms",
    svm: { uuid: svm.uuid, name: svm.name },
    apply: () => {
      if (svm.state === "initializing") svm.state = "running";
    },
    // A failed create leaves nothing behind on ONTAP: the half-made SVM is removed.
    rollback: () => removeSvm(state, svm.uuid),
  });
  const created = createdResponse(`/api/svm/svms/${svm.uuid}`, svmView(state, svm), query.returnRecords);
  const response = await jobResponse(ctx, job, query.returnTimeoutSeconds, 201, created.body as Record<string, unknown>);
  return { ...response, headers: created.headers };
}

/** PATCH /api/svm/svms/{uuid}: an asynchronous job (202) unless `return_timeout` waits for it, as on ONTAP. */
async function patchSvm(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  const query = writeQuery(ctx);
  const body = parseBody(SvmPatch, ctx.body);
  const state = ctx.sim.state;
  const svm = changeableSvm(ctx, "is being deleted");
  const aggregateUuids = [...new Set(resolveAggregates(state, body.aggregates).map((a) => a.uuid))];
  const job = ctx.sim.jobs.start(state, {
    operation: `PATCH /api/svm/svms/${svm.uuid}`,
    svm: { uuid: svm.uuid, name: svm.name },
    apply: () => {
      // The SVM may have gone meanwhile; then there is nothing to change.
      const current = state.svms.get(svm.uuid);
      if (current) current.aggregateUuids = aggregateUuids;
    },
    rollback: () => {},
  });
  return jobResponse(ctx, job, query.returnTimeoutSeconds, 200);
}

/** The SVM of the path, refused as ONTAP refuses a change to one still being created or being deleted. */
function changeableSvm(ctx: RequestContext, deletingMessage: string): SimSvm {
  const svm = ctx.sim.state.svms.get(ctx.params.uuid!);
  if (!svm) throw notFound();
  if (svm.state === "initializing") {
    throw new SimError(409, Codes.svmBeingCreated, `SVM "${svm.name}" is being created. Wait a few minutes, and then try the command again.`);
  }
  if (svm.state === "deleting") throw new SimError(409, Codes.svmBeingDeleted, `SVM "${svm.name}" ${deletingMessage}.`);
  return svm;
}

async function deleteSvm(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  const query = writeQuery(ctx);
  const state = ctx.sim.state;
  const svm = changeableSvm(ctx, "is already being deleted");
  const volumes = dataVolumes(state, svm.uuid).length;
  if (volumes > 0) {
    throw new SimError(
      409,
      Codes.svmHasVolumes,
      `Cannot delete SVM "${svm.name}" because it contains ${volumes} volume(s) other than its root volume. Delete them first.`,
      "uuid",
    );
  }
  const before = svm.state;
  svm.state = "deleting";
  const job = ctx.sim.jobs.start(state, {
    operation: `DELETE /api/svm/svms/${svm.uuid}`,
    svm: { uuid: svm.uuid, name: svm.name },
    // ONTAP deletes the SVM's root volume, interfaces and accounts with it.
    apply: () => removeSvm(state, svm.uuid),
    rollback: () => {
      if (svm.state === "deleting") svm.state = before;
    },
  });
  return jobResponse(ctx, job, query.returnTimeoutSeconds, 200);
}

export const svmRoutes: Route[] = [
  ...readRoutes({
    kind: "svms",
    collection: "/api/svm/svms",
    all: (s) => s.svms.values(),
    find: (s, params) => s.svms.get(params.uuid!),
    view: (s) => {
      const lifs = interfacesBySvm(s);
      return (v) => svmView(s, v, lifs);
    },
    scope: { svmOf: (v) => v.uuid },
  }),
  { method: "POST", template: "/api/svm/svms", handler: createSvm },
  { method: "PATCH", template: "/api/svm/svms/{uuid}", handler: patchSvm },
  { method: "DELETE", template: "/api/svm/svms/{uuid}", handler: deleteSvm },
];
