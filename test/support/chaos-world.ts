import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Extension } from "../../src/extension/types.js";
import type { FaultCall, FaultRule } from "../../src/faults/rules.js";
import { Clusters, Extensions, ManagedResources, Secrets } from "../../src/kube/resources.js";
import { sumCounter } from "../../src/metrics/index.js";
import { DEFAULT_POLL_MS } from "../../src/ontap-extension/actuator.js";
import { decodeCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { type ControllerProcess, spawnController } from "./controller-process.js";
import { writeControllerConfig } from "../../src/testenv/controller-config.js";
import { legacyUsernameFor, svmNameFor, usernameFor } from "./invariants.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";
import { createWorld, type Shoot, uniqueSuffix, type World } from "./world.js";

/**
 * A lane of the chaos suite: one world (two simulated MetroCluster clusters, the fault proxy in front of the
 * shared kube-apiserver, and either the real gardener-resource-manager with a shoot per scenario's shoot
 * namespace, released when the scenario is discarded, or the stand-in) whose controller runs either in this
 * process or as its own process (for SIGKILL). Scenarios run one after another in a lane and cannot see each other: ONTAP is
 * reset before each, every shoot is a fresh project, Kubernetes fault rules name the scenario's namespace.
 */

export interface OntapCallLogEntry {
  seq: number;
  at: number;
  cluster: string;
  method: string;
  template: string;
  query: string;
  username: string;
}

export interface KubeCallLogEntry {
  seq: number;
  at: number;
  method: string;
  path: string;
}

export interface ControllerHandle {
  /** Reconciles finished (any result) by this lane's controller, summed over its restarts. */
  reconciles(): Promise<number>;
  /** In-process: stop and start. Process: SIGKILL and start a new one. */
  restart(): Promise<void>;
  /** Process lanes only: SIGKILL without a restart. */
  kill?(): Promise<void>;
  start?(): Promise<void>;
  /** Log text written since the last call (for the secret scan); consumed. */
  drainLogs(): string[];
  stop(): Promise<void>;
}

export interface ChaosLane {
  name: string;
  world: World;
  admins: SimAdmin[];
  controller: ControllerHandle;
  kind: "in-process" | "process";
  /** Calls that passed the fault proxy (all of them, every shoot), in order; `since` is a seq. */
  kubeLog(since?: number): KubeCallLogEntry[];
  kubeSeq(): number;
  /** Calls that reached the simulator (both clusters), merged in arrival order. */
  ontapLog(since?: number): Promise<OntapCallLogEntry[]>;
  resetOntap(): Promise<void>;
  clearFaults(): Promise<void>;
  newShoot(opts?: { project?: string; lifBase?: number }): Promise<Shoot>;
  /** Strips the finalizer and deletes what a finished scenario left in kube-apiserver. */
  discard(shoot: Shoot): Promise<void>;
  /**
   * Waits until ONTAP has seen no call for `quietMs`: a reconcile of a discarded shoot that was still
   * running (an Extension in Error is retried) must not reach into the next scenario's fresh ONTAP.
   */
  quiesce(quietMs?: number): Promise<void>;
  close(): Promise<void>;
}

let lifCounter = 0;

/** LIF addresses unique per shoot in a run: a duplicate address across SVMs is a separate (config) error. */
export function nextLifs(dataLifs = 2): { dataLifs: string[]; managementLif: string } {
  lifCounter++;
  const a = 10 + Math.floor(lifCounter / 250);
  const b = lifCounter % 250;
  return {
    dataLifs: Array.from({ length: dataLifs }, (_, i) => `10.${a}.${b}.${11 + i}`),
    managementLif: `10.${a}.${b}.10`,
  };
}

export async function createChaosLane(opts: {
  name: string;
  kind: "in-process" | "process";
  clusters?: number;
  /** Who applies the ManagedResources (see WorldOptions.resourceManager); a lane choosing the stand-in says why. */
  resourceManager: "real" | "stand-in";
  /**
   * The controller polls what is not ready yet every 2 s as in production (DEFAULT_POLL_MS), not every 150 ms
   * (200 ms as a process). For reconcile counts on the real resource manager: a new shoot's trident-crds turn
   * healthy only once its shoot has started (5-9 s here), and polled every 150 ms that wait alone was 50
   * requeues, so the bound of 40 measured the machine; at 2 s the ManagedResource watch wakes the waiting
   * reconcile, as in a seed.
   */
  productionPoll?: boolean;
}): Promise<ChaosLane> {
  const pollMs = opts.productionPoll ? DEFAULT_POLL_MS : undefined;
  const world = await createWorld({
    clusters: opts.clusters ?? 2,
    faultProxy: true,
    startController: opts.kind === "in-process",
    resourceManager: opts.resourceManager,
    ...(pollMs ? { pollMs } : {}),
  });
  const proxy = world.proxy!;
  const kubeCalls: KubeCallLogEntry[] = [];
  let kubeSeq = 0;
  // The proxy asks its rule set about every request it forwards: that is the one place that sees them all in
  // order, without changing the proxy.
  const decide = proxy.rules.decide.bind(proxy.rules);
  proxy.rules.decide = (call: FaultCall): FaultRule | undefined => {
    kubeCalls.push({ seq: ++kubeSeq, at: performance.timeOrigin + performance.now(), method: call.method.toUpperCase(), path: call.path });
    if (kubeCalls.length > 200_000) kubeCalls.splice(0, 100_000);
    return decide(call);
  };

  const controller = opts.kind === "in-process" ? inProcessHandle(world) : await processHandle(world, opts.name, pollMs ? pollMs / 1000 : undefined);

  const lane: ChaosLane = {
    name: opts.name,
    world,
    admins: world.admins,
    controller,
    kind: opts.kind,
    kubeLog: (since = 0) => kubeCalls.filter((c) => c.seq > since),
    kubeSeq: () => kubeSeq,
    async ontapLog(since = 0) {
      const logs = await Promise.all(
        world.admins.map(async (admin) => {
          const res = await admin.rest("GET", `/__sim/calls?log=true&since=${since}`);
          if (res.status !== 200) throw new Error(`simulator call log answered ${res.status}`);
          return (res.body as { log: OntapCallLogEntry[] }).log;
        }),
      );
      return logs.flat().sort((a, b) => a.seq - b.seq);
    },
    async resetOntap() {
      await Promise.all(world.admins.map((a) => a.reset()));
    },
    async clearFaults() {
      proxy.rules.clear();
      await Promise.all(world.admins.map((a) => a.clearFaults()));
    },
    async newShoot(o = {}) {
      const project = o.project ?? `c${uniqueSuffix()}`;
      return world.createShoot({ project, shoot: `s${uniqueSuffix()}`, ...nextLifs() });
    },
    async discard(shoot) {
      const { kube } = world;
      await kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { metadata: { finalizers: null } }).catch(() => undefined);
      await kube.delete(Extensions, shoot.namespace, shoot.extensionName).catch(() => undefined);
      // Every stand-in resource manager lists all ManagedResources of the API server: keep that list short. The
      // shoot of a real lane goes with the scenario, so nothing would remove the resource manager's finalizer.
      const mrs = await kube.list<{ metadata: { name: string } }>(ManagedResources, shoot.namespace).catch(() => ({ items: [] }));
      await world.releaseShoot(shoot);
      for (const mr of mrs.items) {
        await kube.mergePatch(ManagedResources, shoot.namespace, mr.metadata.name, { metadata: { finalizers: null } }).catch(() => undefined);
        await kube.delete(ManagedResources, shoot.namespace, mr.metadata.name).catch(() => undefined);
      }
      const secrets = await kube.list<{ metadata: { name: string } }>(Secrets, shoot.namespace).catch(() => ({ items: [] }));
      for (const s of secrets.items) await kube.delete(Secrets, shoot.namespace, s.metadata.name).catch(() => undefined);
      await kube.delete(Clusters, undefined, shoot.namespace).catch(() => undefined);
    },
    async quiesce(quietMs = 600) {
      const deadline = Date.now() + 10_000;
      let last = (await lane.ontapLog()).at(-1)?.seq ?? 0;
      let quietSince = Date.now();
      while (Date.now() < deadline && Date.now() - quietSince < quietMs) {
        await sleep(100);
        const seq = (await lane.ontapLog(last)).at(-1)?.seq;
        if (seq !== undefined) {
          last = seq;
          quietSince = Date.now();
        }
      }
    },
    async close() {
      await controller.stop();
      await world.close();
    },
  };
  return lane;
}

