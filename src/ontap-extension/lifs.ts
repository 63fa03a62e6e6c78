import { ExtensionError } from "../extension/errors.js";
import type { Lif, OntapClient, OntapError, Svm } from "../ontap/index.js";
import type { DesiredLif, ShootPlan } from "./plan.js";

export interface LifReport {
  created: string[];
  /** LIFs on the SVM this shoot does not ask for; left alone (another shoot or an operator may need them). */
  foreign: string[];
  lifs: { name: string; ipAddress: string }[];
}

const DUPLICATE_IP = "1376963";

/**
 * The SVM lookup's `ip_interfaces` (or, when the answer lacked them, one list call); create what is missing, leave every existing LIF alone, and refuse (before any write) when
 * an existing LIF has another address than this shoot asks for.
 *
 * Which shoot's addresses win: the LIF as it exists on ONTAP. The shoots of a project share the SVM and
 * its LIFs, and so do shoots of that project on other seeds, which this controller cannot see; a LIF that
 * exists carries the NVMe/TCP paths of whichever shoots already use it, and moving it cuts them. The Go
 * extension left a wrong address alone for the same reason. So the first shoot to create a LIF decides its
 * address, no reconcile moves it (siblings with different providerConfigs can never flap it back and forth),
 * and a shoot that disagrees fails with a configuration error naming its field and the address to use.
 */
export async function ensureLifs(client: OntapClient, svm: Svm, plan: ShootPlan): Promise<LifReport> {
  const decision = decideLifs(await observeLifs(client, svm), plan, svm);
  if (decision.act === "refuse") throw decision.error;
  if (decision.act === "keep") return decision.report;
  return createMissing(client, svm, plan, decision.missing, decision.report);
}

/** The SVM's interfaces: carried by the SVM lookup, else one list call (a failure throws: unknown is never absent). */
export async function observeLifs(client: OntapClient, svm: Svm): Promise<readonly Lif[]> {
  return svm.interfaces ?? (await client.listInterfaces(svm.uuid));
}

/** What the LIF step does about the interfaces it found. */
export type LifDecision =
  /** An existing LIF has another address than this shoot asks for: nothing is written. */
  | { act: "refuse"; error: ExtensionError }
  | { act: "keep"; report: LifReport }
  /** `report.created` fills as the creates answer. */
  | { act: "create"; missing: DesiredLif[]; report: LifReport };

/** The observe -> act decision of the LIF step: create what is missing, never move one that exists. */
export function decideLifs(existing: readonly Lif[], plan: ShootPlan, svm: Pick<Svm, "name">): LifDecision {
  const byName = new Map(existing.map((lif) => [lif.name, lif]));
  // A LIF an earlier version of this controller created under its former name (`datalif<i>`) is the same LIF.
  const found = (want: DesiredLif): Lif | undefined =>
    byName.get(want.name) ?? (want.formerName !== undefined ? byName.get(want.formerName) : undefined);
  const missing = plan.lifs.filter((want) => found(want) === undefined);
  const conflicts = plan.lifs.flatMap((want) => {
    const have = found(want);
    return have !== undefined && have.ipAddress !== want.ipAddress ? [{ want, have }] : [];
  });
  if (conflicts.length > 0) return { act: "refuse", error: lifConflictError(svm, plan, conflicts) };
  const claimed = new Set(plan.lifs.map((want) => found(want)?.name ?? want.name));
  const report: LifReport = {
    created: [],
    foreign: existing.filter((lif) => !claimed.has(lif.name)).map((lif) => lif.name),
    lifs: plan.lifs.map((want) => ({ name: found(want)?.name ?? want.name, ipAddress: want.ipAddress })),
  };
  return missing.length === 0 ? { act: "keep", report } : { act: "create", missing, report };
}

/** The missing LIFs created, homed across the nodes, addressed as the cluster routes (BGP: a VIP /32). */
async function createMissing(client: OntapClient, svm: Svm, plan: ShootPlan, missing: DesiredLif[], report: LifReport): Promise<LifReport> {
  // Only a change needs the topology: nodes for home placement, BGP for VIP vs. subnet addressing.
  const [nodes, bgp] = await Promise.all([client.listNodes(), client.hasBgpPeerGroups()]);
  if (nodes.length === 0) {
    throw new ExtensionError(`cluster has no nodes to home LIFs of SVM ${svm.name} on`, ["ERR_INFRA_DEPENDENCIES"], { retriable: true });
  }
  const netmask = bgp ? "32" : "24";
  let dataIndex = 0;
  const creates: Promise<void>[] = [];
  for (const want of plan.lifs) {
    const index = want.role === "data" ? dataIndex++ : 0;
    if (!missing.includes(want)) continue;
    const node = nodes[index % nodes.length];
    // Independent creates (different names and addresses) go out together: one round trip, not one per LIF.
    creates.push(
      guardDuplicateIp(want, svm, () =>
        client.createInterface({
          name: want.name,
          svmUuid: svm.uuid,
          ipAddress: want.ipAddress,
          netmask,
          homeNodeUuid: node?.uuid ?? "",
          servicePolicy: want.servicePolicy,
          vip: bgp,
        }),
      ).then(() => {
        report.created.push(want.name);
      }),
    );
  }
  const outcomes = await Promise.allSettled(creates);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) throw failed.reason;
  report.created.sort((a, b) => plan.lifs.findIndex((l) => l.name === a) - plan.lifs.findIndex((l) => l.name === b));
  return report;
}

/** The providerConfig field of a planned LIF, for messages: `dataLifs[1]` or `managementLif`. */
export function fieldOf(plan: ShootPlan, want: DesiredLif): string {
  const index = plan.lifs.filter((l) => l.role === "data").indexOf(want);
  return want.role === "data" ? `svmIpaddresses.dataLifs[${index}]` : "svmIpaddresses.managementLif";
}

function lifConflictError(svm: Pick<Svm, "name">, plan: ShootPlan, conflicts: { want: DesiredLif; have: Lif }[]): ExtensionError {
  const details = conflicts
    .map(({ want, have }) => `${fieldOf(plan, want)} is ${want.ipAddress} but LIF ${have.name} has ${have.ipAddress}`)
    .join("; ");
  const fix = conflicts.map(({ want, have }) => `${fieldOf(plan, want)}: ${have.ipAddress}`).join(", ");
  return new ExtensionError(
    `spec.providerConfig: ${details} on SVM ${svm.name}, which this shoot shares with the other shoots of its project; ` +
      `a LIF in use is never moved (it carries their NVMe/TCP paths): set ${fix}, or move the LIF on ONTAP first`,
    ["ERR_CONFIGURATION_PROBLEM"],
    { retriable: false },
  );
}

async function guardDuplicateIp(want: DesiredLif, svm: Svm, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if ((err as OntapError).code === DUPLICATE_IP) {
      throw new ExtensionError(
        `LIF ${want.name} of SVM ${svm.name}: address ${want.ipAddress} is already used by another interface on the cluster; fix spec.providerConfig.svmIpaddresses or free the address`,
        ["ERR_RETRYABLE_CONFIGURATION_PROBLEM"],
        { retriable: true, cause: err },
      );
    }
    throw err;
  }
}
