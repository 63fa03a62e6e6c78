import { MR_SHOOT_WEBHOOK, SHOOT_SYSTEM_NAMESPACE, TRIDENT_CONTROLLER_APP_LABEL, TRIDENT_NODE_APP_LABEL } from "../trident/names.js";
import { type ManagedResourcePlan, TridentRenderError } from "../trident/types.js";

/**
 * Name of the MutatingWebhookConfiguration in the shoot: the one Gardener's webhook library gives the Go
 * extension's (`gardener-extension-` + the extension name `extension-ontap` + `-shoot`), so a takeover
 * replaces it in place instead of leaving it behind pointing at a Service that no longer exists.
 */
export const SHOOT_WEBHOOK_CONFIGURATION_NAME = "gardener-extension-extension-ontap-shoot";
export const SHOOT_WEBHOOK_TIMEOUT_SECONDS = 10;

export interface ShootWebhookTarget {
  /** Full https URL of the webhook endpoint as the shoot's kube-apiserver reaches it (path included). */
  url: string;
  /** CA that signed the webhook server's certificate: PEM, or PEM already base64-encoded. */
  caBundle: string;
}

/**
 * The ManagedResource `extension-ontap-shoot`: a MutatingWebhookConfiguration in the shoot pointing at this
 * extension's webhook server. Two webhooks, so the API server calls us only for what we may mutate: every CRD
 * (cluster-scoped, no selector can single out Trident's) and, in kube-system only, the two Trident workloads by
 * their `app` label. failurePolicy Ignore: an unreachable extension must not block the shoot's API.
 */
export function renderShootWebhookConfiguration(target: ShootWebhookTarget): ManagedResourcePlan {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch (cause) {
    throw new TridentRenderError(`shoot webhook url ${JSON.stringify(target.url)} is not a URL`, undefined, { cause });
  }
  if (url.protocol !== "https:") throw new TridentRenderError(`shoot webhook url ${target.url} is not https`);
  const caBundle = encodeCaBundle(target.caBundle);

  const common = {
    clientConfig: { url: target.url, caBundle },
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: "Ignore",
    matchPolicy: "Equivalent",
    // The mutations are idempotent; running again after another webhook changed the object is harmless.
    reinvocationPolicy: "IfNeeded",
    timeoutSeconds: SHOOT_WEBHOOK_TIMEOUT_SECONDS,
  };
  const configuration = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: SHOOT_WEBHOOK_CONFIGURATION_NAME, labels: { "app.kubernetes.io/name": "gardener-extension-ontap" } },
    webhooks: [
      {
        name: "crds.ontap.extensions.gardener.cloud",
        ...common,
        rules: [
          {
            operations: ["CREATE", "UPDATE"],
            apiGroups: ["apiextensions.k8s.io"],
            apiVersions: ["v1"],
            resources: ["customresourcedefinitions"],
            scope: "Cluster",
          },
        ],
      },
      {
        name: "trident.ontap.extensions.gardener.cloud",
        ...common,
        rules: [
          {
            operations: ["CREATE", "UPDATE"],
            apiGroups: ["apps"],
            apiVersions: ["v1"],
            resources: ["daemonsets", "deployments"],
            scope: "Namespaced",
          },
        ],
        namespaceSelector: {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "In", values: [SHOOT_SYSTEM_NAMESPACE] },
          ],
        },
        objectSelector: {
          matchExpressions: [
            { key: "app", operator: "In", values: [TRIDENT_NODE_APP_LABEL, TRIDENT_CONTROLLER_APP_LABEL] },
          ],
        },
      },
    ],
  };
  return { name: MR_SHOOT_WEBHOOK, keepObjects: false, objects: [configuration] };
}

function encodeCaBundle(caBundle: string): string {
  const trimmed = caBundle.trim();
  if (trimmed.startsWith("-----BEGIN")) return Buffer.from(`${trimmed}\n`, "utf8").toString("base64");
  const decoded = Buffer.from(trimmed, "base64").toString("utf8");
  if (trimmed === "" || !decoded.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TridentRenderError("shoot webhook caBundle is neither PEM nor base64-encoded PEM");
  }
  return trimmed;
}
