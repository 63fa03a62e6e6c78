import type { Account, Lif, OntapClient, Svm } from "../ontap/index.js";
import { accountOf, interfacesOf, type InventoryCache, svmsNamed } from "./cluster-inventory.js";
import type { Observed } from "./observed.js";

/**
 * The three ONTAP reads an observation of one shoot makes, per cluster: the SVM by name, its interfaces, the
 * shoot user's account. Each throws when the cluster cannot answer (the caller turns that into unknown).
 * `liveReader` asks ONTAP per call, with the actuator's filtered lookups (the doctor: one shoot, now);
 * `inventoryReader` answers from the cluster's bulk inventory (the health check: every shoot, each interval).
 */
export interface OntapReader {
  svmsNamed(client: OntapClient, name: string): Promise<Svm[]>;
  interfaces(client: OntapClient, svmUuid: string): Promise<readonly Lif[]>;
  account(client: OntapClient, svmUuid: string, name: string): Promise<Account | undefined>;
}

export const liveReader: OntapReader = {
  svmsNamed: (client, name) => client.findSvmsByName(name),
  interfaces: (client, svmUuid) => client.listInterfaces(svmUuid),
  account: (client, svmUuid, name) => client.getAccount(svmUuid, name),
};

export function inventoryReader(cache: InventoryCache): OntapReader {
  return {
    svmsNamed: async (client, name) => orAbsent(svmsNamed(await cache.inventory(client.cluster), name), []),
    interfaces: async (client, svmUuid) => orAbsent(interfacesOf(await cache.inventory(client.cluster), svmUuid), []),
    account: async (client, svmUuid, name) => orAbsent(accountOf(await cache.inventory(client.cluster), svmUuid, name), undefined),
  };
}

/** The found value, `whenAbsent` for absent; unknown throws with its cause (never read as absent). */
function orAbsent<T, A>(observed: Observed<T>, whenAbsent: A): T | A {
  if (observed.kind === "found") return observed.value;
  if (observed.kind === "absent") return whenAbsent;
  throw new Error(observed.cause);
}
