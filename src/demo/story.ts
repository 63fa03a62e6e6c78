import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDoctorClients } from "../doctor/command.js";
import type { DoctorDeps } from "../diagnosis/observe.js";
import type { OntapClient } from "../ontap/index.js";
import { createLiveDisplay, createPlainDisplay, type Display } from "./display.js";
import { printFinalReport, printKeepInstructions, printMatrixSoFar } from "./final-report.js";
import { type Observer, startObserver } from "./observer.js";
import { RunningParts } from "./running-parts.js";
import { SHOOT_MATRIX_HEADER } from "./shoot-view.js";
import { startControllerUnderTest } from "./start-controller.js";
import { prepareBinaries } from "./start-seed.js";
import { startDemoWorld } from "./start-world.js";
import { FAILURES_TO_SHOW, playTheFailure } from "./the-failure.js";
import { throwIfAborted } from "./wait.js";

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
 *
 * The phases, each in its own module: the binaries (start-seed.ts), the world from src/testenv's builder as
 * the tests and the benchmark build theirs (start-world.ts: seed, ONTAP, fault proxy, webhook, shoots), the
 * controller (start-controller.ts), the failure and the recovery (the-failure.ts), the final report
 * (final-report.ts); everything started is stopped in reverse (running-parts.ts).
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

export async function runDemo(opts: DemoOptions): Promise<number> {
  const started = Date.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), "gardener-extension-ontap-demo-"));
  const logFile = path.join(dir, "controller.log");
  const openDisplay = (header: { title: string; subtitle: string }, at?: number) =>
    opts.tty ? createLiveDisplay(opts.out, header, at) : createPlainDisplay(opts.out, header, at);
  let display: Display = openDisplay({ title: "gardener-extension-ontap demo", subtitle: `controller log: ${logFile}` }, started);
  const print = (text = "") => opts.out.write(`${text}\n`);
  const signal = opts.signal;
  const running = new RunningParts();

  let doctorClients: OntapClient[] = [];
  let observer: Observer | undefined;
  let exitCode = 0;

  try {
    // 1. kube-apiserver, etcd and gardener-resource-manager: cached, or built once; then the world (the seed,
    // ONTAP, the fault proxy, the shoot webhook, the shoots) from src/testenv's builder.
    await prepareBinaries(display, signal);
    throwIfAborted(signal);
    const { world, shootEnvs, shootClients } = await startDemoWorld(display, running, dir);
    throwIfAborted(signal);
    const proxy = world.proxy as NonNullable<typeof world.proxy>;

    // 2. and 3. The configuration and the controller.
    const ctl = await startControllerUnderTest(display, running, { world, logFile, escalateAfterFailures: FAILURES_TO_SHOW, signal });
    doctorClients = createDoctorClients(ctl.config, 5_000);
    const deps: DoctorDeps = { kube: world.kube, clients: doctorClients, config: ctl.config };
    const activeObserver = startObserver(deps, ctl.metrics, shootClients, (rows, details, shootRows) => {
      display.matrix(rows, details);
      display.shoots(SHOOT_MATRIX_HEADER, shootRows);
    });
    observer = activeObserver;

    // 4. to 6. The failure, armed before Gardener creates the shoots; cleared; every shoot converges.
    const { final, refused } = await playTheFailure(display, { kube: world.kube, proxy, observer: activeObserver, signal });
    // The final matrix is printed below, once; the live view keeps only the story.
    activeObserver.onUpdate(() => undefined);
    display.matrix([], []);
    display.shoots(SHOOT_MATRIX_HEADER, []);
    display.close();

    // 7. The final state matrix and what it cost.
    await printFinalReport(print, { final, observer: activeObserver, color: opts.tty, metrics: ctl.metrics, refused, started, logFile });

    if (opts.keep) {
      printKeepInstructions(print, { seed: world.seed, shootEnvs, sim: world.sim, dir, metricsPort: ctl.metricsPort, configFile: ctl.configFile });
      display = openDisplay({ title: "live", subtitle: "Ctrl-C stops everything" });
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
      if (observer) printMatrixSoFar(print, observer);
      print(`controller log: ${logFile}`);
    }
  } finally {
    const stopStarted = Date.now();
    await observer?.stop();
    await Promise.all(doctorClients.map((c) => c.close()));
    await running.stopAll(print);
    await rm(path.join(dir, "credentials"), { recursive: true, force: true });
    const left = running.stillRunning();
    const ports = running.ports();
    if (left.length > 0) {
      print(`still running: ${left.map((p) => `${p.name} pid ${p.pid}`).join(", ")}`);
      exitCode = exitCode || 1;
    } else if (running.started) {
      print(
        `stopped: ${running.pids.map((p) => `${p.name} (pid ${p.pid})`).join(", ")}${ports.length > 0 ? `; closed ports: ${ports.join(", ")}` : ""}; nothing left running (stopped in ${((Date.now() - stopStarted) / 1000).toFixed(1)}s)`,
      );
    }
  }
  return exitCode;
}
