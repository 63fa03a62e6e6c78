import { type ComponentConfig, loadComponentConfig } from "../config/component-config.js";
import { loadKubeConfig } from "../kube/config.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import { createLogger } from "../log.js";
import { createMetrics, type Metrics } from "../metrics/index.js";
import { type RunningController, startController } from "../process-assembly.js";
import { type RunningSimulator, startSimulator } from "../simulator/index.js";
import { type FaultProxy, startFaultProxy, type TestEnv } from "../testenv/index.js";
import { writeComponentConfig } from "./component-config.js";
import type { Display } from "./display.js";
import type { RunningParts } from "./running-parts.js";
import { waitFor } from "./wait.js";

export interface ControllerUnderTest {
  sim: RunningSimulator;
  configFile: string;
  config: ComponentConfig;
  /** The seed, directly (not through the fault proxy): what Gardener and doctor use. */
  kube: KubeClient;
  proxy: FaultProxy;
  metrics: Metrics;
  controller: RunningController;
  metricsPort: number;
}

/**
 * Phases 2 and 3 of the story: a simulated ONTAP MetroCluster, the controller's configuration written and
 * loaded like a real deployment's, and the controller in this process behind a fault proxy to kube-apiserver.
 */
export async function startControllerUnderTest(
  display: Display,
  running: RunningParts,
  opts: { dir: string; logFile: string; env: TestEnv; webhook: { url: string; caFile: string }; escalateAfterFailures: number; signal: AbortSignal },
): Promise<ControllerUnderTest> {
  // SVM jobs take a moment so their progress shows.
  const ontap = display.step("starting a simulated ONTAP MetroCluster (2 clusters)");
  const sim = await startSimulator({ clusters: 2, jobMs: 1500 });
  running.add("ONTAP simulators", () => sim.stop(), () => sim.clusters.map((c) => `${c.name} ${new URL(c.url).port}`));
  ontap.done(`ONTAP MetroCluster simulated: ${sim.clusters.map((c) => `${c.name} ${c.url}`).join(", ")}`);

  const configFile = await writeComponentConfig(opts.dir, sim, opts.webhook, opts.escalateAfterFailures);
  const config = loadComponentConfig(configFile);

  const ctl = display.step("starting the controller in-process, behind a fault proxy to kube-apiserver");
  const { env } = opts;
  const kube = createKubeClient(loadKubeConfig(env.kubeconfigPath), { timeoutMs: 10_000 });
  const proxy = await startFaultProxy({ target: env.server, caFile: env.caFile, token: env.token });
  running.add("fault proxy", () => proxy.stop(), () => [`fault proxy ${new URL(proxy.url).port}`]);
  const metrics = createMetrics({ collectDefault: true });
  const logger = createLogger({ level: "info", destination: opts.logFile });
  const controller = await startController({
    config,
    kubeconfig: loadKubeConfig(proxy.kubeconfigFor(opts.dir)),
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
  running.add(
    "controller",
    () => controller.stop(),
    () => {
      const port = controller.manager.healthPort();
      return port ? [`metrics ${port}`] : [];
    },
  );
  const metricsPort = await waitFor(() => controller.manager.healthPort(), 10_000, "the controller's health port", opts.signal);
  ctl.done(`controller running: 2 workers, metrics http://127.0.0.1:${metricsPort}/metrics, its ManagedResources reach the shoots through gardener-resource-manager`);
  return { sim, configFile, config, kube, proxy, metrics, controller, metricsPort };
}
