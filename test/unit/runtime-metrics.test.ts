import { describe, expect, it } from "vitest";
import { createMetrics, kubeRequestObserver, METRIC_PREFIX, sumCounter } from "../../src/metrics/index.js";

describe("metrics", () => {
  it("registers every metric of the brief under the project prefix in its own registry", async () => {
    const m = createMetrics();
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    for (const name of [
      "reconciles_total",
      "reconcile_duration_seconds",
      "step_outcomes_total",
      "ontap_requests_total",
      "ontap_request_duration_seconds",
      "kube_requests_total",
      "workqueue_depth",
      "workqueue_adds_total",
      "workqueue_retries_total",
      "consecutive_failures",
      "escalated",
      "leader",
    ]) {
      expect(names).toContain(`${METRIC_PREFIX}${name}`);
    }
    // Two registries do not share counts.
    const other = createMetrics();
    m.reconcilesTotal.inc({ operation: "reconcile", result: "success" });
    expect(await sumCounter(other.reconcilesTotal)).toBe(0);
  });

  it("sumCounter sums over label sets that match a subset of labels", async () => {
    const m = createMetrics();
    m.ontapRequestsTotal.inc({ cluster: "a", method: "GET", endpoint: "/svm/svms", status: "200" }, 3);
    m.ontapRequestsTotal.inc({ cluster: "b", method: "GET", endpoint: "/svm/svms", status: "200" }, 2);
    m.ontapRequestsTotal.inc({ cluster: "a", method: "POST", endpoint: "/svm/svms", status: "202" });
    expect(await sumCounter(m.ontapRequestsTotal)).toBe(6);
    expect(await sumCounter(m.ontapRequestsTotal, { cluster: "a" })).toBe(4);
    expect(await sumCounter(m.ontapRequestsTotal, { method: "GET", cluster: "b" })).toBe(2);
    expect(await sumCounter(m.ontapRequestsTotal, { status: 404 })).toBe(0);
  });

  it("sumCounter counts histogram observations", async () => {
    const m = createMetrics();
    m.reconcileDurationSeconds.observe({ operation: "reconcile" }, 0.2);
    m.reconcileDurationSeconds.observe({ operation: "reconcile" }, 3);
    m.reconcileDurationSeconds.observe({ operation: "delete" }, 1);
    expect(await sumCounter(m.reconcileDurationSeconds, { operation: "reconcile" })).toBe(2);
  });

  it("the kube request observer counts requests by verb, resource and code", async () => {
    const m = createMetrics();
    const observe = kubeRequestObserver(m);
    observe({ verb: "get", resource: "secrets", code: 404, durationMs: 3 });
    observe({ verb: "get", resource: "secrets", code: 200, durationMs: 3 });
    observe({ verb: "create", resource: "secrets", code: "error", durationMs: 30_000 });
    expect(await sumCounter(m.kubeRequestsTotal, { resource: "secrets" })).toBe(3);
    expect(await sumCounter(m.kubeRequestsTotal, { code: "error" })).toBe(1);
    expect(await m.registry.metrics()).toContain(
      `${METRIC_PREFIX}kube_requests_total{verb="get",resource="secrets",code="404"} 1`,
    );
  });

  it("optionally exports process metrics with the same prefix", async () => {
    const m = createMetrics({ collectDefault: true });
    expect(await m.registry.metrics()).toContain(`${METRIC_PREFIX}process_cpu_seconds_total`);
  });
});
