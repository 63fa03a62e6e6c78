import { invalidFieldsEntry, invalidValue, unexpectedArgument } from "./errors.js";
import type { Rec } from "./views.js";

/**
 * The ONTAP query language on collections: any field as a filter (dotted paths, `*` wildcards,
 * `|` for OR, `!` for NOT, `<`/`>`/`<=`/`>=` and `a..b` on numbers), `fields`, `max_records` with a
 * working `_links.next`, and `return_records=false`.
 */

export interface QueryOptions {
  /** Control parameters accepted by this operation (fields, max_records, ...). */
  allow: readonly string[];
  /** Field paths of the collection; with `filters`, any of them may also be a filter. */
  known: Set<string>;
  filters?: boolean;
}

export interface ParsedQuery {
  filters: Array<{ field: string; expr: string }>;
  fields: string[] | "*" | undefined;
  maxRecords: number | undefined;
  returnRecords: boolean | undefined;
  returnTimeoutSeconds: number | undefined;
  startAfter: string | undefined;
}

export const START_PARAM = "start.key";

export function parseQuery(params: URLSearchParams, opts: QueryOptions): ParsedQuery {
  const parsed: ParsedQuery = {
    filters: [],
    fields: undefined,
    maxRecords: undefined,
    returnRecords: undefined,
    returnTimeoutSeconds: undefined,
    startAfter: undefined,
  };
  for (const [name, value] of params) {
    if (opts.allow.includes(name)) {
      applyControl(parsed, name, value, opts.known);
    } else if (opts.filters && opts.known.has(name)) {
      parsed.filters.push({ field: name, expr: value });
    } else {
      throw unexpectedArgument(name);
    }
  }
  return parsed;
}

function applyControl(parsed: ParsedQuery, name: string, value: string, known: Set<string>): void {
  switch (name) {
    case "fields": {
      const list = value.split(",").map((f) => f.trim()).filter((f) => f !== "");
      if (list.includes("*") || list.includes("**")) {
        parsed.fields = "*";
        return;
      }
      // The whole request fails on one unknown entry: ONTAP never answers with the fields it does know.
      for (const field of list) if (!known.has(field)) throw invalidFieldsEntry(field);
      parsed.fields = parsed.fields === "*" ? "*" : [...(parsed.fields ?? []), ...list];
      return;
    }
    case "max_records":
      parsed.maxRecords = integerIn(name, value, 1, 10_000);
      return;
    case "return_timeout":
      parsed.returnTimeoutSeconds = integerIn(name, value, 0, 120);
      return;
    case "return_records":
      if (value !== "true" && value !== "false") throw invalidValue(name, "expected true or false");
      parsed.returnRecords = value === "true";
      return;
    case START_PARAM:
      parsed.startAfter = value;
      return;
    default:
      throw unexpectedArgument(name);
  }
}

function integerIn(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw invalidValue(name, `expected an integer from ${min} to ${max}`);
  return n;
}

/** Leaf values at a dotted path, descending through arrays (`aggregates.name` yields every name). */
export function valuesAt(record: unknown, parts: readonly string[]): unknown[] {
  if (parts.length === 0) return Array.isArray(record) ? record : [record];
  if (Array.isArray(record)) return record.flatMap((item) => valuesAt(item, parts));
  if (record === null || typeof record !== "object") return [];
  const [head, ...rest] = parts;
  if (!Object.hasOwn(record, head!)) return [];
  return valuesAt((record as Rec)[head!], rest);
}

export function matchesFilter(record: Rec, field: string, expr: string): boolean {
  const values = valuesAt(record, field.split("."));
  return expr.split("|").some((alternative) => {
    if (alternative.startsWith("!")) return !values.some((v) => matchesTerm(v, alternative.slice(1)));
    return values.some((v) => matchesTerm(v, alternative));
  });
}

function matchesTerm(value: unknown, term: string): boolean {
  if (value === null || typeof value === "object") return false;
  const text = String(value);
  if (typeof value === "number") {
    const comparison = /^(<=|>=|<|>)(-?\d+(?:\.\d+)?)$/.exec(term);
    if (comparison) {
      const bound = Number(comparison[2]);
      switch (comparison[1]) {
        case "<":
          return value < bound;
        case ">":
          return value > bound;
        case "<=":
          return value <= bound;
        default:
          return value >= bound;
      }
    }
    const range = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)$/.exec(term);
    if (range) return value >= Number(range[1]) && value <= Number(range[2]);
  }
  if (term.includes("*")) {
    const pattern = term
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    return new RegExp(`^${pattern}$`, "s").test(text);
  }
  return text === term;
}

/** Keeps the key fields and `_links` always, then the requested fields; `*` keeps everything. */
export function project(record: Rec, fields: string[] | "*" | undefined, keyFields: readonly string[]): Rec {
  if (fields === "*") return record;
  const out: Rec = {};
  for (const path of [...keyFields, ...(fields ?? []), "_links"]) copyPath(record, out, path.split("."));
  return out;
}

function copyPath(source: Rec, target: Rec, parts: string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(source, head)) return;
  const value = source[head];
  if (rest.length === 0) {
    target[head] = structuredClone(value);
  } else if (Array.isArray(value)) {
    const existing = Array.isArray(target[head]) ? (target[head] as Rec[]) : value.map(() => ({}));
    value.forEach((item, i) => {
      if (item !== null && typeof item === "object") copyPath(item as Rec, existing[i]!, rest);
    });
    target[head] = existing;
  } else if (value !== null && typeof value === "object") {
    const existing = (target[head] ?? {}) as Rec;
    copyPath(value as Rec, existing, rest);
    target[head] = existing;
  }
}

export interface CollectionSpec {
  keyFields: readonly string[];
  /** Total order used for listing and for the `next` continuation. */
  sortKey(record: Rec): string;
}

/** Filters, orders, pages and projects a collection into ONTAP's collection envelope. */
export function collectionResponse(
  path: string,
  params: URLSearchParams,
  all: Rec[],
  query: ParsedQuery,
  spec: CollectionSpec,
): Rec {
  const matching = all
    .filter((record) => query.filters.every((f) => matchesFilter(record, f.field, f.expr)))
    .map((record) => ({ record, key: spec.sortKey(record) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const self = { href: hrefOf(path, params) };
  const remaining = query.startAfter === undefined ? matching : matching.filter((m) => m.key > query.startAfter!);
  if (query.returnRecords === false) return { num_records: remaining.length, _links: { self } };
  const page = query.maxRecords === undefined ? remaining : remaining.slice(0, query.maxRecords);
  const links: Rec = { self };
  if (page.length < remaining.length) {
    const next = new URLSearchParams(params);
    next.set(START_PARAM, page[page.length - 1]!.key);
    links.next = { href: hrefOf(path, next) };
  }
  return {
    records: page.map((m) => project(m.record, query.fields, spec.keyFields)),
    num_records: page.length,
    _links: links,
  };
}

function hrefOf(path: string, params: URLSearchParams): string {
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}
