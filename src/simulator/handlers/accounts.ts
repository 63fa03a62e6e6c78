import { z } from "zod";
import { Codes, forbidden, invalidValue, missingField, notFound, SimError } from "../errors.js";
import { parseBody } from "../http.js";
import { type RequestContext, type Route, requireClusterAdmin, svmScope } from "../routes.js";
import { accountKey, type ClusterState, type SimAccount, type SimApplication } from "../state.js";
import { accountView, type Rec } from "../views.js";
import { createdResponse, readRoutes, Ref, writeQuery } from "./common.js";
import { svmRoleExists } from "./roles.js";

const keys = ["owner.uuid", "owner.name", "name"] as const;

const CLUSTER_ROLES = ["admin", "backup", "readonly", "autosupport", "none"];
/** Names ONTAP keeps for itself; creating an account with one of them is refused. */
export const RESERVED_ACCOUNT_NAMES = ["admin", "root", "diag", "daemon", "bin", "sys", "adm", "nobody", "ftp", "autosupport"];
const APPLICATIONS = ["http", "ontapi", "ssh", "console", "service_processor", "amqp"];
const AUTH_METHODS = ["password", "publickey", "domain", "nsswitch", "certificate", "saml", "usm", "community", "oauth"];
/** Account names: `A-Z a-z 0-9 . _ -`, not starting with `-`, at most 40 characters. */
const ACCOUNT_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,39}$/;
const MIN_PASSWORD_LENGTH = 8;

const Application = z
  .object({
    application: z.string(),
    authentication_methods: z.array(z.string()).optional(),
    second_authentication_method: z.string().optional(),
  })
  .strict();

const AccountCreate = z
  .object({
    name: z.string(),
    owner: Ref.optional(),
    role: Ref.optional(),
    applications: z.array(Application),
    password: z.string().optional(),
    locked: z.boolean().optional(),
    comment: z.string().optional(),
  })
  .strict();

const PasswordChange = z
  .object({
    owner: Ref.optional(),
    name: z.string(),
    password: z.string(),
    password_hash_algorithm: z.enum(["sha512", "sha256", "md5"]).optional(),
  })
  .strict();

/** An owner reference: an SVM, or the cluster itself (by its name or its admin SVM uuid); absent means the cluster. */
function resolveOwner(state: ClusterState, ref: { uuid?: string; name?: string } | undefined, target: string): string {
  if (!ref || (ref.uuid === undefined && ref.name === undefined)) return state.adminSvmUuid;
  if (ref.uuid === state.adminSvmUuid || (ref.uuid === undefined && ref.name === state.name)) return state.adminSvmUuid;
  const svm = ref.uuid !== undefined ? state.svms.get(ref.uuid) : [...state.svms.values()].find((v) => v.name === ref.name);
  if (!svm || (ref.name !== undefined && svm.name !== ref.name)) throw new SimError(400, Codes.notFound, "entry doesn't exist", target);
  return svm.uuid;
}

/**
 * The password rules of the owner's role, as `security login role config` sets them (the simulator has one set
 * per cluster, `SimulatorOptions.passwordRules`), plus ONTAP's rule that a password must not contain the user name.
 * A refusal is 400 with the vendor's documented code 2 and target `password`; the specific code a real cluster
 * sends for each rule is not known (a guess), the message names the rule.
 */
function checkPassword(ctx: RequestContext, password: string, username: string): void {
  const rules = ctx.sim.options.passwordRules;
  const count = (re: RegExp) => [...password].filter((c) => re.test(c)).length;
  const refuse = (rule: string) => {
    throw new SimError(400, Codes.invalidValue, `The password does not meet the password rules of the role: ${rule}.`, "password");
  };
  const minLength = Math.max(MIN_PASSWORD_LENGTH, rules.minLength ?? 0);
  if (password.length < minLength) refuse(`it must be at least ${minLength} characters long (passwd-minlength)`);
  const specials = count(/[^A-Za-z0-9]/);
  if (specials < (rules.minSpecialCharacters ?? 0)) refuse(`it must contain at least ${rules.minSpecialCharacters} special characters (passwd-min-special-chars)`);
  if (count(/[A-Z]/) < (rules.minUppercase ?? 0)) refuse(`it must contain at least ${rules.minUppercase} upper-case letters (passwd-min-uppercase-chars)`);
  if (count(/[a-z]/) < (rules.minLowercase ?? 0)) refuse(`it must contain at least ${rules.minLowercase} lower-case letters (passwd-min-lowercase-chars)`);
  if (count(/[0-9]/) < (rules.minDigits ?? 0)) refuse(`it must contain at least ${rules.minDigits} digits (passwd-min-digits)`);
  if (password.toLowerCase().includes(username.toLowerCase())) refuse("it must not contain the user name");
}

function toApplications(input: z.infer<typeof Application>[]): SimApplication[] {
  return input.map((a, i) => {
    if (!APPLICATIONS.includes(a.application)) throw invalidValue(`applications.${i}.application`, `unknown application "${a.application}"`);
    const methods = a.authentication_methods ?? ["password"];
    for (const m of methods) {
      if (!AUTH_METHODS.includes(m)) throw invalidValue(`applications.${i}.authentication_methods`, `unknown method "${m}"`);
    }
    return { application: a.application, authentication_methods: methods, second_authentication_method: a.second_authentication_method ?? "none" };
  });
}

