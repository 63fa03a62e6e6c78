import { readFileSync } from "node:fs";
import {
  cacheDir,
  clusterObject,
  type FaultProxy,
  generateServingCert,
  isAlive,
  PROJECT_ANNOTATION,
  type ShootEnv,
  shootNamespaceObject,
  sleep,
  startFaultProxy,
  startShootEnv,
  startShootWorkloads,
  startTestEnv,
  type TestEnv,
} from "../testenv/index.js";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadComponentConfig } from "../config/component-config.js";
import { type RunningController, startController } from "../process-assembly.js";
import { loadKubeConfig } from "../kube/config.js";
import { createDoctorClients } from "../doctor/command.js";
import { diagnose, type ShootDiagnosis, summarizeChecks } from "../doctor/diagnose.js";
import type { ShootObservation } from "../doctor/observation.js";
import { type DoctorDeps, observeShoot } from "../doctor/observe.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import { Clusters, Extensions, Namespaces } from "../kube/resources.js";
import { createLogger } from "../log.js";
import { createMetrics, type Metrics, sumCounter } from "../metrics/index.js";
import type { OntapClient } from "../ontap/index.js";
import { type RunningSimulator, startSimulator } from "../simulator/index.js";
import { DemoError, ensureKubeBinaries } from "./binaries.js";
import { createLiveDisplay, createPlainDisplay, type Display } from "./display.js";
import { observeShootCluster, SHOOT_MATRIX_HEADER, type ShootClusterObservation, shootClusterCells, shootClusterComplete } from "./shoot-view.js";
import { startTridentOperatorStandIn } from "../testenv/trident-operator.js";
import { type Cell, renderMatrix, renderTable, shootDetail, summarizeShoot } from "./view.js";
import { startWebhookServer } from "../webhook/server.js";

/**
 * The demo plays what Gardener does on a seed: for three shoots in two projects it creates the shoot
 * namespace, the Cluster and the Extension, and the controller (in this process, against a real
 * kube-apiserver and a simulated two-cluster MetroCluster) provisions their storage. One shoot meets the
 * failure this project exists for: kube-apiserver refuses to create its seed Secret for a while.
 *
 * Each shoot is real too, as far as it can be here: its own kube-apiserver + etcd and the real
 * gardener-resource-manager applying its ManagedResources to it (one per shoot namespace, as in Gardener), the
 * controller's shoot webhook on loopback, and two stand-ins for what needs kubelets: the workload controllers'
 * rollout status (shoot-workloads.ts) and Trident's operator (trident-operator.ts).
 */
export interface DemoOptions {
  /** Leave everything running after the story until the signal aborts. */
  keep: boolean;
  /** Redraw a live view in place; false prints plain progress lines. */
  tty: boolean;
  out: { write(text: string): unknown; columns?: number };
  /** Aborted on Ctrl-C / SIGTERM: the demo stops everything and returns. */
  signal: AbortSignal;
}

interface DemoShoot {
  project: string;
  projectId: string;
  shoot: string;
  namespace: string;
  managementLif: string;
  dataLifs: string[];
}

/** Shoots of one project share the project's SVM, so they carry the same SVM addresses. */
const PROJECTS = [
  { project: "alpha", projectId: "0a1fa000-1111-4aaa-8aaa-00000000a1fa", shoots: ["web", "db"], net: "10.10.0" },
  { project: "beta", projectId: "0be7a000-2222-4bbb-8bbb-00000000be7a", shoots: ["api"], net: "10.20.0" },
];
export const DEMO_SHOOTS: DemoShoot[] = PROJECTS.flatMap((p) =>
  p.shoots.map((shoot) => ({
    project: p.project,
    projectId: p.projectId,
    shoot,
    namespace: `shoot--${p.project}--${shoot}`,
    managementLif: `${p.net}.10`,
    dataLifs: [`${p.net}.11`, `${p.net}.12`],
  })),
);
/** The shoot that meets the article's failure. */
export const FAILING_SHOOT = "shoot--beta--api";
/** The failure is held until the controller has retried this often (and escalated), so it can be seen. */
const FAILURES_TO_SHOW = 3;
const HOLD_FAULT_MS = 5_000;
const PHASE_TIMEOUT_MS = 120_000;

