import type { RolePrivilege } from "../ontap/index.js";

/**
 * The SVM users' roles a providerConfig may choose (`svmUserRole`): `vsadmin`, ONTAP's built-in SVM administrator
 * (the Go extension's choice and the default, so a takeover changes nothing), or `trident`, a custom SVM-scoped
 * REST role that holds only what Trident needs. The ONTAP role is named like the choice.
 */
export const SVM_USER_ROLES = ["vsadmin", "trident"] as const;
export type SvmUserRole = (typeof SVM_USER_ROLES)[number];
export const DEFAULT_SVM_USER_ROLE: SvmUserRole = "vsadmin";

/**
 * The `trident` role's tuples: NetApp's REST role for Trident (NetApp/trident,
 * contrib/ontap/trident_role/raw/rest_custom_role.json, the same 42 paths and access levels), which covers every
 * driver Trident has; NetApp publishes it as the least privilege Trident is supported with, so it is taken whole
 * rather than cut to what `ontap-san` with NVMe/TCP uses today (a newer Trident may use more of it). A path below
 * a collection's key is written without the key (`/api/storage/volumes/snapshots` is
 * `/api/storage/volumes/{uuid}/snapshots`), as ONTAP's REST roles name them.
 */
export const TRIDENT_ROLE_PRIVILEGES: readonly RolePrivilege[] = [
  ["/api/application/consistency-groups", "all"],
  ["/api/application/consistency-groups/snapshots", "read_create"],
  ["/api/cluster", "readonly"],
  ["/api/cluster/jobs", "readonly"],
  ["/api/cluster/nodes", "readonly"],
  ["/api/cluster/schedules", "readonly"],
  ["/api/network/fc/interfaces", "readonly"],
  ["/api/network/ip/interfaces", "readonly"],
  ["/api/private/cli/lun", "all"],
  ["/api/private/cli/volume/recovery-queue", "all"],
  ["/api/private/cli/volume/recovery-queue/purge", "all"],
  ["/api/private/cli/vserver/nvme/subsystem/delete", "all"],
  ["/api/protocols/cifs/shares", "all"],
  ["/api/protocols/cifs/shares/acls", "all"],
  ["/api/protocols/nfs/export-policies", "all"],
  ["/api/protocols/nfs/export-policies/rules", "all"],
  ["/api/protocols/nvme/subsystem-maps", "all"],
  ["/api/protocols/nvme/subsystems", "all"],
  ["/api/protocols/nvme/subsystems/hosts", "all"],
  ["/api/protocols/san/fcp/services", "readonly"],
  ["/api/protocols/san/igroups", "all"],
  ["/api/protocols/san/igroups/initiators", "all"],
  ["/api/protocols/san/iscsi/credentials", "read_modify"],
  ["/api/protocols/san/iscsi/services", "readonly"],
  ["/api/protocols/san/lun-maps", "all"],
  ["/api/protocols/san/lun-maps/reporting-nodes", "readonly"],
  ["/api/snapmirror/policies", "readonly"],
  ["/api/snapmirror/relationships", "all"],
  ["/api/snapmirror/relationships/transfers", "read_create_modify"],
  ["/api/storage/aggregates", "readonly"],
  ["/api/storage/luns", "all"],
  ["/api/storage/luns/attributes", "read_create_modify"],
  ["/api/storage/namespaces", "all"],
  ["/api/storage/qtrees", "all"],
  ["/api/storage/quota/rules", "read_create_modify"],
  ["/api/storage/storage-units", "all"],
  ["/api/storage/storage-units/snapshots", "all"],
  ["/api/storage/volumes", "all"],
  ["/api/storage/volumes/snapshots", "all"],
  ["/api/support/ems/application-logs", "read_create"],
  ["/api/svm/peers", "readonly"],
  ["/api/svm/svms", "readonly"],
].map(([path, access]) => ({ path: path!, access: access! }));

/** The ONTAP role's tuples for a choice; vsadmin is built in and has none to manage. */
export function privilegesOf(role: SvmUserRole): readonly RolePrivilege[] | undefined {
  return role === "trident" ? TRIDENT_ROLE_PRIVILEGES : undefined;
}

export interface PrivilegeDiff {
  add: RolePrivilege[];
  /** Present with another access level: set to the wanted one. */
  change: RolePrivilege[];
  /** Paths the role holds that are not wanted. */
  remove: string[];
}

/** What turns the tuples a role `has` into exactly the ones `want`ed. Pure; paths compare exactly. */
export function diffPrivileges(want: readonly RolePrivilege[], have: readonly RolePrivilege[]): PrivilegeDiff {
  const had = new Map(have.map((p) => [p.path, p.access]));
  const wanted = new Set(want.map((p) => p.path));
  return {
    add: want.filter((p) => !had.has(p.path)),
    change: want.filter((p) => had.has(p.path) && had.get(p.path) !== p.access),
    remove: have.filter((p) => !wanted.has(p.path)).map((p) => p.path),
  };
}

export function isEmptyDiff(diff: PrivilegeDiff): boolean {
  return diff.add.length === 0 && diff.change.length === 0 && diff.remove.length === 0;
}