function inProcessHandle(world: World): ControllerHandle {
  return {
    reconciles: () => sumCounter(world.metrics.reconcilesTotal),
    async restart() {
      await world.controller?.stop();
      await world.startController();
    },
    // Consumed: debug logs of hundreds of scenarios would otherwise stay in memory until the file ends.
    drainLogs: () => world.logs.splice(0),
    async stop() {
      await world.controller?.stop();
      world.controller = undefined;
    },
  };
}

async function processHandle(world: World, name: string, pollSeconds: number | undefined): Promise<ControllerHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), `ontap-chaos-${name}-`));
  const configPath = writeControllerConfig(dir, world.sim.clusters, {
    extensionClass: world.config.extensionClass,
    svmDeletionPolicy: world.config.svmDeletionPolicy,
    credentialsVerification: { timeoutSeconds: 3, managementLifUrlsFile: world.sim.lifEndpointsFile },
    // The world's loopback webhook server: the shoots of a real resource manager call it like the in-process lanes'.
    shootWebhook: world.config.shootWebhook,
  });
  const kubeconfig = world.proxy!.kubeconfigFor(dir);
  let generation = 0;
  let current: ControllerProcess | undefined;
  /** Reconciles of processes that are gone, read from their last scrape. */
  let finishedReconciles = 0;
  let lastScrape = 0;
  const logOffsets = new Map<string, number>();
  const logFiles: string[] = [];

  const scrape = async (): Promise<number> => {
    if (!current) return 0;
    const text = await current.metrics();
    if (text === undefined) return lastScrape;
    let sum = 0;
    for (const line of text.split("\n")) {
      const m = /^gardener_extension_ontap_reconciles_total(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (m) sum += Number(m[2]);
    }
    lastScrape = sum;
    return sum;
  };

  const start = async () => {
    // The health port was free when chosen, but on a busy machine something else can take it before the
    // controller binds it (every shoot's API server, etcd and resource manager choose ports too, and every
    // client connection takes an ephemeral one): the controller then exits at once (EADDRINUSE), and the lane
    // would wait out the bound without a controller. A new one gets a new port.
    for (let attempt = 1; ; attempt++) {
      generation++;
      const proc = await spawnController({ configPath, kubeconfig, dir, name: `${name}-${generation}`, ...(pollSeconds ? { pollSeconds } : {}) });
      logFiles.push(proc.logFile);
      if ((await listening(proc)) || attempt === 3) {
        current = proc;
        lastScrape = 0;
        return;
      }
    }
  };
  await start();

  const kill = async () => {
    // What the dead process counted up to its last scrape; the reconcile cut short by the kill is counted
    // by the caller, which knows one was in flight.
    finishedReconciles += await scrape();
    await current?.kill("SIGKILL");
    current = undefined;
  };
  return {
    async reconciles() {
      return finishedReconciles + (await scrape());
    },
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    drainLogs() {
      const out: string[] = [];
      for (const file of logFiles) {
        const from = logOffsets.get(file) ?? 0;
        let size = 0;
        try {
          size = statSync(file).size;
        } catch {
          continue;
        }
        if (size <= from) continue;
        const fd = openSync(file, "r");
        try {
          const buffer = Buffer.alloc(size - from);
          readSync(fd, buffer, 0, buffer.length, from);
          // Whole lines only: a password cut in two by a read boundary would pass the scan unseen.
          const end = buffer.lastIndexOf(0x0a) + 1;
          out.push(...buffer.subarray(0, end).toString("utf8").split("\n"));
          logOffsets.set(file, from + end);
        } finally {
          closeSync(fd);
        }
      }
      return out;
    },
    async stop() {
      await current?.kill("SIGKILL");
      current = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** False if the process exited before its metrics endpoint answered; true once it answers (or after a minute of neither). */
async function listening(proc: ControllerProcess, timeoutMs = 60_000): Promise<boolean> {
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await proc.metrics()) !== undefined) return true;
    if (exited) return false;
    await sleep(200);
  }
  return true;
}

