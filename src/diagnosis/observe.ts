import type { ComponentConfig } from "../config/component-config.js";
import { ESCALATION_CONDITION } from "../extension/status.js";
import type { Cluster, Extension } from "../extension/types.js";
import type { KubeClient } from "../kube/client.js";
import { Clusters, Extensions, ManagedResources, Secrets } from "../kube/resources.js";
import type { OntapClient, Svm } from "../ontap/index.js";
import { ownSvm } from "../ontap/metrocluster.js";
import { decodeCredentials, loginAnswer, type SecretObject } from "../ontap-extension/credentials.js";
import { decodeShootInputs } from "../ontap-extension/inputs.js";
import { planShoot, type ShootPlan } from "../ontap-extension/plan.js";
import type { ManagementLifClients } from "../ontap-extension/lif-clients.js";
import { createClusterwideNetworkPolicyRule } from "../ontap-extension/firewall.js";
import { credentialVerifiers, type VerifierFor } from "../ontap-extension/verifiers.js";
import { liveReader, type OntapReader } from "../observation/ontap-reader.js";
import { passwordProof } from "../observation/observed.js";
import { expectedComponentNames } from "../ontap-extension/components.js";
import { isManagedResourceHealthy, type ManagedResourceLike } from "../trident/index.js";
import type {
  AuthCheck,
  ClusterAnswer,
  ExpectedState,
  ExtensionFacts,
  ManagedResourceFacts,
  Read,
  SecretFacts,
  ShootObservation,
  SvmFacts,
} from "./observation.js";

/**
 * The read-only half of `doctor`: GETs and LISTs against kube-apiserver and ONTAP, nothing else. Stored
 * passwords are read into local variables only long enough to ask ONTAP whether they authenticate.
 */
export interface DoctorDeps {
  kube: KubeClient;
  /** One client per configured cluster, in configuration order. */
  clients: readonly OntapClient[];
  config: Pick<ComponentConfig, "extensionClass" | "clusterwideNetworkPolicy" | "shootWebhook"> &
    Partial<Pick<ComponentConfig, "clusters" | "credentialsVerification">>;
  now?: () => Date;
  /** The controller's pools to the management LIFs, under its per-cluster gates (the health check); default: a client per check. */
  lifClients?: ManagementLifClients;
  /** Where the reads come from; each default is a request (the doctor looks once, now). */
  sources?: ObservationSources;
}

/**
 * The running controller's sources of what `observeShoot` reads, so a health round costs no request per shoot
 * for what the process already holds: the Extension, its Cluster and the ManagedResources from the informer
 * caches, the firewall rule the actuator caches, ONTAP from the clusters' bulk inventory, and the stored
 * passwords proven at most once per period (the last answers reused in between).
 */
export interface ObservationSources {
  extension?: (namespace: string) => Extension | undefined;
  /** A cache miss falls back to a GET (a Cluster created a moment ago). */
  cluster?: (namespace: string) => Cluster | undefined;
  managedResources?: (namespace: string) => (ManagedResourceLike & { metadata: { name: string } })[];
  clusterwideNetworkPolicy?: () => Promise<boolean>;
  ontap?: OntapReader;
  verifierFor?: VerifierFor;
  passwords?: PasswordProofs;
}

/** What the Secret reads and the logins answered last time, for observations that do not prove anew. */
export interface StoredProof {
  secret: NonNullable<ShootObservation["secret"]>;
  legacySecret: NonNullable<ShootObservation["legacySecret"]>;
  password: AuthCheck;
  pendingPassword?: AuthCheck;
}

export interface PasswordProofs {
  /** The last proof of the shoot when it is still good to use; undefined: read the Secrets and prove now. */
  reuse(namespace: string): StoredProof | undefined;
  record(namespace: string, proof: StoredProof): void;
}

export const EXTENSION_TYPE = "ontap";


/** Namespaces of every Extension of type ontap that this configuration's extension class handles. */
export async function findOntapShoots(deps: DoctorDeps): Promise<string[]> {
  const { items } = await deps.kube.list<Extension>(Extensions);
  return items
    .filter((ext) => ext.spec?.type === EXTENSION_TYPE && (ext.spec.class ?? "shoot") === deps.config.extensionClass)
    .map((ext) => ext.metadata.namespace ?? "")
    .filter((ns) => ns !== "")
    .sort();
}

