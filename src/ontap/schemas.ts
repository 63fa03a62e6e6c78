import { z } from "zod";

/**
 * ONTAP answers, parsed at the edge into the client's camelCased values. Each schema reads only the fields the
 * client asks for (unknown fields are dropped), and transforms into the exported type so callers never see
 * ONTAP's snake_case or nesting.
 */

/** ONTAP sends codes as strings in error envelopes and as numbers in job records. */
const Code = z.union([z.string(), z.number()]).transform((v) => String(v));

export const ClusterRecord = z
  .object({
    name: z.string(),
    uuid: z.string(),
    version: z
      .object({
        full: z.string().optional(),
        generation: z.number().optional(),
        major: z.number().optional(),
        minor: z.number().optional(),
      })
      .optional(),
  })
  .transform((r) => ({ name: r.name, uuid: r.uuid, version: versionText(r.version) }));
export type ClusterInfo = z.output<typeof ClusterRecord>;

function versionText(v: { full?: string; generation?: number; major?: number; minor?: number } | undefined): string {
  if (v === undefined) return "unknown";
  if (v.generation !== undefined && v.major !== undefined && v.minor !== undefined) {
    return `${v.generation}.${v.major}.${v.minor}`;
  }
  return v.full ?? "unknown";
}

export const NodeRecord = z.object({ uuid: z.string(), name: z.string() });
export type OntapNode = z.output<typeof NodeRecord>;

/**
 * The wire name is `volume-count` (hyphen), as NetApp's own client maps it (`netapp_ontap/resources/aggregate.py`:
 * `data_key="volume-count"`). Required: placement by load must fail loudly rather than place blind on a count of 0.
 */
export const AggregateRecord = z
  .object({ uuid: z.string(), name: z.string(), "volume-count": z.number().int().nonnegative() })
  .transform((r) => ({ uuid: r.uuid, name: r.name, volumeCount: r["volume-count"] }));
export type Aggregate = z.output<typeof AggregateRecord>;

/** Known SVM states; an unexpected one is kept as text rather than rejected, since ONTAP versions add states. */
export type SvmState = "starting" | "running" | "stopping" | "stopped" | "deleting" | "initializing" | (string & {});

/**
 * One of an SVM's `ip_interfaces` (NetApp's `IpInterfaceSvmSchema`): unlike the interfaces collection,
 * `service_policy` is a plain string here.
 */
const SvmInterfaceRecord = z
  .object({
    uuid: z.string(),
    name: z.string(),
    ip: z.object({ address: z.string(), netmask: z.union([z.string(), z.number()]).transform(String).optional() }),
    location: z.object({ home_node: z.object({ uuid: z.string().optional() }).optional() }).optional(),
    service_policy: z.string().optional(),
  })
  .transform((r) => {
    const lif: Lif = { uuid: r.uuid, name: r.name, ipAddress: r.ip.address, netmask: r.ip.netmask ?? "" };
    const home = r.location?.home_node?.uuid;
    if (home !== undefined) lif.homeNodeUuid = home;
    if (r.service_policy !== undefined) lif.servicePolicy = r.service_policy;
    return lif;
  });

export const SvmRecord = z
  .object({
    uuid: z.string(),
    name: z.string(),
    state: z.string().optional(),
    subtype: z.string().optional(),
    nvme: z.object({ enabled: z.boolean().optional() }).optional(),
    ip_interfaces: z.array(SvmInterfaceRecord).optional(),
    aggregates: z.array(z.object({ uuid: z.string() })).optional(),
  })
  .transform((r) => {
    const svm: Svm = { uuid: r.uuid, name: r.name, state: r.state ?? "unknown" };
    if (r.aggregates !== undefined) svm.aggregateUuids = r.aggregates.map((a) => a.uuid);
    if (r.nvme?.enabled !== undefined) svm.nvmeEnabled = r.nvme.enabled;
    if (r.subtype !== undefined) svm.subtype = r.subtype;
    if (r.ip_interfaces !== undefined) svm.interfaces = r.ip_interfaces;
    return svm;
  });
export interface Svm {
  uuid: string;
  name: string;
  state: SvmState;
  nvmeEnabled?: boolean;
  /** `default`, `sync_source`, `sync_destination`, ... (MetroCluster). */
  subtype?: string;
  /**
   * The SVM's IP interfaces as the lookup brought them (`ip_interfaces`), so a no-op reconcile needs no
   * separate interface list. Absent when the answer did not carry the field (an ONTAP that omits an empty
   * array): then the caller lists the interfaces itself.
   */
  interfaces?: Lif[];
  /**
   * The SVM's aggr-list (`aggregates`) as the lookup brought it. Absent when the answer did not carry the field:
   * then nothing is known about it, and nothing is assigned.
   */
  aggregateUuids?: string[];
}

