import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Codes, invalidValue, missingField, notFound, SimError } from "../errors.js";
import { parseBody } from "../http.js";
import { type RequestContext, type Route, requireClusterAdmin, } from "../routes.js";
import type { ClusterState, SimInterface, SimNode, SimSvm } from "../state.js";
import { interfaceView } from "../views.js";
import { createdResponse, readRoutes, Ref, writeQuery } from "./common.js";

export const SERVICE_POLICIES = [
  "default-data-files",
  "default-data-blocks",
  "default-data-iscsi",
  "default-data-nvme-tcp",
  "default-management",
  "default-intercluster",
  "default-route-announce",
] as const;


const Netmask = z.union([z.string(), z.number().int()]);

const Location = z
  .object({
    home_node: Ref.optional(),
    home_port: z.object({ name: z.string().optional(), uuid: z.string().optional(), node: Ref.optional() }).strict().optional(),
    broadcast_domain: Ref.optional(),
    auto_revert: z.boolean().optional(),
    failover: z.string().optional(),
  })
  .strict();

const InterfaceCreate = z
  .object({
    name: z.string().min(1),
    ip: z.object({ address: z.string(), netmask: Netmask, family: z.literal("ipv4").optional() }).strict(),
    svm: Ref,
    location: Location.optional(),
    service_policy: Ref.optional(),
    enabled: z.boolean().optional(),
    vip: z.boolean().optional(),
    scope: z.literal("svm").optional(),
    ipspace: Ref.optional(),
    comment: z.string().optional(),
    dns_zone: z.string().optional(),
  })
  .strict();

const InterfacePatch = z
  .object({
    name: z.string().min(1).optional(),
    ip: z.object({ address: z.string().optional(), netmask: Netmask.optional() }).strict().optional(),
    location: Location.optional(),
    service_policy: Ref.optional(),
    enabled: z.boolean().optional(),
    comment: z.string().optional(),
  })
  .strict();

function checkAddress(address: string): string {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!octets || octets.slice(1).some((o) => Number(o) > 255)) throw invalidValue("ip.address", "not an IPv4 address");
  return address;
}

/** ONTAP accepts a length ("24", 24) or a mask ("255.255.255.0") and always reports the length. */
function normalizeNetmask(input: string | number): string {
  const text = String(input);
  if (/^\d{1,2}$/.test(text) && Number(text) <= 32) return String(Number(text));
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (octets) {
    const bits = octets
      .slice(1)
      .map((o) => Number(o).toString(2).padStart(8, "0"))
      .join("");
    if (octets.slice(1).every((o) => Number(o) <= 255) && /^1*0*$/.test(bits)) return String(bits.indexOf("0") < 0 ? 32 : bits.indexOf("0"));
  }
  throw invalidValue("ip.netmask", "expected a netmask length or an IPv4 mask");
}

function resolveSvm(state: ClusterState, ref: { uuid?: string; name?: string }): SimSvm {
  if (ref.uuid === undefined && ref.name === undefined) throw missingField("svm.uuid");
  const svm = ref.uuid !== undefined ? state.svms.get(ref.uuid) : [...state.svms.values()].find((v) => v.name === ref.name);
  if (!svm || (ref.name !== undefined && svm.name !== ref.name)) {
    throw new SimError(400, Codes.notFound, "entry doesn't exist", ref.uuid !== undefined ? "svm.uuid" : "svm.name");
  }
  return svm;
}

function resolveHomeNode(state: ClusterState, location: z.infer<typeof Location> | undefined): SimNode | undefined {
  const ref = location?.home_node ?? location?.home_port?.node;
  if (!ref || (ref.uuid === undefined && ref.name === undefined)) return undefined;
  const node = state.nodes.find(
    (n) => (ref.uuid === undefined || n.uuid === ref.uuid) && (ref.name === undefined || n.name === ref.name),
  );
  if (!node) throw new SimError(400, Codes.notFound, "entry doesn't exist", "location.home_node.uuid");
  return node;
}

function checkServicePolicy(ref: { name?: string; uuid?: string } | undefined): string | undefined {
  if (ref?.name === undefined) return undefined;
  if (!(SERVICE_POLICIES as readonly string[]).includes(ref.name)) {
    throw invalidValue("service_policy.name", `service policy "${ref.name}" does not exist`);
  }
  return ref.name;
}