export async function observeShoot(deps: DoctorDeps, namespace: string): Promise<ShootObservation> {
  const observation: ShootObservation = {
    namespace,
    observedAt: (deps.now ?? (() => new Date()))().toISOString(),
    extension: { ok: true, value: undefined },
    expected: undefined,
    clusters: [],
  };
  const sources = deps.sources ?? {};
  const ontap = sources.ontap ?? liveReader;
  let extension: Extension | undefined;
  try {
    extension = sources.extension
      ? sources.extension(namespace)
      : (await deps.kube.list<Extension>(Extensions, namespace)).items.find((ext) => ext.spec?.type === EXTENSION_TYPE);
    observation.extension = { ok: true, value: extension ? extensionFacts(extension) : undefined };
  } catch (err) {
    observation.extension = failed(err);
  }
  if (!extension) return observation;

  let plan: ShootPlan;
  try {
    const cluster = sources.cluster?.(namespace) ?? (await deps.kube.get<Cluster>(Clusters, undefined, namespace));
    plan = planShoot(decodeShootInputs(extension, cluster));
    // A shoot taken over from the Go extension may keep the user named by the shoot name (plan.ts legacyUsername):
    // the one the controller recorded is the one to inspect.
    const recordedUser = (extension.status?.providerStatus as { user?: unknown } | undefined)?.user;
    if (plan.legacyUsername !== undefined && recordedUser === plan.legacyUsername) plan = { ...plan, username: plan.legacyUsername };
  } catch (err) {
    observation.expected = failed(err);
    return observation;
  }
  // The controller's rule for trident-cwnp: configured, or the seed has a namespace `firewall` (Go's rule); a
  // failed read expects it (the doctor reports, it never deletes).
  const cwnpRule = sources.clusterwideNetworkPolicy ?? createClusterwideNetworkPolicyRule(deps.kube, deps.config.clusterwideNetworkPolicy);
  const clusterwideNetworkPolicy = await cwnpRule().catch(() => true);
  observation.expected = { ok: true, value: expectedState(plan, { ...deps.config, clusterwideNetworkPolicy }) };

  // ONTAP first, the Secret after: the controller writes the Secret before it touches the account, so in
  // this order a reconcile running meanwhile can only look "Secret ahead of ONTAP" (its normal in-between
  // state), never "user without Secret".
  const [clusters, managedResources] = await Promise.all([
    Promise.all(deps.clients.map((client) => askCluster(ontap, client, plan.svmName))),
    sources.managedResources
      ? { ok: true as const, value: { items: sources.managedResources(namespace) } }
      : read(() => deps.kube.list<ManagedResourceLike & { metadata: { name: string } }>(ManagedResources, namespace)),
  ]);
  observation.clusters = clusters;
  observation.managedResources = managedResources.ok
    ? { ok: true, value: managedResourceFacts(observation.expected.value.managedResources, managedResources.value.items) }
    : managedResources;

  const inspected = chooseInspected(clusters, extensionFacts(extension).recordedCluster);
  const client = inspected ? deps.clients.find((c) => c.cluster === inspected.cluster) : undefined;
  let account: Read<Awaited<ReturnType<OntapReader["account"]>>> | undefined;
  if (inspected && client) {
    observation.inspectedCluster = inspected.cluster;
    const [lifs, accountRead] = await Promise.all([
      read(() => ontap.interfaces(client, inspected.svm.uuid)),
      read(() => ontap.account(client, inspected.svm.uuid, plan.username)),
    ]);
    account = accountRead;
    observation.lifs = lifs.ok
      ? { ok: true, value: lifs.value.map((l) => ({ name: l.name, ipAddress: l.ipAddress, ...(l.state !== undefined ? { state: l.state } : {}) })) }
      : lifs;
    observation.account = accountRead.ok
      ? { ok: true, value: accountRead.value ? { found: true, role: accountRead.value.role, locked: accountRead.value.locked } : { found: false } }
      : accountRead;
  }

  // A proof still good to use (the health check proves each shoot once per period): its Secret facts and
  // answers stand, unless the account it was made for is gone now.
  const userMissing = account?.ok === true && !account.value;
  const reused = inspected && client && !userMissing ? sources.passwords?.reuse(namespace) : undefined;
  if (reused) {
    Object.assign(observation, { secret: reused.secret, legacySecret: reused.legacySecret, password: reused.password });
    if (reused.pendingPassword) observation.pendingPassword = reused.pendingPassword;
    observation.proof = passwordProof(reused.password, reused.pendingPassword);
    return observation;
  }

  const [secret, legacySecret] = await Promise.all([
    read(() => deps.kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name)),
    read(() => deps.kube.get<SecretObject>(Secrets, plan.legacySecret.namespace, plan.legacySecret.name)),
  ]);
  observation.secret = secret.ok ? { ok: true, value: secretFacts(secret.value) } : secret;
  observation.legacySecret = legacySecret.ok ? { ok: true, value: secretFacts(legacySecret.value) } : legacySecret;

  if (!inspected || !client) {
    const why = clusters.some((c) => c.kind === "no-answer") ? "the SVM's cluster is not known" : "there is no SVM";
    observation.password = { result: "not-checked", why };
    observation.proof = passwordProof(observation.password, undefined);
    return observation;
  }

  // The passwords live in this scope only; the observation keeps what ONTAP answered.
  const stored = secret.ok ? decodeCredentials(secret.value) : {};
  const check = async (password: string | undefined, what: string): Promise<AuthCheck> => {
    if (!secret.ok) return { result: "not-checked", why: "the seed Secret could not be read" };
    if (!password) return { result: "not-checked", why: `no ${what} is stored` };
    if (stored.username !== plan.username) return { result: "not-checked", why: "the Secret names another user" };
    if (userMissing) return { result: "not-checked", why: "the ONTAP user does not exist" };
    return loginAnswer(await verify(plan.username, password));
  };
  // Where the controller proves it: at the SVM management LIF, with the same settings.
  const verifierFor = sources.verifierFor ?? credentialVerifiers(deps.config, deps.lifClients ? { lifClients: deps.lifClients } : {});
  const verify = verifierFor(client.cluster, client, plan.inputs.managementLif);
  observation.password = await check(stored.password, "password");
  if (stored.pendingPassword) observation.pendingPassword = await check(stored.pendingPassword, "pendingPassword");
  observation.proof = passwordProof(observation.password, observation.pendingPassword);
  sources.passwords?.record(namespace, {
    secret: observation.secret,
    legacySecret: observation.legacySecret,
    password: observation.password,
    ...(observation.pendingPassword ? { pendingPassword: observation.pendingPassword } : {}),
  });
  return observation;
}

