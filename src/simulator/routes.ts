import type { SimCluster } from "./cluster.js";
import { forbidden } from "./errors.js";
import type { Identity, SimResponse } from "./http.js";

export interface RequestContext {
  sim: SimCluster;
  method: string;
  /** Path without the query string, as the client sent it. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
  identity: Identity;
}

export type Handler = (ctx: RequestContext) => SimResponse | Promise<SimResponse>;

export interface Route {
  method: string;
  /** e.g. `/api/svm/svms/{uuid}`; also the key under which calls are counted. */
  template: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "wrongMethod"; template: string }
  | { kind: "none" };

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.template
        .split("/")
        .map((segment) => {
          const param = /^\{(.+)\}$/.exec(segment);
          if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          names.push(param[1]!);
          return "([^/]+)";
        })
        .join("/");
      return { ...route, pattern: new RegExp(`^${source}/?$`), names };
    });
  }

  match(method: string, path: string): RouteMatch {
    let template: string | undefined;
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      template ??= route.template;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = safeDecode(found[i + 1]!);
      });
      return { kind: "found", route, params };
    }
    return template ? { kind: "wrongMethod", template } : { kind: "none" };
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** SVM-scoped callers see only their own SVM's objects; undefined means "everything" (cluster admin). */
export function svmScope(ctx: RequestContext): string | undefined {
  return ctx.identity.kind === "svm" ? ctx.identity.svmUuid : undefined;
}

/** Cluster-level writes and cluster objects are for cluster accounts only. */
export function requireClusterAdmin(ctx: RequestContext): void {
  if (ctx.identity.kind !== "cluster") throw forbidden();
}
