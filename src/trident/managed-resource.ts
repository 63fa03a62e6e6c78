import { createHash } from "node:crypto";
import type { ObjectMeta, Secret } from "../kube/objects.js";
import { stringify } from "yaml";
import { CONTENT_HASH_ANNOTATION, LABEL_NO_CLEANUP, managedResourceSecretName } from "./names.js";
import { type ManagedResourcePlan, TridentRenderError } from "./types.js";

export const MANAGED_RESOURCE_API_VERSION = "resources.gardener.cloud/v1alpha1";

export interface ManagedResourceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export interface ManagedResource {
  apiVersion: typeof MANAGED_RESOURCE_API_VERSION;
  kind: "ManagedResource";
  metadata: ObjectMeta & {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    secretRefs: { name: string }[];
    keepObjects: boolean;
    injectLabels: Record<string, string>;
    class?: string;
  };
  status?: { observedGeneration?: number; conditions?: ManagedResourceCondition[] };
}

/** A Secret whose data keys hold the ManagedResource's manifests, base64-encoded YAML like Gardener's helper. */
export interface ManagedResourceSecret extends Secret {
  apiVersion: "v1";
  kind: "Secret";
  metadata: ObjectMeta & { name: string; namespace: string; annotations: Record<string, string> };
  type: "Opaque";
  data: Record<string, string>;
}

export interface ManagedResourceObjects {
  secret: ManagedResourceSecret;
  managedResource: ManagedResource;
  /** sha256 (hex) over everything rendered into the Secret and the ManagedResource's spec. */
  contentHash: string;
}

export interface ManagedResourceTarget {
  /** The shoot namespace on the seed (`shoot--<project>--<shoot>`). */
  namespace: string;
  /** Value of the ManagedResource's `origin` label, e.g. MANAGED_RESOURCE_ORIGIN. */
  origin: string;
}

/** Labels the gardener-resource-manager adds to every object of a shoot ManagedResource. */
const INJECT_LABELS = { [LABEL_NO_CLEANUP]: "true" };

/**
 * Serializes a plan into its Secret and ManagedResource. Deterministic: keys are sorted at every level, so the same
 * plan yields byte-identical objects and the same hash, and the caller can skip writes when the hash is unchanged.
 *
 * The Secret has a fixed name and is rewritten in place when the content changes; it is deliberately not labelled
 * `resources.gardener.cloud/garbage-collectable-reference`, which is only meant for immutable, hash-named Secrets.
 */
export function toManagedResourceObjects(
  plan: ManagedResourcePlan,
  target: ManagedResourceTarget,
): ManagedResourceObjects {
  if (target.namespace === "") throw new TridentRenderError("target namespace is empty");
  if (target.origin === "") throw new TridentRenderError("origin is empty");
  const secretName = managedResourceSecretName(plan.name);
  const data = serializeObjects(plan);
  const contentHash = hashContent(plan, target, data);
  rememberContentHash(plan, target, contentHash);
  const annotations = { [CONTENT_HASH_ANNOTATION]: contentHash };

  const secret: ManagedResourceSecret = {
    apiVersion: "v1",
    kind: "Secret",
    // The origin label lets the controller keep a metadata-only cache of exactly these Secrets.
    metadata: { name: secretName, namespace: target.namespace, labels: { origin: target.origin }, annotations: { ...annotations } },
    type: "Opaque",
    data,
  };
  const managedResource: ManagedResource = {
    apiVersion: MANAGED_RESOURCE_API_VERSION,
    kind: "ManagedResource",
    metadata: {
      name: plan.name,
      namespace: target.namespace,
      labels: { origin: target.origin },
      annotations: { ...annotations },
    },
    spec: {
      secretRefs: [{ name: secretName }],
      keepObjects: plan.keepObjects,
      injectLabels: { ...INJECT_LABELS },
    },
  };
  return { secret, managedResource, contentHash };
}

/**
 * The content hash `toManagedResourceObjects` gives this plan, without serializing it when the same plan was
 * serialized before: the YAML of Trident's objects costs milliseconds of CPU, and a no-op reconcile only
 * needs the hash to see that nothing changed. Keyed by a digest of the plan's JSON (never the JSON itself: a
 * plan may hold a password), at most CONTENT_HASH_MEMO_SIZE plans, the least recently used going first.
 */
export function managedResourceContentHash(plan: ManagedResourcePlan, target: ManagedResourceTarget): string {
  const key = planDigest(plan, target);
  const known = contentHashMemo.get(key);
  if (known !== undefined) {
    contentHashMemo.delete(key);
    contentHashMemo.set(key, known);
    return known;
  }
  return toManagedResourceObjects(plan, target).contentHash;
}

/** Enough for every ManagedResource of 1,000 shoots and their next rendering; about 200 bytes each. */
export const CONTENT_HASH_MEMO_SIZE = 12_000;
const contentHashMemo = new Map<string, string>();