function expectedState(plan: ShootPlan, config: DoctorDeps["config"]): ExpectedState {
  return {
    svmName: plan.svmName,
    username: plan.username,
    secret: plan.secret,
    legacySecret: plan.legacySecret,
    lifs: plan.lifs,
    svmUserRole: plan.inputs.svmUserRole ?? "vsadmin",
    managedResources: expectedComponentNames(config),
  };
}

function extensionFacts(ext: Extension): ExtensionFacts {
  const status = ext.status ?? {};
  const escalation = status.conditions?.find((c) => c.type === ESCALATION_CONDITION);
  const provider = (status.providerStatus ?? {}) as { cluster?: unknown; lastVerification?: unknown };
  const facts: ExtensionFacts = {
    name: ext.metadata.name,
    class: ext.spec.class ?? "shoot",
    deleting: Boolean(ext.metadata.deletionTimestamp),
  };
  if (ext.metadata.generation !== undefined) facts.generation = ext.metadata.generation;
  if (status.observedGeneration !== undefined) facts.observedGeneration = status.observedGeneration;
  const operation = ext.metadata.annotations?.["gardener.cloud/operation"];
  if (operation) facts.operationAnnotation = operation;
  if (status.lastOperation) {
    const op = status.lastOperation;
    facts.lastOperation = { type: op.type, state: op.state, description: op.description, progress: op.progress, lastUpdateTime: op.lastUpdateTime };
  }
  if (status.lastError) {
    facts.lastError = { description: status.lastError.description, codes: status.lastError.codes ?? [], lastUpdateTime: status.lastError.lastUpdateTime };
  }
  if (escalation) {
    facts.escalation = {
      status: escalation.status,
      reason: escalation.reason,
      message: escalation.message,
      lastTransitionTime: escalation.lastTransitionTime,
    };
  }
  if (typeof provider.cluster === "string") facts.recordedCluster = provider.cluster;
  if (typeof provider.lastVerification === "string") facts.lastVerification = provider.lastVerification;
  const trident = (provider as { trident?: { version?: unknown; operatorImage?: unknown; selectedBy?: unknown } }).trident;
  if (typeof trident?.version === "string") {
    facts.trident = {
      version: trident.version,
      ...(typeof trident.operatorImage === "string" ? { operatorImage: trident.operatorImage } : {}),
      ...(typeof trident.selectedBy === "string" ? { selectedBy: trident.selectedBy } : {}),
    };
  }
  return facts;
}