interface Snapshot {
  observations: Map<string, ShootObservation>;
  diagnoses: Map<string, ShootDiagnosis>;
  /** What each shoot's own kube-apiserver holds. */
  shootClusters: Map<string, ShootClusterObservation>;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const started = Date.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), "gardener-extension-ontap-demo-"));
  const logFile = path.join(dir, "controller.log");
  const header = { title: "gardener-extension-ontap demo", subtitle: `controller log: ${logFile}` };
  let display: Display = opts.tty ? createLiveDisplay(opts.out, header, started) : createPlainDisplay(opts.out, header, started);
  const print = (text = "") => opts.out.write(`${text}\n`);
  const stops: { what: string; stop: () => Promise<unknown> }[] = [];
  const signal = opts.signal;

  let env: TestEnv | undefined;
  const shootEnvs = new Map<string, ShootEnv>();
  let webhookUrl: string | undefined;
  let sim: RunningSimulator | undefined;
  let proxy: FaultProxy | undefined;
  let controller: RunningController | undefined;
  let doctorClients: OntapClient[] = [];
  let observer: ReturnType<typeof startObserver> | undefined;
  const pids: { name: string; pid: number }[] = [];
  let exitCode = 0;

  try {
    // 1. kube-apiserver, etcd and gardener-resource-manager: cached, or built once.
    const what = "kube-apiserver, etcd, gardener-resource-manager";
    const binaries = display.step(`${what}: checking the cache (${cacheDir()})`);
    let building = false;
    const built = await ensureKubeBinaries((p) => {
      if (p.kind === "building") {
        if (!building) {
          display.note(
            "first run: building kube-apiserver, etcd and gardener-resource-manager (github.com/gardener/gardener) from the Go module proxy " +
              "(kube-apiserver about 5 minutes on two idle cores, gardener-resource-manager longer; later runs reuse them)",
          );
        }
        building = true;
        binaries.update(`${what}: ${p.line}`);
      } else if (p.kind === "downloads") binaries.update(`${what}: downloading Go modules (${p.count} so far)`);
      else if (p.kind === "log" && building) binaries.update(`${what}: ${p.line}`);
    }, signal);
    if (!built.gardenerResourceManager) {
      throw new DemoError(
        "gardener-resource-manager is missing: the build recipe named none (TESTENV_KUBE_APISERVER_BIN/TESTENV_ETCD_BIN point elsewhere?); " +
          "set TESTENV_GARDENER_RESOURCE_MANAGER_BIN too, or run `bash hack/build-kube-binaries.sh`, which builds it into the cache",
        "BINARIES_BUILD_FAILED",
      );
    }
    binaries.done(built.built ? `${what} built in ${Math.round(built.seconds)}s (cached for the next run)` : `${what}: reusing the cached binaries`);
    throwIfAborted(signal);

    const apiserver = display.step("starting etcd and kube-apiserver, installing Gardener's CRDs");
    const t0 = Date.now();
    env = await startTestEnv();
    const runningEnv = env;
    stops.push({ what: "kube-apiserver and etcd", stop: () => runningEnv.stop() });
    for (const name of ["kube-apiserver", "etcd"]) {
      const pid = Number.parseInt(readFileSync(path.join(env.dir, `${name}.pid`), "utf8"), 10);
      if (Number.isInteger(pid)) pids.push({ name, pid });
    }
    apiserver.done(`kube-apiserver ready at ${env.server} in ${((Date.now() - t0) / 1000).toFixed(1)}s (${pids.map((p) => `${p.name} pid ${p.pid}`).join(", ")})`);
    throwIfAborted(signal);

    // The controller's shoot webhook, which each shoot's kube-apiserver calls on loopback.
    const webhookCert = await generateServingCert(path.join(dir, "webhook"), "gardener-extension-ontap-webhook");
    const webhook = await startWebhookServer({ port: 0, host: "127.0.0.1", certFile: webhookCert.cert, keyFile: webhookCert.key, certReloadIntervalMs: 0 });
    webhookUrl = webhook.url;
    stops.push({ what: "shoot webhook server", stop: () => webhook.stop() });

    // One shoot per Extension: kube-apiserver + etcd, and gardener-resource-manager for that shoot namespace.
    const shoots = display.step("starting a shoot for each of the 3 shoots: kube-apiserver + etcd and gardener-resource-manager (seed -> shoot)");
    const t1 = Date.now();
    const seedKubeconfig = env.kubeconfigPath;
    const startedShoots = await Promise.allSettled(
      DEMO_SHOOTS.map(async (s) => ({ namespace: s.namespace, env: await startShootEnv({ seedKubeconfigPath: seedKubeconfig, namespaces: [s.namespace] }) })),
    );
    for (const r of startedShoots) {
      if (r.status === "fulfilled") {
        shootEnvs.set(r.value.namespace, r.value.env);
        const shootEnv = r.value.env;
        stops.push({ what: `shoot ${r.value.namespace}`, stop: () => shootEnv.stop() });
      }
    }
    const failedShoot = startedShoots.find((r) => r.status === "rejected");
    if (failedShoot) throw failedShoot.reason;
    const shootClients = new Map<string, KubeClient>();
    for (const [namespace, shootEnv] of shootEnvs) {
      for (const name of ["kube-apiserver", "etcd", "gardener-resource-manager"]) {
        const pid = Number.parseInt(readFileSync(path.join(shootEnv.dir, `${name}.pid`), "utf8"), 10);
        if (Number.isInteger(pid)) pids.push({ name: `${namespace} ${name}`, pid });
      }
      const client = createKubeClient(loadKubeConfig(shootEnv.kubeconfigPath), { timeoutMs: 10_000 });
      shootClients.set(namespace, client);
      // What kubelets, the workload controllers and Trident's operator would do in a real shoot.
      const workloads = startShootWorkloads(client);
      const operator = startTridentOperatorStandIn(client);
      stops.push({ what: `stand-ins in ${namespace}`, stop: () => Promise.all([workloads.stop(), operator.stop()]) });
    }
    shoots.done(`3 shoots ready in ${((Date.now() - t1) / 1000).toFixed(1)}s, each with its own kube-apiserver and gardener-resource-manager; shoot webhook at ${webhook.url}`);
    throwIfAborted(signal);

    // 2. ONTAP: a simulated MetroCluster pair; SVM jobs take a moment so their progress shows.
    const ontap = display.step("starting a simulated ONTAP MetroCluster (2 clusters)");
    sim = await startSimulator({ clusters: 2, jobMs: 1500 });
    const runningSim = sim;
    stops.push({ what: "ONTAP simulators", stop: () => runningSim.stop() });
    ontap.done(`ONTAP MetroCluster simulated: ${sim.clusters.map((c) => `${c.name} ${c.url}`).join(", ")}`);

    // 3. The controller's configuration, written and loaded like a real deployment's.
    const configFile = await writeComponentConfig(dir, sim, { url: webhook.url, caFile: webhookCert.caCert });
    const config = loadComponentConfig(configFile);

    const ctl = display.step("starting the controller in-process, behind a fault proxy to kube-apiserver");
    const kube = createKubeClient(loadKubeConfig(env.kubeconfigPath), { timeoutMs: 10_000 });
    proxy = await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token });
    const runningProxy = proxy;
    stops.push({ what: "fault proxy", stop: () => runningProxy.stop() });
    const metrics = createMetrics({ collectDefault: true });
    const logger = createLogger({ level: "info", destination: logFile });
    controller = await startController({
      config,
      kubeconfig: loadKubeConfig(proxy.kubeconfigFor(dir)),
      logger,
      metrics,
      workers: 2,
      healthPort: 0,
      host: "127.0.0.1",
      handleSignals: false,
      pollMs: 500,
      resyncMs: 30_000,
      shutdownTimeoutMs: 5_000,
      kubeTimeoutMs: 5_000,
    });
    const runningController = controller;
    stops.push({ what: "controller", stop: () => runningController.stop() });
    const metricsPort = await waitFor(() => runningController.manager.healthPort(), 10_000, "the controller's health port", signal);
    ctl.done(`controller running: 2 workers, metrics http://127.0.0.1:${metricsPort}/metrics, its ManagedResources reach the shoots through gardener-resource-manager`);

    doctorClients = createDoctorClients(config, 5_000);
    const deps: DoctorDeps = { kube, clients: doctorClients, config };
    const activeObserver = startObserver(deps, metrics, shootClients, (rows, details, shootRows) => {
      display.matrix(rows, details);
      display.shoots(SHOOT_MATRIX_HEADER, shootRows);
    });
    observer = activeObserver;

    // 4. The article's failure, armed before Gardener creates anything.
    // The seed Secret's create is the second Secret create in the namespace: trident-crds' ManagedResource
    // Secret is written first, at the start of the first pass; the seed Secret once the SVM exists.
    const rule = proxy.rules.add({
      method: "POST",
      path: `^/api/v1/namespaces/${FAILING_SHOOT}/secrets$`,
      nth: 2,
      count: 1_000,
      action: { type: "error", status: 500, message: "the demo's fault proxy refuses this create (the article's failure)" },
    });
    display.note(`fault armed: kube-apiserver answers 500 to every create of the seed Secret in ${FAILING_SHOOT}`);

    // 5. What Gardener does for each shoot: namespace, Cluster, Extension with the reconcile annotation.
    const gardener = display.step("Gardener creates the namespaces, Clusters and Extensions of 3 shoots in 2 projects");
    await Promise.all(DEMO_SHOOTS.map((shoot) => createShoot(kube, shoot)));
    activeObserver.watch(DEMO_SHOOTS.map((s) => s.namespace));
    gardener.done(`Gardener created 3 shoots: ${PROJECTS.map((p) => `project ${p.project} (${p.shoots.join(", ")})`).join(", ")}`);

    const failing = display.step(`waiting for ${FAILING_SHOOT}'s Extension to report the failure`);
    const reported = await waitFor(
      () => {
        const ext = activeObserver.latest().observations.get(FAILING_SHOOT)?.extension;
        const facts = ext?.ok ? ext.value : undefined;
        return facts?.lastOperation?.state === "Error" && /seed Secret/.test(facts.lastError?.description ?? "") ? facts : undefined;
      },
      PHASE_TIMEOUT_MS,
      `${FAILING_SHOOT} to report the failed Secret create`,
      signal,
    );
    failing.done(`${FAILING_SHOOT} reports Error [${reported.lastError?.codes.join(", ")}]: ${reported.lastError?.description}`);

    const diagnosis = activeObserver.latest().diagnoses.get(FAILING_SHOOT);
    if (diagnosis) {
      const failing = summarizeChecks(diagnosis.rows.filter((r) => r.status === "fail").map((r) => r.check));
      const next = diagnosis.nextAction.startsWith("the controller is retrying")
        ? "fix the cause of that error; the controller keeps retrying and then repairs the rest by itself"
        : diagnosis.nextAction;
      display.note(`doctor says ${FAILING_SHOOT} is ${diagnosis.verdict} (failing: ${failing}); next action: ${next}`);
    }

    const holding = display.step(`the controller retries ${FAILING_SHOOT} with backoff; no password reaches ONTAP before it is stored`);
    const holdStart = Date.now();
    await waitFor(
      () => {
        const retries = activeObserver.retries(FAILING_SHOOT);
        const ext = activeObserver.latest().observations.get(FAILING_SHOOT)?.extension;
        const escalated = ext?.ok && ext.value?.escalation?.status === "True";
        holding.update(`the controller retries ${FAILING_SHOOT} with backoff (${retries} failed reconciles${escalated ? ", escalated" : ""}); no password reaches ONTAP before it is stored`);
        return Date.now() - holdStart >= HOLD_FAULT_MS && retries >= FAILURES_TO_SHOW && (escalated || Date.now() - holdStart > 20_000) ? true : undefined;
      },
      PHASE_TIMEOUT_MS,
      "the retries to show",
      signal,
    );
    const escalation = (() => {
      const ext = activeObserver.latest().observations.get(FAILING_SHOOT)?.extension;
      return ext?.ok ? ext.value?.escalation : undefined;
    })();
    holding.done(
      `${FAILING_SHOOT}: ${activeObserver.retries(FAILING_SHOOT)} failed reconciles, each retried${escalation?.status === "True" ? `; escalated: ReconcileEscalated=True (${escalation.message})` : ""}`,
    );

    // 6. The fault clears; the next retry converges.
    proxy.rules.remove(rule.id);
    display.note(`fault cleared after ${rule.hits} refused Secret creates`);
    const recovery = display.step(
      "waiting for every shoot to converge: Succeeded, password verified, Trident healthy (doctor: healthy), and everything arrived in the shoot",
    );
    const final = await waitFor(
      () => {
        const snap = activeObserver.latest();
        const all = DEMO_SHOOTS.every(
          (s) => snap.diagnoses.get(s.namespace)?.verdict === "healthy" && shootClusterComplete(snap.shootClusters.get(s.namespace)),
        );
        return all ? snap : undefined;
      },
      PHASE_TIMEOUT_MS,
      "every shoot to be healthy",
      signal,
    );
    recovery.done(`recovered: every shoot Succeeded and verified; ${FAILING_SHOOT} after ${activeObserver.retries(FAILING_SHOOT)} retries`);
    // The final matrix is printed below, once; the live view keeps only the story.
    activeObserver.onUpdate(() => undefined);
    display.matrix([], []);
    display.shoots(SHOOT_MATRIX_HEADER, []);
    display.close();

    // 7. The final state matrix and what it cost.
    const rows = DEMO_SHOOTS.map((s) => summarizeShoot(final.observations.get(s.namespace)!, activeObserver.retries(s.namespace)));
    print();
    print("Final state (every cell read back from kube-apiserver and ONTAP, as `doctor` does):");
    for (const line of renderMatrix(rows, { color: opts.tty, indent: "  " })) print(line);
    print(`  doctor: ${DEMO_SHOOTS.map((s) => `${s.namespace} ${final.diagnoses.get(s.namespace)?.verdict}`).join(", ")}`);
    print();
    print("In the shoots (read from each shoot's kube-apiserver: gardener-resource-manager applied the ManagedResources, the shoot webhook mutated Trident's DaemonSet and Deployment):");
    const shootRows = DEMO_SHOOTS.map((s) => shootClusterCells(final.shootClusters.get(s.namespace) ?? { namespace: s.namespace }));
    for (const line of renderTable(SHOOT_MATRIX_HEADER, shootRows, { color: opts.tty, indent: "  " })) print(line);
    print();
    print("Metrics (the controller's own counters):");
    for (const line of await metricsSummary(metrics, rule.hits)) print(`  ${line}`);
    print();
    print(`Total ${((Date.now() - started) / 1000).toFixed(1)}s. Controller log: ${logFile}`);

    if (opts.keep) {
      print();
      print("Everything keeps running (--keep); Ctrl-C stops it all:");
      print(`  kubeconfig:  ${env.kubeconfigPath}`);
      print(`               kubectl --kubeconfig ${env.kubeconfigPath} get extensions -A`);
      for (const [namespace, shootEnv] of shootEnvs) print(`  shoot ${namespace}: kubectl --kubeconfig ${shootEnv.kubeconfigPath} get storageclasses,crds`);
      for (const c of sim.clusters) print(`  ONTAP ${c.name}: ${c.url} (user ${c.username}, password file ${path.join(dir, "credentials", `${c.name}-password`)}, CA ${c.caFile})`);
      print(`  metrics:     http://127.0.0.1:${metricsPort}/metrics`);
      print(`  doctor:      npm run cli -- doctor --config ${configFile} --kubeconfig ${env.kubeconfigPath}`);
      print("  try:         delete a seed Secret (kubectl delete secret -n shoot--alpha--web ontap-svm-credentials);");
      print("               the controller re-verifies every 30 s and repairs it");
      print();
      display = opts.tty ? createLiveDisplay(opts.out, { title: "live", subtitle: "Ctrl-C stops everything" }) : createPlainDisplay(opts.out, { title: "live", subtitle: "Ctrl-C stops everything" });
      const live = display;
      activeObserver.onUpdate((r, d, sr) => {
        live.matrix(r, d);
        live.shoots(SHOOT_MATRIX_HEADER, sr);
      });
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      display.close();
    }
  } catch (err) {
    display.close();
    if (signal.aborted) {
      print("\ninterrupted: stopping everything");
      exitCode = opts.keep ? 0 : 130;
    } else {
      exitCode = 1;
      print(`\ndemo failed: ${(err as Error).message}`);
      if (observer) {
        const snap = observer.latest();
        const rows = DEMO_SHOOTS.filter((s) => snap.observations.has(s.namespace)).map((s) =>
          summarizeShoot(snap.observations.get(s.namespace)!, observer?.retries(s.namespace) ?? 0),
        );
        for (const line of renderMatrix(rows, { indent: "  " })) print(line);
      }
      print(`controller log: ${logFile}`);
    }
  } finally {
    const stopStarted = Date.now();
    await observer?.stop();
    await Promise.all(doctorClients.map((c) => c.close()));
    const stopped: string[] = [];
    for (const { what, stop } of stops.reverse()) {
      await stop().catch((err: unknown) => print(`stopping the ${what} failed: ${(err as Error).message}`));
      stopped.push(what);
    }
    await rm(path.join(dir, "credentials"), { recursive: true, force: true });
    const left = pids.filter((p) => isAlive(p.pid));
    const ports = [
      ...(sim?.clusters.map((c) => `${c.name} ${new URL(c.url).port}`) ?? []),
      ...(proxy ? [`fault proxy ${new URL(proxy.url).port}`] : []),
      ...(controller?.manager.healthPort() ? [`metrics ${controller.manager.healthPort()}`] : []),
      ...(webhookUrl ? [`shoot webhook ${new URL(webhookUrl).port}`] : []),
      ...[...shootEnvs].flatMap(([ns, e]) => [`${ns} kube-apiserver ${new URL(e.server).port}`, `${ns} gardener-resource-manager ${new URL(e.resourceManager.healthUrl).port}`]),
    ];
    if (left.length > 0) {
      print(`still running: ${left.map((p) => `${p.name} pid ${p.pid}`).join(", ")}`);
      exitCode = exitCode || 1;
    } else if (stops.length > 0) {
      print(`stopped: ${pids.map((p) => `${p.name} (pid ${p.pid})`).join(", ")}${ports.length > 0 ? `; closed ports: ${ports.join(", ")}` : ""}; nothing left running (stopped in ${((Date.now() - stopStarted) / 1000).toFixed(1)}s)`);
    }
  }
  return exitCode;
}