// ---- checks beyond the invariant checker ----

export interface OntapSnapshot {
  cluster: string;
  svms: { uuid: string; name: string; state: string }[];
  interfaces: { uuid: string; name: string; address?: string; svm?: string }[];
  accounts: { name: string; owner?: string; ownerUuid?: string; comment?: string }[];
}

export async function ontapSnapshot(lane: ChaosLane): Promise<OntapSnapshot[]> {
  return Promise.all(
    lane.admins.map(async (admin) => {
      const state = await admin.state();
      return {
        cluster: admin.cluster.name,
        svms: state.svms.map((s) => ({ uuid: String(s.uuid), name: String(s.name), state: String(s.state) })),
        interfaces: state.interfaces.map((i) => ({
          uuid: String(i.uuid),
          name: String(i.name),
          address: (i.ip as { address?: string } | undefined)?.address,
          svm: (i.svm as { name?: string } | undefined)?.name,
        })),
        accounts: state.accounts.map((a) => ({
          name: String(a.name),
          owner: (a.owner as { name?: string } | undefined)?.name,
          ownerUuid: (a.owner as { uuid?: string } | undefined)?.uuid,
          ...(typeof a.comment === "string" ? { comment: a.comment } : {}),
        })),
      };
    }),
  );
}

/**
 * What the invariant checker does not look at: objects on ONTAP that belong to no live shoot. Every SVM,
 * interface and SVM account on the simulators must be explained by a live shoot of this scenario (the
 * simulators are reset before each scenario, so anything else is an orphan of the scenario).
 */
