import { createHash } from "node:crypto";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { type CheckedExtension, checkExtensionObject } from "../../src/testenv/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * The invariant checker: after convergence, read both worlds (kube-apiserver and every simulated ONTAP
 * cluster) and list what does not hold. Empty list = all hold.
 *
 * Names are derived here independently of src/ (a checker that borrowed the controller's naming would bless
 * its naming bugs); they follow shared/reference/original-extension.md and the design:
 * SVM `p<projectId without ->`, user = shoot name cut to 25 characters (leading `-` -> `_`), seed Secret
 * `ontap-svm-credentials`, LIFs `datalif+<i>` and `managementlif`, ManagedResources with Secrets
 * `managedresource-<name>`.
 *
 * No violation message contains a password.
 */

export interface SimulatorAccess {
  name: string;
  url: string;
  username: string;
  password: string;
  caFile: string;
}

export interface ShootExpectation {
  /** `shoot--<project>--<shoot>` */
  namespace: string;
  /** The metal-stack project id (annotation `cluster.metal-stack.io/project`). */
  projectId: string;
  /** Data LIF addresses in providerConfig order. */
  dataLifs: string[];
  managementLif: string;
  /** The Extension was deleted: nothing of this shoot may be left. */
  deleted?: boolean;
  /** true: `trident-cwnp` must exist; false: it must not; unset: not checked. */
  firewall?: boolean;
}

export const SEED_SECRET_NAME = "ontap-svm-credentials";
export const REQUIRED_MANAGED_RESOURCES = [
  "trident-crds",
  "trident-backends",
  "trident-svm-secret",
  "trident-init",
  "extension-ontap-shoot",
] as const;
export const FIREWALL_MANAGED_RESOURCE = "trident-cwnp";
export const DATA_SERVICE_POLICY = "default-data-nvme-tcp";
export const MANAGEMENT_SERVICE_POLICY = "default-management";
export const MANAGEMENT_LIF_NAME = "managementlif";

export function svmNameFor(projectId: string): string {
  return `p${projectId.replaceAll("-", "")}`;
}

/** `shoot--<project>--<shoot>` -> `<shoot>` (a project name never contains `--`). */
export function shootNameOf(namespace: string): string {
  const [prefix, project, ...shoot] = namespace.split("--");
  if (prefix !== "shoot" || !project || shoot.length === 0 || shoot.join("--") === "") {
    throw new Error(`namespace ${namespace} is not of the form shoot--<project>--<shoot>`);
  }
  return shoot.join("--");
}

/**
 * The shoot's own SVM user, written out independently of plan.ts: `<project>--<shoot>` (the namespace without
 * `shoot--`), or beyond ONTAP's 40 characters its first 31 characters, `-` and 8 hex digits of the namespace's
 * SHA-256. A shoot taken over from the Go extension may keep the user named by the shoot name alone
 * (`legacyUsernameFor`), when the account's comment names the shoot.
 */
export function usernameFor(namespace: string): string {
  shootNameOf(namespace);
  const name = namespace.slice("shoot--".length);
  if (name.length <= 40) return name;
  return `${name.slice(0, 31)}-${createHash("sha256").update(namespace).digest("hex").slice(0, 8)}`;
}

/** The Go extension's user: the shoot name cut to 25 characters, a leading `-` replaced. */
export function legacyUsernameFor(namespace: string): string {
  return shootNameOf(namespace).slice(0, 25).replace(/^-/, "_");
}

export function dataLifName(index: number): string {
  return `datalif+${index}`;
}

export function managedResourceSecretName(name: string): string {
  return `managedresource-${name}`;
}

// ---- observations: what the impure half reads, what the pure half judges ----

export interface ExtensionObservation {
  name: string;
  type?: string;
  generation?: number;
  observedGeneration?: number;
  lastOperationState?: string;
  /** Why gardenlet would still wait on it (Gardener's `checkExtensionObject`); undefined when it is ready. */
  notReadyForGardener?: string;
}

export interface KubeShootObservation {
  namespace: string;
  /** Decoded data of the seed Secret; undefined when it does not exist. */
  seedSecret?: Record<string, string>;
  managedResources: { name: string; secretRefs: string[] }[];
  /** Decoded data of every Secret the ManagedResources reference, by name; missing ones are absent. */
  referencedSecrets: Record<string, Record<string, string>>;
  extensions: ExtensionObservation[];
}

