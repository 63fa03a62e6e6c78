import { z } from "zod";
import { Codes, invalidValue, notFound, SimError } from "../errors.js";
import { parseBody } from "../http.js";
import { ACCESS_METHODS, BUILTIN_SVM_ROLES } from "../rest-roles.js";
import { type RequestContext, type Route, requireClusterAdmin } from "../routes.js";
import { accountKey, type ClusterState, type SimRole, type SimRolePrivilege } from "../state.js";
import { type Rec, roleView } from "../views.js";
import { createdResponse, readRoutes, Ref, writeQuery } from "./common.js";

/**
 * Custom SVM-scoped REST roles: `/api/security/roles` (create whole, read, delete; ONTAP has no PATCH of a role)
 * and the privilege tuples of one role (`.../privileges`, POST, and PATCH or DELETE by the URL-encoded path).
 * Codes: a duplicate role or tuple is code 1 (vendor doc, 409), an unknown access level code 2 (vendor doc, 400),
 * a role still assigned to an account code 8 (vendor doc "resource in use"; the code a real cluster sends is not
 * known). Only REST tuples (`/api/...`) are accepted; legacy command-directory tuples are not modelled.
 */

const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

const Privilege = z.object({ path: z.string(), access: z.string(), query: z.string().optional() }).strict();
const RoleCreate = z.object({ owner: Ref.optional(), name: z.string(), privileges: z.array(Privilege).min(1) }).strict();
const PrivilegePatch = z.object({ access: z.string().optional(), query: z.string().optional() }).strict();

function checkPrivilege(p: { path: string; access: string; query?: string | undefined }, field: string): SimRolePrivilege {
  if (!p.path.startsWith("/api/")) throw invalidValue(`${field}.path`, `"${p.path}" is not a REST API path; legacy command tuples are not simulated`);
  if (p.query !== undefined) throw invalidValue(`${field}.query`, "a query applies to command tuples only, not to REST API paths");
  if (!(p.access in ACCESS_METHODS)) throw invalidValue(`${field}.access`, `must be one of ${Object.keys(ACCESS_METHODS).join(", ")}`);
  return { path: p.path, access: p.access };
}

function svmOwner(state: ClusterState, ref: { uuid?: string; name?: string } | undefined): string {
  const svm = ref?.uuid !== undefined ? state.svms.get(ref.uuid) : [...state.svms.values()].find((v) => v.name === ref?.name);
  if (!svm) throw new SimError(400, Codes.notFound, "entry doesn't exist", "owner.uuid");
  return svm.uuid;
}

function findRole(ctx: RequestContext): SimRole {
  const role = ctx.sim.state.roles.get(accountKey(ctx.params["owner.uuid"]!, (ctx.params.name ?? ctx.params["role.name"])!));
  if (!role) throw notFound("name");
  return role;
}

function createRole(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  const query = writeQuery(ctx, true);
  const body = parseBody(RoleCreate, ctx.body);
  const state = ctx.sim.state;
  if (!ROLE_NAME.test(body.name)) throw invalidValue("name", "use A-Z a-z 0-9 . _ -, start with a letter, digit or _");
  const ownerUuid = svmOwner(state, body.owner);
  const key = accountKey(ownerUuid, body.name);
  if (BUILTIN_SVM_ROLES.includes(body.name) || state.roles.has(key)) {
    throw new SimError(409, Codes.alreadyExists, `A role named "${body.name}" already exists for this owner.`, "name");
  }
  const privileges = body.privileges.map((p, i) => checkPrivilege(p, `privileges.${i}`));
  if (new Set(privileges.map((p) => p.path)).size !== privileges.length) throw invalidValue("privileges", "a path is listed twice");
  const role: SimRole = { ownerUuid, name: body.name, privileges };
  state.roles.set(key, role);
  return createdResponse(`/api/security/roles/${ownerUuid}/${encodeURIComponent(role.name)}`, roleView(state, role), query.returnRecords);
}

function deleteRole(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const role = findRole(ctx);
  const users = [...ctx.sim.state.accounts.values()].filter((a) => a.ownerUuid === role.ownerUuid && a.role === role.name);
  if (users.length > 0) {
    throw new SimError(409, Codes.inUse, `The role "${role.name}" is assigned to ${users.map((a) => a.name).join(", ")}.`, "name");
  }
  ctx.sim.state.roles.delete(accountKey(role.ownerUuid, role.name));
  return { status: 200, body: {} };
}

function addPrivilege(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const role = findRole(ctx);
  const privilege = checkPrivilege(parseBody(Privilege, ctx.body), "");
  if (role.privileges.some((p) => p.path === privilege.path)) {
    throw new SimError(409, Codes.alreadyExists, `The role already has a tuple for "${privilege.path}".`, "path");
  }
  role.privileges.push(privilege);
  return { status: 201, body: {} };
}

function patchPrivilege(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const role = findRole(ctx);
  const body = parseBody(PrivilegePatch, ctx.body);
  const tuple = role.privileges.find((p) => p.path === ctx.params.path);
  if (!tuple) throw notFound("path");
  if (body.query !== undefined) throw invalidValue("query", "a query applies to command tuples only, not to REST API paths");
  if (body.access !== undefined) tuple.access = checkPrivilege({ path: tuple.path, access: body.access }, "").access;
  return { status: 200, body: {} };
}

function deletePrivilege(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const role = findRole(ctx);
  const index = role.privileges.findIndex((p) => p.path === ctx.params.path);
  if (index < 0) throw notFound("path");
  role.privileges.splice(index, 1);
  return { status: 200, body: {} };
}

export const roleRoutes: Route[] = [
  ...readRoutes({
    kind: "roles",
    collection: "/api/security/roles",
    instance: "/api/security/roles/{owner.uuid}/{name}",
    all: (s) => s.roles.values(),
    find: (s, params) => s.roles.get(accountKey(params["owner.uuid"]!, params.name!)),
    view: (s) => (r) => roleView(s, r),
    keys: ["owner.uuid", "owner.name", "name"],
    sortKey: (r: Rec) => `${(r.owner as { uuid: string }).uuid}\u0000${String(r.name)}`,
    scope: { svmOf: (r) => r.ownerUuid },
  }),
  { method: "POST", template: "/api/security/roles", handler: createRole },
  { method: "DELETE", template: "/api/security/roles/{owner.uuid}/{name}", handler: deleteRole },
  { method: "POST", template: "/api/security/roles/{owner.uuid}/{role.name}/privileges", handler: addPrivilege },
  { method: "PATCH", template: "/api/security/roles/{owner.uuid}/{role.name}/privileges/{path}", handler: patchPrivilege },
  { method: "DELETE", template: "/api/security/roles/{owner.uuid}/{role.name}/privileges/{path}", handler: deletePrivilege },
];

/** Whether `role` names a role the owner's accounts may use: a built-in SVM role or one of its custom roles. */
export function svmRoleExists(state: ClusterState, ownerUuid: string, role: string): boolean {
  return BUILTIN_SVM_ROLES.includes(role) || state.roles.has(accountKey(ownerUuid, role));
}
