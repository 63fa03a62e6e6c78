import { connectionError, isOntapError, type OntapError } from "./errors.js";
import { exactFilterValue } from "./query.js";
import { createWithLookup } from "./retry.js";
import { type Account, AccountRecord } from "./schemas.js";
import { secretsOf } from "./transport.js";
import { type CallOptions, ENDPOINTS, type RequestSpec, type Requester } from "./request.js";

const ACCOUNT_FIELDS = ["name", "owner.uuid", "owner.name", "role.name", "locked", "comment"];

export type AuthenticateResult = { result: "ok" } | { result: "wrong-password" } | { result: "error"; error: OntapError };

export interface CreateAccountInput {
  ownerUuid: string;
  name: string;
  password: string;
  /** Default "vsadmin". */
  role?: string;
  /** Recorded on the account (who owns it). */
  comment?: string;
}

export interface ChangePasswordInput {
  svmName: string;
  name: string;
  password: string;
}

export interface AccountOperations {
  getAccount(ownerUuid: string, name: string, opts?: CallOptions): Promise<Account | undefined>;
  listAccounts(ownerUuid: string, opts?: CallOptions): Promise<Account[]>;
  /** Every account of the cluster, its owner's uuid, role and lock (the bulk observation). */
  listAllAccounts(opts?: CallOptions): Promise<Account[]>;
  createAccount(input: CreateAccountInput, opts?: CallOptions): Promise<Account>;
  /** Already gone counts as deleted. */
  deleteAccount(ownerUuid: string, name: string, opts?: CallOptions): Promise<void>;
  changePassword(input: ChangePasswordInput, opts?: CallOptions): Promise<void>;
  /** PATCHes the account's `comment` (idempotent). */
  setAccountComment(ownerUuid: string, name: string, comment: string, opts?: CallOptions): Promise<void>;
  /** Never throws; a 401 is "wrong-password" and is not retried. */
  authenticateAs(credentials: { name: string; password: string }, opts?: CallOptions): Promise<AuthenticateResult>;
}

