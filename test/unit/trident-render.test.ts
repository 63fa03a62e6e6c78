import { describe, expect, it } from "vitest";
import {
  DEFAULT_TRIDENT_OPERATOR_IMAGE,
  MODE_ANNOTATION,
  renderTridentManagedResources,
  TRIDENT_CRD_NAMES,
  TRIDENT_OPERATOR_CRD_NAMES,
  type TridentFacts,
  TridentRenderError,
  toManagedResourceObjects,
} from "../../src/trident/index.js";

const facts: TridentFacts = {
  svmName: "p5f26a3b99a4d48dba6b3d1dd4ac4abec",
  managementLif: "10.130.0.10",
  dataLifs: ["10.130.0.11", "10.130.0.12"],
  credentialsSecretName: "p5f26a3b99a4d48dba6b3d1dd4ac4abec-p1--s1-credentials",
  username: "shoot--p1--s1",
  password: "Sup3r-Secret-Pw",
  firewallNamespaceExists: true,
};

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form; the tests read nested fields directly
  [key: string]: any;
};

function plan(name: string, f: TridentFacts = facts) {
  const p = renderTridentManagedResources(f).find((x) => x.name === name);
  if (!p) throw new Error(`no plan ${name}`);
  return p;
}
function objectsOf(name: string, f: TridentFacts = facts): Obj[] {
  return plan(name, f).objects as Obj[];
}
function find(objects: Obj[], kind: string, name?: string): Obj {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ""}`);
  return o;
}

describe("renderTridentManagedResources", () => {
  it("renders the five ManagedResources in the Go extension's order when the firewall namespace exists", () => {
    expect(renderTridentManagedResources(facts).map((p) => p.name)).toEqual([
      "trident-crds",
      "trident-backends",
      "trident-svm-secret",
      "trident-cwnp",
      "trident-init",
    ]);
  });

  it("leaves trident-cwnp out without a firewall namespace", () => {
    const plans = renderTridentManagedResources({ ...facts, firewallNamespaceExists: false });
    expect(plans.map((p) => p.name)).toEqual(["trident-crds", "trident-backends", "trident-svm-secret", "trident-init"]);
  });

  it("keeps the CRDs, the backend and the operator in the shoot when their ManagedResource is deleted, as the Go extension does", () => {
    const keep = Object.fromEntries(renderTridentManagedResources(facts).map((p) => [p.name, p.keepObjects]));
    expect(keep).toEqual({
      "trident-crds": true,
      "trident-backends": true,
      "trident-svm-secret": false,
      "trident-cwnp": false,
      "trident-init": true,
    });
  });

  it("gives every manifest an apiVersion, a kind and a name", () => {
    for (const p of renderTridentManagedResources(facts)) {
      for (const o of p.objects as Obj[]) {
        expect(typeof o.apiVersion, `${p.name} ${o.kind}`).toBe("string");
        expect(o.apiVersion.length).toBeGreaterThan(0);
        expect(o.kind.length).toBeGreaterThan(0);
        expect(o.metadata.name.length, `${p.name} ${o.kind}`).toBeGreaterThan(0);
      }
    }
  });

  it("is deterministic: the same facts give deep-equal plans", () => {
    expect(JSON.stringify(renderTridentManagedResources(facts))).toBe(
      JSON.stringify(renderTridentManagedResources({ ...facts, dataLifs: [...facts.dataLifs] })),
    );
  });
});

describe("trident-crds", () => {
  const crds = objectsOf("trident-crds");

  it("holds the operator's two CRDs only: Trident's installer owns its other 15", () => {
    expect(TRIDENT_CRD_NAMES).toHaveLength(15);
    expect(new Set(TRIDENT_CRD_NAMES).size).toBe(15);
    expect(crds.map((c) => c.metadata.name)).toEqual([
      "tridentorchestrators.trident.netapp.io",
      "tridentconfigurators.trident.netapp.io",
    ]);
    expect(crds.map((c) => c.metadata.name)).toEqual([...TRIDENT_OPERATOR_CRD_NAMES]);
  });

  it("releases CRDs an earlier version put there with mode Ignore instead of dropping them (dropping would delete them)", () => {
    const released = objectsOf("trident-crds", { ...facts, releaseCrds: ["tridentvolumes.trident.netapp.io", "tridentbackends.trident.netapp.io"] });
    expect(released.map((c) => c.metadata.name)).toEqual([
      "tridentorchestrators.trident.netapp.io",
      "tridentconfigurators.trident.netapp.io",
      "tridentbackends.trident.netapp.io",
      "tridentvolumes.trident.netapp.io",
    ]);
    const annotations = (o: Obj) => (o.metadata as { annotations?: Record<string, string> }).annotations;
    for (const crd of released.slice(2)) expect(annotations(crd)).toEqual({ [MODE_ANNOTATION]: "Ignore" });
    for (const crd of released.slice(0, 2)) expect(annotations(crd)).toBeUndefined();
  });

  it("writes each as a structurally valid apiextensions.k8s.io/v1 CRD with an open schema", () => {
    for (const crd of crds) {
      expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
      expect(crd.kind).toBe("CustomResourceDefinition");
      const { group, names, scope, versions } = crd["spec"];
      expect(group).toBe("trident.netapp.io");
      expect(crd.metadata.name).toBe(`${names.plural}.${group}`);
      expect(names.singular).toBe(names.kind.toLowerCase());
      expect(names.listKind).toBe(`${names.kind}List`);
      expect(names.plural).toMatch(/^[a-z]+$/);
      expect(["Namespaced", "Cluster"]).toContain(scope);
      expect(versions.filter((v: { storage: boolean }) => v.storage)).toHaveLength(1);
      for (const v of versions) {
        expect(v.name).toBe("v1");
        expect(v.served).toBe(true);
        expect(v.schema.openAPIV3Schema).toEqual({ type: "object", "x-kubernetes-preserve-unknown-fields": true });
        for (const c of v.additionalPrinterColumns ?? []) {
          expect(c.jsonPath.startsWith(".")).toBe(true);
          expect(["string", "date", "integer", "boolean"]).toContain(c.type);
        }
      }
    }
  });

  it("keeps the status subresource and cluster scope of the operator's kinds", () => {
    const byKind = Object.fromEntries(crds.map((c) => [c["spec"].names.kind, c["spec"]]));
    for (const kind of ["TridentOrchestrator", "TridentConfigurator"]) {
      expect(byKind[kind].versions[0].subresources, kind).toEqual({ status: {} });
      expect(byKind[kind].scope).toBe("Cluster");
    }
    expect(byKind["TridentOrchestrator"].names.shortNames).toEqual(["torc", "torchestrator"]);
    expect(byKind["TridentConfigurator"].names.shortNames).toEqual(["tconf", "tconfigurator"]);
  });
});

describe("trident-backends", () => {
  const objects = objectsOf("trident-backends");

  it("configures an ontap-san NVMe backend for the SVM with the shoot Secret as credentials", () => {
    const tbc = find(objects, "TridentBackendConfig");
    expect(tbc.apiVersion).toBe("trident.netapp.io/v1");
    expect(tbc.metadata).toEqual({ name: `ontap-${facts.svmName}-backend`, namespace: "kube-system" });
    expect(tbc["spec"]).toMatchObject({
      version: 1,
      backendName: `ontap-${facts.svmName}`,
      storageDriverName: "ontap-san",
      sanType: "nvme",
      managementLIF: "10.130.0.10",
      credentials: { name: facts.credentialsSecretName },
    });
    // No svm: Trident finds the SVM from the SVM-scoped credentials (also the -mc mirror after a switchover).
    expect(tbc["spec"]).not.toHaveProperty("svm");
    const secret = find(objectsOf("trident-svm-secret"), "Secret");
    expect(tbc["spec"].credentials.name).toBe(secret.metadata.name);
    expect(secret.metadata.namespace).toBe(tbc.metadata.namespace);
  });

  it("offers a LUKS and a plain storage pool", () => {
    expect(find(objects, "TridentBackendConfig")["spec"].storage).toEqual([
      { labels: { luks: "true" }, defaults: { luksEncryption: "true" } },
      { labels: { luks: "false" }, defaults: { luksEncryption: "false" } },
    ]);
  });

  it("brackets an IPv6 management LIF as Trident requires", () => {
    const v6 = objectsOf("trident-backends", { ...facts, managementLif: "fd00::10" });
    expect(find(v6, "TridentBackendConfig")["spec"].managementLIF).toBe("[fd00::10]");
  });

  it("selects the plain pool for ontap-gold and the LUKS pool for ontap-encrypted with the per-PVC key Secret", () => {
    const gold = find(objects, "StorageClass", "ontap-gold");
    const encrypted = find(objects, "StorageClass", "ontap-encrypted");
    for (const sc of [gold, encrypted]) {
      expect(sc.apiVersion).toBe("storage.k8s.io/v1");
      expect(sc["provisioner"]).toBe("csi.trident.netapp.io");
      expect(sc["allowVolumeExpansion"]).toBe(true);
      expect(sc["parameters"]).toMatchObject({ backendType: "ontap-san", fsType: "ext4" });
    }
    expect(gold["parameters"].selector).toBe("luks=false");
    // The CSI sidecars resolve this per claim: the LUKS key Secret sits next to the PVC.
    const pvcNamespace = ["$", "{pvc.namespace}"].join("");
    expect(encrypted["parameters"]).toMatchObject({
      selector: "luks=true",
      "csi.storage.k8s.io/node-stage-secret-name": "storage-encryption-key",
      "csi.storage.k8s.io/node-stage-secret-namespace": pvcNamespace,
      "csi.storage.k8s.io/node-expand-secret-name": "storage-encryption-key",
      "csi.storage.k8s.io/node-expand-secret-namespace": pvcNamespace,
    });
    // Immutable fields the Go extension never set; setting them now would make existing classes un-updatable.
    expect(gold["reclaimPolicy"]).toBeUndefined();
    expect(gold["volumeBindingMode"]).toBeUndefined();
  });
});

describe("trident-svm-secret", () => {
  it("puts the SVM user's credentials into the shoot's kube-system", () => {
    const [secret, ...rest] = objectsOf("trident-svm-secret");
    expect(rest).toEqual([]);
    expect(secret!.kind).toBe("Secret");
    expect(secret!.metadata.namespace).toBe("kube-system");
    expect(secret!.metadata.name).toBe(facts.credentialsSecretName);
    expect(secret!.metadata.labels).toEqual({
      "app.kubernetes.io/part-of": "gardener-extension-ontap",
      "app.kubernetes.io/managed-by": "gardener",
      "ontap.metal-stack.io/project-id": facts.svmName,
    });
    expect(secret!["type"]).toBe("Opaque");
    const data = secret!["data"] as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(["password", "username"]);
    expect(Buffer.from(data["username"]!, "base64").toString()).toBe(facts.username);
    expect(Buffer.from(data["password"]!, "base64").toString()).toBe(facts.password);
  });

  it("is the only ManagedResource that carries the password, and only base64-encoded", () => {
    const plain = facts.password;
    const encoded = Buffer.from(facts.password).toString("base64");
    for (const p of renderTridentManagedResources(facts)) {
      const { secret, managedResource } = toManagedResourceObjects(p, { namespace: "shoot--p1--s1", origin: "o" });
      const yaml = Object.values(secret.data).map((v) => Buffer.from(v, "base64").toString()).join("\n");
      const haystack = JSON.stringify(p.objects) + yaml + JSON.stringify(managedResource);
      expect(haystack.includes(plain), `${p.name} contains the password in plain text`).toBe(false);
      expect(haystack.includes(encoded), `${p.name} contains the encoded password`).toBe(p.name === "trident-svm-secret");
    }
  });
});

describe("trident-cwnp", () => {
  it("allows egress to the management LIF on 443 and every data LIF on 4420 from the firewall namespace", () => {
    const [cwnp] = objectsOf("trident-cwnp");
    expect(cwnp).toEqual({
      apiVersion: "metal-stack.io/v1",
      kind: "ClusterwideNetworkPolicy",
      metadata: { name: "allow-to-ontap", namespace: "firewall" },
      spec: {
        egress: [
          { to: [{ cidr: "10.130.0.10/32" }], ports: [{ protocol: "TCP", port: 443 }] },
          { to: [{ cidr: "10.130.0.11/32" }, { cidr: "10.130.0.12/32" }], ports: [{ protocol: "TCP", port: 4420 }] },
        ],
      },
    });
  });

  it("uses /128 for IPv6 LIFs and lists a repeated data LIF once", () => {
    const [cwnp] = objectsOf("trident-cwnp", { ...facts, managementLif: "fd00::1", dataLifs: ["fd00::2", "fd00::2"] });
    expect(cwnp!["spec"].egress).toEqual([
      { to: [{ cidr: "fd00::1/128" }], ports: [{ protocol: "TCP", port: 443 }] },
      { to: [{ cidr: "fd00::2/128" }], ports: [{ protocol: "TCP", port: 4420 }] },
    ]);
  });
});

describe("trident-init", () => {
  const objects = objectsOf("trident-init");

  it("deploys the operator with its RBAC in kube-system and a TridentOrchestrator for kube-system", () => {
    expect(objects.map((o) => o.kind)).toEqual([
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Deployment",
      "TridentOrchestrator",
      "NetworkPolicy",
    ]);
    const sa = find(objects, "ServiceAccount");
    expect(sa.metadata).toMatchObject({ name: "trident-operator", namespace: "kube-system" });
    const crb = find(objects, "ClusterRoleBinding");
    expect(crb["roleRef"]).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "trident-operator" });
    expect(crb["subjects"]).toEqual([{ kind: "ServiceAccount", name: "trident-operator", namespace: "kube-system" }]);
    const torc = find(objects, "TridentOrchestrator");
    expect(torc.metadata).toEqual({ name: "trident" });
    expect(torc["spec"].namespace).toBe("kube-system");
  });

  it("runs the default operator image, never older than the Go extension's 25.06.3, unless one is given", () => {
    const image = (objs: Obj[]) => find(objs, "Deployment")["spec"].template.spec.containers[0].image;
    expect(DEFAULT_TRIDENT_OPERATOR_IMAGE).toBe("docker.io/netapp/trident-operator:25.06.3");
    expect(image(objects)).toBe(DEFAULT_TRIDENT_OPERATOR_IMAGE);
    expect(image(objectsOf("trident-init", { ...facts, operatorImage: "registry.example/trident-operator:25.06.9" }))).toBe(
      "registry.example/trident-operator:25.06.9",
    );
  });

  it("refuses an operator image older than 25.06.3, one of an unknown release line and one without a version tag", () => {
    expect(() => renderTridentManagedResources({ ...facts, operatorImage: "docker.io/netapp/trident-operator:25.06.2" })).toThrow(
      /25\.06\.2, older than 25\.06\.3 .* never downgrade/,
    );
    // A line between known ones (Trident releases YY.02, YY.06, YY.10) is not one this controller can vouch for.
    expect(() => renderTridentManagedResources({ ...facts, operatorImage: "docker.io/netapp/trident-operator:26.04.0" })).toThrow(
      /26\.04\.0, a release line this controller does not know/,
    );
    expect(() => renderTridentManagedResources({ ...facts, operatorImage: "docker.io/netapp/trident-operator:latest" })).toThrow(/no YY\.MM\.patch tag/);
  });

  it("keeps the Go extension's pod labels, log level and 25.06 resources on the operator", () => {
    const template = find(objects, "Deployment")["spec"].template;
    expect(template.metadata.labels).toEqual({
      app: "operator.trident.netapp.io",
      name: "trident-operator",
      "networking.gardener.cloud/to-dns": "allowed",
      "networking.gardener.cloud/to-apiserver": "allowed",
      "networking.gardener.cloud/to-public-networks": "allowed",
    });
    const container = template.spec.containers[0];
    expect(container.command).toEqual(["/trident-operator", "--log-level=debug"]);
    expect(container.resources).toEqual({ requests: { cpu: "10m", memory: "40Mi" }, limits: { cpu: "20m", memory: "80Mi" } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });

  it("renders the TridentOrchestrator with the Go extension's settings, each overridable", () => {
    expect(find(objects, "TridentOrchestrator")["spec"]).toEqual({
      namespace: "kube-system",
      enableForceDetach: true,
      IPv6: false,
      k8sTimeout: 0,
      httpRequestTimeout: "90s",
      silenceAutosupport: false,
      autosupportInsecure: false,
      logFormat: "text",
      disableAuditLog: true,
      debug: true,
      imagePullSecrets: [],
      imagePullPolicy: "IfNotPresent",
      windows: false,
      enableACP: false,
      enableAutoBackendConfig: true,
      iscsiSelfHealingInterval: "5m0s",
      iscsiSelfHealingWaitTime: "7m0s",
    });
    const tuned = find(objectsOf("trident-init", { ...facts, orchestrator: { debug: false, enableForceDetach: false, httpRequestTimeout: "120s" } }), "TridentOrchestrator");
    expect(tuned["spec"]).toMatchObject({ debug: false, enableForceDetach: false, httpRequestTimeout: "120s", namespace: "kube-system", IPv6: false });
  });

  it("opens Trident's controller to 10.0.0.0/8 both ways with the Go extension's allow-to-trident-controller", () => {
    expect(find(objects, "NetworkPolicy")).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-to-trident-controller", namespace: "kube-system" },
      spec: {
        podSelector: { matchLabels: { app: "controller.csi.trident.netapp.io" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }],
        egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }],
      },
    });
  });

  it("renders what Trident 26.06's bundle changes when a 26.06 operator is configured, and nothing else", () => {
    const v2606 = objectsOf("trident-init", { ...facts, operatorImage: "docker.io/netapp/trident-operator:26.06.0" });
    const container = find(v2606, "Deployment")["spec"].template.spec.containers[0];
    expect(container.image).toBe("docker.io/netapp/trident-operator:26.06.0");
    // 26.06 dropped the limits and runs the operator with a read-only root filesystem.
    expect(container.resources).toEqual({ requests: { cpu: "10m", memory: "40Mi" } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
    const rules = (objs: Obj[]) => find(objs, "ClusterRole")["rules"] as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
    const va = (objs: Obj[]) => rules(objs).find((r) => r.resources.includes("volumeattachments"))!;
    expect(va(objects).verbs).not.toContain("delete");
    expect(va(v2606).verbs).toContain("delete");
    const rbac = (objs: Obj[]) => rules(objs).find((r) => r.apiGroups.includes("rbac.authorization.k8s.io") && r.resourceNames !== undefined)!;
    expect(rbac(objects).resourceNames).not.toContain("trident-node-remediation-access");
    expect(rbac(v2606).resourceNames).toContain("trident-node-remediation-access");
    expect(rbac(v2606).verbs).toContain("get");
    // Everything else is the same: the other objects and the rest of the rules.
    const without = (objs: Obj[]) => objs.filter((o) => o.kind !== "Deployment" && o.kind !== "ClusterRole");
    expect(without(v2606)).toEqual(without(objects));
    expect(rules(v2606).length).toBe(rules(objects).length);
  });

  it("renders each release with its own bundle's differences: 25.10 and 26.02 alike, 26.06 and the next line (26.10) alike", () => {
    // NetApp/trident deploy/bundle.yaml diffed tag by tag (v25.06.3, v25.10.0, v26.02.1, v26.06.0, master = 26.10.0):
    // 25.10 drops the limits and adds VolumeAttachment delete and the node remediation ClusterRole; 26.02 and
    // 26.10 add only trident.netapp.io resources (granted whole here); 26.06 adds readOnlyRootFilesystem.
    const at = (tag: string) => objectsOf("trident-init", { ...facts, operatorImage: `docker.io/netapp/trident-operator:${tag}` });
    const shape = (objs: Obj[]) => {
      const deployment = structuredClone(find(objs, "Deployment"));
      deployment["spec"].template.spec.containers[0].image = "<image>";
      return objs.map((o) => (o.kind === "Deployment" ? deployment : o));
    };
    const container = (objs: Obj[]) => find(objs, "Deployment")["spec"].template.spec.containers[0];
    expect(container(at("25.10.0")).resources).toEqual({ requests: { cpu: "10m", memory: "40Mi" } });
    expect(container(at("25.10.0")).securityContext.readOnlyRootFilesystem).toBeUndefined();
    expect(shape(at("26.02.1"))).toEqual(shape(at("25.10.0")));
    expect(shape(at("26.06.0"))).not.toEqual(shape(at("26.02.1")));
    expect(shape(at("26.10.0"))).toEqual(shape(at("26.06.0")));
    const without = (objs: Obj[]) => objs.filter((o) => o.kind !== "Deployment");
    expect(without(at("26.06.0"))).toEqual(without(at("25.10.0")));
    expect(without(at("25.10.0"))).not.toEqual(without(objects));
  });

  it("tells the operator, in its own pod, only the images that differ from the release's own", () => {
    const env = (objs: Obj[]) => find(objs, "Deployment")["spec"].template.spec.containers[0].env as { name: string; value?: string }[];
    expect(env(objects).map((e) => e.name)).toEqual(["POD_NAME", "OPERATOR_NAME"]);
    const redirected = objectsOf("trident-init", {
      ...facts,
      operatorImageEnv: [{ name: "DEFAULT_TRIDENT_IMAGE", value: "mirror.example/netapp/trident:25.06.3" }],
    });
    expect(env(redirected).at(-1)).toEqual({ name: "DEFAULT_TRIDENT_IMAGE", value: "mirror.example/netapp/trident:25.06.3" });
    // The TridentOrchestrator stays the Go extension's: an image change never reaches a running operator of another release.
    expect(find(redirected, "TridentOrchestrator")).toEqual(find(objects, "TridentOrchestrator"));
  });

  it("selects its pods by labels the pod template carries and runs them under its ServiceAccount", () => {
    const deployment = find(objects, "Deployment");
    const { selector, template } = deployment["spec"];
    expect(template.metadata.labels).toMatchObject(selector.matchLabels);
    expect(template.spec.serviceAccountName).toBe("trident-operator");
    expect(deployment.metadata.namespace).toBe("kube-system");
  });

  it("lets the operator manage every trident.netapp.io resource and create the Trident workloads", () => {
    const rules = find(objects, "ClusterRole")["rules"] as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
    const allows = (group: string, resource: string, verb: string, name?: string) =>
      rules.some(
        (r) =>
          r.apiGroups.includes(group) &&
          (r.resources.includes(resource) || r.resources.includes("*")) &&
          r.verbs.includes(verb) &&
          (r.resourceNames === undefined || (name !== undefined && r.resourceNames.includes(name))),
      );
    expect(allows("trident.netapp.io", "tridentgroupsnapshots", "create")).toBe(true);
    expect(allows("trident.netapp.io", "tridentorchestrators/status", "update")).toBe(true);
    expect(allows("apps", "daemonsets", "create")).toBe(true);
    expect(allows("apps", "daemonsets", "patch", "trident-node-linux")).toBe(true);
    expect(allows("apps", "deployments", "patch", "trident-controller")).toBe(true);
    expect(allows("apiextensions.k8s.io", "customresourcedefinitions", "patch")).toBe(true);
    expect(allows("", "secrets", "get")).toBe(true);
  });
});

describe("validation", () => {
  const bad: [string, Partial<TridentFacts>, RegExp][] = [
    ["an svm name with upper case", { svmName: "P123" }, /svmName/],
    ["an empty svm name", { svmName: "" }, /svmName/],
    ["a management LIF that is no IP", { managementLif: "ontap.example" }, /managementLif/],
    ["no data LIFs", { dataLifs: [] }, /dataLifs/],
    ["a data LIF that is no IP", { dataLifs: ["10.0.0.1", "10.0.0.300"] }, /dataLifs\[1\]/],
    ["an empty username", { username: "" }, /username/],
    ["an empty password", { password: "" }, /password/],
    ["a credentials Secret name that is no Secret name", { credentialsSecretName: "Bad_Name" }, /credentialsSecretName/],
  ];
  for (const [what, change, message] of bad) {
    it(`rejects ${what} with ERR_CONFIGURATION_PROBLEM naming the field`, () => {
      const error = (() => {
        try {
          renderTridentManagedResources({ ...facts, ...change });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(TridentRenderError);
      expect((error as TridentRenderError).code).toBe("ERR_CONFIGURATION_PROBLEM");
      expect((error as TridentRenderError).transient).toBe(false);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(facts.password);
    });
  }
});