async function askCluster(ontap: OntapReader, client: OntapClient, svmName: string): Promise<ClusterAnswer> {
  let records: Svm[];
  try {
    records = await ontap.svmsNamed(client, svmName);
  } catch (err) {
    return { cluster: client.cluster, kind: "no-answer", error: messageOf(err) };
  }
  const own = ownSvm(svmName, records);
  const svm = own ?? records.find((s) => s.name === svmName || s.name === `${svmName}-mc`);
  if (!svm) return { cluster: client.cluster, kind: "absent" };
  const facts: SvmFacts = { uuid: svm.uuid, name: svm.name, state: svm.state, mirror: own === undefined };
  if (svm.nvmeEnabled !== undefined) facts.nvmeEnabled = svm.nvmeEnabled;
  if (svm.subtype !== undefined) facts.subtype = svm.subtype;
  return { cluster: client.cluster, kind: "found", svm: facts };
}

/** The copy the other checks look at: the only one, else the recorded cluster's, else the first. */
export function chooseInspected(
  clusters: readonly ClusterAnswer[],
  recorded: string | undefined,
): { cluster: string; svm: SvmFacts } | undefined {
  const found = clusters.flatMap((c) => (c.kind === "found" ? [{ cluster: c.cluster, svm: c.svm }] : []));
  const own = found.filter((f) => !f.svm.mirror);
  const candidates = own.length > 0 ? own : found;
  return candidates.find((f) => f.cluster === recorded) ?? candidates[0];
}

function secretFacts(secret: SecretObject | undefined): SecretFacts {
  if (!secret) return { found: false, hasPassword: false, hasPendingPassword: false };
  const creds = decodeCredentials(secret);
  const facts: SecretFacts = {
    found: true,
    hasPassword: Boolean(creds.password),
    hasPendingPassword: Boolean(creds.pendingPassword),
  };
  if (creds.username !== undefined) facts.username = creds.username;
  return facts;
}

function managedResourceFacts(
  expected: readonly string[],
  items: readonly (ManagedResourceLike & { metadata: { name: string } })[],
): ManagedResourceFacts[] {
  return expected.map((name) => {
    const mr = items.find((item) => item.metadata.name === name);
    const health = isManagedResourceHealthy(mr);
    return { name, found: mr !== undefined, healthy: health.healthy, progressing: !health.healthy && isCatchingUp(mr), reason: health.reason };
  });
}

/** Unobserved, an older generation observed, or still progressing: the resource manager is on its way. */
function isCatchingUp(mr: ManagedResourceLike | undefined): boolean {
  if (!mr || mr.metadata?.deletionTimestamp) return false;
  const observed = mr.status?.observedGeneration;
  if (observed === undefined || (mr.metadata?.generation !== undefined && observed !== mr.metadata.generation)) return true;
  const conditions = mr.status?.conditions ?? [];
  const failed = conditions.some((c) => (c.type === "ResourcesApplied" || c.type === "ResourcesHealthy") && c.status === "False");
  return !failed && conditions.some((c) => c.type === "ResourcesProgressing" && c.status === "True");
}

async function read<T>(call: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return failed(err);
  }
}

function failed(err: unknown): { ok: false; error: string } {
  return { ok: false, error: messageOf(err) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
