import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeClient } from "../../src/kube/client.js";
import { Extensions, ManagedResources, Secrets } from "../../src/kube/resources.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * The Go extension (metal-stack/gardener-extension-ontap at 6e39aea) as test data: what it renders into a
 * shoot and the state it leaves in the seed and on ONTAP, built call by call so a takeover test starts from
 * exactly what a live landscape holds. Facts from the Go repository and Gardener's ManagedResource helper
 * (`CreateForShoot`): origin label `kube-system`, immutable `managedresource-<name>-<hash>` Secrets labelled
 * garbage-collectable, a `reference.resources.gardener.cloud/secret-<hash>` annotation naming them.
 */

const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures", "go-extension-6e39aea");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

export interface GoShoot {
  namespace: string;
  project: string;
  name: string;
  svmName: string;
  managementLif: string;
  dataLifs: string[];
}

/** `<svm>-<project>--<shoot>-credentials`: Go's name of the seed Secret and of the shoot Secret alike. */
export function goSecretName(shoot: GoShoot): string {
  return `${shoot.svmName}-${shoot.project}--${shoot.name}-credentials`;
}

export interface GoManagedResource {
  name: string;
  keepObjects: boolean;
  /** Data keys as Go's loader names them (the file name), manifests as YAML. */
  files: Record<string, string>;
}

/** The five (four without a `firewall` namespace in the seed) Trident ManagedResources, in Go's order. */
export function goTridentManagedResources(
  shoot: GoShoot,
  creds: { username: string; password: string },
  opts: { firewallNamespace: boolean },
): GoManagedResource[] {
  const secretName = goSecretName(shoot);
  // Go's placeholders are literal `${NAME}` strings in its YAML (replaced with strings.ReplaceAll).
  const placeholder = (name: string) => ["$", "{", name, "}"].join("");
  const fill = (text: string) =>
    text
      .replaceAll(placeholder("PROJECT_ID"), shoot.svmName)
      .replaceAll(placeholder("SECRET_NAME"), secretName)
      .replaceAll(placeholder("MANAGEMENT_LIF_IP"), shoot.managementLif);
  const shootSecret = fixture("svm-shoot-secret.yaml.tpl")
    .replace("{{ .Name }}", secretName)
    .replace("{{ .Namespace }}", "kube-system")
    .replace("{{ .Project }}", shoot.svmName)
    .replace("{{ .Username }}", creds.username)
    .replace("{{ .Password }}", creds.password);
  const cwnp = fixture("cwnp.yaml.tpl")
    .replace("{{ .ManagementLif }}", shoot.managementLif)
    .replace(/ {4}\{\{ range \.DataLifs -\}\}\n {4}- cidr: "\{\{ \. \}\}\/32"\n {4}\{\{ end -\}\}\n/, shoot.dataLifs.map((ip) => `    - cidr: "${ip}/32"\n`).join(""));
  const mrs: GoManagedResource[] = [
    { name: "trident-crds", keepObjects: true, files: { "tridentconfigurators.yaml": fixture("tridentconfigurators.yaml"), "tridentorchestrators.yaml": fixture("tridentorchestrators.yaml") } },
    { name: "trident-backends", keepObjects: true, files: { "backend-config.yaml": fill(fixture("backend-config.yaml")), "storageclass.yaml": fixture("storageclass.yaml") } },
    { name: "trident-svm-secret", keepObjects: false, files: { "svm-shoot-secret.yaml": shootSecret } },
  ];
  if (opts.firewallNamespace) mrs.push({ name: "trident-cwnp", keepObjects: false, files: { "cwnp.yaml": cwnp } });
  mrs.push({ name: "trident-init", keepObjects: true, files: { "bundle.yaml": fixture("bundle.yaml") } });
  return mrs;
}

/** The shoot webhook's ManagedResource as Gardener's webhook library writes it for the Go extension. */
export function goWebhookManagedResource(releaseNamespace: string): GoManagedResource {
  const configuration = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: "gardener-extension-extension-ontap-shoot" },
    webhooks: [
      {
        name: "ontap.extensions.gardener.cloud",
        clientConfig: { url: `https://gardener-extension-extension-ontap.${releaseNamespace}:443/shoot`, caBundle: "" },
        failurePolicy: "Ignore",
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        sideEffects: "None",
        admissionReviewVersions: ["v1", "v1beta1"],
        rules: [
          { apiGroups: ["apiextensions.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["customresourcedefinitions"] },
          { apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["daemonsets", "deployments"] },
        ],
      },
    ],
  };
  return { name: "extension-ontap-shoot", keepObjects: false, files: { "mutatingwebhookconfiguration____gardener-extension-extension-ontap-shoot.yaml": JSON.stringify(configuration) } };
}

/** Every object of a Go ManagedResource, parsed. */
export function goObjects(mr: GoManagedResource): Record<string, unknown>[] {
  return Object.values(mr.files).flatMap((text) =>
    parseAllDocuments(text)
      .map((doc) => doc.toJS() as Record<string, unknown> | null)
      .filter((o): o is Record<string, unknown> => o !== null),
  );
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const short = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 8);