/** The parts of a simulator's `/__sim/state` the checker reads. */
export interface OntapClusterObservation {
  cluster: string;
  svms: { uuid?: string; name?: string; state?: unknown; nvme?: { enabled?: boolean } }[];
  interfaces: {
    name?: string;
    ip?: { address?: string };
    svm?: { uuid?: string; name?: string };
    service_policy?: { name?: string };
  }[];
  accounts: { name?: string; owner?: { uuid?: string; name?: string }; role?: { name?: string }; comment?: string }[];
  volumes: { svm?: { uuid?: string; name?: string }; is_svm_root?: boolean }[];
}

export interface WorldObservation {
  kube: KubeShootObservation[];
  ontap: OntapClusterObservation[];
  /** Per shoot namespace: did the seed Secret's password authenticate as the shoot user? unset: not tried. */
  passwordAuthenticates: Record<string, boolean>;
}

/** Pure: every violated invariant, as one readable line each. */
export function evaluateInvariants(shoots: ShootExpectation[], world: WorldObservation): string[] {
  const violations: string[] = [];
  for (const shoot of shoots) {
    const kube = world.kube.find((k) => k.namespace === shoot.namespace) ?? emptyKube(shoot.namespace);
    const report = (message: string) => violations.push(`${shoot.namespace}: ${message}`);
    if (shoot.deleted) {
      checkDeletedShoot(shoot, shoots, kube, world.ontap, report);
    } else {
      checkKubeSide(shoot, kube, shootUsername(shoot, world.ontap), report);
      checkOntapSide(shoot, kube, world, report);
    }
  }
  return violations;
}

function emptyKube(namespace: string): KubeShootObservation {
  return { namespace, managedResources: [], referencedSecrets: {}, extensions: [] };
}

/** The comment this controller records on a user it owns: `gardener-extension-ontap owner=<namespace>`. */
function ownedByShoot(comment: string | undefined, namespace: string): boolean {
  return comment === `gardener-extension-ontap owner=${namespace}`;
}

/** The user a shoot uses: its own, or the Go extension's name when the account's comment records this shoot. */
function shootUsername(shoot: ShootExpectation, ontap: OntapClusterObservation[]): string {
  const svmName = svmNameFor(shoot.projectId);
  const legacy = legacyUsernameFor(shoot.namespace);
  const adopted = ontap.some((c) => c.accounts.some((a) => a.name === legacy && a.owner?.name === svmName && ownedByShoot(a.comment, shoot.namespace)));
  return adopted ? legacy : usernameFor(shoot.namespace);
}

function checkKubeSide(shoot: ShootExpectation, kube: KubeShootObservation, username: string, report: (m: string) => void): void {
  const secret = kube.seedSecret;
  if (!secret) {
    report(`seed Secret ${SEED_SECRET_NAME} does not exist`);
  } else {
    if (!secret.username) report(`seed Secret ${SEED_SECRET_NAME} has no username`);
    else if (secret.username !== username) {
      report(`seed Secret ${SEED_SECRET_NAME} has username ${secret.username}, expected ${username}`);
    }
    if (!secret.password) report(`seed Secret ${SEED_SECRET_NAME} has no password`);
    if ("pendingPassword" in secret) report(`seed Secret ${SEED_SECRET_NAME} still holds a pendingPassword`);
  }

  const expected: string[] = [...REQUIRED_MANAGED_RESOURCES];
  if (shoot.firewall === true) expected.push(FIREWALL_MANAGED_RESOURCE);
  for (const name of expected) {
    const mr = kube.managedResources.find((m) => m.name === name);
    if (!mr) {
      report(`ManagedResource ${name} does not exist`);
      continue;
    }
    const secretName = managedResourceSecretName(name);
    if (!mr.secretRefs.includes(secretName)) {
      report(`ManagedResource ${name} does not reference Secret ${secretName} (refs: ${mr.secretRefs.join(", ")})`);
    }
    for (const ref of mr.secretRefs) {
      if (!kube.referencedSecrets[ref]) report(`ManagedResource ${name} references missing Secret ${ref}`);
    }
  }
  if (shoot.firewall === false && kube.managedResources.some((m) => m.name === FIREWALL_MANAGED_RESOURCE)) {
    report(`ManagedResource ${FIREWALL_MANAGED_RESOURCE} exists although no firewall namespace is expected`);
  }

  const svmSecretManifests = kube.referencedSecrets[managedResourceSecretName("trident-svm-secret")];
  if (secret && svmSecretManifests) {
    const shipped = credentialsInManifests(svmSecretManifests);
    if (shipped.length === 0) report("ManagedResource trident-svm-secret carries no Secret with credentials");
    else if (!shipped.some((c) => c.username === secret.username && c.password === secret.password)) {
      // Never print either password: say only which field differs.
      const field = shipped.some((c) => c.username === secret.username) ? "password" : "username";
      report(`ManagedResource trident-svm-secret carries a different ${field} than the seed Secret`);
    }
  }
  const backendManifests = kube.referencedSecrets[managedResourceSecretName("trident-backends")];
  if (backendManifests) {
    const lifs = managementLifsInManifests(backendManifests);
    if (lifs.length > 0 && !lifs.every((lif) => lif === shoot.managementLif)) {
      report(`ManagedResource trident-backends points at managementLIF ${lifs.join(", ")}, expected ${shoot.managementLif}`);
    }
  }

  const extensions = kube.extensions.filter((e) => e.type === "ontap");
  if (extensions.length !== 1) {
    report(`expected exactly one Extension of type ontap, found ${extensions.length}`);
  }
  for (const ext of extensions) {
    if (ext.lastOperationState !== "Succeeded") {
      report(`Extension ${ext.name} lastOperation.state is ${ext.lastOperationState ?? "unset"}, expected Succeeded`);
    }
    if (ext.observedGeneration !== ext.generation) {
      report(
        `Extension ${ext.name} observedGeneration ${ext.observedGeneration ?? "unset"} != generation ${ext.generation}`,
      );
    }
    if (ext.lastOperationState === "Succeeded" && ext.observedGeneration === ext.generation && ext.notReadyForGardener) {
      report(`Extension ${ext.name} says Succeeded, but gardenlet would still wait: ${ext.notReadyForGardener}`);
    }
  }
}