function planDigest(plan: ManagedResourcePlan, target: ManagedResourceTarget): string {
  return createHash("sha256")
    .update(JSON.stringify([plan.name, plan.keepObjects, target.namespace, target.origin, plan.objects]))
    .digest("base64");
}

function rememberContentHash(plan: ManagedResourcePlan, target: ManagedResourceTarget, contentHash: string): void {
  contentHashMemo.set(planDigest(plan, target), contentHash);
  if (contentHashMemo.size > CONTENT_HASH_MEMO_SIZE) contentHashMemo.delete(contentHashMemo.keys().next().value as string);
}

/** The content hash a ManagedResource or its Secret was written with, if any. */
export function contentHashOf(object: { metadata?: { annotations?: Record<string, string> } }): string | undefined {
  return object.metadata?.annotations?.[CONTENT_HASH_ANNOTATION];
}

/** Frozen objects cannot change, so their base64 YAML is computed once (the CRDs, rendered once). */
const frozenYaml = new WeakMap<object, string>();

/**
 * Most of Trident's objects are the same for every shoot (RBAC, the operator's Deployment, the orchestrator):
 * their YAML is kept by a digest of their JSON, so a create wave serializes each once, not once a shoot. A
 * Secret's YAML holds credentials and is never kept. At most SHARED_YAML_MEMO_SIZE entries (about 1 MiB), the
 * least recently used going first: what every shoot renders stays, what one shoot renders (its backend) passes.
 */
export const SHARED_YAML_MEMO_SIZE = 500;
const sharedYaml = new Map<string, string>();

function encodedYaml(object: object): string {
  const cached = frozenYaml.get(object);
  if (cached !== undefined) return cached;
  if (Object.isFrozen(object)) {
    const encoded = serialize(object);
    frozenYaml.set(object, encoded);
    return encoded;
  }
  if ((object as { kind?: unknown }).kind === "Secret") return serialize(object);
  const key = createHash("sha256").update(JSON.stringify(object)).digest("base64");
  const known = sharedYaml.get(key);
  if (known !== undefined) {
    sharedYaml.delete(key);
    sharedYaml.set(key, known);
    return known;
  }
  const encoded = serialize(object);
  sharedYaml.set(key, encoded);
  if (sharedYaml.size > SHARED_YAML_MEMO_SIZE) sharedYaml.delete(sharedYaml.keys().next().value as string);
  return encoded;
}

/** Whether any kept YAML contains `text` (tests: no credential is ever kept), and how many are kept. */
export function sharedYamlMemo(): { size: number; holds(text: string): boolean } {
  const decoded = () => [...sharedYaml.values()].map((v) => Buffer.from(v, "base64").toString("utf8"));
  return { size: sharedYaml.size, holds: (text) => decoded().some((y) => y.includes(text)) };
}

function serialize(object: object): string {
  return Buffer.from(stringify(object, { sortMapEntries: true, lineWidth: 0 }), "utf8").toString("base64");
}

function serializeObjects(plan: ManagedResourcePlan): Record<string, string> {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  for (const [index, object] of plan.objects.entries()) {
    const key = dataKey(plan.name, index, object);
    if (seen.has(key)) {
      throw new TridentRenderError(`managed resource ${plan.name}: two objects map to the same data key ${key}`);
    }
    seen.add(key);
    entries.push([key, encodedYaml(object)]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/** Gardener's registry names data keys `<kind>__<namespace>__<name>.yaml`; the same keeps Secrets comparable. */
function dataKey(planName: string, index: number, object: object): string {
  const o = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof o.apiVersion !== "string" || o.apiVersion === "" || typeof o.kind !== "string" || o.kind === "") {
    throw new TridentRenderError(`managed resource ${planName}: object ${index} has no apiVersion or kind`);
  }
  const name = o.metadata?.name;
  if (typeof name !== "string" || name === "") {
    throw new TridentRenderError(`managed resource ${planName}: object ${index} (${o.kind}) has no metadata.name`);
  }
  const namespace = typeof o.metadata?.namespace === "string" ? o.metadata.namespace : "";
  return `${o.kind.toLowerCase()}__${namespace}__${name.replaceAll(":", "_")}.yaml`;
}

function hashContent(plan: ManagedResourcePlan, target: ManagedResourceTarget, data: Record<string, string>): string {
  const hash = createHash("sha256");
  // Length-prefixed fields: no two different inputs can produce the same byte stream.
  const field = (value: string) => {
    hash.update(`${Buffer.byteLength(value, "utf8")}:`);
    hash.update(value, "utf8");
  };
  field("v1");
  field(plan.name);
  field(target.namespace);
  field(target.origin);
  field(String(plan.keepObjects));
  for (const [key, value] of Object.entries(INJECT_LABELS).sort()) {
    field(key);
    field(value);
  }
  for (const key of Object.keys(data)) {
    field(key);
    field(data[key]!);
  }
  return hash.digest("hex");
}
