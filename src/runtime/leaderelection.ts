import type { KubeClient } from "../kube/client.js";
import { isAlreadyExists, isConflict } from "../kube/errors.js";
import { Leases } from "../kube/resources.js";
import { createLogger, type Logger } from "../log.js";
import type { Metrics } from "../metrics/index.js";
import { sleep } from "./sleep.js";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  /** Unique per process (pod name plus a random suffix, as client-go users do). */
  identity: string;
  /** How long a lease holds without renewal; whole seconds (the Lease field is an integer). Default 15. */
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long steps down. Default 10. */
  renewDeadlineSeconds?: number;
  /** Interval between acquire and renew attempts. Default 2. */
  retryPeriodSeconds?: number;
  /** Hand the lease over at once on a graceful stop (as client-go's ReleaseOnCancel). Default true. */
  releaseOnCancel?: boolean;
}

export interface LeaderElectorOptions extends LeaderElectionConfig {
  kube: KubeClient;
  logger?: Logger;
  metrics?: Metrics;
  onStartedLeading?: () => void;
  /**
   * Called when leadership ends for any reason: lost renewal, taken over, or stop. A returned promise is
   * awaited before the elector campaigns again, so a new term never starts while the old one still drains.
   */
  onStoppedLeading?: () => unknown;
  /** Called whenever the observed holder changes (including to this process). */
  onNewLeader?: (identity: string) => void;
  /**
   * Monotonic milliseconds for every duration the elector judges (expiry, renew deadline, the fence).
   * Default `performance.now()`: a wall-clock jump (NTP step, VM resume) must not extend or cut a term.
   */
  monotonicNow?: () => number;
}

export interface LeaderElector {
  /**
   * Campaigns until `signal` aborts: acquire, renew, step down when renewal fails for renewDeadline, then
   * campaign again. On abort, releases the lease if held (and `releaseOnCancel`), then resolves.
   */
  run(signal: AbortSignal): Promise<void>;
  isLeader(): boolean;
  /**
   * The fence: true only while leading and the last successful renewal was sent less than renewDeadline
   * ago by the monotonic clock. Checked immediately before every write, it stays correct when the event
   * loop stalled and the step-down timer has not fired yet: no other candidate may take the Lease before
   * leaseDuration (> renewDeadline) after it saw that renewal, and the renewal was sent before it landed.
   */
  holdsLease(): boolean;
  /** The holder last observed on the Lease ("" when free). */
  leader(): string | undefined;
}

/** RFC 3339 with microseconds, the MicroTime format Kubernetes stores for Lease times. */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * Leader election over a coordination.k8s.io/v1 Lease, following client-go's algorithm: expiry is judged
 * by the local monotonic time at which this process last saw the lease record change (never by comparing
 * clocks across machines, never by the wall clock, which can jump), every write carries the Lease's resourceVersion so two candidates cannot both win, and
 * a leader steps down when it could not renew within renewDeadline, which is shorter than leaseDuration,
 * so it stops working before anyone else may start.
 */
