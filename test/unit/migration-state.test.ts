import { describe, expect, it } from "vitest";
import { decideOperation } from "../../src/extension/operation.js";
import { buildStatusPatch } from "../../src/extension/status.js";
import type { Extension } from "../../src/extension/types.js";
import type { KubeClient } from "../../src/kube/client.js";
import { KubeError } from "../../src/kube/errors.js";
import { Secrets } from "../../src/kube/resources.js";
import { readSeedSecrets } from "../../src/ontap-extension/credentials.js";
import { credentialsResource, credentialsToCarry } from "../../src/ontap-extension/delete-steps.js";
import { deleteGoSecret, takeoverForbiddenMessage } from "../../src/ontap-extension/go-secrets.js";
import { planShoot } from "../../src/ontap-extension/plan.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";

/**
 * What a control-plane migration carries and what the takeover grant's absence means, without an API server:
 * gardenlet's side of the move is played in test/integration/controller-lifecycle.test.ts, the chart's grant
 * in test/integration/chart-rbac.test.ts.
 */

const plan = planShoot({
  projectId: "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ab",
  gardenerProject: "garden1",
  shootName: "db",
  shootNamespace: "shoot--garden1--db",
  managementLif: "10.160.0.10",
  dataLifs: ["10.160.0.11"],
});

function extension(annotations: Record<string, string> = {}): Extension {
  return { metadata: { name: "ontap", namespace: plan.secret.namespace, generation: 1, annotations }, spec: { type: "ontap" } };
}

describe("migration: the state gardenlet carries", () => {
  it("leaves an Extension annotated wait-for-state alone, whatever else it says (gardenlet restores its Secret first)", () => {
    expect(decideOperation(extension({ "gardener.cloud/operation": "wait-for-state" }), undefined)).toBe("wait-for-state");
    const deleting = extension({ "gardener.cloud/operation": "wait-for-state" });
    deleting.metadata.deletionTimestamp = "2026-12-06T10:00:00Z";
    expect(decideOperation(deleting, undefined)).toBe("wait-for-state");
    expect(decideOperation(extension({ "gardener.cloud/operation": "restore" }), undefined)).toBe("restore");
  });

  it("writes status.resources as a whole: a reference to the Secret, never its content", () => {
    const patch = buildStatusPatch(extension(), { type: "Reconcile", state: "Succeeded", description: "ok", resources: [credentialsResource(plan.secret.name)] }, new Date());
    expect(patch.resources).toEqual([{ name: "svm-credentials", resourceRef: { apiVersion: "v1", kind: "Secret", name: "ontap-svm-credentials" } }]);
    expect(buildStatusPatch(extension(), { type: "Reconcile", state: "Processing", description: "…" }, new Date())).not.toHaveProperty("resources");
  });

  it("migrate names the seed Secret when it exists, and nothing when it does not (no reference to a missing object)", async () => {
    const kube = createFakeKubeClient();
    expect(await credentialsToCarry(kube, plan, plan.secret.namespace)).toEqual([]);
    await kube.create(Secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: plan.secret.name, namespace: plan.secret.namespace }, data: {} });
    expect(await credentialsToCarry(kube, plan, plan.secret.namespace)).toEqual([credentialsResource(plan.secret.name)]);
  });
});

describe("takeover grant off: a 403 on the Go extension's Secret is no takeover to do", () => {
  it("reads it as absent and says why, naming the chart value", async () => {
    const fake = createFakeKubeClient();
    // The API server under the chart without the grant: kube-system's Secrets are refused, the shoot namespace's are not.
    const kube: KubeClient = {
      ...fake,
      get: (type, namespace, name) =>
        namespace === "kube-system" ? Promise.reject(new KubeError({ reason: "Forbidden", status: 403, verb: "get", resource: "secrets", namespace, name })) : fake.get(type, namespace, name),
    };
    expect(await readSeedSecrets(kube, plan)).toEqual({ legacyForbidden: true });
    expect(takeoverForbiddenMessage(plan.legacySecret)).toContain("takeover.goSecrets");
  });

  it("a refused delete is not a failure; other errors still are", async () => {
    const kube = createFakeKubeClient();
    kube.inject({ verb: "delete", resource: "secrets", reason: "Forbidden", status: 403 });
    expect(await deleteGoSecret(kube, plan.legacySecret)).toBe(false);
    kube.inject({ verb: "delete", resource: "secrets", reason: "ServerError", status: 500 });
    await expect(deleteGoSecret(kube, plan.legacySecret)).rejects.toThrow();
  });
});