/** A name is unique within its SVM, an address within the whole cluster. */
function checkUnique(state: ClusterState, candidate: SimInterface): void {
  for (const other of state.interfaces.values()) {
    if (other.uuid === candidate.uuid) continue;
    if (other.svmUuid === candidate.svmUuid && other.name === candidate.name) {
      const svmName = state.svms.get(candidate.svmUuid)?.name ?? candidate.svmUuid;
      throw new SimError(
        400,
        Codes.duplicateInterfaceName,
        `Duplicate LIF name "${candidate.name}": an interface with the same name already exists in SVM "${svmName}".`,
        "name",
      );
    }
    if (other.address === candidate.address) {
      throw new SimError(400, Codes.duplicateIp, `Duplicate IP address "${candidate.address}".`, "ip.address");
    }
  }
}

function createInterface(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  const query = writeQuery(ctx, true);
  const body = parseBody(InterfaceCreate, ctx.body);
  const state = ctx.sim.state;
  const svm = resolveSvm(state, body.svm);
  const vip = body.vip ?? false;
  if (vip && !state.bgp) {
    throw new SimError(400, Codes.vipWithoutBgp, "A VIP interface requires BGP peer groups in the IPspace.", "vip");
  }
  if (body.ipspace?.name !== undefined && body.ipspace.name !== "Default") {
    throw new SimError(400, Codes.notFound, "entry doesn't exist", "ipspace.name");
  }
  const lif: SimInterface = {
    uuid: randomUUID(),
    name: body.name,
    svmUuid: svm.uuid,
    address: checkAddress(body.ip.address),
    netmask: normalizeNetmask(body.ip.netmask),
    homeNodeUuid: (resolveHomeNode(state, body.location) ?? state.nodes[0]!).uuid,
    servicePolicy: checkServicePolicy(body.service_policy) ?? "default-data-files",
    enabled: body.enabled ?? true,
    vip,
  };
  checkUnique(state, lif);
  state.interfaces.set(lif.uuid, lif);
  return createdResponse(`/api/network/ip/interfaces/${lif.uuid}`, interfaceView(state, lif), query.returnRecords);
}

function patchInterface(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  const body = parseBody(InterfacePatch, ctx.body);
  const state = ctx.sim.state;
  const lif = state.interfaces.get(ctx.params.uuid!);
  if (!lif) throw notFound();
  const next: SimInterface = {
    ...lif,
    name: body.name ?? lif.name,
    address: body.ip?.address !== undefined ? checkAddress(body.ip.address) : lif.address,
    netmask: body.ip?.netmask !== undefined ? normalizeNetmask(body.ip.netmask) : lif.netmask,
    homeNodeUuid: resolveHomeNode(state, body.location)?.uuid ?? lif.homeNodeUuid,
    servicePolicy: checkServicePolicy(body.service_policy) ?? lif.servicePolicy,
    enabled: body.enabled ?? lif.enabled,
  };
  checkUnique(state, next);
  state.interfaces.set(lif.uuid, next);
  return { status: 200, body: {} };
}

function deleteInterface(ctx: RequestContext) {
  requireClusterAdmin(ctx);
  writeQuery(ctx);
  if (!ctx.sim.state.interfaces.delete(ctx.params.uuid!)) throw notFound();
  return { status: 200, body: {} };
}

export const interfaceRoutes: Route[] = [
  ...readRoutes({
    kind: "interfaces",
    collection: "/api/network/ip/interfaces",
    all: (s) => s.interfaces.values(),
    find: (s, params) => s.interfaces.get(params.uuid!),
    view: (s) => (i) => interfaceView(s, i),
    scope: { svmOf: (i) => i.svmUuid },
  }),
  { method: "POST", template: "/api/network/ip/interfaces", handler: createInterface },
  { method: "PATCH", template: "/api/network/ip/interfaces/{uuid}", handler: patchInterface },
  { method: "DELETE", template: "/api/network/ip/interfaces/{uuid}", handler: deleteInterface },
];
