import { TRIDENT_CRD_NAMES } from "../trident/crds.js";
import {
  LABEL_MUTATED_BY_WEBHOOK,
  LABEL_NO_CLEANUP,
  SHOOT_SYSTEM_NAMESPACE,
  TRIDENT_CONTROLLER_DEPLOYMENT,
  TRIDENT_CSI_DRIVER,
  TRIDENT_NODE_DAEMONSET,
} from "../trident/names.js";
import { diffToJsonPatch, isPlainObject, type JsonPatchOperation } from "./json-patch.js";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind?: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  name?: string;
  namespace?: string;
  operation?: "CREATE" | "UPDATE" | "DELETE" | "CONNECT" | string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: true;
  patchType?: "JSONPatch";
  /** base64 of the JSON-encoded RFC 6902 operations. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export interface MutateOptions {
  /** Image for the `init-nvme-tcp` init container; needs /bin/sh and modprobe. Defaults to DEFAULT_INIT_IMAGE. */
  initContainerImage?: string;
}

/** What the webhook did with one review, for logs and metrics (never object content). */
export interface MutationOutcome {
  /** `Kind namespace/name` of a Trident object this webhook owns a mutation for; absent for everything else. */
  target?: string;
  operations: number;
  skipped?: "deleting" | "operation" | "not-ours";
  warning?: string;
}

/** busybox's modprobe is what the Go extension runs; any image with /bin/sh and modprobe works. */
export const DEFAULT_INIT_IMAGE = "busybox:1.36";
export const INIT_CONTAINER_NAME = "init-nvme-tcp";
export const LIB_MODULES_VOLUME = "ontap-lib-modules";
export const ANNOTATION_WAIT_FOR_CSI_NODE = "node.gardener.cloud/wait-for-csi-node-trident";
export const LABEL_NODE_CRITICAL_COMPONENT = "node.gardener.cloud/critical-component";
export const LABEL_TO_APISERVER = "networking.gardener.cloud/to-apiserver";
export const LABEL_TO_DNS = "networking.gardener.cloud/to-dns";
/** Gardener taints new nodes with this until every node-critical DaemonSet pod on them is ready. */
export const TAINT_CRITICAL_COMPONENTS_NOT_READY = "node.gardener.cloud/critical-components-not-ready";

/** Labels on Trident's controller and node pods: node-critical (Gardener waits for them before scheduling
 * workloads on a new node) and allowed to reach the shoot's API server and DNS under Gardener's network policies. */
export const TRIDENT_POD_LABELS: Readonly<Record<string, string>> = Object.freeze({
  [LABEL_NODE_CRITICAL_COMPONENT]: "true",
  [LABEL_TO_APISERVER]: "allowed",
  [LABEL_TO_DNS]: "allowed",
});
/** Labels on every object the webhook mutates: kept by Gardener's shoot cleanup (the CSI driver must outlive the
 * PVCs it deletes), and marked as mutated. */
export const MUTATED_OBJECT_LABELS: Readonly<Record<string, string>> = Object.freeze({
  [LABEL_NO_CLEANUP]: "true",
  [LABEL_MUTATED_BY_WEBHOOK]: "true",
});

const TRIDENT_CRDS = new Set(TRIDENT_CRD_NAMES);
const WARNING_PREFIX = "ontap shoot webhook";

class MalformedObjectError extends Error {
  readonly code = "ERR_MALFORMED_OBJECT";
}

/**
 * The shoot webhook's admission function: pure, total (never throws) and idempotent (an object it already mutated
 * yields no patch). Everything it does not recognise is allowed unchanged; a malformed review is allowed with a
 * warning, because failing closed would block the shoot's API for a storage add-on.
 */
export function mutate(review: unknown, options: MutateOptions = {}): AdmissionReview {
  return admit(review, options).review;
}

