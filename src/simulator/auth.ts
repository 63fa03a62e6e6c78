import { createHash, timingSafeEqual } from "node:crypto";
import { Codes, SimError } from "./errors.js";
import type { Identity } from "./http.js";
import type { ClusterState, SimAccount } from "./state.js";

export function unauthenticated(): SimError {
  return new SimError(401, Codes.unauthenticated, "User is not authorized.");
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function samePassword(stored: string | undefined, given: string): boolean {
  if (stored === undefined) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(stored), digest(given));
}

/** What ONTAP demands of an account before it may use the REST API with a password. */
function mayUseRestWithPassword(account: SimAccount): boolean {
  return (
    !account.locked &&
    account.applications.some((a) => a.application === "http" && a.authentication_methods.includes("password"))
  );
}

/**
 * Where a request arrived: the cluster management interface, or one SVM's management LIF. Whether ONTAP lets an
 * SVM-scoped account in on the cluster interface is not established, so the cluster endpoint refuses SVM accounts
 * unless `svmAccounts` (the lenient switch) is set; an SVM management LIF admits only its own SVM's accounts.
 */
export type AuthScope = { endpoint: "cluster"; svmAccounts: boolean } | { endpoint: "lif"; svmUuid: string };

/**
 * HTTP basic auth against the accounts of the cluster. Cluster-scoped accounts come first; an
 * SVM-scoped account authenticates as that SVM when its SVM exists and the endpoint admits it.
 */
export function authenticate(
  state: ClusterState,
  header: string | undefined,
  scope: AuthScope = { endpoint: "cluster", svmAccounts: true },
): Identity {
  const credentials = parseBasic(header);
  if (!credentials) throw unauthenticated();
  const candidates = [...state.accounts.values()]
    .filter((a) => a.name === credentials.username)
    .sort((a, b) => Number(b.ownerUuid === state.adminSvmUuid) - Number(a.ownerUuid === state.adminSvmUuid));
  for (const account of candidates) {
    if (!mayUseRestWithPassword(account) || !samePassword(account.password, credentials.password)) continue;
    const clusterAccount = account.ownerUuid === state.adminSvmUuid;
    if (scope.endpoint === "lif") {
      if (account.ownerUuid === scope.svmUuid && state.svms.has(account.ownerUuid)) {
        return { kind: "svm", username: account.name, svmUuid: account.ownerUuid, role: account.role };
      }
      continue;
    }
    if (clusterAccount) return { kind: "cluster", username: account.name };
    if (scope.svmAccounts && state.svms.has(account.ownerUuid)) {
      return { kind: "svm", username: account.name, svmUuid: account.ownerUuid, role: account.role };
    }
  }
  throw unauthenticated();
}
