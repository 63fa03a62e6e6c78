import { describe, expect, it } from "vitest";
import { decodeShootInputs } from "../../src/ontap-extension/inputs.js";
import { planShoot } from "../../src/ontap-extension/plan.js";
import { renderTridentManagedResources } from "../../src/trident/index.js";
import { renderShootWebhookConfiguration } from "../../src/webhook/config.js";
import { goObjects, type GoShoot, goTridentManagedResources } from "../support/go-extension.js";

/**
 * Field by field, what this controller renders into a shoot against what the Go extension renders (its
 * manifests at 6e39aea, test/fixtures/go-extension-6e39aea), for the Go repository's example shoot
 * (`example/shoot.yaml`: project `local`, shoot `local`, project id b5f26a3b-..., management LIF
 * 192.168.10.29, data LIFs 192.168.10.30/31). Both sides are compared as gardener-resource-manager would apply
 * them (injected labels added, a Secret's `stringData` as `data`). Every difference must be listed below with
 * its reason, and every listed difference must occur, so the list is the truth about what a takeover changes.
 */

const exampleExtension = {
  apiVersion: "extensions.gardener.cloud/v1alpha1",
  kind: "Extension",
  metadata: { name: "ontap", namespace: "shoot--local--local" },
  spec: {
    type: "ontap",
    providerConfig: {
      apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1",
      kind: "TridentConfig",
      svmIpaddresses: { managementLif: "192.168.10.29", dataLifs: ["192.168.10.30", "192.168.10.31"] },
    },
  },
};
const exampleCluster = {
  apiVersion: "extensions.gardener.cloud/v1alpha1",
  kind: "Cluster",
  metadata: { name: "shoot--local--local" },
  spec: {
    shoot: {
      apiVersion: "core.gardener.cloud/v1beta1",
      kind: "Shoot",
      metadata: { name: "local", namespace: "garden-local", annotations: { "cluster.metal-stack.io/project": "b5f26a3b-9a4d-48db-a6b3-d1dd4ac4abec" } },
    },
  },
};

/** Intended differences: `<ManagedResource> <Kind>/<name> <field path>` (a `*` matches any path suffix) and why. */
const INTENDED: Record<string, string> = {
  "trident-crds CustomResourceDefinition/tridentconfigurators.trident.netapp.io spec.names.listKind":
    "written out; the API server defaults listKind to TridentConfiguratorList, so the stored CRD is the same",
  "trident-crds CustomResourceDefinition/tridentconfigurators.trident.netapp.io spec.versions[0].additionalPrinterColumns*":
    "rendered as kube-apiserver stores it (it drops a printer column's zero priority and defaults conversion to None): gardener-resource-manager compares the rendered CRD with the stored one and, with Go's rendering, updated both CRDs on every re-apply (shoot-e2e.test.ts, 'a steady shoot')",
  "trident-crds CustomResourceDefinition/tridentconfigurators.trident.netapp.io spec.conversion*":
    "rendered as kube-apiserver stores it (it drops a printer column's zero priority and defaults conversion to None): gardener-resource-manager compares the rendered CRD with the stored one and, with Go's rendering, updated both CRDs on every re-apply (shoot-e2e.test.ts, 'a steady shoot')",
  "trident-crds CustomResourceDefinition/tridentorchestrators.trident.netapp.io spec.conversion*":
    "rendered as kube-apiserver stores it (it defaults conversion to None): gardener-resource-manager compares the rendered CRD with the stored one and, with Go's rendering, updated both CRDs on every re-apply (shoot-e2e.test.ts, 'a steady shoot')",
  "trident-init ClusterRole/trident-operator rules*":
    "all of trident.netapp.io and groupsnapshot.storage.k8s.io instead of Trident 25.06's list: the operator creates Trident's ClusterRoles and may only grant what it holds, so a list missing a resource a newer Trident needs breaks its install (src/trident/render.ts)",
  "trident-init Deployment/trident-operator spec.template.spec.containers[0].securityContext*":
    "drop [ALL] (upper case, what the restricted Pod Security Standard checks) and allowPrivilegeEscalation false; Trident's bundle has `drop: [all]`. The operator pod restarts once on takeover (it is not in the I/O path)",
  "trident-svm-secret Secret/pb5f26a3b9a4d48dba6b3d1dd4ac4abec-local--local-credentials data.password":
    "the password is the live one of each side (the fixture's differs); name, labels and keys are compared",
};

/**
 * Objects this extension renders and the Go extension does not: `<ManagedResource> <Kind>/<name>` and why. Added
 * objects change nothing the Go extension left in a shoot (no rename, no removal).
 */
const ADDED: Record<string, string> = {
  "trident-backends Role/gardener.cloud:extension-ontap:health":
    "the storage health check reads the TridentBackendConfig and Trident's node DaemonSet in the shoot (src/health/shoot-trident.ts)",
  "trident-backends RoleBinding/gardener.cloud:extension-ontap:health": "binds that Role to the health check's token-requestor ServiceAccount",
};
const isAdded = (mr: string, object: Record<string, unknown>) => `${mr} ${identity(object)}` in ADDED;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const INJECTED = { "shoot.gardener.cloud/no-cleanup": "true" };

