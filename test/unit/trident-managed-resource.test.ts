import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  CONTENT_HASH_ANNOTATION,
  contentHashOf,
  type ManagedResourcePlan,
  renderTridentManagedResources,
  SHARED_YAML_MEMO_SIZE,
  sharedYamlMemo,
  type TridentFacts,
  TridentRenderError,
  toManagedResourceObjects,
} from "../../src/trident/index.js";

const facts: TridentFacts = {
  svmName: "pabc",
  managementLif: "10.0.0.1",
  dataLifs: ["10.0.0.2", "10.0.0.3"],
  credentialsSecretName: "p1-proj--s1-credentials",
  username: "s1",
  password: "pw-1",
  firewallNamespaceExists: true,
};
const target = { namespace: "shoot--p1--s1", origin: "gardener-extension-ontap" };

function hashes(f: TridentFacts): Record<string, string> {
  return Object.fromEntries(
    renderTridentManagedResources(f).map((p) => [p.name, toManagedResourceObjects(p, target).contentHash]),
  );
}

describe("toManagedResourceObjects", () => {
  const plan = renderTridentManagedResources(facts).find((p) => p.name === "trident-backends")!;
  const { secret, managedResource, contentHash } = toManagedResourceObjects(plan, target);

  it("writes the manifests into Secret managedresource-<name> as base64 YAML, one data key per object", () => {
    expect(secret.apiVersion).toBe("v1");
    expect(secret.kind).toBe("Secret");
    expect(secret.type).toBe("Opaque");
    expect(secret.metadata.name).toBe("managedresource-trident-backends");
    expect(secret.metadata.namespace).toBe("shoot--p1--s1");
    const keys = Object.keys(secret.data);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual([
      "role__kube-system__gardener.cloud_extension-ontap_health.yaml",
      "rolebinding__kube-system__gardener.cloud_extension-ontap_health.yaml",
      "storageclass____ontap-encrypted.yaml",
      "storageclass____ontap-gold.yaml",
      "tridentbackendconfig__kube-system__ontap-pabc-backend.yaml",
    ]);
    const decoded = keys.flatMap((k) =>
      parseAllDocuments(Buffer.from(secret.data[k]!, "base64").toString("utf8")).map((d) => d.toJSON()),
    );
    expect(decoded).toHaveLength(plan.objects.length);
    for (const object of plan.objects) expect(decoded).toContainEqual(object);
  });

  it("describes a shoot ManagedResource referencing that Secret, labelled with its origin", () => {
    expect(managedResource).toEqual({
      apiVersion: "resources.gardener.cloud/v1alpha1",
      kind: "ManagedResource",
      metadata: {
        name: "trident-backends",
        namespace: "shoot--p1--s1",
        labels: { origin: "gardener-extension-ontap" },
        annotations: { [CONTENT_HASH_ANNOTATION]: contentHash },
      },
      spec: {
        secretRefs: [{ name: "managedresource-trident-backends" }],
        keepObjects: true,
        injectLabels: { "shoot.gardener.cloud/no-cleanup": "true" },
      },
    });
  });

  it("annotates the Secret with the same sha256 content hash and never marks it garbage-collectable", () => {
    expect(contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHashOf(secret)).toBe(contentHash);
    expect(contentHashOf(managedResource)).toBe(contentHash);
    expect(secret.metadata.labels?.["resources.gardener.cloud/garbage-collectable-reference"]).toBeUndefined();
    expect(secret.immutable).toBeUndefined();
  });

  it("produces byte-identical objects and the same hash on every call for the same facts", () => {
    const first = renderTridentManagedResources(facts).map((p) => toManagedResourceObjects(p, target));
    const second = renderTridentManagedResources(structuredClone(facts)).map((p) => toManagedResourceObjects(p, target));
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it("hashes content, not the order in which an object's keys were written", () => {
    const a: ManagedResourcePlan = { name: "x", keepObjects: false, objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "1", b: "2" } }] };
    const b: ManagedResourcePlan = { name: "x", keepObjects: false, objects: [{ data: { b: "2", a: "1" }, metadata: { name: "c" }, kind: "ConfigMap", apiVersion: "v1" }] };
    expect(toManagedResourceObjects(a, target).contentHash).toBe(toManagedResourceObjects(b, target).contentHash);
    expect(toManagedResourceObjects(a, target).secret.data).toEqual(toManagedResourceObjects(b, target).secret.data);
  });

  it("changes the hash of exactly the ManagedResources a changed fact ends up in", () => {
    const base = hashes(facts);
    const changed = (f: Partial<TridentFacts>) => {
      const next = hashes({ ...facts, ...f });
      return Object.keys(next).filter((name) => next[name] !== base[name]).sort();
    };
    expect(changed({ password: "pw-2" })).toEqual(["trident-svm-secret"]);
    expect(changed({ username: "s2" })).toEqual(["trident-svm-secret"]);
    expect(changed({ managementLif: "10.0.0.9" })).toEqual(["trident-backends", "trident-cwnp"]);
    expect(changed({ dataLifs: ["10.0.0.2"] })).toEqual(["trident-cwnp"]);
    expect(changed({ svmName: "pdef" })).toEqual(["trident-backends", "trident-svm-secret"]);
    expect(changed({ operatorImage: "example/trident-operator:25.06.4" })).toEqual(["trident-init"]);
    expect(changed({ firewallNamespaceExists: false })).toEqual([]);
  });

  it("changes the hash with keepObjects, origin and namespace, which the ManagedResource carries too", () => {
    const small: ManagedResourcePlan = { name: "x", keepObjects: false, objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }] };
    const h = (p: ManagedResourcePlan, t = target) => toManagedResourceObjects(p, t).contentHash;
    const all = new Set([
      h(small),
      h({ ...small, keepObjects: true }),
      h(small, { ...target, origin: "other" }),
      h(small, { ...target, namespace: "shoot--p1--s2" }),
      h({ ...small, name: "y" }),
    ]);
    expect(all.size).toBe(5);
  });

  it("rejects an object without apiVersion, kind or name, and two objects with the same identity", () => {
    const bad = (objects: object[]) => () => toManagedResourceObjects({ name: "x", keepObjects: false, objects }, target);
    expect(bad([{ kind: "ConfigMap", metadata: { name: "c" } }])).toThrow(TridentRenderError);
    expect(bad([{ apiVersion: "v1", metadata: { name: "c" } }])).toThrow(/apiVersion or kind/);
    expect(bad([{ apiVersion: "v1", kind: "ConfigMap", metadata: {} }])).toThrow(/metadata.name/);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n" } };
    expect(bad([cm, { ...cm }])).toThrow(/same data key/);
    expect(() => toManagedResourceObjects({ name: "x", keepObjects: false, objects: [] }, { ...target, namespace: "" })).toThrow(
      TridentRenderError,
    );
  });
});

