import type { Account, Lif, OntapClient, Svm } from "../ontap/index.js";
import { ownSvm } from "../ontap/metrocluster.js";
import { absent, found, type Observed, unknown } from "./observed.js";

/**
 * The bulk observation of one ONTAP cluster: every SVM, every IP interface and every account, three list
 * requests with their `fields` narrowed to what the checks read. Taken at most once per `maxAgeMs` per
 * cluster and shared by every shoot on it, so what a round of health checks costs ONTAP does not grow with
 * the number of shoots (issue 24: 100 shoots cost 500-740 requests a minute with a lookup per shoot).
 */
export interface ClusterInventory {
  cluster: string;
  /** When the lists were answered (ms since epoch). */
  takenAt: number;
  svms: readonly Svm[];
  interfacesBySvm: ReadonlyMap<string, readonly Lif[]>;
  accountsBySvm: ReadonlyMap<string, readonly Account[]>;
}

/** One cluster's inventory, or why there is none: a cluster that does not answer is unknown, never empty. */
export type InventoryAnswer = { ok: true; inventory: ClusterInventory } | { ok: false; cluster: string; cause: string };

export async function takeInventory(client: OntapClient, now: () => number = Date.now): Promise<InventoryAnswer> {
  try {
    const [svms, interfaces, accounts] = await Promise.all([client.listSvms(), client.listAllInterfaces(), client.listAllAccounts()]);
    return {
      ok: true,
      inventory: {
        cluster: client.cluster,
        takenAt: now(),
        svms,
        interfacesBySvm: groupBy(interfaces, (lif) => lif.svmUuid),
        accountsBySvm: groupBy(accounts, (account) => account.ownerUuid),
      },
    };
  } catch (err) {
    return { ok: false, cluster: client.cluster, cause: err instanceof Error ? err.message : String(err) };
  }
}

/** The SVMs named `name` or `name-mc` on the cluster, as `findSvmsByName` answers them (ownSvm picks the one that counts). */
export function svmsNamed(answer: InventoryAnswer, name: string): Observed<Svm[]> {
  if (!answer.ok) return unknown(answer.cause);
  const records = answer.inventory.svms.filter((s) => s.name === name || s.name === `${name}-mc`);
  return records.length > 0 ? found(records) : absent;
}

/** The project's own SVM on this cluster (not a MetroCluster mirror of it). */
export function ownSvmOn(answer: InventoryAnswer, name: string): Observed<Svm> {
  const named = svmsNamed(answer, name);
  if (named.kind !== "found") return named;
  const own = ownSvm(name, named.value);
  return own ? found(own) : absent;
}

/** The SVM's interfaces; an SVM with none is found with an empty list (the SVM answered, its LIFs are missing). */
export function interfacesOf(answer: InventoryAnswer, svmUuid: string): Observed<readonly Lif[]> {
  if (!answer.ok) return unknown(answer.cause);
  return found(answer.inventory.interfacesBySvm.get(svmUuid) ?? []);
}

export function accountOf(answer: InventoryAnswer, svmUuid: string, name: string): Observed<Account> {
  if (!answer.ok) return unknown(answer.cause);
  const account = answer.inventory.accountsBySvm.get(svmUuid)?.find((a) => a.name === name);
  return account ? found(account) : absent;
}

export interface InventoryCache {
  /** The cluster's inventory, no older than `maxAgeMs`: callers in the same round share one (and its requests). */
  inventory(cluster: string): Promise<InventoryAnswer>;
  clusters(): readonly string[];
}

/**
 * One inventory per cluster and period, shared by whoever asks meanwhile (a round of health checks over every
 * shoot). A failed answer is kept for the period too: asking again per shoot would turn one silent cluster into
 * a request per shoot, which its circuit breaker would refuse anyway.
 */
export function createInventoryCache(opts: { clients: readonly OntapClient[]; maxAgeMs: number; now?: () => number }): InventoryCache {
  const now = opts.now ?? Date.now;
  const byName = new Map(opts.clients.map((c) => [c.cluster, c]));
  const taken = new Map<string, { at: number; answer: Promise<InventoryAnswer> }>();
  return {
    inventory(cluster) {
      const client = byName.get(cluster);
      if (!client) return Promise.resolve({ ok: false, cluster, cause: `ONTAP cluster ${cluster} is not configured` });
      const last = taken.get(cluster);
      if (last && now() - last.at < opts.maxAgeMs) return last.answer;
      const answer = takeInventory(client, now);
      taken.set(cluster, { at: now(), answer });
      return answer;
    },
    clusters: () => [...byName.keys()],
  };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}