export function orphans(snapshot: OntapSnapshot[], live: Shoot[]): string[] {
  const out: string[] = [];
  const projects = new Map(live.map((s) => [svmNameFor(s.projectId), s]));
  const users = new Set(live.map((s) => `${svmNameFor(s.projectId)}/${usernameFor(s.namespace)}`));
  // A Go extension's user (the shoot name) this controller adopted carries the shoot namespace in its comment.
  const adopted = new Set(live.map((s) => `${svmNameFor(s.projectId)}/${legacyUsernameFor(s.namespace)}/gardener-extension-ontap owner=${s.namespace}`));
  for (const c of snapshot) {
    const svmNames = new Set(c.svms.map((s) => s.name));
    for (const svm of c.svms) {
      if (!projects.has(svm.name)) out.push(`${c.cluster}: SVM ${svm.name} belongs to no live shoot`);
    }
    for (const lif of c.interfaces) {
      const owner = lif.svm ?? "";
      const shoot = projects.get(owner);
      if (!shoot || !svmNames.has(owner)) {
        out.push(`${c.cluster}: LIF ${lif.name} (${lif.address}) on ${owner || "no SVM"} belongs to no live shoot`);
        continue;
      }
      // `datalif<i>`: the same data LIF under the name this project gave it before it matched the Go extension's.
      const expected = [...shoot.dataLifs.flatMap((_, i) => [`datalif+${i}`, `datalif${i}`]), "managementlif"];
      if (!expected.includes(lif.name)) out.push(`${c.cluster}: LIF ${lif.name} on ${owner} is not one the shoot asks for`);
    }
    for (const account of c.accounts) {
      if (!account.owner || account.owner === c.cluster || !svmNames.has(account.owner)) continue;
      if (account.name === "vsadmin") continue;
      if (adopted.has(`${account.owner}/${account.name}/${account.comment ?? ""}`)) continue;
      if (!users.has(`${account.owner}/${account.name}`)) out.push(`${c.cluster}: user ${account.name} on ${account.owner} belongs to no live shoot`);
    }
  }
  return out;
}

/**
 * Secret first: whenever the shoot's ONTAP user exists, its password is one the seed Secret holds (as
 * `password`, `pendingPassword` or a superseded one). Exact only while no controller runs (after a SIGKILL), otherwise racy.
 */