/** SVM user accounts, their passwords, and the login as one (the proof a stored password works). */
export function accountOperations(r: Requester): AccountOperations {
  const { contextOf, sendOnce, retryOptions, request, parse, listAll, getOptional, deleteIdempotent } = r;
  async function fetchAccount(
    ownerUuid: string,
    name: string,
    operation: string,
    signal: AbortSignal | undefined,
    attempt: number,
  ) {
    const spec: RequestSpec = {
      operation,
      method: "GET",
      endpoint: ENDPOINTS.account,
      params: { "owner.uuid": ownerUuid, name },
      query: { fields: ACCOUNT_FIELDS },
      signal,
    };
    try {
      const res = await sendOnce(spec, attempt);
      return parse(AccountRecord, res.body, spec);
    } catch (err) {
      if (isOntapError(err) && err.kind === "http" && err.status === 404) return undefined;
      throw err;
    }
  }

  async function authenticateAs(
    user: { name: string; password: string },
    callOpts: CallOptions = {},
  ): Promise<AuthenticateResult> {
    const spec: RequestSpec = {
      operation: `authenticate as ${user.name}`,
      method: "GET",
      endpoint: ENDPOINTS.svms,
      query: { return_records: false },
      signal: callOpts.signal,
      credentials: { username: user.name, password: user.password },
      secrets: secretsOf({ username: user.name, password: user.password }),
    };
    try {
      await request(spec);
      return { result: "ok" };
    } catch (err) {
      if (isOntapError(err)) {
        if (err.kind === "http" && err.status === 401) return { result: "wrong-password" };
        return { result: "error", error: err };
      }
      return { result: "error", error: connectionError(contextOf(spec), err) };
    }
  }

  const ops: AccountOperations = {
      getAccount(ownerUuid, name, callOpts = {}) {
        return getOptional(
          {
            operation: `get account ${name} of SVM ${ownerUuid}`,
            method: "GET",
            endpoint: ENDPOINTS.account,
            params: { "owner.uuid": ownerUuid, name },
            query: { fields: ACCOUNT_FIELDS },
            signal: callOpts.signal,
          },
          AccountRecord,
        );
      },

      listAccounts(ownerUuid, callOpts = {}) {
        return listAll(
          {
            operation: `list accounts of SVM ${ownerUuid}`,
            method: "GET",
            endpoint: ENDPOINTS.accounts,
            query: { "owner.uuid": exactFilterValue(ownerUuid, "SVM uuid"), fields: ACCOUNT_FIELDS },
            signal: callOpts.signal,
          },
          AccountRecord,
        );
      },

      listAllAccounts(callOpts = {}) {
        return listAll(
          {
            operation: "list accounts",
            method: "GET",
            endpoint: ENDPOINTS.accounts,
            query: { fields: ["name", "owner.uuid", "role.name", "locked"] },
            signal: callOpts.signal,
          },
          AccountRecord,
        );
      },

      async createAccount(input, callOpts = {}) {
        const role = input.role ?? "vsadmin";
        const operation = `create account ${input.name} on SVM ${input.ownerUuid}`;
        const spec: RequestSpec = {
          operation,
          method: "POST",
          endpoint: ENDPOINTS.accounts,
          body: {
            name: input.name,
            owner: { uuid: input.ownerUuid },
            role: { name: role },
            applications: [{ application: "http", authentication_methods: ["password"] }],
            password: input.password,
            locked: false,
            ...(input.comment !== undefined ? { comment: input.comment } : {}),
          },
          signal: callOpts.signal,
          secrets: [input.password],
        };
        return createWithLookup<Account>({
          ...retryOptions(spec),
          create: async (attempt) => {
            await sendOnce(spec, attempt);
            return { name: input.name, ownerUuid: input.ownerUuid, role, locked: false, ...(input.comment !== undefined ? { comment: input.comment } : {}) };
          },
          lookup: (attempt) => fetchAccount(input.ownerUuid, input.name, operation, callOpts.signal, attempt),
        });
      },

      async deleteAccount(ownerUuid, name, callOpts = {}) {
        await deleteIdempotent({
          operation: `delete account ${name} of SVM ${ownerUuid}`,
          method: "DELETE",
          endpoint: ENDPOINTS.account,
          params: { "owner.uuid": ownerUuid, name },
          signal: callOpts.signal,
        });
      },

      async changePassword(input, callOpts = {}) {
        const spec: RequestSpec = {
          operation: `change password of ${input.name} on SVM ${input.svmName}`,
          method: "POST",
          endpoint: ENDPOINTS.password,
          body: { owner: { name: input.svmName }, name: input.name, password: input.password },
          signal: callOpts.signal,
          secrets: [input.password],
        };
        // Setting a password twice is harmless, but ONTAP may refuse a password equal to the current one, so
        // after a lost answer the "lookup" is: does the new password already work?
        await createWithLookup<true>({
          ...retryOptions(spec),
          create: async (attempt) => {
            await sendOnce(spec, attempt);
            return true;
          },
          lookup: async () => {
            const auth = await authenticateAs({ name: input.name, password: input.password }, callOpts);
            if (auth.result === "ok") return true;
            if (auth.result === "error") throw auth.error;
            return undefined;
          },
        });
      },

      async setAccountComment(ownerUuid, name, comment, callOpts = {}) {
        // Setting the same comment twice is harmless: a lost answer is simply sent again.
        await request({
          operation: `set the comment of account ${name} of SVM ${ownerUuid}`,
          method: "PATCH",
          endpoint: ENDPOINTS.account,
          params: { "owner.uuid": ownerUuid, name },
          body: { comment },
          signal: callOpts.signal,
        });
      },

    authenticateAs,
  };
  return ops;
}
