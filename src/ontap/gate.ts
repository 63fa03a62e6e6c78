import { OntapError, type RequestContext } from "./errors.js";
import { abortReason } from "./retry.js";

/**
 * What stands between the controller and one ONTAP cluster: a cap on concurrent requests (ONTAP's management
 * API is shared by every tenant and slow; a fleet of reconciles must not flood it) and a circuit breaker (an
 * unreachable cluster gets a probe per interval, not a retry storm, and its return is announced at once).
 *
 * Breaker states:
 * - closed: requests pass; `consecutiveFailures` requests in a row without an answer (connection error or
 *   timeout; any HTTP status is an answer) open it.
 * - open: requests fail at once with an OntapError of kind "unavailable" (transient, never sent). One probe
 *   (`GET /api/cluster` as the admin) goes out every `probeIntervalMs`; the first answer, from a probe or
 *   from a request that was already in flight, closes it and hands `onRecovered` every waiter (the
 *   Extensions whose reconcile was refused or failed meanwhile), so they run at once whatever their backoff.
 *
 * While open, the cluster sees at most one request per `probeIntervalMs` (plus what was in flight when it
 * opened, at most `maxConcurrent`).
 */

export interface BreakerSettings {
  /** Requests in a row without an answer that open the breaker. */
  consecutiveFailures: number;
  /** How often an open breaker probes the cluster (ms). */
  probeIntervalMs: number;
}

export const DEFAULT_MAX_CONCURRENT_REQUESTS = 8;
export const DEFAULT_BREAKER: BreakerSettings = Object.freeze({ consecutiveFailures: 5, probeIntervalMs: 1_000 });

export type BreakerState = "closed" | "open";

export interface ClusterGateOptions {
  cluster: string;
  /** At most this many requests to the cluster at once; the rest wait in order. */
  maxConcurrent?: number;
  /** `false` turns the breaker off (every request is sent). */
  breaker?: BreakerSettings | false;
  /** Who is asking (the Extension being reconciled), recorded while the cluster is unreachable. */
  currentWaiter?: () => string | undefined;
  /** Called when the breaker closes with every waiter recorded while it was failing. */
  onRecovered?: (waiters: string[]) => void;
  onStateChange?: (state: BreakerState) => void;
  logger?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
}

export interface GatedRequest {
  signal?: AbortSignal;
  ctx: RequestContext;
  /**
   * `false` for a request to another address of the cluster (an SVM's management LIF): it shares the cap and
   * is refused while the breaker is open, but its answer or silence says nothing about the cluster's
   * management interface, so it neither opens nor closes the breaker. Default true.
   */
  countsForBreaker?: boolean;
}

export interface ClusterGate {
  readonly cluster: string;
  readonly maxConcurrent: number;
  /** Runs one attempt under the cap and the breaker; `send` starts its own timeout once it holds a slot. */
  run<T>(req: GatedRequest, send: () => Promise<T>): Promise<T>;
  /** The request an open breaker sends to find out whether the cluster answers again; the first one set stays. */
  setProbe(probe: () => Promise<unknown>): void;
  state(): BreakerState;
  inFlight(): number;
  queued(): number;
  /** The most requests ever in flight at once. */
  peakInFlight(): number;
  /** Probes sent since start (for the stated rate). */
  probes(): number;
  /** Stops the probe timer. */
  close(): void;
}

/** Whether an error means the cluster did not answer (as opposed to answering with an error). */
export function isNoAnswer(err: unknown): boolean {
  return err instanceof OntapError && (err.kind === "connection" || err.kind === "timeout");
}

