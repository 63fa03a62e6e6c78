import { describe, expect, it } from "vitest";
import { LAST_APPLIED_ANNOTATION, projectCluster } from "../../src/extension/cluster-projection.js";
import { decideOperation } from "../../src/extension/operation.js";
import { type Cluster, type Extension, FORCE_DELETION_ANNOTATION } from "../../src/extension/types.js";
import { decodeShootInputs, PROJECT_ANNOTATION } from "../../src/ontap-extension/inputs.js";
import { jsonKiB, metalCloudProfile, realisticClusterObject } from "../../src/testenv/index.js";

/**
 * What the Cluster cache keeps (src/extension/cluster-projection.ts): the fields a reconcile reads, none of the
 * CloudProfile's lists, and the same decisions as the whole object.
 */

const shoot = { namespace: "shoot--acme--db", shootName: "db", project: "acme", shootAnnotations: { [PROJECT_ANNOTATION]: "6a5b2c1d-0000-4000-8000-00000000abcd" } };

function fullCluster(extra: { annotations?: Record<string, string>; lastOperationState?: string } = {}): Cluster {
  const c = realisticClusterObject({ ...shoot, shootAnnotations: { ...shoot.shootAnnotations, ...extra.annotations } }) as unknown as Cluster & {
    metadata: Record<string, unknown>;
    spec: { shoot: { status: { lastOperation: { state: string } } } };
  };
  c.metadata = {
    ...c.metadata,
    uid: "c1",
    resourceVersion: "42",
    annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(c) },
    managedFields: [{ manager: "gardenlet", operation: "Update", fieldsV1: { "f:spec": {} } }],
  };
  if (extra.lastOperationState) c.spec.shoot.status.lastOperation.state = extra.lastOperationState;
  return c;
}

const extension = (deleting = false): Extension =>
  ({
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace: shoot.namespace, ...(deleting ? { deletionTimestamp: "2026-12-01T00:00:00Z" } : {}) },
    spec: { type: "ontap", providerConfig: { svmIpaddresses: { managementLif: "10.1.0.10", dataLifs: ["10.1.0.11"] } } },
  }) as Extension;

describe("Cluster projection", () => {
  it("keeps a realistic Cluster of about 100 KiB in under 2 KiB", () => {
    const full = fullCluster();
    const projected = projectCluster(full);
    expect(jsonKiB(full)).toBeGreaterThan(150); // the realistic one, plus a last-applied copy of itself
    expect(jsonKiB(projected)).toBeLessThan(2);
  });

  it("keeps what a reconcile reads: the Cluster's metadata, the Shoot's identity, annotations, version, purpose, hibernation, status", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a projected Cluster is read as plain JSON here.
    const p = projectCluster(fullCluster()) as unknown as Record<string, any>;
    expect(p.metadata).toEqual({ name: shoot.namespace, uid: "c1", resourceVersion: "42", annotations: {} });
    expect(p.spec.shoot.metadata).toMatchObject({ name: "db", namespace: "garden-acme", annotations: { [PROJECT_ANNOTATION]: shoot.shootAnnotations[PROJECT_ANNOTATION] } });
    expect(p.spec.shoot.metadata.uid).toBeDefined();
    expect(p.spec.shoot.spec).toEqual({
      kubernetes: { version: "1.31.4" },
      purpose: "production",
      hibernation: { enabled: false },
      region: "fra",
      seedName: "metal-seed-1",
      cloudProfileName: "metal",
      cloudProfile: { kind: "CloudProfile", name: "metal" },
      networking: { type: "calico", nodes: "10.100.0.0/22", pods: "10.240.0.0/13", services: "10.248.0.0/18", ipFamilies: ["IPv4"] },
      provider: { type: "metal" },
    });
    expect(p.spec.shoot.status).toMatchObject({ lastOperation: { type: "Reconcile", state: "Succeeded" }, hibernated: false, technicalID: shoot.namespace });
    expect(p.spec.shoot.status.conditions).toBeUndefined();
    expect(p.spec.seed).toEqual({ apiVersion: "core.gardener.cloud/v1beta1", kind: "Seed", metadata: { name: "metal-seed-1", uid: expect.any(String) }, spec: { provider: { type: "metal", region: "fra" } } });
    expect(p.spec.cloudProfile).toEqual({ apiVersion: "core.gardener.cloud/v1beta1", kind: "CloudProfile", metadata: { name: "metal", uid: expect.any(String) }, spec: { type: "metal" } });
  });

  it("drops managedFields, the last-applied copy, workers and the CloudProfile's lists", () => {
    const text = JSON.stringify(projectCluster(fullCluster()));
    for (const gone of ["managedFields", LAST_APPLIED_ANNOTATION, "machineTypes", "machineImages", "firewallImages", "workers", "infrastructureConfig", "conditions"]) {
      expect(text, gone).not.toContain(gone);
    }
  });

  it("decides the same as the whole Cluster: inputs, skip-failed-shoot and force-delete", () => {
    const full = fullCluster();
    expect(decodeShootInputs(extension(), projectCluster(full))).toEqual(decodeShootInputs(extension(), full));
    const failed = fullCluster({ lastOperationState: "Failed" });
    expect(decideOperation(extension(), projectCluster(failed))).toBe("skip-failed-shoot");
    expect(decideOperation(extension(), projectCluster(failed))).toBe(decideOperation(extension(), failed));
    const forced = fullCluster({ annotations: { [FORCE_DELETION_ANNOTATION]: "true" } });
    expect(decideOperation(extension(true), projectCluster(forced))).toBe("force-delete");
  });

  it("is idempotent and copes with the parts a minimal Cluster lacks", () => {
    const once = projectCluster(fullCluster());
    expect(projectCluster(once)).toEqual(once);
    const bare = { metadata: { name: "shoot--a--b", resourceVersion: "1" }, spec: {} } as Cluster;
    expect(projectCluster(bare)).toEqual({ metadata: { name: "shoot--a--b", resourceVersion: "1" }, spec: {} });
    const noSpec = { metadata: { name: "x" } } as unknown as Cluster;
    expect(projectCluster(noSpec).spec).toEqual({});
    expect(decideOperation(extension(), projectCluster(noSpec))).toBe("reconcile");
  });

  it("the realistic CloudProfile is of a metal-stack landscape's size and shape", () => {
    const cp = metalCloudProfile() as { spec: { machineTypes: unknown[]; machineImages: { versions: unknown[] }[]; kubernetes: { versions: unknown[] } } };
    expect(cp.spec.machineTypes).toHaveLength(40);
    expect(cp.spec.machineImages.map((i) => i.versions.length).reduce((a, b) => a + b)).toBeGreaterThan(300);
    expect(jsonKiB(cp)).toBeGreaterThan(85);
    expect(jsonKiB(realisticClusterObject(shoot))).toBeGreaterThan(95);
    expect(jsonKiB(realisticClusterObject(shoot))).toBeLessThan(110);
  });
});