async function createShoot(kube: KubeClient, s: DemoShoot): Promise<void> {
  await kube.create(Namespaces, shootNamespaceObject(s.namespace));
  await kube.create(
    Clusters,
    clusterObject({ namespace: s.namespace, shootName: s.shoot, project: s.project, shootAnnotations: { [PROJECT_ANNOTATION]: s.projectId } }),
  );
  await kube.create(Extensions, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace: s.namespace, annotations: { "gardener.cloud/operation": "reconcile" } },
    spec: {
      type: "ontap",
      providerConfig: {
        apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1",
        kind: "TridentConfig",
        svmIpaddresses: { managementLif: s.managementLif, dataLifs: s.dataLifs },
      },
    },
  });
}

/** The component configuration a deployment would mount: cluster credentials in files, never inline. */
async function writeComponentConfig(dir: string, sim: RunningSimulator, webhook: { url: string; caFile: string }): Promise<string> {
  const credentials = path.join(dir, "credentials");
  await mkdir(credentials, { recursive: true, mode: 0o700 });
  const entries: string[] = [];
  for (const c of sim.clusters) {
    const usernameFile = path.join(credentials, `${c.name}-username`);
    const passwordFile = path.join(credentials, `${c.name}-password`);
    await writeFile(usernameFile, c.username, { mode: 0o600 });
    await writeFile(passwordFile, c.password, { mode: 0o600 });
    entries.push(
      [
        `  - name: ${c.name}`,
        `    url: ${c.url}`,
        `    caFile: ${c.caFile}`,
        `    usernameFile: ${usernameFile}`,
        `    passwordFile: ${passwordFile}`,
        "    timeoutSeconds: 5",
      ].join("\n"),
    );
  }
  const file = path.join(dir, "config.yaml");
  await writeFile(
    file,
    [
      "# The demo's component configuration (what `run --config` and `doctor --config` read).",
      "clusters:",
      ...entries,
      "# The demo's seed has no `firewall` namespace; render the ClusterwideNetworkPolicy anyway, as metal-stack seeds do.",
      "clusterwideNetworkPolicy: true",
      "# Lab only: each simulated SVM management LIF listens on its own local port; the simulator keeps this map.",
      "credentialsVerification:",
      `  managementLifUrlsFile: ${sim.lifEndpointsFile}`,
      "# The shoot webhook: each shoot's kube-apiserver reaches this process on loopback.",
      "shootWebhook:",
      `  url: ${webhook.url}`,
      `  caFile: ${webhook.caFile}`,
      "# Short backoff and early escalation so the demo shows both within seconds.",
      "requeue:",
      "  baseSeconds: 0.5",
      "  capSeconds: 2",
      "escalation:",
      `  consecutiveFailures: ${FAILURES_TO_SHOW}`,
      "  afterMinutes: 30",
      "",
    ].join("\n"),
  );
  return file;
}

