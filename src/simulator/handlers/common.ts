import { z } from "zod";
import { notFound, SimError } from "../errors.js";
import type { SimResponse } from "../http.js";
import { isTerminal } from "../jobs.js";
import { type CollectionSpec, collectionResponse, parseQuery, project, START_PARAM } from "../query.js";
import { type RequestContext, type Route, requireClusterAdmin, svmScope } from "../routes.js";
import type { ClusterState, SimJob } from "../state.js";
import { KNOWN_FIELDS, type Rec } from "../views.js";

export type CollectionKind = keyof typeof KNOWN_FIELDS;

const COLLECTION_CONTROLS = ["fields", "max_records", "return_records", "return_timeout", START_PARAM] as const;

/** `{uuid?, name?}` reference as ONTAP accepts it in bodies. */
export const Ref = z.object({ uuid: z.string().optional(), name: z.string().optional() }).strict();

const UUID_AND_NAME = ["uuid", "name"] as const;

export const byName: CollectionSpec["sortKey"] = (r) => `${String(r.name)}\u0000${String(r.uuid)}`;

export function listCollection(ctx: RequestContext, kind: CollectionKind, records: Rec[], spec: CollectionSpec): SimResponse {
  const query = parseQuery(ctx.query, { allow: COLLECTION_CONTROLS, known: KNOWN_FIELDS[kind], filters: true });
  return { status: 200, body: collectionResponse(ctx.path, ctx.query, records, query, spec) };
}

/** A single record: all fields by default (as ONTAP does for instance GETs), `fields` narrows it. */
export function getInstance(
  ctx: RequestContext,
  kind: CollectionKind,
  record: Rec | undefined,
  keyFields: readonly string[],
): SimResponse {
  const query = parseQuery(ctx.query, { allow: ["fields", "return_timeout"], known: KNOWN_FIELDS[kind] });
  if (!record) throw notFound();
  return { status: 200, body: query.fields === undefined ? record : project(record, query.fields, keyFields) };
}

/**
 * Who may read a collection: cluster accounts only; or every caller, an SVM-scoped one seeing only its SVM's
 * records (`svmOf`), or everything (`all`, cluster objects a role lists as readonly), or what `visibleTo` says.
 */
export type ReadScope<T> =
  | "cluster"
  | { svmOf: (item: T) => string | undefined; all?: boolean }
  | { visibleTo: (state: ClusterState, svmUuid: string) => (item: T) => boolean };

/**
 * The two read routes of a collection: GET the collection and GET one record. An SVM-scoped caller sees only
 * its own SVM's records (the others do not exist for it, a GET of one is a 404); a cluster-only collection
 * refuses SVM callers.
 */
export function readRoutes<T>(spec: {
  kind: CollectionKind;
  collection: string;
  /** Default: `<collection>/{uuid}`. */
  instance?: string;
  all: (state: ClusterState) => Iterable<T>;
  find: (state: ClusterState, params: Readonly<Record<string, string>>) => T | undefined;
  /** Made once per request, so a list can share what its records' views derive (an SVM's LIFs). */
  view: (state: ClusterState) => (item: T) => Rec;
  /** Default: uuid and name, sorted by name. */
  keys?: readonly string[];
  sortKey?: CollectionSpec["sortKey"];
  scope: ReadScope<T>;
}): Route[] {
  const keys = spec.keys ?? UUID_AND_NAME;
  const sortKey = spec.sortKey ?? byName;
  const visibleTo = (ctx: RequestContext): ((item: T) => boolean) => {
    const { scope } = spec;
    if (scope === "cluster") {
      requireClusterAdmin(ctx);
      return () => true;
    }
    const svm = svmScope(ctx);
    if (svm === undefined) return () => true;
    if ("visibleTo" in scope) return scope.visibleTo(ctx.sim.state, svm);
    if (scope.all) return () => true;
    return (item) => scope.svmOf(item) === svm;
  };
  return [
    {
      method: "GET",
      template: spec.collection,
      handler: (ctx) => {
        const visible = visibleTo(ctx);
        const s = ctx.sim.state;
        const records = [...spec.all(s)].filter(visible).map(spec.view(s));
        return listCollection(ctx, spec.kind, records, { keyFields: keys, sortKey });
      },
    },
    {
      method: "GET",
      template: spec.instance ?? `${spec.collection}/{uuid}`,
      handler: (ctx) => {
        const visible = visibleTo(ctx);
        const s = ctx.sim.state;
        const item = spec.find(s, ctx.params);
        return getInstance(ctx, spec.kind, item !== undefined && visible(item) ? spec.view(s)(item) : undefined, keys);
      },
    },
  ];
}

