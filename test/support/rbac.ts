import type { RenderedObject } from "./chart.js";

/**
 * What kube-apiserver's RBAC authorizer sees of a request (k8s.io/apiserver's RequestInfo): the verb, API
 * group, resource (with `/subresource`), namespace and name. As there, a list or watch whose field selector
 * pins `metadata.name` carries that name, so `resourceNames` can grant it.
 */
export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** One rule of the chart, with where it applies: every namespace (ClusterRole) or one (Role). */
export interface ScopedRule {
  source: string;
  namespace?: string;
  rule: PolicyRule;
}

const VERB_OF_METHOD: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch" };

export function requestAttributes(method: string, url: string): RequestAttributes | undefined {
  const parsed = new URL(url, "https://apiserver");
  const segments = parsed.pathname.split("/").filter((s) => s.length > 0).map(decodeURIComponent);
  let apiGroup: string;
  let rest: string[];
  if (segments[0] === "api" && segments.length >= 3) {
    apiGroup = "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    apiGroup = segments[1]!;
    rest = segments.slice(3);
  } else {
    return undefined; // discovery, /version, /healthz: not resource requests
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource] = rest;
  if (!plural) return undefined;
  const resource = subresource ? `${plural}/${subresource}` : plural;
  const m = method.toUpperCase();
  let verb: string;
  if (m === "GET") {
    const watch = parsed.searchParams.get("watch");
    verb = name ? "get" : watch === "true" || watch === "1" ? "watch" : "list";
  } else if (m === "DELETE") verb = name ? "delete" : "deletecollection";
  else verb = VERB_OF_METHOD[m] ?? m.toLowerCase();
  let effectiveName = name;
  if (!effectiveName && (verb === "list" || verb === "watch")) {
    const pinned = (parsed.searchParams.get("fieldSelector") ?? "")
      .split(",")
      .map((term) => /^metadata\.name=(.+)$/.exec(term.trim())?.[1])
      .find((n) => n !== undefined);
    effectiveName = pinned;
  }
  return { verb, apiGroup, resource, namespace, name: effectiveName };
}

/** The rules of every ClusterRole and Role among the rendered objects. */
export function chartRules(objects: RenderedObject[]): ScopedRule[] {
  const rules: ScopedRule[] = [];
  for (const o of objects) {
    if (o.kind !== "ClusterRole" && o.kind !== "Role") continue;
    for (const rule of (o.rules ?? []) as PolicyRule[]) {
      rules.push({
        source: `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`,
        namespace: o.kind === "Role" ? o.metadata.namespace : undefined,
        rule,
      });
    }
  }
  return rules;
}

export function ruleAllows(scoped: ScopedRule, attrs: RequestAttributes): boolean {
  const { rule } = scoped;
  if (scoped.namespace !== undefined && attrs.namespace !== scoped.namespace) return false;
  if (!rule.apiGroups.includes(attrs.apiGroup) && !rule.apiGroups.includes("*")) return false;
  if (!rule.resources.includes(attrs.resource) && !rule.resources.includes("*")) return false;
  if (!rule.verbs.includes(attrs.verb) && !rule.verbs.includes("*")) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) return attrs.name !== undefined && rule.resourceNames.includes(attrs.name);
  return true;
}

/**
 * The parts of each rule no recorded request needed: a verb, a resource or a resource name of the rule that
 * no request allowed by the rule used. Each is a permission the controller was given and did not use.
 * (Names and verbs are checked separately: a rule grants its verbs on the set of its names.)
 */
export function unusedGrants(rules: ScopedRule[], requests: RequestAttributes[]): string[] {
  const unused: string[] = [];
  for (const scoped of rules) {
    const allowed = requests.filter((r) => ruleAllows(scoped, r));
    const { rule } = scoped;
    const what = `${scoped.source} (${rule.verbs.join(",")} ${rule.apiGroups.map((g) => g || "core").join(",")}/${rule.resources.join(",")})`;
    for (const verb of rule.verbs) if (!allowed.some((r) => r.verb === verb)) unused.push(`${what}: verb ${verb} never used`);
    for (const resource of rule.resources) if (!allowed.some((r) => r.resource === resource)) unused.push(`${what}: resource ${resource} never used`);
    for (const apiGroup of rule.apiGroups) if (!allowed.some((r) => r.apiGroup === apiGroup)) unused.push(`${what}: API group ${apiGroup} never used`);
    for (const name of rule.resourceNames ?? []) if (!allowed.some((r) => r.name === name)) unused.push(`${what}: name ${name} never used`);
  }
  return unused;
}

/** For each rule grant, the first request that used it: the table in the README and the report. */
export function grantUses(rules: ScopedRule[], requests: Array<RequestAttributes & { url: string; method: string }>): string[] {
  const lines: string[] = [];
  for (const scoped of rules) {
    const { rule } = scoped;
    for (const verb of rule.verbs) {
      const example = requests.find((r) => ruleAllows({ ...scoped, rule: { ...rule, verbs: [verb] } }, r));
      lines.push(
        `${scoped.source}: ${verb} ${rule.apiGroups.map((g) => g || "core").join(",")}/${rule.resources.join(",")}` +
          `${rule.resourceNames ? ` [${rule.resourceNames.join(",")}]` : ""} <- ${example ? `${example.method} ${example.url.split("?")[0]}` : "UNUSED"}`,
      );
    }
  }
  return lines;
}
