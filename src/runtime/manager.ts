import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/index.js";
import type { Controller } from "./controller.js";
import { createHealthServer, type HealthServer } from "./health.js";
import type { Informer } from "./informer.js";
import { createLeaderElector, type LeaderElectionConfig, type LeaderElector } from "./leaderelection.js";
import { sleep } from "./sleep.js";

export interface ManagerOptions {
  kube: KubeClient;
  logger: Logger;
  metrics: Metrics;
  /** Omit to run without leader election (a single replica, or tests). */
  leaderElection?: LeaderElectionConfig;
  /** Port of /healthz and /readyz (and /metrics unless metricsPort is set); 0 picks a free one. */
  healthPort: number;
  /** A separate port for /metrics. */
  metricsPort?: number;
  /** Bind address of both servers; default all interfaces. */
  host?: string;
  /** How long in-flight reconciles may take to finish on stop before their signals abort. */
  shutdownTimeoutMs: number;
  /** Stop on SIGTERM and SIGINT. Default true; tests running several managers in one process turn it off. */
  handleSignals?: boolean;
}

export interface Manager {
  add(controller: Controller): void;
  /** An informer used only as a cache (no controller); started and awaited like the controllers' ones. */
  addInformer(informer: Informer<unknown>): void;
  /**
   * Starts the servers and informers, waits for the caches, then runs the controllers (while leading, with
   * leader election). Resolves after `stop()` (or SIGTERM) has finished shutting everything down.
   */
  start(): Promise<void>;
  /**
   * Graceful stop: intake stops, in-flight reconciles get `shutdownTimeoutMs` to finish (then their signals
   * abort), the lease is released, informers and servers stop. Idempotent; resolves when done.
   */
  stop(): Promise<void>;
  isLeader(): boolean;
  isReady(): boolean;
  /** Bound ports, once started. */
  healthPort(): number | undefined;
  metricsPort(): number | undefined;
}

/** Extra time granted after in-flight signals abort, for reconciles to notice and return. */
const ABORT_GRACE_MS = 5_000;

export function createManager(opts: ManagerOptions): Manager {
  const logger = opts.logger.child({ component: "manager" });
  const controllers: Controller[] = [];
  const informers = new Set<Informer<unknown>>();
  const informerStop = new AbortController();
  const electorStop = new AbortController();
  let elector: LeaderElector | undefined;
  let electorDone: Promise<void> = Promise.resolve();
  let synced = false;
  let started = false;
  let stopping: Promise<void> | undefined;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });

  // Controllers run in "rounds": one per leadership term (or one for the life of the process).
  let round: { stop: AbortController; abortInFlight: AbortController; done: Promise<void> } | undefined;
  let roundChain: Promise<void> = Promise.resolve();

  const health: HealthServer = createHealthServer({
    port: opts.healthPort,
    ...(opts.host ? { host: opts.host } : {}),
    logger,
    readyz: () => {
      const reasons: string[] = [];
      if (stopping) reasons.push("shutting down");
      if (!synced) reasons.push("caches not synced");
      return { ok: reasons.length === 0, reasons };
    },
    ...(opts.metricsPort === undefined ? { registry: opts.metrics.registry } : {}),
  });
  const metricsServer: HealthServer | undefined =
    opts.metricsPort === undefined
      ? undefined
      : createHealthServer({
          port: opts.metricsPort,
          ...(opts.host ? { host: opts.host } : {}),
          registry: opts.metrics.registry,
          logger,
        });

  function startRound(): void {
    roundChain = roundChain.then(() => {
      if (stopping || round) return;
      const stop = new AbortController();
      const abortInFlight = new AbortController();
      const done = Promise.all(
        controllers.map((c) =>
          c.run(stop.signal, { abortInFlight: abortInFlight.signal }).catch((err) => {
            logger.error({ err, controller: c.name }, "controller ended with an error");
          }),
        ),
      ).then(() => undefined);
      round = { stop, abortInFlight, done };
      logger.info({ controllers: controllers.map((c) => c.name) }, "controllers started");
    });
  }

  /**
   * Ends the current round. Graceful: in-flight reconciles get `shutdownTimeoutMs`. Not graceful (lost
   * leadership): their signals abort at once, because another process may already be leading.
   */
  function stopRound(graceful: boolean): Promise<void> {
    roundChain = roundChain.then(async () => {
      const current = round;
      if (!current) return;
      current.stop.abort();
      if (!graceful) current.abortInFlight.abort();
      const deadline = new AbortController();
      const finished = await Promise.race([
        current.done.then(() => true),
        sleep(graceful ? opts.shutdownTimeoutMs : 0, deadline.signal).then(() => false),
      ]);
      if (!finished) {
        logger.warn({ shutdownTimeoutMs: opts.shutdownTimeoutMs }, "in-flight reconciles exceeded the deadline; aborting them");
        current.abortInFlight.abort();
        const settled = await Promise.race([
          current.done.then(() => true),
          sleep(ABORT_GRACE_MS, deadline.signal).then(() => false),
        ]);
        if (!settled) logger.error("reconciles ignored their abort signal; stopping without them");
      }
      deadline.abort();
      round = undefined;
      logger.info("controllers stopped");
    });
    return roundChain;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received; shutting down");
    void manager.stop();
  };

  async function shutdown(): Promise<void> {
    await stopRound(true);
    electorStop.abort();
    await electorDone;
    opts.metrics.leader.set(0);
    informerStop.abort();
    await Promise.all([...informers].map((i) => i.stopped()));
    await Promise.all([health.stop(), metricsServer?.stop()]);
    if (opts.handleSignals !== false) {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
    logger.info("manager stopped");
    resolveStopped();
  }

  const manager: Manager = {
    add(controller) {
      if (started) throw new Error("controllers must be added before start()");
      controllers.push(controller);
      informers.add(controller.informer);
    },
    addInformer(informer) {
      if (started) throw new Error("informers must be added before start()");
      informers.add(informer);
    },
    async start() {
      if (started) throw new Error("manager already started");
      started = true;
      if (opts.handleSignals !== false) {
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
      }
      const healthPort = await health.start();
      const metricsPort = await metricsServer?.start();
      logger.info({ healthPort, metricsPort: metricsPort ?? healthPort }, "probe and metrics endpoints listening");

      for (const informer of informers) void informer.start(informerStop.signal);
      const allSynced = await Promise.all([...informers].map((i) => i.waitForSync(informerStop.signal)));
      if (!stopping && allSynced.every(Boolean)) {
        synced = true;
        logger.info({ informers: informers.size }, "caches synced");
        if (opts.leaderElection) {
          elector = createLeaderElector({
            ...opts.leaderElection,
            kube: opts.kube,
            logger: opts.logger,
            metrics: opts.metrics,
            onStartedLeading: () => startRound(),
            onStoppedLeading: () => {
              if (!stopping) void stopRound(false);
            },
          });
          electorDone = elector.run(electorStop.signal);
        } else {
          opts.metrics.leader.set(1);
          startRound();
        }
      }
      await stopped;
    },
    stop() {
      if (!stopping) {
        stopping = started ? shutdown() : Promise.resolve();
        if (!started) resolveStopped();
      }
      return stopping;
    },
    isLeader: () => (opts.leaderElection ? (elector?.isLeader() ?? false) : round !== undefined),
    isReady: () => synced && !stopping,
    healthPort: () => health.port(),
    metricsPort: () => metricsServer?.port() ?? health.port(),
  };
  return manager;
}
