import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/index.js";
import type { Controller } from "./controller.js";
import { FencedError } from "./fence.js";
import { type Check, createHealthServer, type HealthServer } from "./health.js";
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
  /** Extra time granted after in-flight signals abort, for reconciles to notice and return. Default 5 s. */
  abortGraceMs?: number;
}

/** A component's own probe contribution (e.g. a heartbeat, a webhook certificate). */
export interface HealthContribution {
  /** Failing readiness takes the pod out of rotation. */
  readyz?: () => Check;
  /** Failing liveness gets the process restarted: only for states it cannot leave by itself. */
  healthz?: () => Check;
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
  /** Adds a named probe contribution; its reasons are prefixed with the name. */
  addHealthCheck(name: string, check: HealthContribution): void;
  isLeader(): boolean;
  /**
   * The write fence for reconciles: throws FencedError unless the controllers' term is current (with leader
   * election: leading, and the last renewal sent less than renewDeadline ago by the monotonic clock).
   */
  checkWrite(): void;
  isReady(): boolean;
  /** Liveness: false when the process is stuck in a state it cannot leave without a restart. */
  isLive(): boolean;
  /** Bound ports, once started. */
  healthPort(): number | undefined;
  metricsPort(): number | undefined;
}

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
  const abortGraceMs = opts.abortGraceMs ?? ABORT_GRACE_MS;
  /** Set while a term's reconciles ignore their abort signal: no new term starts until they return. */
  let wedged: string | undefined;
  /** A controller whose run failed (a bug): the process cannot reconcile until restarted. */
  let controllerFailure: string | undefined;
  /** The elector's campaign ended while the manager was not stopping. */
  let electorFailure: string | undefined;
  const contributions = new Map<string, HealthContribution>();
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
    readyz: () => readiness(),
    healthz: () => liveness(),
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

  /** Ready: caches synced and the controllers run (a standby is ready: it campaigns and takes over). */
  function readiness(): Check {
    const reasons: string[] = [];
    if (stopping) reasons.push("shutting down");
    if (!synced) reasons.push("caches not synced");
    reasons.push(...stuckReasons());
    if (synced && !stopping) {
      const leading = opts.leaderElection ? (elector?.isLeader() ?? false) : true;
      if (leading && !round) reasons.push("controllers not running");
    }
    for (const [name, c] of contributions) reasons.push(...(c.readyz?.().ok === false ? prefixed(name, c.readyz()) : []));
    return { ok: reasons.length === 0, reasons };
  }

  function liveness(): Check {
    const reasons = stuckReasons();
    for (const [name, c] of contributions) reasons.push(...(c.healthz?.().ok === false ? prefixed(name, c.healthz()) : []));
    return { ok: reasons.length === 0, reasons };
  }

  function stuckReasons(): string[] {
    return [wedged, controllerFailure, electorFailure].filter((r): r is string => r !== undefined);
  }

  function prefixed(name: string, check: Check): string[] {
    const reasons = check.reasons?.length ? check.reasons : ["failing"];
    return reasons.map((r) => `${name}: ${r}`);
  }

  function startRound(): void {
    roundChain = roundChain.then(() => {
      if (stopping || round) return;
      const stop = new AbortController();
      const abortInFlight = new AbortController();
      const done = Promise.all(
        controllers.map((c) =>
          c.run(stop.signal, { abortInFlight: abortInFlight.signal }).catch((err) => {
            // A controller that cannot run leaves the process reconciling nothing: say so on the probes.
            controllerFailure = `controller ${c.name} ended with an error: ${(err as Error).message}`;
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
   * leadership): their signals abort at once, because another process may already be leading. Either way
   * the round is over only when its reconciles returned: a new term never starts beside a draining one
   * (reconciles that ignore their signal keep the process unhealthy, so it is restarted). Only a shutdown
   * gives up on them, since the process exits.
   */
  function stopRound(graceful: boolean): Promise<void> {
    roundChain = roundChain.then(async () => {
      const current = round;
      if (!current) return;
      current.stop.abort();
      if (!graceful) current.abortInFlight.abort();
      if (!(await settles(current.done, graceful ? opts.shutdownTimeoutMs : 0))) {
        if (graceful) {
          logger.warn({ shutdownTimeoutMs: opts.shutdownTimeoutMs }, "in-flight reconciles exceeded the deadline; aborting them");
        }
        current.abortInFlight.abort();
        if (!(await settles(current.done, abortGraceMs))) {
          wedged = `reconciles ignored their abort signal for more than ${Math.round(abortGraceMs / 1000)} s`;
          logger.error({ abortGraceMs }, "reconciles ignore their abort signal; no new term starts until they return");
          if (!stopping) {
            await current.done;
            wedged = undefined;
          }
        }
      }
      round = undefined;
      logger.info("controllers stopped");
    });
    return roundChain;
  }

  async function settles(done: Promise<void>, ms: number): Promise<boolean> {
    const deadline = new AbortController();
    try {
      return await Promise.race([done.then(() => true), sleep(ms, deadline.signal).then(() => false)]);
    } finally {
      deadline.abort();
    }
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
            // Awaited by the elector: it campaigns again only after this term's reconciles returned.
            onStoppedLeading: () => (stopping ? undefined : stopRound(false)),
          });
          electorDone = elector.run(electorStop.signal).then(
            () => {
              if (!stopping) electorFailure = "leader election ended";
            },
            (err) => {
              electorFailure = `leader election failed: ${(err as Error).message}`;
              logger.error({ err }, "leader election failed");
            },
          );
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
    addHealthCheck(name, check) {
      contributions.set(name, check);
    },
    isLeader: () => (opts.leaderElection ? (elector?.isLeader() ?? false) : round !== undefined),
    checkWrite() {
      if (!round) throw new FencedError("the controllers of this process are not running");
      if (opts.leaderElection && !elector?.holdsLease()) {
        throw new FencedError(`this process does not hold the lease ${opts.leaderElection.namespace}/${opts.leaderElection.name} (another replica may lead)`);
      }
    },
    isReady: () => readiness().ok,
    isLive: () => liveness().ok,
    healthPort: () => health.port(),
    metricsPort: () => metricsServer?.port() ?? health.port(),
  };
  return manager;
}
