import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from "prom-client";

export const METRIC_PREFIX = "gardener_extension_ontap_";

/**
 * The actuator's steps, one name each, and the seed Secret writes inside `credentials`: the labels of
 * `step_outcomes_total` (ontap-extension/step.ts).
 */
export const STEPS = [
  "svm",
  "lifs",
  "credentials",
  "seed_secret_write",
  "trident_crds",
  "trident_render",
  "trident",
  "webhook",
  "components_destroy",
  "ontap_teardown",
  "seed_secrets_delete",
] as const;
export type Step = (typeof STEPS)[number];

export interface MetricsOptions {
  /** Also export Node.js process metrics (heap, event loop lag, ...), prefixed like the rest. */
  collectDefault?: boolean;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * One registry per process (or per test), never prom-client's global one, so two controllers in one test
 * process keep separate counts.
 */
export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  const p = METRIC_PREFIX;
  const registers = [registry];
  const metrics = {
    registry,
    reconcilesTotal: new Counter({
      name: `${p}reconciles_total`,
      help: "Reconciles by Gardener operation and result (success, requeue, error).",
      labelNames: ["operation", "result"] as const,
      registers,
    }),
    reconcileDurationSeconds: new Histogram({
      name: `${p}reconcile_duration_seconds`,
      help: "Duration of one reconcile by Gardener operation.",
      labelNames: ["operation"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    controllerReconcilesTotal: new Counter({
      name: `${p}controller_reconciles_total`,
      help: "Work queue items processed by a controller, by result (success, requeue, error).",
      labelNames: ["controller", "result"] as const,
      registers,
    }),
    controllerReconcileDurationSeconds: new Histogram({
      name: `${p}controller_reconcile_duration_seconds`,
      help: "Time a controller worker spent on one work queue item.",
      labelNames: ["controller"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    stepOutcomesTotal: new Counter({
      name: `${p}step_outcomes_total`,
      help: "Outcomes of the actuator's steps (svm, lifs, credentials, trident_crds, trident_render, trident, webhook; components_destroy, ontap_teardown, seed_secrets_delete) and of the seed Secret writes (seed_secret_write).",
      labelNames: ["step", "outcome"] as const,
      registers,
    }),
    ontapRequestsTotal: new Counter({
      name: `${p}ontap_requests_total`,
      help: "ONTAP REST requests by cluster, method, endpoint and HTTP status (or 'error').",
      labelNames: ["cluster", "method", "endpoint", "status"] as const,
      registers,
    }),
    ontapRequestDurationSeconds: new Histogram({
      name: `${p}ontap_request_duration_seconds`,
      help: "ONTAP REST request latency.",
      labelNames: ["cluster", "method", "endpoint"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    ontapCircuitOpen: new Gauge({
      name: `${p}ontap_circuit_open`,
      help: "1 while the cluster's circuit breaker is open (it did not answer; one probe per interval is sent).",
      labelNames: ["cluster"] as const,
      registers,
    }),
    ontapTlsUnverified: new Gauge({
      name: `${p}ontap_tls_unverified`,
      help: "1 for an ONTAP cluster whose TLS certificate is not verified (a Go extension entry without ca/pinCertificate, or insecureSkipTlsVerify), else 0.",
      labelNames: ["cluster"] as const,
      registers,
    }),
    kubeRequestsTotal: new Counter({
      name: `${p}kube_requests_total`,
      help: "Kubernetes API requests by verb, resource and HTTP code (or 'error').",
      labelNames: ["verb", "resource", "code"] as const,
      registers,
    }),
    kubeRequestDurationSeconds: new Histogram({
      name: `${p}kube_request_duration_seconds`,
      help: "Kubernetes API request latency (for watches: until the response headers).",
      labelNames: ["verb", "resource"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    workqueueDepth: new Gauge({
      name: `${p}workqueue_depth`,
      help: "Keys waiting in the work queue.",
      labelNames: ["name"] as const,
      registers,
    }),
    workqueueAddsTotal: new Counter({
      name: `${p}workqueue_adds_total`,
      help: "Keys added to the work queue (before deduplication).",
      labelNames: ["name"] as const,
      registers,
    }),
    workqueueRetriesTotal: new Counter({
      name: `${p}workqueue_retries_total`,
      help: "Rate-limited re-adds after a failed reconcile.",
      labelNames: ["name"] as const,
      registers,
    }),
    consecutiveFailures: new Gauge({
      name: `${p}consecutive_failures`,
      help: "Consecutive failed reconciles of one Extension (0 after a success).",
      labelNames: ["namespace", "name"] as const,
      registers,
    }),
    escalated: new Gauge({
      name: `${p}escalated`,
      help: "1 while an Extension is escalated (too many consecutive failures or too long without success).",
      labelNames: ["namespace", "name"] as const,
      registers,
    }),
    leader: new Gauge({
      name: `${p}leader`,
      help: "1 while this process holds the leader lease.",
      registers,
    }),
    eventFailuresTotal: new Counter({
      name: `${p}event_failures_total`,
      help: "Kubernetes Events that could not be written (the reconcile carries on).",
      registers,
    }),
  };
  if (opts.collectDefault) collectDefaultMetrics({ register: registry, prefix: p });
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Sum of a counter's (or gauge's) values over every label set that matches `labels` (a subset match).
 * Histograms are summed over their `_count` samples, i.e. the number of observations.
 */
export async function sumCounter<T extends string>(
  metric: Metric<T>,
  labels: Partial<Record<T, string | number>> = {},
): Promise<number> {
  const snapshot = await metric.get();
  const isHistogram = String(snapshot.type) === "histogram";
  let total = 0;
  for (const sample of snapshot.values) {
    const named = sample as { metricName?: string; labels: Record<string, string | number>; value: number };
    if (isHistogram && !named.metricName?.endsWith("_count")) continue;
    const matches = Object.entries(labels).every(([k, v]) => String(named.labels[k]) === String(v));
    if (matches) total += named.value;
  }
  return total;
}

/** The `onRequest` hook for `createKubeClient` that feeds `kube_requests_total` and its latency. */
export function kubeRequestObserver(metrics: Metrics) {
  return (ev: { verb: string; resource: string; code: number | "error"; durationMs: number }): void => {
    metrics.kubeRequestsTotal.inc({ verb: ev.verb, resource: ev.resource, code: String(ev.code) });
    metrics.kubeRequestDurationSeconds.observe({ verb: ev.verb, resource: ev.resource }, ev.durationMs / 1000);
  };
}