export function createLeaderElector(opts: LeaderElectorOptions): LeaderElector {
  const leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = (opts.renewDeadlineSeconds ?? 10) * 1000;
  const retryPeriodMs = (opts.retryPeriodSeconds ?? 2) * 1000;
  const releaseOnCancel = opts.releaseOnCancel ?? true;
  if (!Number.isInteger(leaseDurationSeconds) || leaseDurationSeconds < 1) {
    throw new RangeError("leaseDurationSeconds must be a whole number of seconds >= 1");
  }
  if (!(leaseDurationSeconds * 1000 > renewDeadlineMs)) {
    throw new RangeError("leaseDurationSeconds must be greater than renewDeadlineSeconds");
  }
  if (!(renewDeadlineMs > retryPeriodMs * 1.2)) {
    throw new RangeError("renewDeadlineSeconds must be greater than 1.2 * retryPeriodSeconds");
  }
  const logger = (opts.logger ?? createLogger({ level: "silent" })).child({
    lease: `${opts.namespace}/${opts.name}`,
    identity: opts.identity,
  });
  const { kube, identity } = opts;
  const monotonicNow = opts.monotonicNow ?? (() => performance.now());

  let leading = false;
  let current: Lease | undefined;
  let observedHolder: string | undefined;
  let observedFingerprint = "";
  let observedAt = 0;
  /** Monotonic time at which the last successful acquire or renew request was sent. */
  let lastRenewSentAt = Number.NEGATIVE_INFINITY;

  function observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const fingerprint = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions, spec.acquireTime]);
    if (fingerprint !== observedFingerprint) {
      observedFingerprint = fingerprint;
      observedAt = monotonicNow();
    }
    current = lease;
    const holder = spec.holderIdentity ?? "";
    if (holder !== observedHolder) {
      observedHolder = holder;
      if (holder) {
        logger.info({ holder }, "new leader observed");
        void safely(() => opts.onNewLeader?.(holder));
      }
    }
  }

  function desiredSpec(previous: LeaseSpec | undefined): LeaseSpec {
    const now = microTime();
    const keep = previous?.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: keep && previous?.acquireTime ? previous.acquireTime : now,
      renewTime: now,
      leaseTransitions: keep ? (previous?.leaseTransitions ?? 0) : (previous?.leaseTransitions ?? 0) + (previous ? 1 : 0),
    };
  }

  type Attempt = "acquired" | "held-by-other" | "failed";

  /** One attempt; on "acquired", `lastRenewSentAt` is the time the successful write was sent. */
  async function tryAcquireOrRenew(): Promise<Attempt> {
    // Fast path while leading: update the lease we wrote last; a conflict means someone else wrote it.
    if (leading && current?.spec?.holderIdentity === identity) {
      try {
        const sentAt = monotonicNow();
        const updated = await kube.update<Lease>(Leases, { ...current, spec: desiredSpec(current.spec) });
        observe(updated);
        lastRenewSentAt = sentAt;
        return "acquired";
      } catch (err) {
        if (!isConflict(err)) {
          logger.warn({ err }, "lease renewal failed");
          return "failed";
        }
      }
    }
    let lease: Lease | undefined;
    try {
      lease = await kube.get<Lease>(Leases, opts.namespace, opts.name);
    } catch (err) {
      logger.warn({ err }, "reading the lease failed");
      return "failed";
    }
    if (!lease) {
      try {
        const sentAt = monotonicNow();
        const created = await kube.create<Lease>(Leases, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: opts.name, namespace: opts.namespace },
          spec: desiredSpec(undefined),
        });
        observe(created);
        lastRenewSentAt = sentAt;
        return "acquired";
      } catch (err) {
        if (!isAlreadyExists(err)) logger.warn({ err }, "creating the lease failed");
        return "failed";
      }
    }
    observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== "" && holder !== identity && observedAt + durationMs > monotonicNow()) return "held-by-other";
    try {
      const sentAt = monotonicNow();
      const updated = await kube.update<Lease>(Leases, { ...lease, spec: desiredSpec(spec) });
      observe(updated);
      lastRenewSentAt = sentAt;
      return "acquired";
    } catch (err) {
      if (!isConflict(err)) logger.warn({ err }, "updating the lease failed");
      return "failed";
    }
  }

  async function release(): Promise<void> {
    if (!current || current.spec?.holderIdentity !== identity) return;
    try {
      const released = await kube.update<Lease>(Leases, {
        ...current,
        spec: {
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: microTime(),
          renewTime: microTime(),
          leaseTransitions: current.spec?.leaseTransitions ?? 0,
        },
      });
      observe(released);
      logger.info("lease released");
    } catch (err) {
      // Not fatal: the lease simply expires after leaseDuration.
      logger.warn({ err }, "releasing the lease failed; it will expire instead");
    }
  }

  /** Resolves when the callbacks of the transition are done (a stopped term has drained). */
  async function setLeading(value: boolean): Promise<void> {
    if (leading === value) return;
    leading = value;
    opts.metrics?.leader.set(value ? 1 : 0);
    if (value) {
      logger.info("started leading");
      await safely(() => opts.onStartedLeading?.());
    } else {
      logger.info("stopped leading");
      await safely(() => opts.onStoppedLeading?.());
    }
  }

  async function safely(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      logger.error({ err }, "leader election callback threw");
    }
  }

  /** Renews until the deadline passes without a successful renewal, the lease is taken, or `signal` aborts. */
  async function renewLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(Math.min(retryPeriodMs, Math.max(0, renewDeadlineMs - (monotonicNow() - lastRenewSentAt))), signal);
      if (signal.aborted) return;
      const remaining = renewDeadlineMs - (monotonicNow() - lastRenewSentAt);
      // A hung request must not keep a leader that can no longer prove it holds the lease.
      const attempt = await Promise.race([
        tryAcquireOrRenew(),
        sleep(Math.max(0, remaining), signal).then(() => "timeout" as const),
      ]);
      if (signal.aborted) return;
      if (attempt === "acquired" && monotonicNow() - lastRenewSentAt < renewDeadlineMs) continue;
      if (attempt === "held-by-other") {
        logger.warn({ holder: observedHolder }, "lease was taken over");
        return;
      }
      if (monotonicNow() - lastRenewSentAt >= renewDeadlineMs) {
        logger.warn({ renewDeadlineMs }, "could not renew the lease within the deadline");
        return;
      }
    }
  }

  return {
    async run(signal) {
      while (!signal.aborted) {
        const attempt = await tryAcquireOrRenew();
        if (signal.aborted) break;
        // An acquisition that took longer than the renew deadline to answer proves nothing any more.
        if (attempt !== "acquired" || monotonicNow() - lastRenewSentAt >= renewDeadlineMs) {
          await sleep(retryPeriodMs * (1 + Math.random() * 0.2), signal);
          continue;
        }
        await setLeading(true);
        await renewLoop(signal);
        if (signal.aborted) break;
        // Waits for the term to drain before campaigning again.
        await setLeading(false);
      }
      const wasLeading = leading;
      // The term drains first (in-flight work may still write while the lease is ours), then it is released.
      if (wasLeading) await setLeading(false);
      if (wasLeading && releaseOnCancel) await release();
    },
    isLeader: () => leading,
    holdsLease: () => leading && monotonicNow() - lastRenewSentAt < renewDeadlineMs,
    leader: () => observedHolder,
  };
}