/** Gardener's `CreateForShoot`: an immutable hash-suffixed Secret, then the ManagedResource referencing it. */
export async function createGoManagedResource(kube: KubeClient, namespace: string, mr: GoManagedResource, origin = "kube-system"): Promise<string> {
  const data = Object.fromEntries(Object.entries(mr.files).map(([k, v]) => [k, b64(v)]));
  const secretName = `managedresource-${mr.name}-${short(JSON.stringify(data))}`;
  await kube.create(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName, namespace, labels: { "resources.gardener.cloud/garbage-collectable-reference": "true" } },
    type: "Opaque",
    immutable: true,
    data,
  });
  await kube.create(ManagedResources, {
    apiVersion: "resources.gardener.cloud/v1alpha1",
    kind: "ManagedResource",
    metadata: {
      name: mr.name,
      namespace,
      labels: { origin },
      annotations: { [`reference.resources.gardener.cloud/secret-${short(secretName)}`]: secretName },
    },
    spec: { secretRefs: [{ name: secretName }], keepObjects: mr.keepObjects, injectLabels: { "shoot.gardener.cloud/no-cleanup": "true" } },
  });
  return secretName;
}

/** Go's seed Secret: kube-system, its three labels, `stringData` username and password. */
export async function createGoSeedSecret(kube: KubeClient, shoot: GoShoot, creds: { username: string; password: string }): Promise<void> {
  await kube.create(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: goSecretName(shoot),
      namespace: "kube-system",
      labels: {
        "app.kubernetes.io/part-of": "gardener-extension-ontap",
        "app.kubernetes.io/managed-by": "gardener",
        "ontap.metal-stack.io/project-id": shoot.svmName,
      },
    },
    type: "Opaque",
    stringData: { username: creds.username, password: creds.password },
  });
}

/**
 * On ONTAP, as the cluster admin over REST like the Go extension: the SVM (running, NVMe on, on the
 * cluster's aggregates), data LIFs `datalif+<i>` round-robin over the nodes with `default-data-nvme-tcp`,
 * `managementlif` with `default-management` on the first node (/32 VIPs with BGP), the shoot's vsadmin user.
 */
export async function createGoOntapState(
  admin: SimAdmin,
  shoot: GoShoot,
  creds: { username: string; password: string },
  opts: { svmExists?: boolean } = {},
): Promise<string> {
  const state = await admin.state();
  let svmUuid = String(state.svms.find((s) => s.name === shoot.svmName)?.uuid ?? "");
  if (!opts.svmExists || !svmUuid) {
    const svm = await admin.rest("POST", "/api/svm/svms?return_records=true", {
      body: { name: shoot.svmName, aggregates: state.aggregates.map((a) => ({ name: a.name })), nvme: { enabled: true, allowed: true } },
    });
    if (svm.status !== 202 && svm.status !== 201) throw new Error(`creating SVM ${shoot.svmName}: ${svm.status} ${svm.text}`);
    const job = svm.body.job?.uuid;
    if (job) await admin.waitForJob(job);
    svmUuid = String((await admin.state()).svms.find((s) => s.name === shoot.svmName)?.uuid);
  }
  const nodes = state.nodes;
  const lif = async (name: string, address: string, policy: string, node: number) => {
    const res = await admin.rest("POST", "/api/network/ip/interfaces", {
      body: {
        name,
        ip: { address, netmask: state.bgp.enabled ? "32" : "24" },
        svm: { uuid: svmUuid },
        location: { home_node: { uuid: nodes[node % nodes.length]!.uuid } },
        service_policy: { name: policy },
        ...(state.bgp.enabled ? { vip: true } : {}),
      },
    });
    if (res.status !== 201 && !(opts.svmExists && res.status === 400)) throw new Error(`creating LIF ${name}: ${res.status} ${res.text}`);
  };
  if (!opts.svmExists) {
    for (const [i, ip] of shoot.dataLifs.entries()) await lif(`datalif+${i}`, ip, "default-data-nvme-tcp", i);
    await lif("managementlif", shoot.managementLif, "default-management", 0);
  }
  const account = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name: creds.username,
      owner: { uuid: svmUuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password: creds.password,
    },
  });
  if (account.status !== 201) throw new Error(`creating user ${creds.username}: ${account.status} ${account.text}`);
  return svmUuid;
}

/** The Extension after Go's reconciles: its finalizer (Gardener's `extensions.gardener.cloud/ontap`) and status. */
export async function createGoExtension(kube: KubeClient, shoot: GoShoot, extensionClass: string): Promise<void> {
  await kube.create(Extensions, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace: shoot.namespace, finalizers: ["extensions.gardener.cloud/ontap"] },
    spec: {
      type: "ontap",
      class: extensionClass,
      providerConfig: {
        apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1",
        kind: "TridentConfig",
        svmIpaddresses: { managementLif: shoot.managementLif, dataLifs: shoot.dataLifs },
      },
    },
  });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  await kube.mergePatch(
    Extensions,
    shoot.namespace,
    "ontap",
    { status: { observedGeneration: 1, lastOperation: { type: "Reconcile", state: "Succeeded", progress: 100, description: "Successfully reconciled Extension", lastUpdateTime: now } } },
    { subresource: "status" },
  );
}
