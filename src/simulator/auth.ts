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
 * HTTP basic auth against the accounts of the cluster. Cluster-scoped accounts come first; an
 * SVM-scoped account authenticates as that SVM when its SVM exists.
 */
export function authenticate(state: ClusterState, header: string | undefined): Identity {
  const credentials = parseBasic(header);
  if (!credentials) throw unauthenticated();
  const candidates = [...state.accounts.values()]
    .filter((a) => a.name === credentials.username)
    .sort((a, b) => Number(b.ownerUuid === state.adminSvmUuid) - Number(a.ownerUuid === state.adminSvmUuid));
  for (const account of candidates) {
    if (!mayUseRestWithPassword(account) || !samePassword(account.password, credentials.password)) continue;
    if (account.ownerUuid === state.adminSvmUuid) return { kind: "cluster", username: account.name };
    if (state.svms.has(account.ownerUuid)) return { kind: "svm", username: account.name, svmUuid: account.ownerUuid };
  }
  throw unauthenticated();
}
