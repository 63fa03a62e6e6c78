import { describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.js";
import { COMPONENT_SECRET_NAMES, componentNamesInDestroyOrder, componentsOf, SHOOT_COMPONENTS } from "../../src/ontap-extension/components.js";
import { createClusterwideNetworkPolicyRule } from "../../src/ontap-extension/firewall.js";
import { tridentCrdsToRelease } from "../../src/ontap-extension/release-crds.js";
import { TRIDENT_CRD_NAMES, TRIDENT_OPERATOR_CRD_NAMES } from "../../src/trident/index.js";

describe("the shoot's components, one ordered list", () => {
  it("deploys Trident with its CRDs first and the webhook in a step of its own, and tears down backward with the webhook last", () => {
    expect(componentsOf("trident").map((c) => c.name)).toEqual(["trident-crds", "trident-backends", "trident-svm-secret", "trident-cwnp", "trident-init"]);
    expect(componentsOf("trident").filter((c) => c.waitHealthy).map((c) => c.name)).toEqual(["trident-crds"]);
    expect(componentsOf("webhook").map((c) => c.name)).toEqual(["extension-ontap-shoot"]);
    // The webhook mutates Trident's pods: it goes only once every Trident component is gone.
    expect(componentNamesInDestroyOrder()).toEqual(["trident-init", "trident-cwnp", "trident-svm-secret", "trident-backends", "trident-crds", "extension-ontap-shoot"]);
    expect(COMPONENT_SECRET_NAMES).toEqual(SHOOT_COMPONENTS.map((c) => `managedresource-${c.name}`));
  });
});

describe("releasing the CRDs an earlier version put into trident-crds", () => {
  const crd = (name: string) => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name });

  it("releases exactly Trident's own CRDs the resource manager still lists, never the operator's two", () => {
    const live = { status: { resources: [...TRIDENT_OPERATOR_CRD_NAMES.map(crd), crd("tridentvolumes.trident.netapp.io"), crd("tridentnodes.trident.netapp.io")] } };
    expect(tridentCrdsToRelease(live).sort()).toEqual(["tridentnodes.trident.netapp.io", "tridentvolumes.trident.netapp.io"]);
  });

  it("releases all 15 from a ManagedResource written with 17 CRDs, and nothing once they are dropped from its status", () => {
    expect(tridentCrdsToRelease({ status: { resources: [...TRIDENT_OPERATOR_CRD_NAMES, ...TRIDENT_CRD_NAMES].map(crd) } })).toHaveLength(15);
    expect(tridentCrdsToRelease({ status: { resources: TRIDENT_OPERATOR_CRD_NAMES.map(crd) } })).toEqual([]);
    expect(tridentCrdsToRelease(undefined)).toEqual([]);
    expect(tridentCrdsToRelease({})).toEqual([]);
  });
});

describe("the ClusterwideNetworkPolicy rule", () => {
  function kubeWith(namespaces: Set<string>, reads: string[]): KubeClient {
    return {
      async get(_type: unknown, _ns: unknown, name: string) {
        reads.push(name);
        return namespaces.has(name) ? { metadata: { name } } : undefined;
      },
    } as unknown as KubeClient;
  }

  it("follows the seed's firewall namespace (the Go extension's rule), reading it at most once per TTL", async () => {
    const namespaces = new Set<string>();
    const reads: string[] = [];
    let now = 0;
    const rule = createClusterwideNetworkPolicyRule(kubeWith(namespaces, reads), undefined, { ttlMs: 1000, now: () => now });
    expect(await rule()).toBe(false);
    namespaces.add("firewall");
    expect(await rule()).toBe(false);
    expect(reads).toEqual(["firewall"]);
    now = 1000;
    expect(await rule()).toBe(true);
    expect(reads).toEqual(["firewall", "firewall"]);
  });

  it("is what the configuration says when it says something, without reading the seed", async () => {
    const reads: string[] = [];
    const kube = kubeWith(new Set(["firewall"]), reads);
    expect(await createClusterwideNetworkPolicyRule(kube, false)()).toBe(false);
    expect(await createClusterwideNetworkPolicyRule(kube, true)()).toBe(true);
    expect(reads).toEqual([]);
  });
});
