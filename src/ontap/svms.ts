import { type WaitForJobOptions, waitForJob as waitForJobWith } from "./jobs.js";
import { exactFilterValue, svmNameFilter } from "./query.js";
import { createWithLookup } from "./retry.js";
import { collectionOf, type Job, JobRecord, type JobRef, type Svm, SvmRecord } from "./schemas.js";
import { type CallOptions, ENDPOINTS, type RequestSpec, type Requester } from "./request.js";

// `ip_interfaces` and `aggregates` ride along so the LIF check and the aggregate check of a reconcile need no
// request of their own.
const SVM_FIELDS = ["uuid", "name", "state", "subtype", "nvme.enabled", "ip_interfaces", "aggregates"];
// The bulk list leaves `ip_interfaces` out: it lacks the LIFs' state, which the interfaces list brings.
const SVM_LIST_FIELDS = ["uuid", "name", "state", "subtype", "nvme.enabled"];

export interface CreateSvmInput {
  name: string;
  aggregateUuids: string[];
}

export interface SvmOperations {
  /** SVMs named `name` or `name-mc` (a MetroCluster sync-destination copy) on this cluster. */
  findSvmsByName(name: string, opts?: CallOptions): Promise<Svm[]>;
  /** Every SVM of the cluster, without their interfaces (the bulk observation: one request per cluster, not per shoot). */
  listSvms(opts?: CallOptions): Promise<Svm[]>;
  getSvm(uuid: string, opts?: CallOptions): Promise<Svm | undefined>;
  /** Never waits for the job: a 202 returns `{job}`, a 201 (or a create found by lookup) returns `{svm}`. */
  createSvm(input: CreateSvmInput, opts?: CallOptions): Promise<{ svm?: Svm; job?: JobRef }>;
  /**
   * Sets the SVM's aggr-list (the aggregates its volumes may use) to exactly `aggregateUuids`: ONTAP replaces the
   * list, so a caller that adds one sends the ones it keeps too. `{job}` when ONTAP answered 202 (not waited for).
   */
  setSvmAggregates(uuid: string, aggregateUuids: readonly string[], opts?: CallOptions): Promise<{ job?: JobRef }>;
  /** `{}` when deleted at once or already gone; `{job}` when ONTAP answered 202. */
  deleteSvm(uuid: string, opts?: CallOptions): Promise<{ job?: JobRef }>;
  getJob(uuid: string, opts?: CallOptions): Promise<Job>;
  waitForJob(job: JobRef, opts?: WaitForJobOptions): Promise<Job>;
  countDataVolumes(svmUuid: string, opts?: CallOptions): Promise<number>;
}

/** SVMs, their jobs and the volume count that decides whether one may go. */
export function svmOperations(r: Requester): SvmOperations {
  const { cluster, transport, sendOnce, retryOptions, request, parse, listAll, count, getOptional, deleteIdempotent, jobOf } = r;
  function svmsByNameSpec(operation: string, nameFilter: string, signal?: AbortSignal): RequestSpec {
    return {
      operation,
      method: "GET",
      endpoint: ENDPOINTS.svms,
      query: { name: nameFilter, fields: SVM_FIELDS },
      signal,
    };
  }

  async function findSvmExact(name: string, operation: string, signal: AbortSignal | undefined, attempt: number) {
    // Single attempt: the caller (a create's retry loop) owns retries.
    const spec = svmsByNameSpec(operation, name, signal);
    const res = await sendOnce(spec, attempt);
    const records = parse(collectionOf(SvmRecord), res.body, spec).records;
    return records.find((s) => s.name === name);
  }

  const ops: SvmOperations = {
      findSvmsByName(name, callOpts = {}) {
        return listAll(svmsByNameSpec(`find SVM ${name}`, svmNameFilter(name), callOpts.signal), SvmRecord);
      },

      listSvms(callOpts = {}) {
        return listAll(
          { operation: "list SVMs", method: "GET", endpoint: ENDPOINTS.svms, query: { fields: SVM_LIST_FIELDS }, signal: callOpts.signal },
          SvmRecord,
        );
      },

      getSvm(uuid, callOpts = {}) {
        return getOptional(
          {
            operation: `get SVM ${uuid}`,
            method: "GET",
            endpoint: ENDPOINTS.svm,
            params: { uuid },
            query: { fields: SVM_FIELDS },
            signal: callOpts.signal,
          },
          SvmRecord,
        );
      },

      async createSvm(input, callOpts = {}) {
        const name = exactFilterValue(input.name, "SVM name");
        const operation = `create SVM ${name}`;
        const spec: RequestSpec = {
          operation,
          method: "POST",
          endpoint: ENDPOINTS.svms,
          body: {
            name,
            aggregates: input.aggregateUuids.map((uuid) => ({ uuid })),
            nvme: { enabled: true, allowed: true },
          },
          signal: callOpts.signal,
        };
        return createWithLookup<{ svm?: Svm; job?: JobRef }>({
          ...retryOptions(spec),
          create: async (attempt) => {
            const res = await sendOnce(spec, attempt);
            const job = jobOf(res, spec);
            if (job) return { job };
            // 201 without a job: the SVM exists now; fetch it so the caller gets its uuid and state.
            const svm = await findSvmExact(name, operation, callOpts.signal, attempt);
            return svm ? { svm } : {};
          },
          lookup: async (attempt) => {
            const svm = await findSvmExact(name, operation, callOpts.signal, attempt);
            return svm ? { svm } : undefined;
          },
        });
      },

      async setSvmAggregates(uuid, aggregateUuids, callOpts = {}) {
        const spec: RequestSpec = {
          operation: `set aggregates of SVM ${uuid}`,
          method: "PATCH",
          endpoint: ENDPOINTS.svm,
          params: { uuid },
          body: { aggregates: aggregateUuids.map((u) => ({ uuid: u })) },
          signal: callOpts.signal,
        };
        // Safe to retry: the body is the whole list, so a repeat sets the same list.
        const res = await request(spec);
        const job = jobOf(res, spec);
        return job ? { job } : {};
      },

      async deleteSvm(uuid, callOpts = {}) {
        const spec: RequestSpec = {
          operation: `delete SVM ${uuid}`,
          method: "DELETE",
          endpoint: ENDPOINTS.svm,
          params: { uuid },
          signal: callOpts.signal,
        };
        const res = await deleteIdempotent(spec);
        const job = res ? jobOf(res, spec) : undefined;
        return job ? { job } : {};
      },

      async getJob(uuid, callOpts = {}) {
        const spec: RequestSpec = {
          operation: `get job ${uuid}`,
          method: "GET",
          endpoint: ENDPOINTS.job,
          params: { uuid },
          query: { fields: ["uuid", "state", "code", "message"] },
          signal: callOpts.signal,
        };
        return parse(JobRecord, (await request(spec)).body, spec);
      },

      waitForJob(job, waitOpts = {}) {
        return waitForJobWith(
          {
            cluster,
            secrets: transport.secrets,
            getJob: (uuid, signal) => ops.getJob(uuid, signal ? { signal } : {}),
          },
          job,
          waitOpts,
        );
      },

      countDataVolumes(svmUuid, callOpts = {}) {
        return count({
          operation: `count data volumes of SVM ${svmUuid}`,
          method: "GET",
          endpoint: ENDPOINTS.volumes,
          query: { "svm.uuid": exactFilterValue(svmUuid, "SVM uuid"), is_svm_root: false },
          signal: callOpts.signal,
        });
      },
  };
  return ops;
}