export async function passwordOnOntapIsStored(lane: ChaosLane, shoot: Shoot, foreign: string[] = []): Promise<string[]> {
  const svm = svmNameFor(shoot.projectId);
  const user = usernameFor(shoot.namespace);
  const snapshot = await ontapSnapshot(lane);
  const host = snapshot.findIndex((c) => c.accounts.some((a) => a.owner === svm && a.name === user));
  if (host < 0) return [];
  const secret = await lane.world.kube.get<{ data?: Record<string, string> }>(Secrets, shoot.namespace, "ontap-svm-credentials");
  const decoded = decodeCredentials(secret as SecretObject | undefined);
  const stored = [decoded.password, decoded.pendingPassword, ...(decoded.superseded ?? []).map((e) => e.password)].filter(
    (v): v is string => Boolean(v),
  );
  const admin = lane.admins[host]!;
  // SVM users authenticate at their SVM's management LIF (the simulator refuses them on the cluster port).
  const endpoints = (await admin.rest("GET", "/__sim/lif-endpoints")).body.endpoints as Record<string, { url: string }> | undefined;
  const lifUrl = endpoints?.[shoot.managementLif]?.url;
  const lif = lifUrl ? new SimAdmin({ ...admin.cluster, url: lifUrl }) : undefined;
  try {
    for (const password of lif ? [...stored, ...foreign] : []) {
      const res = await lif!.rest("GET", "/api/svm/svms?return_records=false", { auth: { username: user, password } });
      if (res.status === 200) return [];
    }
  } finally {
    await lif?.close();
  }
  // An account created without a password that works (never set) is not a leak; a locked one neither.
  const unknownWorks = stored.length === 0 ? "no seed Secret password" : "neither stored password";
  return [`${shoot.namespace}: user ${user} exists on ${admin.cluster.name} but ${unknownWorks} authenticates it`];
}

/** The kube objects of a shoot a sibling's delete must not touch, by resourceVersion. */
export async function kubeFingerprint(lane: ChaosLane, shoot: Shoot): Promise<Record<string, string>> {
  const { kube } = lane.world;
  const out: Record<string, string> = {};
  const secrets = await kube.list<{ metadata: { name: string; resourceVersion: string } }>(Secrets, shoot.namespace);
  for (const s of secrets.items) out[`Secret ${s.metadata.name}`] = s.metadata.resourceVersion;
  const mrs = await kube.list<{ metadata: { name: string; resourceVersion: string } }>(ManagedResources, shoot.namespace);
  // The fake resource manager writes MR status once; the spec generation is what the controller would change.
  for (const m of mrs.items) out[`ManagedResource ${m.metadata.name}`] = String((m.metadata as { generation?: number }).generation);
  const ext = await kube.get<Extension>(Extensions, shoot.namespace, shoot.extensionName);
  out["Extension generation"] = String(ext?.metadata.generation);
  // A restarted controller re-verifies every Extension (Create -> Reconcile); what must not move is the state.
  out["Extension lastOperation.state"] = String(ext?.status?.lastOperation?.state);
  return out;
}

export function ontapFingerprint(snapshot: OntapSnapshot[], shoot: Shoot): string[] {
  const svm = svmNameFor(shoot.projectId);
  const user = usernameFor(shoot.namespace);
  const out: string[] = [];
  for (const c of snapshot) {
    for (const s of c.svms.filter((x) => x.name === svm)) out.push(`${c.cluster} SVM ${s.uuid} ${s.state}`);
    for (const l of c.interfaces.filter((x) => x.svm === svm)) out.push(`${c.cluster} LIF ${l.name} ${l.uuid} ${l.address}`);
    for (const a of c.accounts.filter((x) => x.owner === svm && x.name === user)) out.push(`${c.cluster} user ${a.name}`);
  }
  return out.sort();
}

/** Lines that contain a password the run has seen (seed Secrets, ONTAP admin passwords). */
export function scanForSecrets(lines: string[], secrets: Set<string>): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const secret of secrets) {
      if (secret && line.includes(secret)) {
        found.push(`a log line contains a password (${line.slice(0, 80).replace(secret, "***")}...)`);
        break;
      }
    }
  }
  return found;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}
