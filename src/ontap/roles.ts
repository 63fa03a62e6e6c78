import { createWithLookup } from "./retry.js";
import { type Role, type RolePrivilege, RoleRecord } from "./schemas.js";
import { type CallOptions, ENDPOINTS, type RequestSpec, type Requester } from "./request.js";

const ROLE_FIELDS = ["name", "owner.uuid", "privileges"];

export interface CreateRoleInput {
  ownerUuid: string;
  name: string;
  privileges: readonly RolePrivilege[];
}

/**
 * SVM-scoped REST roles (`/api/security/roles`) and the role an account uses. ONTAP has no PATCH of a role:
 * a role is created whole, then changed one privilege tuple at a time through its `privileges` sub-collection,
 * whose key is the API path (sent URL-encoded: `%2Fapi%2Fcluster`).
 */
export interface RoleOperations {
  getRole(ownerUuid: string, name: string, opts?: CallOptions): Promise<Role | undefined>;
  createRole(input: CreateRoleInput, opts?: CallOptions): Promise<Role>;
  addRolePrivilege(ownerUuid: string, role: string, privilege: RolePrivilege, opts?: CallOptions): Promise<void>;
  /** Sets one tuple's access (idempotent). */
  setRolePrivilegeAccess(ownerUuid: string, role: string, privilege: RolePrivilege, opts?: CallOptions): Promise<void>;
  /** Already gone counts as removed. */
  removeRolePrivilege(ownerUuid: string, role: string, path: string, opts?: CallOptions): Promise<void>;
  /** PATCHes the account's `role.name` (idempotent). */
  setAccountRole(ownerUuid: string, name: string, role: string, opts?: CallOptions): Promise<void>;
}

export function roleOperations(r: Requester): RoleOperations {
  const { request, getOptional, deleteIdempotent, sendOnce, retryOptions } = r;
  const getRole = (ownerUuid: string, name: string, callOpts: CallOptions = {}) =>
    getOptional(
      {
        operation: `get role ${name} of SVM ${ownerUuid}`,
        method: "GET",
        endpoint: ENDPOINTS.role,
        params: { "owner.uuid": ownerUuid, name },
        query: { fields: ROLE_FIELDS },
        signal: callOpts.signal,
      },
      RoleRecord,
    );
  return {
    getRole,

    createRole(input, callOpts = {}) {
      const spec: RequestSpec = {
        operation: `create role ${input.name} on SVM ${input.ownerUuid}`,
        method: "POST",
        endpoint: ENDPOINTS.roles,
        body: { owner: { uuid: input.ownerUuid }, name: input.name, privileges: input.privileges.map((p) => ({ path: p.path, access: p.access })) },
        signal: callOpts.signal,
      };
      // A lost answer is resolved by looking the role up; whatever it then holds, the caller's diff repairs.
      return createWithLookup<Role>({
        ...retryOptions(spec),
        create: async (attempt) => {
          await sendOnce(spec, attempt);
          return { name: input.name, ownerUuid: input.ownerUuid, privileges: [...input.privileges] };
        },
        lookup: () => getRole(input.ownerUuid, input.name, callOpts),
      });
    },

    async addRolePrivilege(ownerUuid, role, privilege, callOpts = {}) {
      const spec: RequestSpec = {
        operation: `add ${privilege.path} to role ${role} of SVM ${ownerUuid}`,
        method: "POST",
        endpoint: ENDPOINTS.rolePrivileges,
        params: { "owner.uuid": ownerUuid, "role.name": role },
        body: { path: privilege.path, access: privilege.access },
        signal: callOpts.signal,
      };
      await createWithLookup<true>({
        ...retryOptions(spec),
        create: async (attempt) => {
          await sendOnce(spec, attempt);
          return true;
        },
        lookup: async () => ((await getRole(ownerUuid, role, callOpts))?.privileges.some((p) => p.path === privilege.path) ? true : undefined),
      });
    },

    async setRolePrivilegeAccess(ownerUuid, role, privilege, callOpts = {}) {
      await request({
        operation: `set ${privilege.path} of role ${role} of SVM ${ownerUuid} to ${privilege.access}`,
        method: "PATCH",
        endpoint: ENDPOINTS.rolePrivilege,
        params: { "owner.uuid": ownerUuid, "role.name": role, path: privilege.path },
        body: { access: privilege.access },
        signal: callOpts.signal,
      });
    },

    async removeRolePrivilege(ownerUuid, role, path, callOpts = {}) {
      await deleteIdempotent({
        operation: `remove ${path} from role ${role} of SVM ${ownerUuid}`,
        method: "DELETE",
        endpoint: ENDPOINTS.rolePrivilege,
        params: { "owner.uuid": ownerUuid, "role.name": role, path },
        signal: callOpts.signal,
      });
    },

    async setAccountRole(ownerUuid, name, role, callOpts = {}) {
      await request({
        operation: `set the role of account ${name} of SVM ${ownerUuid} to ${role}`,
        method: "PATCH",
        endpoint: ENDPOINTS.account,
        params: { "owner.uuid": ownerUuid, name },
        body: { role: { name: role } },
        signal: callOpts.signal,
      });
    },
  };
}
