import { hostname } from "node:os";
import type { KubeClient } from "../kube/client.js";
import { isNotFound } from "../kube/errors.js";
import { Events } from "../kube/resources.js";
import { createLogger, type Logger } from "../log.js";
import type { Metrics } from "../metrics/index.js";

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent` of every event. */
  component: string;
  /** `source.host` and `reportingInstance`; default the machine's hostname. */
  instance?: string;
  logger?: Logger;
  metrics?: Metrics;
  /** How many distinct (object, reason, message) series are remembered for aggregation. Default 4096. */
  maxSeries?: number;
}

export interface EventRecorder {
  /**
   * Writes (or bumps) a core/v1 Event about `involved`. Never rejects: a failed write is logged and
   * counted, because an event is a courtesy to the operator and must never fail a reconcile.
   */
  event(involved: InvolvedObject, type: EventType, reason: string, message: string): Promise<void>;
  /** Writes that failed since the recorder was created. */
  failures(): number;
}

interface Series {
  namespace: string;
  name: string;
  count: number;
}

interface CoreEvent {
  metadata: { name: string; namespace: string };
  count?: number;
}

const MAX_MESSAGE = 1024;

/**
 * Kubernetes Events with client-go's aggregation of repeats: the same object, type, reason and message bump
 * `count` and `lastTimestamp` on the existing Event instead of creating a new one, so a reconcile that fails
 * every minute for a day leaves one Event with a count, not 1440.
 */
export function createEventRecorder(kube: KubeClient, opts: EventRecorderOptions): EventRecorder {
  const logger = (opts.logger ?? createLogger({ level: "silent" })).child({ component: "events" });
  const instance = opts.instance ?? hostname();
  const maxSeries = opts.maxSeries ?? 4096;
  // Insertion-ordered: the oldest series is evicted first.
  const series = new Map<string, Series>();
  // Writes for one series are serialized so two concurrent repeats cannot both create an Event.
  const tails = new Map<string, Promise<void>>();
  let failed = 0;

  async function write(key: string, involved: InvolvedObject, type: EventType, reason: string, message: string) {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const known = series.get(key);
    if (known) {
      try {
        await kube.mergePatch<CoreEvent>(Events, known.namespace, known.name, {
          count: known.count + 1,
          lastTimestamp: now,
        });
        known.count++;
        series.delete(key);
        series.set(key, known);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired (the API server keeps them for an hour) or was deleted: start a new series.
        series.delete(key);
      }
    }
    const namespace = involved.namespace || "default";
    const name = `${involved.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    const created = await kube.create<CoreEvent>(Events, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.name,
        ...(involved.namespace ? { namespace: involved.namespace } : {}),
        ...(involved.uid ? { uid: involved.uid } : {}),
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: opts.component, host: instance },
      reportingComponent: opts.component,
      reportingInstance: instance,
    } as CoreEvent);
    series.set(key, { namespace: created.metadata.namespace, name: created.metadata.name, count: created.count ?? 1 });
    while (series.size > maxSeries) series.delete(series.keys().next().value as string);
  }

  return {
    event(involved, type, reason, rawMessage) {
      const message = rawMessage.length > MAX_MESSAGE ? `${rawMessage.slice(0, MAX_MESSAGE - 3)}...` : rawMessage;
      const key = JSON.stringify([
        involved.apiVersion,
        involved.kind,
        involved.namespace ?? "",
        involved.name,
        involved.uid ?? "",
        type,
        reason,
        message,
      ]);
      const previous = tails.get(key) ?? Promise.resolve();
      const next = previous
        .then(() => write(key, involved, type, reason, message))
        .catch((err) => {
          failed++;
          opts.metrics?.eventFailuresTotal.inc();
          logger.warn(
            { err, involved: { kind: involved.kind, namespace: involved.namespace, name: involved.name }, reason },
            "recording an event failed",
          );
        })
        .finally(() => {
          if (tails.get(key) === next) tails.delete(key);
        });
      tails.set(key, next);
      return next;
    },
    failures: () => failed,
  };
}