function createAccount(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  const query = writeQuery(ctx, true);
  const body = parseBody(AccountCreate, ctx.body);
  const state = ctx.sim.state;
  if (!ACCOUNT_NAME.test(body.name)) {
    throw invalidValue("name", "use A-Z a-z 0-9 . _ -, do not start with -, at most 40 characters");
  }
  if (RESERVED_ACCOUNT_NAMES.includes(body.name.toLowerCase())) {
    throw new SimError(400, Codes.reservedAccountName, `The account name "${body.name}" is reserved for use by the system.`, "name");
  }
  const ownerUuid = resolveOwner(state, body.owner, "owner.uuid");
  const clusterScoped = ownerUuid === state.adminSvmUuid;
  const role = body.role?.name ?? (clusterScoped ? "admin" : "vsadmin");
  if (!(clusterScoped ? CLUSTER_ROLES.includes(role) : svmRoleExists(state, ownerUuid, role))) {
    throw new SimError(400, Codes.roleNotFound, `The role "${role}" does not exist for this owner.`, "role.name");
  }
  const applications = toApplications(body.applications);
  const needsPassword = applications.some((a) => a.authentication_methods.includes("password"));
  if (needsPassword && body.password === undefined) throw missingField("password");
  if (body.password !== undefined) checkPassword(ctx, body.password, body.name);
  if (state.accounts.has(accountKey(ownerUuid, body.name))) {
    throw new SimError(409, Codes.duplicateAccount, `An account named "${body.name}" already exists for this owner.`, "name");
  }
  const account: SimAccount = {
    ownerUuid,
    name: body.name,
    role,
    applications,
    password: body.password,
    locked: body.locked ?? false,
    comment: body.comment ?? "",
  };
  state.accounts.set(accountKey(ownerUuid, account.name), account);
  const location = `/api/security/accounts/${ownerUuid}/${encodeURIComponent(account.name)}`;
  return createdResponse(location, accountView(state, account), query.returnRecords);
}

const AccountPatch = z.object({ comment: z.string().optional(), locked: z.boolean().optional(), role: Ref.optional() }).strict();

/** The fields this simulator lets a PATCH change: `comment`, `locked` (an operator's lock or unlock) and `role.name`. */
function patchAccount(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const body = parseBody(AccountPatch, ctx.body);
  const account = ctx.sim.state.accounts.get(accountKey(ctx.params["owner.uuid"]!, ctx.params.name!));
  if (!account) throw notFound("name");
  const role = body.role?.name;
  if (role !== undefined) {
    const state = ctx.sim.state;
    const exists = account.ownerUuid === state.adminSvmUuid ? CLUSTER_ROLES.includes(role) : svmRoleExists(state, account.ownerUuid, role);
    if (!exists) throw new SimError(400, Codes.roleNotFound, `The role "${role}" does not exist for this owner.`, "role.name");
    account.role = role;
  }
  if (body.comment !== undefined) account.comment = body.comment;
  if (body.locked !== undefined) account.locked = body.locked;
  return { status: 200, body: {} };
}

function deleteAccount(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const state = ctx.sim.state;
  const key = accountKey(ctx.params["owner.uuid"]!, ctx.params.name!);
  const account = state.accounts.get(key);
  if (!account) throw notFound("name");
  if (account.ownerUuid === state.adminSvmUuid && account.name === ctx.sim.options.adminUsername) {
    throw new SimError(400, Codes.invalidValue, "The simulator's cluster administrator account cannot be deleted.", "name");
  }
  state.accounts.delete(key);
  return { status: 200, body: {} };
}

/** Answers 200 as real clusters do. An SVM user may change passwords in its own SVM only. */
function changePassword(ctx: RequestContext) {
  writeQuery(ctx);
  const body = parseBody(PasswordChange, ctx.body);
  const state = ctx.sim.state;
  const ownerUuid = resolveOwner(state, body.owner, "owner.name");
  const scope = svmScope(ctx);
  if (ctx.identity.kind === "svm" && ownerUuid !== scope) throw forbidden();
  const account = state.accounts.get(accountKey(ownerUuid, body.name));
  if (!account) throw new SimError(404, Codes.notFound, "entry doesn't exist", "name");
  checkPassword(ctx, body.password, body.name);
  account.password = body.password;
  return { status: 200, body: {} };
}

function accountSortKey(r: Rec): string {
  const owner = r.owner as { name?: string; uuid?: string };
  return `${owner.name ?? ""}\u0000${owner.uuid ?? ""}\u0000${String(r.name)}`;
}

export const accountRoutes: Route[] = [
  ...readRoutes({
    kind: "accounts",
    collection: "/api/security/accounts",
    instance: "/api/security/accounts/{owner.uuid}/{name}",
    all: (s) => s.accounts.values(),
    find: (s, params) => s.accounts.get(accountKey(params["owner.uuid"]!, params.name!)),
    view: (s) => (a) => accountView(s, a),
    keys,
    sortKey: accountSortKey,
    scope: { svmOf: (a) => a.ownerUuid },
  }),
  { method: "POST", template: "/api/security/accounts", handler: createAccount },
  { method: "PATCH", template: "/api/security/accounts/{owner.uuid}/{name}", handler: patchAccount },
  { method: "DELETE", template: "/api/security/accounts/{owner.uuid}/{name}", handler: deleteAccount },
  { method: "POST", template: "/api/security/authentication/password", handler: changePassword },
];
