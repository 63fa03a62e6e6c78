import { invalidResponse } from "./errors.js";
import { exactFilterValue } from "./query.js";
import { createWithLookup } from "./retry.js";
import { collectionOf, InterfaceRecord, type Lif } from "./schemas.js";
import { type CallOptions, ENDPOINTS, type RequestSpec, type Requester } from "./request.js";

// `state` (up/down) is only read by the health check; the reconcile never changes a LIF's state.
const LIF_FIELDS = ["uuid", "name", "ip.address", "ip.netmask", "location.home_node.uuid", "service_policy.name", "state"];

export interface CreateInterfaceInput {
  name: string;
  svmUuid: string;
  ipAddress: string;
  netmask: string;
  homeNodeUuid: string;
  servicePolicy: string;
  vip?: boolean;
}

export interface InterfaceOperations {
  listInterfaces(svmUuid: string, opts?: CallOptions): Promise<Lif[]>;
  /** Every IP interface of the cluster with its SVM's uuid (the bulk observation). */
  listAllInterfaces(opts?: CallOptions): Promise<Lif[]>;
  createInterface(input: CreateInterfaceInput, opts?: CallOptions): Promise<Lif>;
  patchInterface(uuid: string, change: { ipAddress: string; netmask: string }, opts?: CallOptions): Promise<void>;
  /** Already gone counts as deleted. */
  deleteInterface(uuid: string, opts?: CallOptions): Promise<void>;
}

/** Network interfaces (LIFs) of an SVM. */
export function interfaceOperations(r: Requester): InterfaceOperations {
  const { contextOf, sendOnce, retryOptions, request, parse, listAll, deleteIdempotent } = r;
  async function findInterfaceExact(
    svmUuid: string,
    name: string,
    operation: string,
    signal: AbortSignal | undefined,
    attempt: number,
  ) {
    const spec: RequestSpec = {
      operation,
      method: "GET",
      endpoint: ENDPOINTS.interfaces,
      query: { "svm.uuid": svmUuid, name, fields: LIF_FIELDS },
      signal,
    };
    const res = await sendOnce(spec, attempt);
    const records = parse(collectionOf(InterfaceRecord), res.body, spec).records;
    return records.find((l) => l.name === name);
  }

  const ops: InterfaceOperations = {
      listInterfaces(svmUuid, callOpts = {}) {
        return listAll(
          {
            operation: `list interfaces of SVM ${svmUuid}`,
            method: "GET",
            endpoint: ENDPOINTS.interfaces,
            query: { "svm.uuid": exactFilterValue(svmUuid, "SVM uuid"), fields: LIF_FIELDS },
            signal: callOpts.signal,
          },
          InterfaceRecord,
        );
      },

      listAllInterfaces(callOpts = {}) {
        return listAll(
          {
            operation: "list interfaces",
            method: "GET",
            endpoint: ENDPOINTS.interfaces,
            query: { fields: ["uuid", "name", "ip.address", "ip.netmask", "state", "svm.uuid"] },
            signal: callOpts.signal,
          },
          InterfaceRecord,
        );
      },

      async createInterface(input, callOpts = {}) {
        const name = exactFilterValue(input.name, "interface name");
        const svmUuid = exactFilterValue(input.svmUuid, "SVM uuid");
        const operation = `create interface ${name} on SVM ${svmUuid}`;
        const spec: RequestSpec = {
          operation,
          method: "POST",
          endpoint: ENDPOINTS.interfaces,
          // The created record comes back in the answer, sparing a lookup per interface.
          query: { return_records: true },
          body: {
            name,
            ip: { address: input.ipAddress, netmask: input.netmask },
            svm: { uuid: svmUuid },
            location: { home_node: { uuid: input.homeNodeUuid } },
            service_policy: { name: input.servicePolicy },
            enabled: true,
            ...(input.vip !== undefined ? { vip: input.vip } : {}),
          },
          signal: callOpts.signal,
        };
        return createWithLookup<Lif>({
          ...retryOptions(spec),
          create: async (attempt) => {
            const res = await sendOnce(spec, attempt);
            const returned = collectionOf(InterfaceRecord).safeParse(res.body);
            const record = returned.success ? returned.data.records.find((l) => l.name === name) : undefined;
            if (record) return record;
            const lif = await findInterfaceExact(svmUuid, name, operation, callOpts.signal, attempt);
            if (!lif) throw invalidResponse(contextOf(spec), "interface created but not found by name");
            return lif;
          },
          lookup: (attempt) => findInterfaceExact(svmUuid, name, operation, callOpts.signal, attempt),
        });
      },

      async patchInterface(uuid, change, callOpts = {}) {
        await request({
          operation: `patch interface ${uuid}`,
          method: "PATCH",
          endpoint: ENDPOINTS.interface,
          params: { uuid },
          body: { ip: { address: change.ipAddress, netmask: change.netmask } },
          signal: callOpts.signal,
        });
      },

      async deleteInterface(uuid, callOpts = {}) {
        await deleteIdempotent({
          operation: `delete interface ${uuid}`,
          method: "DELETE",
          endpoint: ENDPOINTS.interface,
          params: { uuid },
          signal: callOpts.signal,
        });
      },
  };
  return ops;
}
