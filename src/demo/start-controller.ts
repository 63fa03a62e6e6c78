import { type ComponentConfig, loadComponentConfig } from "../config/component-config.js";
import { loadKubeConfig } from "../kube/config.js";
import { createLogger } from "../log.js";
import { createMetrics, type Metrics } from "../metrics/index.js";
import { type RunningController, startController } from "../process-assembly.js";
import type { BuiltWorld } from "../testenv/index.js";
import type { Display } from "./display.js";
import type { RunningParts } from "./running-parts.js";
import { waitFor } from "./wait.js";

export interface ControllerUnderTest {
  configFile: string;
  config: ComponentConfig;
  metrics: Metrics;
  controller: RunningController;
  metricsPort: number;
}

/** Comments of the configuration file the demo writes (`--keep` prints its path for `doctor --config`). */
const CONFIG_COMMENTS = {
  clusters: "The simulated MetroCluster; credentials in files, as a deployment mounts them.",
  clusterwideNetworkPolicy: "The demo's seed has no `firewall` namespace; render the ClusterwideNetworkPolicy anyway, as metal-stack seeds do.",
  credentialsVerification: "Lab only: each simulated SVM management LIF listens on its own local port; the simulator keeps this map.",
  shootWebhook: "The shoot webhook: each shoot's kube-apiserver reaches this process on loopback.",
  requeue: "Short backoff and early escalation so the demo shows both within seconds.",
};

/**
 * Phase 2 of the story: the controller's configuration written and loaded like a real deployment's, and the
 * controller in this process, reaching kube-apiserver through the world's fault proxy.
 */
export async function startControllerUnderTest(
  display: Display,
  running: RunningParts,
  opts: { world: BuiltWorld; logFile: string; escalateAfterFailures: number; signal: AbortSignal },
): Promise<ControllerUnderTest> {
  const { world } = opts;
  const configFile = world.writeControllerConfig(
    {
      clusterwideNetworkPolicy: true,
      requeue: { baseSeconds: 0.5, capSeconds: 2 },
      escalation: { consecutiveFailures: opts.escalateAfterFailures, afterMinutes: 30 },
    },
    { clusterTimeoutSeconds: 5, header: "The demo's component configuration (what `run --config` and `doctor --config` read).", comments: CONFIG_COMMENTS },
  );
  const config = loadComponentConfig(configFile);

  const ctl = display.step("starting the controller in-process, behind the fault proxy to kube-apiserver");
  const metrics = createMetrics({ collectDefault: true });
  const logger = createLogger({ level: "info", destination: opts.logFile });
  const controller = await startController({
    config,
    kubeconfig: loadKubeConfig(world.controllerKubeconfigPath),
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
  return { configFile, config, metrics, controller, metricsPort };
}
