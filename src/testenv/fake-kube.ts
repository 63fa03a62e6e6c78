import { randomUUID } from "node:crypto";
import type { KubeClient, KubeVerb, ListOptions, WatchEvent, WatchOptions } from "../kube/client.js";
import { KubeError, type KubeErrorReason } from "../kube/errors.js";
import { apiVersionOf, type ResourceType } from "../kube/resources.js";
import type { KubeObject } from "../kube/objects.js";

/**
 * An in-memory KubeClient for unit tests: resourceVersions, optimistic concurrency (Conflict),
 * AlreadyExists, NotFound, generation bumps on spec changes, the status subresource, finalizers with
 * deletionTimestamp, label/field selectors, and watches that replay from a resourceVersion and answer 410
 * Gone once `compact()` dropped it. It is not an API server: no validation, no defaulting, no admission.
 * Integration tests use the real kube-apiserver.
 */

// biome-ignore lint/suspicious/noExplicitAny: stored objects are arbitrary JSON.
type Obj = any;

interface StoredEvent {
  rv: number;
  typeKey: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: Obj;
}

interface Watcher {
  typeKey: string;
  namespace: string | undefined;
  opts: WatchOptions;
  onEvent: (ev: WatchEvent) => void;
  fail: (err: unknown) => void;
}

export interface FakeFault {
  verb: KubeVerb;
  resource?: string;
  reason: KubeErrorReason;
  status?: number;
  /** How many matching calls fail; default 1. */
  times?: number;
  /** Apply the change, then fail anyway (a lost response). Only for writes. */
  afterApply?: boolean;
}

export interface FakeKubeClient extends KubeClient {
  /** Requests made, as `verb resource` strings (with `/status` for the subresource). */
  readonly requests: string[];
  /** Makes matching calls fail. */
  inject(fault: FakeFault): void;
  /** Forgets watch history up to now: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void;
  /** Ends every open watch stream cleanly (as the server does when a watch times out). */
  closeWatches(): void;
  /** Current objects of a type (copies). */
  objects(type: ResourceType): Obj[];
  currentResourceVersion(): string;
}

/** Types whose status is only written through the status subresource (CRDs with `subresources.status`). */
const STATUS_SUBRESOURCE = new Set([
  "extensions.gardener.cloud/extensions",
  "resources.gardener.cloud/managedresources",
  "extensions.gardener.cloud/clusters",
]);

