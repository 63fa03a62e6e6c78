import { ExtensionError } from "../extension/errors.js";
import type { Lif, OntapClient, OntapError, Svm } from "../ontap/index.js";
import type { DesiredLif, ShootPlan } from "./plan.js";

export interface LifReport {
  created: string[];
  repaired: string[];
  /** LIFs on the SVM this shoot does not ask for; left alone (another shoot or an operator may need them). */
  foreign: string[];
  lifs: { name: string; ipAddress: string }[];
}

const DUPLICATE_IP = "1376963";

/** One list call; create what is missing, repair a wrong address, leave every other LIF alone. */
export async function ensureLifs(client: OntapClient, svm: Svm, plan: ShootPlan): Promise<LifReport> {
  const existing = await client.listInterfaces(svm.uuid);
  const byName = new Map(existing.map((lif) => [lif.name, lif]));
  const missing = plan.lifs.filter((want) => !byName.has(want.name));
  const wrong = plan.lifs.filter((want) => {
    const have = byName.get(want.name);
    return have !== undefined && have.ipAddress !== want.ipAddress;
  });
  const report: LifReport = {
    created: [],
    repaired: [],
    foreign: existing.filter((lif) => !plan.lifs.some((want) => want.name === lif.name)).map((lif) => lif.name),
    lifs: plan.lifs.map((want) => ({ name: want.name, ipAddress: want.ipAddress })),
  };
  if (missing.length === 0 && wrong.length === 0) return report;

  // Only a change needs the topology: nodes for home placement, BGP for VIP vs. subnet addressing.
  const [nodes, bgp] = await Promise.all([client.listNodes(), client.hasBgpPeerGroups()]);
  if (nodes.length === 0) {
    throw new ExtensionError(`cluster has no nodes to home LIFs of SVM ${svm.name} on`, ["ERR_INFRA_DEPENDENCIES"], true);
  }
  const netmask = bgp ? "32" : "24";
  for (const want of wrong) {
    const have = byName.get(want.name) as Lif;
    await guardDuplicateIp(want, svm, () => client.patchInterface(have.uuid, { ipAddress: want.ipAddress, netmask }));
    report.repaired.push(want.name);
  }
  let dataIndex = 0;
  for (const want of plan.lifs) {
    const index = want.role === "data" ? dataIndex++ : 0;
    if (!missing.includes(want)) continue;
    const node = nodes[index % nodes.length];
    await guardDuplicateIp(want, svm, () =>
      client.createInterface({
        name: want.name,
        svmUuid: svm.uuid,
        ipAddress: want.ipAddress,
        netmask,
        homeNodeUuid: node?.uuid ?? "",
        servicePolicy: want.servicePolicy,
        vip: bgp,
      }),
    );
    report.created.push(want.name);
  }
  return report;
}

async function guardDuplicateIp(want: DesiredLif, svm: Svm, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if ((err as OntapError).code === DUPLICATE_IP) {
      throw new ExtensionError(
        `LIF ${want.name} of SVM ${svm.name}: address ${want.ipAddress} is already used by another interface on the cluster; fix spec.providerConfig.svmIpaddresses or free the address`,
        ["ERR_RETRYABLE_CONFIGURATION_PROBLEM"],
        true,
        { cause: err },
      );
    }
    throw err;
  }
}