/** As gardener-resource-manager applies an object of a shoot ManagedResource with injectLabels. */
function asApplied(object: Record<string, unknown>): Json {
  const o = structuredClone(object) as Record<string, Json> & { metadata: { labels?: Record<string, string> } };
  o.metadata.labels = { ...(o.metadata.labels ?? {}), ...INJECTED };
  const template = (o["spec"] as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
  if (template) template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), ...INJECTED } };
  if (o["kind"] === "Secret" && o["stringData"]) {
    const data = Object.fromEntries(Object.entries(o["stringData"] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
    o["data"] = { ...((o["data"] as Record<string, string>) ?? {}), ...data };
    delete o["stringData"];
  }
  return o as Json;
}

/** Leaf paths where two JSON values differ (arrays compared index by index). */
function differences(a: Json | undefined, b: Json | undefined, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => differences(a[i], b[i], `${path}[${i}]`)).flat();
  }
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return [path];
}

const identity = (o: Record<string, unknown>) => {
  const m = o["metadata"] as { name: string; namespace?: string };
  return `${String(o["kind"])}/${m.name}`;
};

describe("rendering compared with the Go extension's, field by field", () => {
  const plan = planShoot(decodeShootInputs(exampleExtension as never, exampleCluster as never));
  // A taken-over shoot keeps the Go user (the shoot name) once it proved it owns it: the case compared here.
  const creds = { username: plan.legacyUsername ?? plan.username, password: "the-live-password" };
  const ours = renderTridentManagedResources({
    svmName: plan.svmName,
    managementLif: plan.inputs.managementLif,
    dataLifs: plan.inputs.dataLifs,
    credentialsSecretName: plan.shootSecretName,
    username: creds.username,
    password: creds.password,
    firewallNamespaceExists: true,
  });
  const goShoot: GoShoot = {
    namespace: "shoot--local--local",
    project: "local",
    name: "local",
    svmName: plan.svmName,
    managementLif: "192.168.10.29",
    dataLifs: ["192.168.10.30", "192.168.10.31"],
  };
  const go = goTridentManagedResources(goShoot, { username: "local", password: "a-fixture-password" }, { firewallNamespace: true });

  it("derives the same SVM, user and Secret names from Go's example shoot", () => {
    expect(plan.svmName).toBe("pb5f26a3b9a4d48dba6b3d1dd4ac4abec");
    // The Go user is the legacy name; a shoot's own user is <gardener project>--<shoot> (unique per shoot).
    expect(plan.legacyUsername).toBe("local");
    expect(plan.username).toBe("local--local");
    expect(plan.shootSecretName).toBe("pb5f26a3b9a4d48dba6b3d1dd4ac4abec-local--local-credentials");
    expect(plan.lifs.map((l) => l.name)).toEqual(["datalif+0", "datalif+1", "managementlif"]);
  });

  it("renders the same ManagedResources, in the same order, with the same keepObjects", () => {
    expect(ours.map((p) => [p.name, p.keepObjects])).toEqual(go.map((m) => [m.name, m.keepObjects]));
  });

  it("renders the same objects into each ManagedResource", () => {
    for (const mr of go) {
      const mine = ours.find((p) => p.name === mr.name)!;
      const compared = mine.objects.filter((o) => !isAdded(mr.name, o as Record<string, unknown>));
      expect(compared.map((o) => identity(o as Record<string, unknown>)).sort(), mr.name).toEqual(goObjects(mr).map(identity).sort());
    }
    const added = ours.flatMap((p) => p.objects.filter((o) => isAdded(p.name, o as Record<string, unknown>)).map((o) => `${p.name} ${identity(o as Record<string, unknown>)}`));
    expect(added.sort(), "listed added objects that are no longer rendered").toEqual(Object.keys(ADDED).sort());
  });

  it("differs from Go's objects exactly where the list of intended differences says, and nowhere else", () => {
    const found: string[] = [];
    for (const mr of go) {
      const mine = ours.find((p) => p.name === mr.name)!;
      for (const theirs of goObjects(mr)) {
        const counterpart = mine.objects.find((o) => identity(o as Record<string, unknown>) === identity(theirs)) as Record<string, unknown>;
        for (const path of differences(asApplied(counterpart), asApplied(theirs))) found.push(`${mr.name} ${identity(theirs)} ${path}`);
      }
    }
    const matches = (diff: string, key: string) => (key.endsWith("*") ? diff.startsWith(key.slice(0, -1)) : diff === key);
    const unexplained = found.filter((d) => !Object.keys(INTENDED).some((k) => matches(d, k)));
    expect(unexplained, "differences from the Go extension without a listed reason").toEqual([]);
    const unused = Object.keys(INTENDED).filter((k) => !found.some((d) => matches(d, k)));
    expect(unused, "listed differences that no longer occur").toEqual([]);
  });

  it("names the shoot webhook's configuration as Gardener names the Go extension's", () => {
    const webhook = renderShootWebhookConfiguration({ url: "https://gardener-extension-ontap.extension-ontap-x:443/webhooks/ontap", caBundle: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----" });
    expect(webhook.name).toBe("extension-ontap-shoot");
    expect((webhook.objects[0] as { metadata: { name: string } }).metadata.name).toBe("gardener-extension-extension-ontap-shoot");
    expect((webhook.objects[0] as { webhooks: { failurePolicy: string }[] }).webhooks.every((w) => w.failurePolicy === "Ignore")).toBe(true);
  });
});