export function createClusterGate(opts: ClusterGateOptions): ClusterGate {
  const maxConcurrent = opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_REQUESTS;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new RangeError(`ONTAP ${opts.cluster}: maxConcurrent must be a positive integer`);
  }
  const breaker = opts.breaker === false ? undefined : (opts.breaker ?? DEFAULT_BREAKER);
  if (breaker && !(breaker.consecutiveFailures >= 1 && breaker.probeIntervalMs > 0)) {
    throw new RangeError(`ONTAP ${opts.cluster}: the circuit breaker needs consecutiveFailures >= 1 and a positive probe interval`);
  }

  let active = 0;
  let peak = 0;
  const waiting: Array<{ grant: () => void }> = [];
  let state: BreakerState = "closed";
  let failuresInRow = 0;
  let openedAt = 0;
  let probe: (() => Promise<unknown>) | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let probing = false;
  let probeCount = 0;
  let closed = false;
  const waiters = new Set<string>();

  function acquire(signal: AbortSignal | undefined): Promise<void> {
    if (active < maxConcurrent && waiting.length === 0) {
      active++;
      peak = Math.max(peak, active);
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          active++;
          peak = Math.max(peak, active);
          resolve();
        },
      };
      const onAbort = () => {
        const i = waiting.indexOf(entry);
        if (i >= 0) waiting.splice(i, 1);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      waiting.push(entry);
    });
  }

  function release(): void {
    active--;
    const next = waiting.shift();
    if (next) next.grant();
  }

  function remember(): void {
    const who = opts.currentWaiter?.();
    if (who !== undefined) waiters.add(who);
  }

  function open(): void {
    if (state === "open" || !breaker) return;
    state = "open";
    openedAt = Date.now();
    opts.logger?.warn(
      { cluster: opts.cluster, consecutiveFailures: failuresInRow, probeIntervalMs: breaker.probeIntervalMs },
      "ONTAP cluster does not answer; circuit breaker open: requests are refused and one probe per interval is sent",
    );
    opts.onStateChange?.("open");
    scheduleProbe();
  }

  function closeBreaker(): void {
    failuresInRow = 0;
    if (state === "closed") return;
    state = "closed";
    if (probeTimer) clearTimeout(probeTimer);
    probeTimer = undefined;
    opts.logger?.info?.(
      { cluster: opts.cluster, openSeconds: (Date.now() - openedAt) / 1000, waiters: waiters.size },
      "ONTAP cluster answers again; circuit breaker closed",
    );
    opts.onStateChange?.("closed");
    const recovered = [...waiters];
    waiters.clear();
    if (recovered.length > 0) opts.onRecovered?.(recovered);
  }

  function scheduleProbe(): void {
    if (!breaker || closed || state !== "open" || probeTimer) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      void runProbe();
    }, breaker.probeIntervalMs);
    probeTimer.unref();
  }

  async function runProbe(): Promise<void> {
    if (state !== "open" || closed) return;
    if (!probe || probing) {
      scheduleProbe();
      return;
    }
    probing = true;
    probeCount++;
    try {
      await acquire(undefined);
      try {
        await probe();
        closeBreaker();
      } catch (err) {
        // An HTTP error is an answer too: the cluster is back, even if it does not like the probe.
        if (!isNoAnswer(err)) closeBreaker();
      } finally {
        release();
      }
    } finally {
      probing = false;
      scheduleProbe();
    }
  }

  function unavailable(ctx: RequestContext): OntapError {
    const seconds = breaker ? breaker.probeIntervalMs / 1000 : 0;
    return new OntapError({
      cluster: ctx.cluster,
      operation: ctx.operation,
      method: ctx.method,
      endpoint: ctx.endpoint,
      kind: "unavailable",
      transient: true,
      detail: `not sent: the cluster did not answer its last requests (circuit breaker open since ${new Date(openedAt).toISOString()}; probing every ${seconds} s, and every waiting Extension is retried once it answers)`,
    });
  }

  return {
    cluster: opts.cluster,
    maxConcurrent,
    async run(req, send) {
      const counts = req.countsForBreaker !== false;
      if (state === "open") {
        if (counts) remember();
        throw unavailable(req.ctx);
      }
      await acquire(req.signal);
      try {
        // The breaker may have opened while this request waited for its slot.
        if ((state as BreakerState) === "open") {
          if (counts) remember();
          throw unavailable(req.ctx);
        }
        const value = await send();
        if (counts) closeBreaker();
        return value;
      } catch (err) {
        if (!counts) throw err;
        if (isNoAnswer(err)) {
          remember();
          failuresInRow++;
          if (breaker && failuresInRow >= breaker.consecutiveFailures) open();
        } else if (!(err instanceof OntapError && err.kind === "unavailable") && err instanceof OntapError) {
          closeBreaker();
        }
        throw err;
      } finally {
        release();
      }
    },
    setProbe(fn) {
      probe ??= fn;
    },
    state: () => state,
    inFlight: () => active,
    queued: () => waiting.length,
    peakInFlight: () => peak,
    probes: () => probeCount,
    close() {
      closed = true;
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = undefined;
    },
  };
}