export function createFakeKubeClient(): FakeKubeClient {
  const store = new Map<string, Map<string, Obj>>();
  const history: StoredEvent[] = [];
  const watchers = new Set<Watcher>();
  const faults: FakeFault[] = [];
  const requests: string[] = [];
  let rv = 1;
  let compactedTo = 0;

  const typeKey = (t: ResourceType) => `${t.group}/${t.plural}`;
  const objKey = (ns: string | undefined, name: string) => `${ns ?? ""}/${name}`;
  const clone = <T>(o: T): T => (o === undefined ? o : structuredClone(o));
  const bucket = (t: ResourceType) => {
    let b = store.get(typeKey(t));
    if (!b) {
      b = new Map();
      store.set(typeKey(t), b);
    }
    return b;
  };

  function error(reason: KubeErrorReason, verb: KubeVerb, t: ResourceType, ns?: string, name?: string, status?: number) {
    const codes: Partial<Record<KubeErrorReason, number>> = {
      NotFound: 404,
      Conflict: 409,
      AlreadyExists: 409,
      Gone: 410,
      Invalid: 422,
      Forbidden: 403,
      ServerError: 500,
      TooManyRequests: 429,
    };
    const s = status ?? codes[reason];
    return new KubeError({
      reason,
      verb,
      resource: t.plural,
      ...(s !== undefined ? { status: s } : {}),
      ...(ns ? { namespace: ns } : {}),
      ...(name ? { name } : {}),
    });
  }

  /** Records the request and returns a fault to apply, if one matches. */
  function enter(verb: KubeVerb, t: ResourceType, sub?: string): FakeFault | undefined {
    const resource = sub ? `${t.plural}/${sub}` : t.plural;
    requests.push(`${verb} ${resource}`);
    const i = faults.findIndex((f) => f.verb === verb && (!f.resource || f.resource === resource || f.resource === t.plural));
    if (i < 0) return undefined;
    const fault = faults[i]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults.splice(i, 1);
    return fault;
  }

  function raise(fault: FakeFault, verb: KubeVerb, t: ResourceType, ns?: string, name?: string): never {
    throw error(fault.reason, verb, t, ns, name, fault.status);
  }

  function emit(t: ResourceType, type: StoredEvent["type"], object: Obj): void {
    const ev: StoredEvent = { rv: Number(object.metadata.resourceVersion), typeKey: typeKey(t), type, object: clone(object) };
    history.push(ev);
    for (const w of watchers) deliver(w, ev);
  }

  function deliver(w: Watcher, ev: StoredEvent): void {
    if (w.typeKey !== ev.typeKey) return;
    if (w.namespace && ev.object.metadata.namespace !== w.namespace) return;
    if (!matches(ev.object, w.opts)) return;
    try {
      w.onEvent({ type: ev.type, object: clone(ev.object) });
    } catch (err) {
      w.fail(err);
    }
  }

  function matches(o: Obj, opts: { labelSelector?: string; fieldSelector?: string }): boolean {
    for (const term of (opts.labelSelector ?? "").split(",").filter(Boolean)) {
      const [k, v] = term.split("=") as [string, string | undefined];
      if (v === undefined ? !(k in (o.metadata.labels ?? {})) : o.metadata.labels?.[k] !== v) return false;
    }
    for (const term of (opts.fieldSelector ?? "").split(",").filter(Boolean)) {
      const [path, v] = term.split("=") as [string, string];
      const actual = path.split(".").reduce((acc: Obj, p) => acc?.[p], o);
      if (String(actual) !== v) return false;
    }
    return true;
  }

  function specOf(o: Obj): string {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  }

  /** Stores `next` over `prev` (an update), handling generation, status subresource and deletion. */
  function commit(t: ResourceType, prev: Obj, next: Obj, mode: "main" | "status"): Obj {
    const hasStatusSub = STATUS_SUBRESOURCE.has(typeKey(t));
    let merged: Obj;
    if (mode === "status") {
      merged = { ...clone(prev), status: clone(next.status) };
    } else {
      merged = clone(next);
      if (hasStatusSub) merged.status = clone(prev.status);
      // Immutable metadata stays as the server set it.
      merged.metadata = {
        ...merged.metadata,
        uid: prev.metadata.uid,
        creationTimestamp: prev.metadata.creationTimestamp,
        generation: prev.metadata.generation,
        ...(prev.metadata.deletionTimestamp ? { deletionTimestamp: prev.metadata.deletionTimestamp } : {}),
      };
      if (merged.metadata.generation !== undefined && specOf(merged) !== specOf(prev)) merged.metadata.generation++;
    }
    merged.apiVersion = apiVersionOf(t);
    merged.kind = t.kind;
    merged.metadata.resourceVersion = String(++rv);
    const b = bucket(t);
    const key = objKey(merged.metadata.namespace, merged.metadata.name);
    if (merged.metadata.deletionTimestamp && (merged.metadata.finalizers ?? []).length === 0) {
      b.delete(key);
      emit(t, "DELETED", merged);
    } else {
      b.set(key, merged);
      emit(t, "MODIFIED", merged);
    }
    return clone(merged);
  }

  function mergePatchValue(target: Obj, patch: Obj): Obj {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return clone(patch);
    const out: Obj = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = mergePatchValue(out[k], v);
    }
    return out;
  }

  const client: FakeKubeClient = {
    requests,
    inject: (fault) => {
      faults.push({ ...fault });
    },
    compact: () => {
      compactedTo = rv;
      history.length = 0;
    },
    closeWatches: () => {
      for (const w of [...watchers]) w.fail(undefined);
    },
    objects: (t) => [...bucket(t).values()].map(clone),
    currentResourceVersion: () => String(rv),

    async get(t, ns, name) {
      const fault = enter("get", t);
      if (fault) raise(fault, "get", t, ns, name);
      return clone(bucket(t).get(objKey(t.namespaced ? ns : undefined, name)));
    },

    async list(t, ns?: string, opts: ListOptions = {}) {
      const fault = enter("list", t);
      if (fault) raise(fault, "list", t, ns);
      const items = [...bucket(t).values()].filter((o) => (!ns || o.metadata.namespace === ns) && matches(o, opts));
      const transform = opts.transform ?? ((o: KubeObject) => o);
      // biome-ignore lint/suspicious/noExplicitAny: the in-memory store holds untyped objects, as the server does.
      return { items: items.map((o) => transform(clone(o)) as any), resourceVersion: String(rv) };
    },

    async create(t, obj) {
      const o: Obj = clone(obj);
      const ns = t.namespaced ? o.metadata?.namespace : undefined;
      const fault = enter("create", t);
      if (fault && !fault.afterApply) raise(fault, "create", t, ns, o.metadata?.name);
      if (t.namespaced && !ns) throw error("Invalid", "create", t, ns, o.metadata?.name);
      const b = bucket(t);
      const key = objKey(ns, o.metadata.name);
      if (b.has(key)) throw error("AlreadyExists", "create", t, ns, o.metadata.name);
      o.apiVersion = apiVersionOf(t);
      o.kind = t.kind;
      o.metadata = {
        ...o.metadata,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        resourceVersion: String(++rv),
        ...(t.group !== "" ? { generation: 1 } : {}),
      };
      if (STATUS_SUBRESOURCE.has(typeKey(t))) delete o.status;
      if (o.stringData) {
        o.data = { ...(o.data ?? {}) };
        for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v)).toString("base64");
        delete o.stringData;
      }
      b.set(key, o);
      emit(t, "ADDED", o);
      if (fault) raise(fault, "create", t, ns, o.metadata.name);
      return clone(o);
    },

    async update(t, obj) {
      return write(t, clone(obj), "main");
    },

    async updateStatus(t, obj) {
      return write(t, clone(obj), "status");
    },

    async mergePatch(t, ns, name, patch, opts: { subresource?: "status" } = {}) {
      const sub = opts.subresource;
      const fault = enter("patch", t, sub);
      if (fault && !fault.afterApply) raise(fault, "patch", t, ns, name);
      const key = objKey(t.namespaced ? ns : undefined, name);
      const prev = bucket(t).get(key);
      if (!prev) throw error("NotFound", "patch", t, ns, name);
      const p = patch as Obj;
      const wantRv = p?.metadata?.resourceVersion;
      if (wantRv && wantRv !== prev.metadata.resourceVersion) throw error("Conflict", "patch", t, ns, name);
      const next = mergePatchValue(prev, p);
      const result = commit(t, prev, next, sub === "status" ? "status" : "main");
      if (fault) raise(fault, "patch", t, ns, name);
      return result;
    },

    async delete(t, ns, name, opts = {}) {
      const fault = enter("delete", t);
      if (fault && !fault.afterApply) raise(fault, "delete", t, ns, name);
      const b = bucket(t);
      const key = objKey(t.namespaced ? ns : undefined, name);
      const prev = b.get(key);
      if (!prev) return false;
      const pre = opts.preconditions;
      if ((pre?.uid && pre.uid !== prev.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== prev.metadata.resourceVersion)) {
        throw error("Conflict", "delete", t, ns, name);
      }
      if ((prev.metadata.finalizers ?? []).length > 0) {
        if (!prev.metadata.deletionTimestamp) {
          const next = clone(prev);
          next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
          // As kube-apiserver does for objects that carry a generation.
          if (next.metadata.generation !== undefined) next.metadata.generation++;
          next.metadata.resourceVersion = String(++rv);
          b.set(key, next);
          emit(t, "MODIFIED", next);
        }
      } else {
        b.delete(key);
        const gone = clone(prev);
        gone.metadata.resourceVersion = String(++rv);
        emit(t, "DELETED", gone);
      }
      if (fault) raise(fault, "delete", t, ns, name);
      return true;
    },

    watch(t, ns, opts, onEvent) {
      const fault = enter("watch", t);
      if (fault) return Promise.reject(error(fault.reason, "watch", t, ns, undefined, fault.status));
      const from = Number(opts.resourceVersion || "0");
      if (from < compactedTo) return Promise.reject(error("Gone", "watch", t, ns));
      return new Promise<void>((resolve, reject) => {
        if (opts.signal.aborted) {
          resolve();
          return;
        }
        const w: Watcher = {
          typeKey: typeKey(t),
          namespace: t.namespaced ? ns : undefined,
          opts,
          onEvent,
          fail: (err) => {
            watchers.delete(w);
            opts.signal.removeEventListener("abort", onAbort);
            if (err === undefined) resolve();
            else reject(err);
          },
        };
        const onAbort = () => w.fail(undefined);
        opts.signal.addEventListener("abort", onAbort, { once: true });
        watchers.add(w);
        for (const ev of history) if (ev.rv > from && watchers.has(w)) deliver(w, ev);
      });
    },
  };

  function write(t: ResourceType, o: Obj, mode: "main" | "status") {
    const verb: KubeVerb = "update";
    const sub = mode === "status" ? "status" : undefined;
    const ns = t.namespaced ? o.metadata?.namespace : undefined;
    const fault = enter(verb, t, sub);
    if (fault && !fault.afterApply) raise(fault, verb, t, ns, o.metadata?.name);
    const prev = bucket(t).get(objKey(ns, o.metadata?.name));
    if (!prev) throw error("NotFound", verb, t, ns, o.metadata?.name);
    if (o.metadata.resourceVersion && o.metadata.resourceVersion !== prev.metadata.resourceVersion) {
      throw error("Conflict", verb, t, ns, o.metadata.name);
    }
    const result = commit(t, prev, o, mode);
    if (fault) raise(fault, verb, t, ns, o.metadata.name);
    return result;
  }

  return client;
}