/**
 * Query of a write: `return_timeout` always, `return_records` where the operation supports it, and the
 * operation's own flags (`force`, `allow_delete_with_hosts`), which come back as `flags`.
 */
export function writeQuery(ctx: RequestContext, withRecords = false, flags: readonly string[] = []) {
  const allow = withRecords ? ["return_timeout", "return_records"] : ["return_timeout"];
  const own = new URLSearchParams();
  const rest = new URLSearchParams();
  for (const [name, value] of ctx.query) (flags.includes(name) ? own : rest).append(name, value);
  const parsed = parseQuery(rest, { allow, known: new Set() });
  const flagValues: Record<string, boolean> = {};
  for (const [name, value] of own) {
    // Case-insensitive, as NetApp's own Python client sends `True`.
    const lower = value.toLowerCase();
    if (lower !== "true" && lower !== "false") throw new SimError(400, "2", `Invalid value for field "${name}": expected true or false.`, name);
    flagValues[name] = lower === "true";
  }
  return { ...parsed, flags: flagValues };
}

/**
 * The SVM a write names in its body (`svm.uuid` or `svm.name`), checked against the caller: an SVM-scoped
 * account may only name its own SVM (another one does not exist for it), and without a reference it is its own.
 */
export function svmForWrite(ctx: RequestContext, ref: { uuid?: string; name?: string } | undefined, target = "svm.uuid"): string {
  const state = ctx.sim.state;
  const own = ctx.identity.kind === "svm" ? ctx.identity.svmUuid : undefined;
  if (!ref || (ref.uuid === undefined && ref.name === undefined)) {
    if (own) return own;
    throw new SimError(400, "2", `Missing value for required field "${target}".`, target);
  }
  const svm = ref.uuid !== undefined ? state.svms.get(ref.uuid) : [...state.svms.values()].find((v) => v.name === ref.name);
  if (!svm || (ref.name !== undefined && svm.name !== ref.name) || (own !== undefined && svm.uuid !== own)) {
    throw new SimError(400, "4", "entry doesn't exist", target);
  }
  return svm.uuid;
}

/** Whether the caller may see an object of this SVM (cluster accounts see all). */
export function visibleSvm(ctx: RequestContext, svmUuid: string | undefined): boolean {
  const scope = svmScope(ctx);
  return scope === undefined || scope === svmUuid;
}

export function createdResponse(location: string, record: Rec, returnRecords: boolean | undefined): SimResponse {
  const body = returnRecords ? { num_records: 1, records: [record] } : {};
  return { status: 201, body, headers: { Location: location } };
}

/**
 * The answer to a call that started a job: 202 with the job link at once, or, with return_timeout,
 * the job's outcome if it ends in time (success: `doneStatus`; failure: the job's error).
 */
export async function jobResponse(
  ctx: RequestContext,
  job: SimJob,
  returnTimeoutSeconds: number | undefined,
  doneStatus: number,
  extra: Rec = {},
): Promise<SimResponse> {
  const body = { ...extra, job: { uuid: job.uuid, _links: { self: { href: `/api/cluster/jobs/${job.uuid}` } } } };
  if (!returnTimeoutSeconds) return { status: 202, body };
  const final = await ctx.sim.jobs.waitFor(job, returnTimeoutSeconds * 1000);
  if (!isTerminal(final)) return { status: 202, body };
  if (final.state === "failure") throw new SimError(final.failureStatus ?? 400, String(final.code), final.message);
  return { status: doneStatus, body };
}