function checkOntapSide(
  shoot: ShootExpectation,
  kube: KubeShootObservation,
  world: WorldObservation,
  report: (m: string) => void,
): void {
  const svmName = svmNameFor(shoot.projectId);
  const username = shootUsername(shoot, world.ontap);
  const found = world.ontap.flatMap((c) => c.svms.filter((s) => s.name === svmName).map((svm) => ({ c, svm })));
  if (found.length === 0) {
    report(`SVM ${svmName} exists on no cluster`);
    return;
  }
  if (found.length > 1) {
    report(`SVM ${svmName} exists ${found.length} times (clusters ${found.map((f) => f.c.cluster).join(", ")})`);
    return;
  }
  const { c: cluster, svm } = found[0]!;
  const where = `SVM ${svmName} on ${cluster.cluster}`;
  if (svm.state !== "running") report(`${where} is ${String(svm.state)}, expected running`);
  if (svm.nvme?.enabled !== true) report(`${where} does not have NVMe enabled`);

  const lifs = cluster.interfaces.filter((i) => i.svm?.name === svmName || (svm.uuid && i.svm?.uuid === svm.uuid));
  const expected = [
    ...shoot.dataLifs.map((address, i) => ({ name: dataLifName(i), former: `datalif${i}`, address, policy: DATA_SERVICE_POLICY })),
    { name: MANAGEMENT_LIF_NAME, former: undefined, address: shoot.managementLif, policy: MANAGEMENT_SERVICE_POLICY },
  ];
  for (const want of expected) {
    // A data LIF an earlier version of this project named `datalif<i>` is the same LIF.
    const named = lifs.filter((l) => l.name === want.name);
    const have = named.length > 0 ? named : lifs.filter((l) => want.former !== undefined && l.name === want.former);
    if (have.length === 0) {
      report(`${where} has no LIF ${want.name}`);
      continue;
    }
    const lif = have[0]!;
    if (lif.ip?.address !== want.address) {
      report(`${where} LIF ${want.name} has address ${lif.ip?.address}, expected ${want.address}`);
    }
    if (lif.service_policy?.name !== want.policy) {
      report(`${where} LIF ${want.name} has service policy ${lif.service_policy?.name}, expected ${want.policy}`);
    }
  }
  // LIFs this extension names but the providerConfig no longer asks for; foreign names are left alone.
  for (const lif of lifs) {
    const match = /^datalif\+?(\d+)$/.exec(lif.name ?? "");
    if (match && Number(match[1]) >= shoot.dataLifs.length) report(`${where} has a surplus LIF ${lif.name}`);
  }

  const accounts = cluster.accounts.filter((a) => ownedBy(a.owner, svmName, svm.uuid) && a.name === username);
  if (accounts.length !== 1) report(`${where} has ${accounts.length} accounts named ${username}, expected 1`);
  else if (accounts[0]!.role?.name !== "vsadmin") {
    report(`${where} account ${username} has role ${accounts[0]!.role?.name}, expected vsadmin`);
  }
  for (const other of world.ontap.filter((c) => c !== cluster)) {
    if (other.accounts.some((a) => a.name === username && a.owner?.name === svmName)) {
      report(`account ${username} of SVM ${svmName} also exists on ${other.cluster}`);
    }
  }

  if (kube.seedSecret?.password) {
    const ok = world.passwordAuthenticates[shoot.namespace];
    if (ok === false) report(`the seed Secret's password does not authenticate ${username} on ${cluster.cluster}`);
    if (ok === undefined) report(`the seed Secret's password was not verified against ${cluster.cluster}`);
  }
}