/**
 * Re-reads every shoot the way `doctor` does, twice a second, and feeds the view. Retries per shoot come
 * from the controller's consecutive-failures gauge, sampled on each pass.
 */
function startObserver(
  deps: DoctorDeps,
  metrics: Metrics,
  shootClients: ReadonlyMap<string, KubeClient>,
  onUpdate: (rows: ReturnType<typeof summarizeShoot>[], details: string[], shootRows: Cell[][]) => void,
) {
  let namespaces: string[] = [];
  let listener = onUpdate;
  const snapshot: Snapshot = { observations: new Map(), diagnoses: new Map(), shootClusters: new Map() };
  const lastFailures = new Map<string, number>();
  const retries = new Map<string, number>();
  let stopped = false;

  const sampleRetries = async () => {
    const gauge = await metrics.consecutiveFailures.get();
    for (const sample of gauge.values) {
      const ns = String(sample.labels.namespace);
      const previous = lastFailures.get(ns) ?? 0;
      const now = sample.value;
      if (now > previous) retries.set(ns, (retries.get(ns) ?? 0) + now - previous);
      else if (now < previous && now > 0) retries.set(ns, (retries.get(ns) ?? 0) + now);
      lastFailures.set(ns, now);
    }
  };

  const loop = (async () => {
    while (!stopped) {
      const passStarted = Date.now();
      await sampleRetries().catch(() => undefined);
      const [observed, inShoots] = await Promise.all([
        Promise.all(namespaces.map((ns) => observeShoot(deps, ns).catch(() => undefined))),
        Promise.all(
          namespaces.flatMap((ns) => {
            const shoot = shootClients.get(ns);
            return shoot ? [observeShootCluster({ shoot, seed: deps.kube, namespace: ns })] : [];
          }),
        ),
      ]);
      for (const obs of observed) {
        if (!obs) continue;
        snapshot.observations.set(obs.namespace, obs);
        snapshot.diagnoses.set(obs.namespace, diagnose(obs));
      }
      for (const obs of inShoots) snapshot.shootClusters.set(obs.namespace, obs);
      await sampleRetries().catch(() => undefined);
      const present = namespaces.filter((ns) => snapshot.observations.has(ns));
      const rows = present.map((ns) => summarizeShoot(snapshot.observations.get(ns)!, retries.get(ns) ?? 0));
      const details = present.flatMap((ns) => shootDetail(snapshot.observations.get(ns)!) ?? []);
      const shootRows = namespaces.filter((ns) => snapshot.shootClusters.has(ns)).map((ns) => shootClusterCells(snapshot.shootClusters.get(ns)!));
      if (!stopped) listener(rows, details, shootRows);
      await sleep(Math.max(100, 500 - (Date.now() - passStarted)));
    }
  })();

  return {
    watch(list: string[]) {
      namespaces = list;
    },
    onUpdate(next: typeof onUpdate) {
      listener = next;
    },
    latest: (): Snapshot => ({
      observations: new Map(snapshot.observations),
      diagnoses: new Map(snapshot.diagnoses),
      shootClusters: new Map(snapshot.shootClusters),
    }),
    retries: (ns: string) => retries.get(ns) ?? 0,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function metricsSummary(metrics: Metrics, injected: number): Promise<string[]> {
  const reconciles = (result: string) => sumCounter(metrics.reconcilesTotal, { result });
  const [ok = 0, requeued = 0, errors = 0, failed = 0] = await Promise.all(["succeeded", "requeued", "error", "failed"].map(reconciles));
  const secretOk = await sumCounter(metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "ok" });
  const secretFailed = await sumCounter(metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "failed" });
  const retries = await sumCounter(metrics.workqueueRetriesTotal);
  const ontap = await sumCounter(metrics.ontapRequestsTotal);
  const byMethod = await Promise.all(
    ["GET", "POST", "PATCH", "DELETE"].map(async (method) => [method, await sumCounter(metrics.ontapRequestsTotal, { method })] as const),
  );
  const kube = await sumCounter(metrics.kubeRequestsTotal);
  return [
    `reconciles:          ${ok + requeued + errors + failed} (${ok} succeeded, ${requeued} requeued while ONTAP jobs ran, ${errors} errors, ${failed} failed)`,
    `retries:             ${retries} (rate-limited re-queues after an error)`,
    `seed Secret writes:  ${secretOk} ok, ${secretFailed} failed (${injected} refused by the injected fault)`,
    `ONTAP requests:      ${ontap} (${byMethod.filter(([, n]) => n > 0).map(([m, n]) => `${n} ${m}`).join(", ")})`,
    `Kubernetes requests: ${kube}`,
  ];
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string, signal: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new DemoError(`timed out after ${timeoutMs / 1000}s waiting for ${what}`, "TIMEOUT");
    await sleep(100);
  }
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new DemoError("interrupted", "INTERRUPTED");
}
