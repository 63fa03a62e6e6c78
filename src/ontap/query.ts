/**
 * Building ONTAP paths and queries, and following `_links.next`. Pure functions: the wire is elsewhere.
 */

export type QueryValue = string | number | boolean | readonly string[] | undefined;
export type Query = Readonly<Record<string, QueryValue>>;

/**
 * Fills `{name}` placeholders in a path template with URL-encoded values. Every placeholder must be given, so
 * a typo cannot silently send a request to `/api/svm/svms/{uuid}`.
 */
export function fillPath(template: string, params: Readonly<Record<string, string>> = {}): string {
  return template.replace(/\{([^}]+)\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined || value === "") throw new RangeError(`missing path parameter ${key} for ${template}`);
    return encodeURIComponent(value);
  });
}

/**
 * Encodes a query; arrays join with "," (ONTAP's list syntax for `fields`). Keys keep their dots
 * (`svm.uuid`); undefined values are left out. Keys are sorted so the same request is always the same URL.
 */
export function buildQuery(query: Query = {}): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(",") : String(value);
    parts.push(`${encodeQueryPart(key)}=${encodeQueryPart(text)}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** encodeURIComponent, but keeping the characters of ONTAP's query language readable in logs: `, | * !`. */
function encodeQueryPart(text: string): string {
  return encodeURIComponent(text).replace(/%2C/gi, ",").replace(/%7C/gi, "|").replace(/%2A/gi, "*");
}

export function buildPath(template: string, params?: Readonly<Record<string, string>>, query?: Query): string {
  return fillPath(template, params) + buildQuery(query);
}

/**
 * A value used as an exact filter must not contain ONTAP query operators, or `name=a*` would match every SVM
 * starting with "a". Names in this project never need them, so refusing is simpler than escaping.
 */
export function exactFilterValue(value: string, what: string): string {
  if (value.length === 0 || /[*|!<>{}\s,]/.test(value) || value.includes("..")) {
    throw new RangeError(`${what} ${JSON.stringify(value)} is not a plain name usable as an exact query filter`);
  }
  return value;
}

/** `name=X|X-mc`: an SVM and its MetroCluster sync-destination copy in one server-side filter. */
export function svmNameFilter(name: string): string {
  const plain = exactFilterValue(name, "SVM name");
  return `${plain}|${plain}-mc`;
}

/**
 * Resolves `_links.next.href` to a path on the same origin. ONTAP answers with a path; an absolute URL is
 * accepted only for the cluster we are talking to, so a hostile answer cannot send our credentials elsewhere.
 */
export function nextPagePath(href: string, origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(href, origin);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(origin).origin) return undefined;
  if (!url.pathname.startsWith("/api/")) return undefined;
  return url.pathname + url.search;
}

export interface Page<T> {
  records: T[];
  nextHref?: string;
}

/**
 * Fetches pages until a page has no next link. Stops with an error on a link that leaves the cluster, and on
 * a link already followed (a server bug that would otherwise loop forever).
 */
export async function collectPages<T>(
  firstPath: string,
  origin: string,
  fetchPage: (path: string, pageIndex: number) => Promise<Page<T>>,
  maxPages = 10_000,
): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  let path: string | undefined = firstPath;
  for (let index = 0; path !== undefined; index++) {
    if (seen.has(path)) throw new PaginationError(`next link repeats an earlier page`);
    if (index >= maxPages) throw new PaginationError(`more than ${maxPages} pages`);
    seen.add(path);
    const page = await fetchPage(path, index);
    out.push(...page.records);
    if (page.nextHref === undefined) break;
    const next = nextPagePath(page.nextHref, origin);
    if (next === undefined) throw new PaginationError(`next link is not a path on this cluster`);
    path = next;
  }
  return out;
}

export class PaginationError extends Error {
  override readonly name = "PaginationError";
}
