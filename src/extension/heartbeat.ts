import type { KubeClient } from "../kube/client.js";
import { isAlreadyExists, isNotFound } from "../kube/errors.js";
import { Leases } from "../kube/resources.js";
import { createLogger, type Logger } from "../log.js";
import type { Controller } from "../runtime/controller.js";
import { createInformer, type Informer } from "../runtime/informer.js";
import { microTime } from "../runtime/leaderelection.js";
import { sleep } from "../runtime/sleep.js";

/**
 * Gardener's extension heartbeat (gardener/gardener docs/extensions/heartbeat.md): the Lease
 * `gardener-extension-heartbeat` in the extension's namespace, renewed every 30 s by default, with
 * holderIdentity = the extension's name and leaseDurationSeconds = the renew interval. gardenlet reads its
 * renewTime in shoot health checks and reports an extension's health as outdated when it is stale.
 *
 * It is a controller like the Extension one, so it runs only on the leader, as Gardener's does: a heartbeat
 * from a standby replica would claim the extension works while nothing reconciles. Its informer watches the
 * one Lease by name, so a renewal is one PATCH and RBAC can grant the Lease by name.
 */
export const HEARTBEAT_LEASE_NAME = "gardener-extension-heartbeat";
export const DEFAULT_HEARTBEAT_RENEW_INTERVAL_SECONDS = 30;

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

export interface HeartbeatOptions {
  kube: KubeClient;
  namespace: string;
  /** Written as holderIdentity, as Gardener's library writes the extension name. */
  extensionName: string;
  renewIntervalSeconds?: number;
  logger?: Logger;
  /** For tests: the time written as renewTime. */
  now?: () => Date;
  onRenew?: (outcome: "ok" | "failed") => void;
}

export function createHeartbeat(opts: HeartbeatOptions): Controller {
  const logger = (opts.logger ?? createLogger({ level: "silent" })).child({ controller: "heartbeat" });
  const intervalSeconds = opts.renewIntervalSeconds ?? DEFAULT_HEARTBEAT_RENEW_INTERVAL_SECONDS;
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1) {
    throw new Error(`heartbeat renew interval must be a positive number of seconds, got ${intervalSeconds}`);
  }
  const now = opts.now ?? (() => new Date());
  const informer: Informer<Lease> = createInformer<Lease>(opts.kube, Leases, {
    namespace: opts.namespace,
    fieldSelector: `metadata.name=${HEARTBEAT_LEASE_NAME}`,
    logger: opts.logger,
  });
  let running = false;

  const spec = () => ({ holderIdentity: opts.extensionName, leaseDurationSeconds: intervalSeconds, renewTime: microTime(now()) });

  async function renew(): Promise<void> {
    const cached = informer.get(opts.namespace, HEARTBEAT_LEASE_NAME);
    const patch = () => opts.kube.mergePatch<Lease>(Leases, opts.namespace, HEARTBEAT_LEASE_NAME, { spec: spec() });
    if (cached) {
      try {
        await patch();
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err; // deleted since the cache saw it: create it again
      }
    }
    try {
      await opts.kube.create<Lease>(Leases, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: HEARTBEAT_LEASE_NAME, namespace: opts.namespace },
        spec: spec(),
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await patch();
    }
  }

  return {
    name: "heartbeat",
    informer,
    async run(stop) {
      running = true;
      try {
        while (!stop.aborted) {
          let wait = intervalSeconds * 1000;
          try {
            await renew();
            opts.onRenew?.("ok");
            logger.debug({ namespace: opts.namespace, lease: HEARTBEAT_LEASE_NAME }, "heartbeat renewed");
          } catch (err) {
            opts.onRenew?.("failed");
            // Retry sooner than the interval: gardenlet calls a heartbeat stale after a few missed renewals.
            wait = Math.min(wait, 5_000);
            logger.warn({ err: (err as Error).message, retryInMs: wait }, "heartbeat renewal failed");
          }
          await sleep(wait, stop);
        }
      } finally {
        running = false;
      }
    },
    enqueue() {},
    enqueueAfter() {},
    isRunning: () => running,
    queueLength: () => 0,
    inFlight: () => 0,
  };
}
