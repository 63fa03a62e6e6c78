import type { Extension } from "../../src/extension/types.js";
import { clusterObject, gardenletRequest, isExtensionReady, PROJECT_ANNOTATION, realisticClusterObject, shootNamespaceObject } from "../../src/testenv/index.js";
import { Clusters, Extensions, Namespaces, Secrets } from "../../src/kube/resources.js";
import type { ChaosLane, KubeCallLogEntry, OntapCallLogEntry } from "./chaos-world.js";
import { nextLifs } from "./chaos-world.js";
import { svmNameFor } from "./invariants.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";
import { projectIdFor, type Shoot, uniqueSuffix } from "./world.js";

/**
 * Builders for the state matrix: a shoot's ONTAP and seed-side state made directly (simulator admin API and
 * REST as the cluster admin, kube-apiserver without the controller), then the Extension, so the controller's
 * first look is at exactly that state.
 */

export const SEED_SECRET = "ontap-svm-credentials";
export const PURPOSE_LABEL = { "ontap.extensions.gardener.cloud/purpose": "svm-credentials" };
/** The labels the Go extension puts on its seed Secret. */
const GO_SECRET_LABELS = (shoot: { svmName: string }) => ({
  "app.kubernetes.io/part-of": "gardener-extension-ontap",
  "app.kubernetes.io/managed-by": "gardener",
  "ontap.metal-stack.io/project-id": shoot.svmName,
});
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export interface PlannedShoot extends Shoot {
  project: string;
  svmName: string;
  legacySecretName: string;
}

/**
 * A fresh shoot: its own Gardener project and metal-stack project unless `of` says otherwise. `sameSvmAs`: a shoot
 * of another Gardener project on the same metal-stack project (one SVM, its LIFs shared), as several Gardener
 * projects may carry one metal-stack project.
 */
export function planShoot(of: { name?: string; sameSvmAs?: PlannedShoot } = {}): PlannedShoot {
  const project = `st${uniqueSuffix()}`;
  const name = of.name ?? `s${uniqueSuffix()}`;
  if (of.sameSvmAs) {
    const { projectId, svmName, dataLifs, managementLif } = of.sameSvmAs;
    return { name, extensionName: "ontap", namespace: `shoot--${project}--${name}`, projectId, dataLifs, managementLif, firewall: true, project, svmName, legacySecretName: `${svmName}-${project}--${name}-credentials` };
  }
  const projectId = projectIdFor(project);
  const svmName = svmNameFor(projectId);
  return {
    name,
    extensionName: "ontap",
    namespace: `shoot--${project}--${name}`,
    projectId,
    ...nextLifs(2),
    firewall: true,
    project,
    svmName,
    legacySecretName: `${svmName}-${project}--${name}-credentials`,
  };
}

/**
 * Namespace and Cluster: what Gardener creates before the Extension. `realistic`: the Cluster as gardenlet writes
 * it on a metal-stack seed (the whole CloudProfile, Seed and Shoot, about 101 KiB) instead of a minimal one.
 */
export async function createShootNamespace(lane: ChaosLane, shoot: PlannedShoot, opts: { realistic?: boolean } = {}): Promise<void> {
  const { kube } = lane.world;
  await kube.create(Namespaces, shootNamespaceObject(shoot.namespace));
  const identity = {
    namespace: shoot.namespace,
    shootName: shoot.name,
    project: shoot.project,
    shootAnnotations: { [PROJECT_ANNOTATION]: shoot.projectId },
  };
  await kube.create(Clusters, opts.realistic ? realisticClusterObject(identity) : clusterObject(identity));
}

export async function createExtension(lane: ChaosLane, shoot: PlannedShoot): Promise<void> {
  await lane.world.kube.create(Extensions, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace: shoot.namespace, annotations: gardenletRequest("reconcile") },
    spec: {
      type: "ontap",
      class: lane.world.config.extensionClass,
      providerConfig: {
        apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1",
        kind: "TridentConfig",
        svmIpaddresses: { managementLif: shoot.managementLif, dataLifs: shoot.dataLifs },
      },
    },
  });
}

export async function createSeedSecret(
  lane: ChaosLane,
  shoot: PlannedShoot,
  data: { username?: string; password?: string; pendingPassword?: string },
  where: { namespace: string; name: string } = { namespace: shoot.namespace, name: SEED_SECRET },
): Promise<void> {
  for (const v of [data.password, data.pendingPassword]) if (v) lane.world.knownSecrets.add(v);
  const encoded: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) encoded[k] = b64(v);
  // In kube-system it is the Go extension's Secret, with the Go extension's labels.
  const labels = where.namespace === "kube-system" ? GO_SECRET_LABELS(shoot) : { ...PURPOSE_LABEL };
  await lane.world.kube.create(Secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: where.name, namespace: where.namespace, labels },
    type: "Opaque",
    data: encoded,
  });
}

