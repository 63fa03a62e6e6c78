import { describe, expect, it } from "vitest";
import { type AtRestFigures, atRestFigures, atRestGoalMet, atRestRatio, countAuditedRequests, requestsByKind } from "../../bench/at-rest.js";

/** An audit event as kube-apiserver v1.37 writes it with startTestEnv's `audit` policy (Metadata, RequestReceived only). */
function event(e: { user: string; verb: string; uri: string; resource?: string; subresource?: string; stage?: string }): string {
  return JSON.stringify({
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: "ede4516c-10c9-494e-9f3c-964010d7ceb3",
    stage: e.stage ?? "RequestReceived",
    requestURI: e.uri,
    verb: e.verb,
    user: { username: e.user, uid: `${e.user}-uid`, groups: ["system:masters", "system:authenticated"] },
    sourceIPs: ["127.0.0.1"],
    userAgent: "undici",
    ...(e.resource ? { objectRef: { resource: e.resource, ...(e.subresource ? { subresource: e.subresource } : {}), apiVersion: "v1" } } : {}),
    requestReceivedTimestamp: "2026-12-06T15:53:08.279215Z",
    stageTimestamp: "2026-12-06T15:53:08.279215Z",
  });
}

describe("the bench's figures at rest (bench/at-rest.ts)", () => {
  it("counts one user's requests in an audit log by verb and resource, once per request", () => {
    const log = [
      event({ user: "controller", verb: "get", uri: "/apis/extensions.gardener.cloud/v1alpha1/namespaces/a/extensions/ontap", resource: "extensions" }),
      event({ user: "controller", verb: "patch", uri: "/apis/extensions.gardener.cloud/v1alpha1/namespaces/a/extensions/ontap/status", resource: "extensions", subresource: "status" }),
      event({ user: "controller", verb: "watch", uri: "/api/v1/secrets?watch=true", resource: "secrets" }),
      event({ user: "controller", verb: "watch", uri: "/api/v1/secrets?watch=true", resource: "secrets" }),
      // the same request's later stage, were the policy to log it: not a second request
      event({ user: "controller", verb: "get", uri: "/apis/extensions.gardener.cloud/v1alpha1/namespaces/a/extensions/ontap", resource: "extensions", stage: "ResponseComplete" }),
      // another user's request
      event({ user: "admin", verb: "create", uri: "/api/v1/namespaces", resource: "namespaces" }),
      // discovery: no resource, named by its path
      event({ user: "controller", verb: "get", uri: "/apis?timeout=32s" }),
      // a line cut off while being written
      event({ user: "controller", verb: "get", uri: "/api/v1/namespaces", resource: "namespaces" }).slice(0, 80),
      "",
    ].join("\n");
    expect(Object.fromEntries(countAuditedRequests(log, "controller"))).toEqual({
      "get extensions": 1,
      "patch extensions/status": 1,
      "watch secrets": 2,
      "get /apis": 1,
    });
  });

  it("names this controller's own kube_requests_total as the audit log does", () => {
    const metrics = [
      "# TYPE gardener_extension_ontap_kube_requests_total counter",
      'gardener_extension_ontap_kube_requests_total{verb="patch",resource="extensions/status",code="200"} 3',
      'gardener_extension_ontap_kube_requests_total{verb="patch",resource="extensions/status",code="409"} 1',
      'gardener_extension_ontap_kube_requests_total{verb="watch",resource="secrets",code="200"} 2',
      'gardener_extension_ontap_ontap_requests_total{cluster="a"} 9',
    ].join("\n");
    expect(Object.fromEntries(requestsByKind(metrics))).toEqual({ "patch extensions/status": 4, "watch secrets": 2 });
  });

  it("turns two snapshots into rates: per cluster, writes by verb, CPU as a share of one core", () => {
    const before = { at: 10_000, sim: [100, 50], kube: new Map([["get secrets", 5], ["patch extensions/status", 2]]), cpuMs: 1_000 };
    const after = {
      at: 30_000,
      sim: [140, 50],
      kube: new Map([["get secrets", 25], ["patch extensions/status", 2], ["update leases", 2]]),
      cpuMs: 1_400,
    };
    expect(atRestFigures(before, after)).toEqual({
      seconds: 20,
      ontapRequestsPerSecondPerCluster: 2,
      ontapRequestsPerSecondByCluster: [2, 0],
      kubeRequestsPerSecond: 1.1,
      kubeWritesPerSecond: 0.1,
      kubeRequestsPerSecondByKind: { "get secrets": 1, "update leases": 0.1 },
      controllerCpuPercent: 2,
    });
  });

  it("judges rest by the idle key's absolute goals, and gives no ratio where the Go extension's figure is 0", () => {
    const figures = (f: Partial<AtRestFigures>): AtRestFigures => ({
      seconds: 60,
      ontapRequestsPerSecondPerCluster: 0,
      ontapRequestsPerSecondByCluster: [0, 0],
      kubeRequestsPerSecond: 0,
      kubeWritesPerSecond: 0,
      kubeRequestsPerSecondByKind: {},
      controllerCpuPercent: 0,
      ...f,
    });
    const go = figures({ kubeRequestsPerSecond: 0.5, kubeWritesPerSecond: 0.05, controllerCpuPercent: 0.2 });
    const ts = figures({ ontapRequestsPerSecondPerCluster: 1.5, kubeRequestsPerSecond: 2, kubeWritesPerSecond: 0, controllerCpuPercent: 3 });
    expect(atRestRatio(go, ts)).toEqual({ ontapRequestsPerSecondPerCluster: null, kubeRequestsPerSecond: 4, kubeWritesPerSecond: 0, controllerCpuPercent: 15 });
    expect(atRestGoalMet(ts, 100)).toBe(true);
    expect(atRestGoalMet({ ...ts, controllerCpuPercent: 5.1 }, 100)).toBe(false);
    expect(atRestGoalMet({ ...ts, ontapRequestsPerSecondPerCluster: 2.5 }, 1000)).toBe(false);
  });
});