export function admit(review: unknown, options: MutateOptions = {}): { review: AdmissionReview; outcome: MutationOutcome } {
  const request = isPlainObject(review) && isPlainObject(review["request"]) ? review["request"] : undefined;
  const uid = typeof request?.["uid"] === "string" ? request["uid"] : "";
  const answer = (outcome: MutationOutcome, ops: JsonPatchOperation[] = []) => {
    const response: AdmissionResponse = { uid, allowed: true };
    if (ops.length > 0) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(ops), "utf8").toString("base64");
    }
    if (outcome.warning) response.warnings = [`${WARNING_PREFIX}: ${outcome.warning}`];
    const out: AdmissionReview = { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
    return { review: out, outcome: { ...outcome, operations: ops.length } };
  };

  try {
    if (!isPlainObject(review) || review["kind"] !== "AdmissionReview" || review["apiVersion"] !== ADMISSION_API_VERSION) {
      return answer({ operations: 0, warning: "not an admission.k8s.io/v1 AdmissionReview; allowed unchanged" });
    }
    if (!request) return answer({ operations: 0, warning: "review has no request; allowed unchanged" });
    if (uid === "") return answer({ operations: 0, warning: "request has no uid; allowed unchanged" });

    const operation = request["operation"];
    if (operation !== "CREATE" && operation !== "UPDATE") return answer({ operations: 0, skipped: "operation" });
    const object = request["object"];
    if (!isPlainObject(object)) return answer({ operations: 0, warning: "request has no object; allowed unchanged" });

    const target = identify(request, object);
    if (!target) return answer({ operations: 0, skipped: "not-ours" });
    const metadata = object["metadata"];
    if (isPlainObject(metadata) && metadata["deletionTimestamp"] != null) {
      return answer({ target: target.description, operations: 0, skipped: "deleting" });
    }

    const desired = structuredClone(object);
    try {
      target.mutate(desired, options);
    } catch (err) {
      if (!(err instanceof MalformedObjectError)) throw err;
      return answer({ target: target.description, operations: 0, warning: `${target.description}: ${err.message}; not mutated` });
    }
    return answer({ target: target.description, operations: 0 }, diffToJsonPatch(object, desired));
  } catch (err) {
    // A bug here must not turn into a failed admission; the object passes unchanged and the warning says why.
    const reason = err instanceof Error ? err.message : String(err);
    return answer({ operations: 0, warning: `internal error (${reason.slice(0, 120)}); allowed unchanged` });
  }
}

interface Target {
  description: string;
  mutate: (object: Record<string, unknown>, options: MutateOptions) => void;
}

function identify(request: Record<string, unknown>, object: Record<string, unknown>): Target | undefined {
  const gvk = isPlainObject(request["kind"]) ? request["kind"] : {};
  const group = typeof gvk["group"] === "string" ? gvk["group"] : groupOf(object["apiVersion"]);
  const kind = typeof gvk["kind"] === "string" ? gvk["kind"] : object["kind"];
  const metadata = isPlainObject(object["metadata"]) ? object["metadata"] : {};
  const name = typeof metadata["name"] === "string" ? metadata["name"] : request["name"];
  const namespace = typeof request["namespace"] === "string" && request["namespace"] !== ""
    ? request["namespace"]
    : metadata["namespace"];
  if (typeof name !== "string") return undefined;

  if (group === "apiextensions.k8s.io" && kind === "CustomResourceDefinition" && TRIDENT_CRDS.has(name)) {
    return { description: `CustomResourceDefinition ${name}`, mutate: mutateCrd };
  }
  if (group !== "apps" || namespace !== SHOOT_SYSTEM_NAMESPACE) return undefined;
  if (kind === "DaemonSet" && name === TRIDENT_NODE_DAEMONSET) {
    return { description: `DaemonSet ${namespace}/${name}`, mutate: mutateNodeDaemonSet };
  }
  if (kind === "Deployment" && name === TRIDENT_CONTROLLER_DEPLOYMENT) {
    return { description: `Deployment ${namespace}/${name}`, mutate: mutateControllerDeployment };
  }
  return undefined;
}

function groupOf(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== "string") return undefined;
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

function mutateCrd(crd: Record<string, unknown>): void {
  setAll(child(child(crd, "metadata"), "labels"), MUTATED_OBJECT_LABELS);
}

function mutateControllerDeployment(deployment: Record<string, unknown>): void {
  setAll(child(child(deployment, "metadata"), "labels"), MUTATED_OBJECT_LABELS);
  const template = child(child(deployment, "spec"), "template");
  setAll(child(child(template, "metadata"), "labels"), TRIDENT_POD_LABELS);
}

