import { forbidden } from "./errors.js";
import type { Identity } from "./http.js";
import { accountKey, type ClusterState, type SimRole } from "./state.js";

/**
 * ONTAP's REST roles as the simulator enforces them for SVM-scoped callers. What ONTAP documents (netapp-ontap's
 * `role_privilege` resource): a role is a list of (API path, access) tuples; a path names a collection, and a
 * path below a collection's key (`/api/storage/volumes/{uuid}/snapshots`) is written without the key
 * (`/api/storage/volumes/snapshots`, as NetApp's Trident role lists it). The tuple whose path is the longest
 * prefix of the request's path decides; a request no tuple covers is refused (403, code 6, as ONTAP answers a
 * caller its role does not allow). Not modelled: resource-qualified paths with a uuid or `*`, and legacy
 * command-directory tuples.
 */

/** Access levels, each with the methods it allows. */
export const ACCESS_METHODS: Readonly<Record<string, readonly string[]>> = {
  none: [],
  readonly: ["GET", "HEAD", "OPTIONS"],
  read_create: ["GET", "HEAD", "OPTIONS", "POST"],
  read_modify: ["GET", "HEAD", "OPTIONS", "PATCH"],
  read_create_modify: ["GET", "HEAD", "OPTIONS", "POST", "PATCH"],
  all: ["GET", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE"],
};

/** The built-in SVM roles: what they allow is the handlers' SVM scoping, not a tuple list. */
export const BUILTIN_SVM_ROLES = ["vsadmin", "vsadmin-volume", "vsadmin-protocol", "vsadmin-backup", "vsadmin-snaplock", "vsadmin-readonly"];

/** The API path a role speaks of: the route template without its key segments (`{uuid}`, `{owner.uuid}`, ...). */
export function apiPathOf(template: string): string {
  return template
    .split("/")
    .filter((segment) => !/^\{.+\}$/.test(segment))
    .join("/");
}

/** The access the role gives on an API path: its longest covering tuple's, or none. */
export function accessOn(role: Pick<SimRole, "privileges">, apiPath: string): string {
  let best: { path: string; access: string } | undefined;
  for (const p of role.privileges) {
    const covers = apiPath === p.path || apiPath.startsWith(p.path.endsWith("/") ? p.path : `${p.path}/`);
    if (covers && (!best || p.path.length > best.path.length)) best = p;
  }
  return best?.access ?? "none";
}

/** Throws ONTAP's 403 when the caller's custom role does not allow the method on the path; built-in roles pass. */
export function enforceRole(state: ClusterState, identity: Identity, method: string, template: string): void {
  if (identity.kind !== "svm" || BUILTIN_SVM_ROLES.includes(identity.role)) return;
  const role = state.roles.get(accountKey(identity.svmUuid, identity.role));
  const access = role ? accessOn(role, apiPathOf(template)) : "none";
  if (!(ACCESS_METHODS[access] ?? []).includes(method)) throw forbidden();
}
