import { describe, expect, it } from "vitest";
import { TridentRenderError, toManagedResourceObjects } from "../../src/trident/index.js";
import { renderShootWebhookConfiguration, SHOOT_WEBHOOK_PATH } from "../../src/webhook/index.js";

const pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYWJj\n-----END CERTIFICATE-----";
const url = `https://gardener-extension-ontap.extension-ontap.svc:443${SHOOT_WEBHOOK_PATH}`;

// biome-ignore lint/suspicious/noExplicitAny: the configuration is read as free-form JSON
type Json = any;

describe("renderShootWebhookConfiguration", () => {
  const plan = renderShootWebhookConfiguration({ url, caBundle: pem });
  const [config] = plan.objects as Json[];

  it("is the ManagedResource extension-ontap-shoot holding one MutatingWebhookConfiguration", () => {
    expect(plan.name).toBe("extension-ontap-shoot");
    expect(plan.keepObjects).toBe(false);
    expect(plan.objects).toHaveLength(1);
    expect(config.apiVersion).toBe("admissionregistration.k8s.io/v1");
    expect(config.kind).toBe("MutatingWebhookConfiguration");
    expect(config.metadata.name).toBe("gardener-extension-extension-ontap-shoot");
    expect(() => toManagedResourceObjects(plan, { namespace: "shoot--p--s", origin: "o" })).not.toThrow();
  });

  it("never blocks the shoot: failurePolicy Ignore, no side effects, a 10 s timeout, v1 reviews", () => {
    for (const webhook of config.webhooks) {
      expect(webhook).toMatchObject({
        failurePolicy: "Ignore",
        sideEffects: "None",
        timeoutSeconds: 10,
        admissionReviewVersions: ["v1"],
        clientConfig: { url, caBundle: Buffer.from(`${pem}\n`).toString("base64") },
      });
    }
    expect(new Set(config.webhooks.map((w: Json) => w.name)).size).toBe(config.webhooks.length);
  });

  it("asks for CRD creates and updates, and for DaemonSets and Deployments only in kube-system and only Trident's", () => {
    const rules = config.webhooks.flatMap((w: Json) => w.rules.map((r: Json) => ({ ...r, webhook: w })));
    const crdRule = rules.find((r: Json) => r.apiGroups.includes("apiextensions.k8s.io"));
    expect(crdRule).toMatchObject({ operations: ["CREATE", "UPDATE"], apiVersions: ["v1"], resources: ["customresourcedefinitions"] });
    const appsRule = rules.find((r: Json) => r.apiGroups.includes("apps"));
    expect(appsRule).toMatchObject({ operations: ["CREATE", "UPDATE"], resources: ["daemonsets", "deployments"] });
    expect(appsRule.webhook.namespaceSelector.matchExpressions).toEqual([
      { key: "kubernetes.io/metadata.name", operator: "In", values: ["kube-system"] },
    ]);
    expect(appsRule.webhook.objectSelector.matchExpressions[0].values.sort()).toEqual([
      "controller.csi.trident.netapp.io",
      "node.csi.trident.netapp.io",
    ]);
  });

  it("accepts a CA bundle that is already base64 and rejects one that is neither", () => {
    const encoded = Buffer.from(`${pem}\n`).toString("base64");
    const again = renderShootWebhookConfiguration({ url, caBundle: encoded }).objects[0] as Json;
    expect(again.webhooks[0].clientConfig.caBundle).toBe(encoded);
    expect(() => renderShootWebhookConfiguration({ url, caBundle: "not a certificate" })).toThrow(TridentRenderError);
    expect(() => renderShootWebhookConfiguration({ url, caBundle: "" })).toThrow(/caBundle/);
  });

  it("rejects a URL that is not https", () => {
    expect(() => renderShootWebhookConfiguration({ url: "http://x:80/webhooks/ontap", caBundle: pem })).toThrow(/not https/);
    expect(() => renderShootWebhookConfiguration({ url: "x y", caBundle: pem })).toThrow(/not a URL/);
  });
});