describe("the YAML kept for objects every shoot shares", () => {
  const forShoot = (i: number): TridentFacts => ({
    ...facts,
    credentialsSecretName: `p1-proj--s${i}-credentials`,
    username: `s${i}`,
    password: `memo-password-${i}-Zq7!`,
  });
  const data = (f: TridentFacts, t = target) =>
    Object.fromEntries(renderTridentManagedResources(f).map((p) => [p.name, toManagedResourceObjects(p, t).secret.data]));

  it("is the YAML the object serializes to, for every shoot that renders it, and never a Secret's", () => {
    const first = data(forShoot(1));
    const second = data(forShoot(2), { ...target, namespace: "shoot--p1--s2" });
    // What the two shoots share comes out byte-equal; what differs (the credentials Secret) differs.
    const shared = Object.keys(first["trident-init"] ?? {});
    expect(shared.length).toBeGreaterThan(3);
    for (const key of shared) expect(second["trident-init"]?.[key]).toBe(first["trident-init"]?.[key]);
    expect(second["trident-svm-secret"]).not.toEqual(first["trident-svm-secret"]);
    // Each kept entry decodes to YAML that parses back to an object; no password or its base64 was kept.
    const memo = sharedYamlMemo();
    expect(memo.size).toBeGreaterThan(0);
    for (const i of [1, 2]) {
      const pw = forShoot(i).password;
      expect(memo.holds(pw)).toBe(false);
      expect(memo.holds(Buffer.from(pw).toString("base64"))).toBe(false);
    }
  });

  it("stays within SHARED_YAML_MEMO_SIZE however many distinct objects pass", () => {
    for (let i = 0; i < SHARED_YAML_MEMO_SIZE + 50; i++) {
      toManagedResourceObjects({ name: "memo-bound", keepObjects: false, objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}` } }] }, target);
    }
    expect(sharedYamlMemo().size).toBe(SHARED_YAML_MEMO_SIZE);
  });
});
