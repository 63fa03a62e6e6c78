import { ConfigError, loadComponentConfig } from "./config/component-config.js";
import { startController } from "./process-assembly.js";
import { loadKubeConfig } from "./kube/config.js";
import { createLogger, LOG_LEVELS } from "./log.js";
import { fileDialMap, overrideOntapDialing } from "./ontap/index.js";

export interface RunCommandOptions {
  config: string;
  kubeconfig?: string;
  maxConcurrentReconciles: string;
  leaderElect?: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  healthPort: string;
  leaseDurationSeconds: string;
  renewDeadlineSeconds: string;
  retryPeriodSeconds: string;
  metricsPort?: string;
  logLevel?: string;
  logFile?: string;
  webhookPort: string;
  /** false with --no-webhook */
  webhook?: boolean;
  webhookNamespace?: string;
  webhookServiceName: string;
  webhookServicePort: string;
  webhookMaxConcurrentReviews: string;
  webhookCertFile?: string;
  webhookKeyFile?: string;
  heartbeatNamespace?: string;
  heartbeatRenewIntervalSeconds: string;
  pollSeconds: string;
  resyncMinutes: string;
  /** TEST/LAB ONLY: where ONTAP addresses of the configuration are really reached. */
  ontapDialMapFile?: string[];
}

/** `gardener-extension-ontap run`: the controller process. Invalid configuration ends it at once, naming the field. */
export async function runControllerCommand(opts: RunCommandOptions): Promise<void> {
  const logger = createLogger({ level: logLevel(opts.logLevel), destination: opts.logFile });
  let config: ReturnType<typeof loadComponentConfig>;
  try {
    config = loadComponentConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gardener-extension-ontap: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (opts.ontapDialMapFile?.length) {
    overrideOntapDialing(fileDialMap(opts.ontapDialMapFile));
    logger.warn({ files: opts.ontapDialMapFile }, "--ontap-dial-map-file is set: ONTAP addresses listed there are reached elsewhere (meant for tests and labs only)");
  }
  const workers = positiveInt(opts.maxConcurrentReconciles, "--max-concurrent-reconciles");
  // In a cluster there are replicas to elect among; on a laptop there is one process.
  const leaderElect = opts.leaderElect ?? Boolean(process.env["KUBERNETES_SERVICE_HOST"]);

  let stopWebhook: (() => Promise<void>) | undefined;
  const webhookPort = positiveInt(opts.webhookPort, "--webhook-port", true);
  const maxConcurrentReviews = positiveInt(opts.webhookMaxConcurrentReviews, "--webhook-max-concurrent-reviews");
  if (opts.webhook !== false && opts.webhookCertFile && opts.webhookKeyFile) {
    const { startWebhookServer } = await import("./webhook/index.js");
    const server = await startWebhookServer({
      port: webhookPort,
      host: "0.0.0.0",
      certFile: opts.webhookCertFile,
      keyFile: opts.webhookKeyFile,
      maxConcurrentReviews,
      logger,
    });
    logger.info({ url: server.url }, "shoot webhook serving");
    stopWebhook = server.stop;
  }

  const running = await startController({
    config,
    kubeconfig: loadKubeConfig(opts.kubeconfig),
    logger,
    workers,
    healthPort: positiveInt(opts.healthPort, "--health-port", true),
    metricsPort: opts.metricsPort ? positiveInt(opts.metricsPort, "--metrics-port", true) : undefined,
    leaderElection: leaderElect
      ? {
          namespace: opts.leaderElectionNamespace,
          name: opts.leaderElectionId,
          leaseDurationSeconds: positiveInt(opts.leaseDurationSeconds, "--lease-duration-seconds"),
          renewDeadlineSeconds: positiveInt(opts.renewDeadlineSeconds, "--renew-deadline-seconds"),
          retryPeriodSeconds: positiveInt(opts.retryPeriodSeconds, "--retry-period-seconds"),
        }
      : undefined,
    heartbeat: opts.heartbeatNamespace
      ? { namespace: opts.heartbeatNamespace, renewIntervalSeconds: positiveInt(opts.heartbeatRenewIntervalSeconds, "--heartbeat-renew-interval-seconds") }
      : undefined,
    // Certificates of its own unless hand-made ones are given (or the webhook is off, or no namespace is known).
    managedWebhook:
      opts.webhook !== false && !opts.webhookCertFile && opts.webhookNamespace
        ? {
            namespace: opts.webhookNamespace,
            serviceName: opts.webhookServiceName,
            servicePort: positiveInt(opts.webhookServicePort, "--webhook-service-port"),
            port: webhookPort,
            maxConcurrentReviews,
          }
        : undefined,
    pollMs: Number(opts.pollSeconds) * 1000,
    resyncMs: Number(opts.resyncMinutes) * 60_000,
    checkClustersAtStart: true,
    ...(process.env["POD_NAMESPACE"] ? { pod: { namespace: process.env["POD_NAMESPACE"], ...(process.env["POD_NAME"] ? { name: process.env["POD_NAME"] } : {}) } } : {}),
  });
  logger.info(
    { clusters: config.clusters.map((c) => c.name), workers, leaderElect, healthPort: running.manager.healthPort() },
    "controller started",
  );
  await running.done;
  await stopWebhook?.();
  logger.info({}, "controller stopped");
}

/** --log-level, else LOG_LEVEL: an unknown name ends the process naming where it came from, not with pino's stack. */
function logLevel(flag: string | undefined): string {
  const [value, source] = flag !== undefined ? [flag, "--log-level"] : [process.env["LOG_LEVEL"] ?? "info", "LOG_LEVEL"];
  if (!LOG_LEVELS.includes(value)) {
    process.stderr.write(`gardener-extension-ontap: ${source} must be one of ${LOG_LEVELS.join(", ")}, got "${value}"\n`);
    process.exit(2);
  }
  return value;
}

function positiveInt(value: string, flag: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    process.stderr.write(`gardener-extension-ontap: ${flag} must be a ${allowZero ? "non-negative" : "positive"} integer, got "${value}"\n`);
    process.exit(2);
  }
  return n;
}
