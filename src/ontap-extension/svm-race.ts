import type { OntapClient, Svm } from "../ontap/index.js";

/**
 * Two controllers (shoots of one project on two seeds) that both looked, found nothing and created the
 * project's SVM at once, each on the cluster it chose, leave one copy per cluster. Placement is deterministic
 * (placementCluster), so this needs the volume counts to change between their two reads; when it happens,
 * every controller that looks decides the same way: a copy that holds nothing (no LIF, no account besides
 * ONTAP's own, no volume) is a leftover of the race, and goes; the copy that holds something is kept, or, if
 * none does, the one on the cluster whose name sorts first. Two copies that both hold something are an
 * operator's decision (data may live on either), and are left alone.
 */

export interface SvmCopy {
  cluster: string;
  client: OntapClient;
  svm: Svm;
}

export interface CopyContents {
  lifs: number;
  accounts: number;
  volumes: number;
}

export type RaceVerdict =
  | { kind: "resolved"; kept: SvmCopy; removed: SvmCopy[] }
  | { kind: "ambiguous"; inUse: (SvmCopy & { contents: CopyContents })[] };

/** Accounts every SVM has from its creation: they do not make a copy "in use". */
const BUILTIN_ACCOUNTS = new Set(["vsadmin"]);

async function contentsOf(copy: SvmCopy): Promise<CopyContents> {
  const { client, svm } = copy;
  const interfaces = svm.interfaces ?? (await client.listInterfaces(svm.uuid));
  const accounts = (await client.listAccounts(svm.uuid)).filter((a) => !BUILTIN_ACCOUNTS.has(a.name));
  return { lifs: interfaces.length, accounts: accounts.length, volumes: await client.countDataVolumes(svm.uuid) };
}

export function describeContents(c: CopyContents): string {
  return `${c.lifs} LIF(s), ${c.accounts} account(s), ${c.volumes} data volume(s)`;
}

/** Decides which copy stays (pure but for the reads); deletes nothing. */
export async function judgeRaceCopies(copies: readonly SvmCopy[]): Promise<RaceVerdict> {
  const byName = [...copies].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  const inUse: (SvmCopy & { contents: CopyContents })[] = [];
  for (const copy of byName) {
    const contents = await contentsOf(copy);
    if (contents.lifs + contents.accounts + contents.volumes > 0) inUse.push({ ...copy, contents });
  }
  if (inUse.length > 1) return { kind: "ambiguous", inUse };
  const kept = byName.find((c) => c.cluster === inUse[0]?.cluster) ?? byName[0]!;
  return { kind: "resolved", kept, removed: byName.filter((c) => c !== kept) };
}
