import type { OntapClient } from "./client.js";
import { connectionError, isOntapError, type OntapError } from "./errors.js";
import type { Svm } from "./schemas.js";

/**
 * One SVM lookup across every configured cluster. The answer is one of four, and "unknown" (some cluster
 * could not answer) is never folded into "absent": creating an SVM that exists on an unreachable cluster
 * would give a project two SVMs.
 */

export interface SvmOnCluster {
  cluster: string;
  svm: Svm;
}

export type SvmLookup =
  | { kind: "found"; cluster: string; svm: Svm }
  | { kind: "absent" }
  | { kind: "several"; found: SvmOnCluster[] }
  | { kind: "unknown"; errors: { cluster: string; error: OntapError }[]; found: SvmOnCluster[]; mirrors?: SvmOnCluster[] };

export interface MetroCluster {
  readonly clients: readonly OntapClient[];
  findSvm(name: string, opts?: { signal?: AbortSignal }): Promise<SvmLookup>;
}

const SYNC_DESTINATION = "sync_destination";

/**
 * Reduces one cluster's answer to the SVM that counts: the exact name, unless it is only a sync-destination
 * copy. `<name>-mc` and any `sync_destination` record are the partner's mirror of a source elsewhere.
 */
export function ownSvm(name: string, records: readonly Svm[]): Svm | undefined {
  return records.find((s) => s.name === name && s.subtype !== SYNC_DESTINATION);
}

/** Combines per-cluster answers (pure, so each of the four outcomes can be tested without a network). */
export function combineLookups(
  name: string,
  answers: readonly ({ cluster: string; svms: readonly Svm[] } | { cluster: string; error: OntapError })[],
): SvmLookup {
  const found: SvmOnCluster[] = [];
  const mirrors: SvmOnCluster[] = [];
  const errors: { cluster: string; error: OntapError }[] = [];
  for (const answer of answers) {
    if ("error" in answer) {
      errors.push({ cluster: answer.cluster, error: answer.error });
      continue;
    }
    const own = ownSvm(name, answer.svms);
    if (own) found.push({ cluster: answer.cluster, svm: own });
    else {
      const mirror = answer.svms.find((s) => s.name === name || s.name === `${name}-mc`);
      if (mirror) mirrors.push({ cluster: answer.cluster, svm: mirror });
    }
  }
  if (errors.length > 0) return { kind: "unknown", errors, found, ...(mirrors.length > 0 ? { mirrors } : {}) };
  if (found.length > 1) return { kind: "several", found };
  const [only] = found;
  if (only) return { kind: "found", cluster: only.cluster, svm: only.svm };
  // Only a mirror is visible: its source lives on a cluster we reach but that does not list it (for example
  // during a switchover). The mirror is what exists, so report it rather than "absent".
  const [mirror] = mirrors;
  if (mirror) return { kind: "found", cluster: mirror.cluster, svm: mirror.svm };
  return { kind: "absent" };
}

/**
 * The SVM's home while some cluster cannot answer: the one copy found, when it is on the cluster the caller recorded
 * as its home (an earlier lookup that every cluster answered placed it there). Unknown stays unknown for everything
 * else, above all for a create: the silent cluster may hold the SVM. But an SVM whose home is known and answers can
 * be repaired and deleted while another cluster is down; a copy on the silent one would have to be a duplicate,
 * which the next full answer reports as such.
 */
export function knownHome(lookup: SvmLookup, recordedCluster: string | undefined): SvmOnCluster | undefined {
  if (lookup.kind !== "unknown" || recordedCluster === undefined) return undefined;
  const [only, ...more] = lookup.found;
  if (!only || more.length > 0 || only.cluster !== recordedCluster) return undefined;
  return only;
}

/**
 * Whether the recorded home answered without the SVM (and without a mirror of it) while another cluster is
 * silent: for a delete, gone. The silent cluster could only hold a duplicate, which a full answer would report.
 */
export function goneFromHome(lookup: SvmLookup, recordedCluster: string | undefined): boolean {
  if (lookup.kind !== "unknown" || recordedCluster === undefined) return false;
  if (lookup.errors.some((e) => e.cluster === recordedCluster)) return false;
  return lookup.found.length === 0 && (lookup.mirrors ?? []).length === 0;
}

export function createMetroCluster(clients: OntapClient[]): MetroCluster {
  if (clients.length === 0) throw new RangeError("a MetroCluster lookup needs at least one cluster client");
  const names = new Set(clients.map((c) => c.cluster));
  if (names.size !== clients.length) throw new RangeError("cluster names must be unique");
  return {
    clients,
    async findSvm(name, opts = {}) {
      const answers = await Promise.all(
        clients.map(async (client) => {
          try {
            return { cluster: client.cluster, svms: await client.findSvmsByName(name, opts) };
          } catch (err) {
            if (opts.signal?.aborted) throw err;
            const error = isOntapError(err)
              ? err
              : connectionError(
                  {
                    cluster: client.cluster,
                    operation: `find SVM ${name}`,
                    method: "GET",
                    endpoint: "/api/svm/svms",
                    secrets: [],
                  },
                  err,
                );
            return { cluster: client.cluster, error };
          }
        }),
      );
      return combineLookups(name, answers);
    },
  };
}