function checkDeletedShoot(
  shoot: ShootExpectation,
  all: ShootExpectation[],
  kube: KubeShootObservation,
  ontap: OntapClusterObservation[],
  report: (m: string) => void,
): void {
  if (kube.seedSecret) report(`seed Secret ${SEED_SECRET_NAME} still exists after deletion`);
  for (const mr of kube.managedResources) {
    if ([...REQUIRED_MANAGED_RESOURCES, FIREWALL_MANAGED_RESOURCE].includes(mr.name as never)) {
      report(`ManagedResource ${mr.name} still exists after deletion`);
    }
  }
  for (const ext of kube.extensions.filter((e) => e.type === "ontap")) {
    report(`Extension ${ext.name} still exists after deletion`);
  }

  const svmName = svmNameFor(shoot.projectId);
  const username = usernameFor(shoot.namespace);
  for (const cluster of ontap) {
    for (const svm of cluster.svms.filter((s) => s.name === svmName)) {
      if (cluster.accounts.some((a) => a.name === username && ownedBy(a.owner, svmName, svm.uuid))) {
        report(`account ${username} still exists on SVM ${svmName} on ${cluster.cluster}`);
      }
      for (const a of cluster.accounts.filter((x) => ownedBy(x.owner, svmName, svm.uuid) && x.name !== username && ownedByShoot(x.comment, shoot.namespace))) {
        report(`account ${a.name}, whose comment names ${shoot.namespace}, still exists on SVM ${svmName} on ${cluster.cluster}`);
      }
      // The SVM is the project's: it must go once no shoot of the project (as far as this test knows, and
      // as far as ONTAP shows: other users, data volumes) still uses it.
      const liveShoots = all.filter((s) => !s.deleted && s.projectId === shoot.projectId);
      const otherUsers = cluster.accounts.filter(
        (a) => ownedBy(a.owner, svmName, svm.uuid) && a.name !== "vsadmin" && a.name !== username,
      );
      const dataVolumes = cluster.volumes.filter(
        (v) => (v.svm?.name === svmName || v.svm?.uuid === svm.uuid) && v.is_svm_root !== true,
      );
      if (liveShoots.length === 0 && otherUsers.length === 0 && dataVolumes.length === 0) {
        report(`SVM ${svmName} still exists on ${cluster.cluster} although no shoot, user or volume uses it`);
      }
    }
  }
}

function ownedBy(owner: { uuid?: string; name?: string } | undefined, svmName: string, svmUuid?: string): boolean {
  return owner?.name === svmName || (svmUuid !== undefined && owner?.uuid === svmUuid);
}

/** username/password of every Secret manifest in a ManagedResource Secret's data (YAML documents). */
export function credentialsInManifests(data: Record<string, string>): { username?: string; password?: string }[] {
  const out: { username?: string; password?: string }[] = [];
  for (const doc of manifests(data)) {
    if (doc.kind !== "Secret") continue;
    const encoded = (doc.data ?? {}) as Record<string, string>;
    const plain = (doc.stringData ?? {}) as Record<string, string>;
    const value = (key: string) => plain[key] ?? (encoded[key] ? decode(encoded[key]) : undefined);
    if (value("username") !== undefined || value("password") !== undefined) {
      out.push({ username: value("username"), password: value("password") });
    }
  }
  return out;
}

function managementLifsInManifests(data: Record<string, string>): string[] {
  return manifests(data)
    .filter((d) => d.kind === "TridentBackendConfig")
    .map((d) => (d.spec as { managementLIF?: string } | undefined)?.managementLIF)
    .filter((lif): lif is string => typeof lif === "string");
}

function manifests(data: Record<string, string>): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = [];
  for (const text of Object.values(data)) {
    for (const doc of parseAllDocuments(text)) {
      const value = doc.toJS() as unknown;
      if (value && typeof value === "object" && !Array.isArray(value)) docs.push(value as Record<string, unknown>);
    }
  }
  return docs;
}

function decode(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}

// ---- the impure half: read both worlds ----