function mutateNodeDaemonSet(daemonSet: Record<string, unknown>, options: MutateOptions): void {
  // Gardener waits for node-critical DaemonSets only when the DaemonSet itself carries the label too.
  setAll(child(child(daemonSet, "metadata"), "labels"), {
    ...MUTATED_OBJECT_LABELS,
    [LABEL_NODE_CRITICAL_COMPONENT]: "true",
  });
  const template = child(child(daemonSet, "spec"), "template");
  const templateMetadata = child(template, "metadata");
  setAll(child(templateMetadata, "labels"), TRIDENT_POD_LABELS);
  // Gardener keeps new nodes tainted until the Trident node plugin has registered its driver in the CSINode.
  setAll(child(templateMetadata, "annotations"), { [ANNOTATION_WAIT_FOR_CSI_NODE]: TRIDENT_CSI_DRIVER });

  const podSpec = child(template, "spec");
  // The node plugin runs with hostNetwork; `Default` resolves with the node's resolver, which works before and
  // without cluster DNS, as the Go extension does.
  podSpec["dnsPolicy"] = "Default";
  // A node-critical DaemonSet that cannot be scheduled onto the tainted node would keep the taint forever.
  ensureTolerated(list(podSpec, "tolerations"), TAINT_CRITICAL_COMPONENTS_NOT_READY, "NoSchedule");
  upsertFirstByName(list(podSpec, "volumes"), libModulesVolume());
  upsertFirstByName(list(podSpec, "initContainers"), nvmeTcpInitContainer(options.initContainerImage ?? DEFAULT_INIT_IMAGE));
}

function ensureTolerated(tolerations: unknown[], key: string, effect: string): void {
  const covered = tolerations.some((t) => {
    if (!isPlainObject(t)) return false;
    const effectMatches = t["effect"] === undefined || t["effect"] === "" || t["effect"] === effect;
    const anyKey = (t["key"] === undefined || t["key"] === "") && t["operator"] === "Exists";
    // Gardener's taint has no value, so an Equal toleration covers it only with an empty value.
    const equalsEmpty = (t["operator"] ?? "Equal") === "Equal" && (t["value"] ?? "") === "";
    const thisKey = t["key"] === key && (t["operator"] === "Exists" || equalsEmpty);
    return effectMatches && (anyKey || thisKey);
  });
  if (!covered) tolerations.push({ key, operator: "Exists", effect });
}

function libModulesVolume(): Record<string, unknown> {
  return { name: LIB_MODULES_VOLUME, hostPath: { path: "/lib/modules" } };
}

function nvmeTcpInitContainer(image: string): Record<string, unknown> {
  return {
    name: INIT_CONTAINER_NAME,
    image,
    imagePullPolicy: "IfNotPresent",
    // /sys/module lists loaded modules with underscores; when nvme_tcp is built in or already loaded there is
    // nothing to do, which also spares modprobe on kernels whose module format busybox cannot read.
    command: [
      "/bin/sh",
      "-c",
      "[ -e /sys/module/nvme_tcp ] || modprobe nvme-tcp || { echo 'failed to load the nvme-tcp kernel module' >&2; exit 1; }",
    ],
    securityContext: { privileged: true },
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
    volumeMounts: [{ name: LIB_MODULES_VOLUME, mountPath: "/lib/modules", readOnly: true, mountPropagation: "HostToContainer" }],
  };
}

function child(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = parent[key];
  if (value === undefined || value === null) {
    const created: Record<string, unknown> = {};
    parent[key] = created;
    return created;
  }
  if (!isPlainObject(value)) throw new MalformedObjectError(`${key} is not an object`);
  return value;
}

function list(parent: Record<string, unknown>, key: string): unknown[] {
  const value = parent[key];
  if (value === undefined || value === null) {
    const created: unknown[] = [];
    parent[key] = created;
    return created;
  }
  if (!Array.isArray(value)) throw new MalformedObjectError(`${key} is not a list`);
  return value;
}

function setAll(target: Record<string, unknown>, values: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(values)) target[k] = v;
}

/**
 * Makes `items` contain `desired` (matched by name; new entries go first, so the module is loaded before any
 * other init container runs). An existing entry that already has every field of `desired`
 * is left as it is: the API server adds defaults (terminationMessagePath, hostPath type, ...) to what we inject,
 * and replacing it on every update would make the webhook never settle.
 */
function upsertFirstByName(items: unknown[], desired: Record<string, unknown>): void {
  const index = items.findIndex((item) => isPlainObject(item) && item["name"] === desired["name"]);
  if (index < 0) items.unshift(desired);
  else if (!containsAll(items[index], desired)) items[index] = desired;
}

/** Whether `actual` has every field of `expected` with the same value (objects recursively, lists element-wise). */
export function containsAll(actual: unknown, expected: unknown): boolean {
  if (isPlainObject(expected)) {
    return isPlainObject(actual) && Object.entries(expected).every(([k, v]) => containsAll(actual[k], v));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => containsAll(actual[i], v));
  }
  return actual === expected;
}