export const InterfaceRecord = z
  .object({
    uuid: z.string(),
    name: z.string(),
    ip: z.object({ address: z.string(), netmask: z.union([z.string(), z.number()]).transform(String) }),
    location: z.object({ home_node: z.object({ uuid: z.string().optional() }).optional() }).optional(),
    service_policy: z.object({ name: z.string().optional() }).optional(),
    state: z.string().optional(),
    svm: z.object({ uuid: z.string().optional() }).optional(),
  })
  .transform((r) => {
    const lif: Lif = { uuid: r.uuid, name: r.name, ipAddress: r.ip.address, netmask: r.ip.netmask };
    if (r.state !== undefined) lif.state = r.state;
    if (r.svm?.uuid !== undefined) lif.svmUuid = r.svm.uuid;
    const home = r.location?.home_node?.uuid;
    if (home !== undefined) lif.homeNodeUuid = home;
    if (r.service_policy?.name !== undefined) lif.servicePolicy = r.service_policy.name;
    return lif;
  });
export interface Lif {
  uuid: string;
  name: string;
  ipAddress: string;
  netmask: string;
  homeNodeUuid?: string;
  servicePolicy?: string;
  /** Operational state as ONTAP reports it: "up" or "down". */
  state?: string;
  /** The owning SVM, when the list was asked for it (the cluster-wide list). */
  svmUuid?: string;
}

export const AccountRecord = z
  .object({
    name: z.string(),
    owner: z.object({ uuid: z.string(), name: z.string().optional() }),
    role: z.object({ name: z.string().optional() }).optional(),
    locked: z.boolean().optional(),
    comment: z.string().optional(),
  })
  .transform((r) => {
    const account: Account = { name: r.name, ownerUuid: r.owner.uuid };
    if (r.comment !== undefined && r.comment !== "") account.comment = r.comment;
    if (r.owner.name !== undefined) account.ownerName = r.owner.name;
    if (r.role?.name !== undefined) account.role = r.role.name;
    if (r.locked !== undefined) account.locked = r.locked;
    return account;
  });
export interface Account {
  name: string;
  ownerUuid: string;
  ownerName?: string;
  role?: string;
  locked?: boolean;
  /** Who owns it, as this controller records it (plan.ts `ownerComment`). */
  comment?: string;
}

/** One tuple of a REST role: an API path and what the role may do there. */
export interface RolePrivilege {
  path: string;
  access: string;
}

export const RoleRecord = z
  .object({
    name: z.string(),
    owner: z.object({ uuid: z.string() }),
    privileges: z.array(z.object({ path: z.string(), access: z.string().optional() })).optional(),
  })
  .transform((r): Role => ({
    name: r.name,
    ownerUuid: r.owner.uuid,
    // A legacy (command-directory) tuple has an access too; one without is nothing this project wrote.
    privileges: (r.privileges ?? []).map((p) => ({ path: p.path, access: p.access ?? "" })),
  }));
export interface Role {
  name: string;
  ownerUuid: string;
  privileges: RolePrivilege[];
}

export type JobState = "queued" | "running" | "paused" | "success" | "failure" | (string & {});

export const JobRecord = z
  .object({ uuid: z.string(), state: z.string(), code: Code.optional(), message: z.string().optional() })
  .transform((r) => {
    const job: Job = { uuid: r.uuid, state: r.state };
    // ONTAP reports code 0 on success; only a real code says something.
    if (r.code !== undefined && r.code !== "0") job.code = r.code;
    if (r.message !== undefined) job.message = r.message;
    return job;
  });
export interface Job {
  uuid: string;
  state: JobState;
  code?: string;
  message?: string;
}

export interface JobRef {
  uuid: string;
}

/** `{"job": {"uuid": ...}}`, the body of a 202. */
export const JobAccepted = z.object({ job: z.object({ uuid: z.string() }) }).transform((r) => ({ uuid: r.job.uuid }));

export const NextLink = z
  .object({ next: z.object({ href: z.string() }).optional() })
  .optional()
  .transform((l) => l?.next?.href);

export function collectionOf<S extends z.ZodType>(record: S) {
  return z.object({
    records: z.array(record).optional().default([]),
    num_records: z.number().int().nonnegative().optional(),
    _links: NextLink,
  });
}

export const CountOnly = z.object({ num_records: z.number().int().nonnegative() });