export async function checkInvariants(input: {
  kube: KubeConfig;
  simulators: SimulatorAccess[];
  shoots: ShootExpectation[];
}): Promise<string[]> {
  const [kube, ontap] = await Promise.all([
    Promise.all(input.shoots.map((s) => observeKube(input.kube, s.namespace))),
    Promise.all(input.simulators.map(observeCluster)),
  ]);
  const passwordAuthenticates: Record<string, boolean> = {};
  for (const shoot of input.shoots) {
    if (shoot.deleted) continue;
    const secret = kube.find((k) => k.namespace === shoot.namespace)?.seedSecret;
    const svmName = svmNameFor(shoot.projectId);
    const hosts = ontap.filter((c) => c.svms.some((s) => s.name === svmName));
    if (!secret?.username || !secret.password || hosts.length !== 1) continue;
    const sim = input.simulators.find((s) => s.name === hosts[0]!.cluster)!;
    passwordAuthenticates[shoot.namespace] = await authenticates(sim, shoot.managementLif, secret.username, secret.password);
  }
  return evaluateInvariants(input.shoots, { kube, ontap, passwordAuthenticates });
}

async function observeCluster(sim: SimulatorAccess): Promise<OntapClusterObservation> {
  const admin = new SimAdmin(sim);
  try {
    const state = await admin.state();
    return {
      cluster: sim.name,
      svms: state.svms as OntapClusterObservation["svms"],
      interfaces: state.interfaces as OntapClusterObservation["interfaces"],
      accounts: state.accounts as OntapClusterObservation["accounts"],
      volumes: state.volumes as OntapClusterObservation["volumes"],
    };
  } finally {
    await admin.close();
  }
}

/**
 * Basic auth as the shoot user at the SVM management LIF: what Trident will do with the stored credentials. A LIF
 * the simulator does not serve (none with that address, or marked unreachable) counts as not authenticating.
 */
async function authenticates(sim: SimulatorAccess, managementLif: string, username: string, password: string): Promise<boolean> {
  const admin = new SimAdmin(sim);
  let lif: SimAdmin | undefined;
  try {
    const endpoints = (await admin.rest("GET", "/__sim/lif-endpoints")).body.endpoints as Record<string, { url: string; reachable: boolean }>;
    const endpoint = endpoints?.[managementLif];
    if (!endpoint?.reachable) return false;
    lif = new SimAdmin({ ...sim, url: endpoint.url });
    const res = await lif.rest("GET", "/api/svm/svms", { auth: { username, password } });
    return res.status === 200;
  } finally {
    await lif?.close();
    await admin.close();
  }
}

async function observeKube(kc: KubeConfig, namespace: string): Promise<KubeShootObservation> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const secretData = async (name: string): Promise<Record<string, string> | undefined> => {
    const secret = await orUndefined(() => core.readNamespacedSecret({ namespace, name }));
    if (!secret) return undefined;
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, decode(v)]));
  };
  const [seedSecret, mrList, extList] = await Promise.all([
    secretData(SEED_SECRET_NAME),
    orUndefined(() =>
      custom.listNamespacedCustomObject({
        group: "resources.gardener.cloud",
        version: "v1alpha1",
        namespace,
        plural: "managedresources",
      }),
    ),
    orUndefined(() =>
      custom.listNamespacedCustomObject({
        group: "extensions.gardener.cloud",
        version: "v1alpha1",
        namespace,
        plural: "extensions",
      }),
    ),
  ]);
  type Listed = { items?: Record<string, unknown>[] } | undefined;
  const managedResources = ((mrList as Listed)?.items ?? []).map((mr) => ({
    name: String((mr.metadata as { name?: string }).name),
    secretRefs: ((mr.spec as { secretRefs?: { name?: string }[] } | undefined)?.secretRefs ?? []).map((r) =>
      String(r.name),
    ),
  }));
  const referencedSecrets: Record<string, Record<string, string>> = {};
  for (const ref of new Set(managedResources.flatMap((m) => m.secretRefs))) {
    const data = await secretData(ref);
    if (data) referencedSecrets[ref] = data;
  }
  const extensions = ((extList as Listed)?.items ?? []).map((ext): ExtensionObservation => {
    const metadata = ext.metadata as { name?: string; generation?: number };
    const spec = ext.spec as { type?: string } | undefined;
    const status = ext.status as
      | { observedGeneration?: number; lastOperation?: { state?: string } }
      | undefined;
    return {
      name: String(metadata.name),
      type: spec?.type,
      generation: metadata.generation,
      observedGeneration: status?.observedGeneration,
      lastOperationState: status?.lastOperation?.state,
      notReadyForGardener: checkExtensionObject(ext as unknown as CheckedExtension),
    };
  });
  return { namespace, seedSecret, managedResources, referencedSecrets, extensions };
}

async function orUndefined<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}