export async function seedSecret(lane: ChaosLane, shoot: PlannedShoot): Promise<{ resourceVersion: string; data: Record<string, string> } | undefined> {
  const s = await lane.world.kube.get<{ metadata: { resourceVersion: string }; data?: Record<string, string> }>(Secrets, shoot.namespace, SEED_SECRET);
  if (!s) return undefined;
  return {
    resourceVersion: s.metadata.resourceVersion,
    data: Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])),
  };
}

/** An SVM as this controller or the Go extension leaves it: with every aggregate of its cluster (none to assign). */
export async function createSvm(admin: SimAdmin, shoot: PlannedShoot, opts: { state?: "running" | "stopped" | "initializing" | "starting" | "deleting"; nvme?: boolean } = {}) {
  const aggregates = (await admin.state()).aggregates.map((a) => ({ uuid: String(a.uuid) }));
  return admin.createSvmDirect({ name: shoot.svmName, aggregates, state: opts.state, nvme: opts.nvme === false ? { enabled: false, allowed: true } : undefined });
}

/** A LIF made by the cluster admin, as the Go extension would have made it (VIP /32 with BGP). */
export async function createLif(admin: SimAdmin, svmUuid: string, name: string, address: string, policy: string): Promise<string> {
  const state = await admin.state();
  const node = state.nodes[0]!;
  const res = await admin.rest("POST", "/api/network/ip/interfaces?return_records=true", {
    body: {
      name,
      ip: { address, netmask: "32" },
      svm: { uuid: svmUuid },
      location: { home_node: { uuid: node.uuid } },
      service_policy: { name: policy },
      vip: true,
    },
  });
  if (res.status !== 201) throw new Error(`creating LIF ${name}: ${res.status} ${res.text}`);
  return String(res.body.records?.[0]?.uuid);
}

export async function createShootLifs(admin: SimAdmin, svmUuid: string, shoot: PlannedShoot, which: { data: boolean; management: boolean }): Promise<void> {
  if (which.data) for (const [i, ip] of shoot.dataLifs.entries()) await createLif(admin, svmUuid, `datalif+${i}`, ip, "default-data-nvme-tcp");
  if (which.management) await createLif(admin, svmUuid, "managementlif", shoot.managementLif, "default-management");
}

export async function createUser(lane: ChaosLane, admin: SimAdmin, svmUuid: string, name: string, password: string): Promise<void> {
  lane.world.knownSecrets.add(password);
  const res = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name,
      owner: { uuid: svmUuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password,
    },
  });
  if (res.status !== 201) throw new Error(`creating user ${name}: ${res.status} ${res.text}`);
}

/** Basic auth as the user at the SVM's management LIF, where Trident authenticates (false when it does not listen). */
export async function authenticates(admin: SimAdmin, managementLif: string, username: string, password: string): Promise<boolean> {
  const endpoints = (await admin.rest("GET", "/__sim/lif-endpoints")).body.endpoints as Record<string, { url: string }>;
  const url = endpoints?.[managementLif]?.url;
  if (!url) return false;
  const lif = new SimAdmin({ ...admin.cluster, url });
  try {
    const res = await lif.rest("GET", "/api/svm/svms?return_records=false", { auth: { username, password } });
    return res.status === 200;
  } finally {
    await lif.close();
  }
}

/** Makes an SVM management LIF (un)reachable, as a LIF not routable from the seed is. */
export async function setLifReachable(admin: SimAdmin, managementLif: string, reachable: boolean): Promise<void> {
  const res = await admin.rest("PUT", `/__sim/lif-endpoints/${managementLif}`, { body: { reachable } });
  if (res.status !== 200) throw new Error(`PUT /__sim/lif-endpoints/${managementLif}: ${res.status} ${res.text}`);
}

/** Writes (non-GET) the controller sent to ONTAP, as `METHOD template`. */
export function ontapWrites(log: OntapCallLogEntry[]): string[] {
  return log.filter((c) => c.method !== "GET").map((c) => `${c.cluster} ${c.method} ${c.template}`);
}

/** Writes the controller sent to kube-apiserver for this shoot, as `METHOD path` with the namespace cut. */
export function kubeWrites(log: KubeCallLogEntry[], shoot: Shoot): string[] {
  return log
    .filter((c) => c.method !== "GET" && (c.path.includes(shoot.namespace) || c.path.includes(shoot.name)))
    .filter((c) => !c.path.endsWith("/events") && !c.path.includes("/events/"))
    .map((c) => `${c.method} ${c.path.replaceAll(shoot.namespace, "{ns}")}`);
}

export async function extensionOf(lane: ChaosLane, shoot: Shoot): Promise<Extension | undefined> {
  return lane.world.extension(shoot);
}

/** Ready as gardenlet decides it: Gardener's `checkExtensionObject`, the timestamp of the request included. */
export function succeeded(e: Extension | undefined): boolean {
  return isExtensionReady(e);
}
