/**
 * A controller at rest, measured: a window in which nothing is asked of it, and what it does on its own there.
 * Shared by the `idle` scenario (bench/idle.ts: this controller, its Kubernetes requests from its own
 * `kube_requests_total`) and the side-by-side (bench/go-side-by-side.ts: either controller, its Kubernetes requests
 * from kube-apiserver's audit log, which sees both alike; the Go extension has no such metric).
 *
 * In the window: ONTAP requests per second per cluster (the simulator's count, the logins at the SVM management
 * LIFs included), the controller's Kubernetes requests and writes per second, and its CPU time over the window
 * (from /proc) as a percentage of one core.
 */
import { readFile } from "node:fs/promises";
import { type ControllerChild, log, type World } from "./harness.js";

/** The Kubernetes verbs that write (audit and kube_requests_total name them alike). */
const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);
/** The condition the storage health check sets on an Extension (this controller's only). */
const HEALTH_CONDITION = "StorageHealthy";

/** A controller's Kubernetes requests so far, by `verb resource` (resource as `plural[/subresource]`). */
export type KubeRequestCount = () => Promise<Map<string, number>>;

/** What a controller did in a window at rest. */
export interface AtRestFigures {
  seconds: number;
  ontapRequestsPerSecondPerCluster: number;
  ontapRequestsPerSecondByCluster: number[];
  kubeRequestsPerSecond: number;
  kubeWritesPerSecond: number;
  /** By `verb resource`, the busiest first; only those seen in the window. */
  kubeRequestsPerSecondByKind: Record<string, number>;
  controllerCpuPercent: number;
}

/** The figures of `AtRestFigures` a side-by-side compares. */
export const AT_REST_MEASURES = ["ontapRequestsPerSecondPerCluster", "kubeRequestsPerSecond", "kubeWritesPerSecond", "controllerCpuPercent"] as const;
export type AtRestMeasure = (typeof AT_REST_MEASURES)[number];

/** The goals at rest (the `idle` key's): absolute, whatever another controller does. */
export const AT_REST_GOAL = "at rest, at 1,000 shoots: at most 2 ONTAP requests per second per cluster, controller CPU at most 5% of a core";

/** The counters at one instant. */
export interface AtRestSnapshot {
  /** ms since the epoch */
  at: number;
  /** ONTAP requests so far, per cluster. */
  sim: number[];
  kube: Map<string, number>;
  cpuMs: number;
}

export async function snapshotAtRest(world: World, kubeRequests: KubeRequestCount): Promise<AtRestSnapshot> {
  return { at: Date.now(), sim: await world.simCalls(), kube: await kubeRequests(), cpuMs: world.controller.cpuMs() };
}

/** `seconds` of rest: the counters before and after, as figures. */
export async function measureAtRest(world: World, seconds: number, kubeRequests: KubeRequestCount): Promise<{ figures: AtRestFigures; before: AtRestSnapshot; after: AtRestSnapshot }> {
  const before = await snapshotAtRest(world, kubeRequests);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await snapshotAtRest(world, kubeRequests);
  return { figures: atRestFigures(before, after), before, after };
}

/** The window's figures from its two snapshots. */
export function atRestFigures(before: AtRestSnapshot, after: AtRestSnapshot): AtRestFigures {
  const seconds = (after.at - before.at) / 1000;
  const perCluster = after.sim.map((n, i) => (n - (before.sim[i] ?? 0)) / seconds);
  const byKind = [...after.kube]
    .map(([kind, n]) => [kind, (n - (before.kube.get(kind) ?? 0)) / seconds] as const)
    .filter(([, r]) => r > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = byKind.reduce((n, [, r]) => n + r, 0);
  const writes = byKind.filter(([kind]) => WRITE_VERBS.has(kind.split(" ")[0] ?? "")).reduce((n, [, r]) => n + r, 0);
  return {
    seconds: round(seconds, 1),
    ontapRequestsPerSecondPerCluster: round(Math.max(0, ...perCluster), 3),
    ontapRequestsPerSecondByCluster: perCluster.map((x) => round(x, 3)),
    kubeRequestsPerSecond: round(total, 3),
    kubeWritesPerSecond: round(writes, 3),
    kubeRequestsPerSecondByKind: Object.fromEntries(byKind.map(([k, r]) => [k, round(r, 3)])),
    controllerCpuPercent: round(((after.cpuMs - before.cpuMs) / (after.at - before.at)) * 100, 2),
  };
}

/** The absolute goals at rest: the figures that grow with the shoots judged at the goal's size (1,000). */
export function atRestGoalMet(f: Pick<AtRestFigures, "ontapRequestsPerSecondPerCluster" | "controllerCpuPercent">, shoots: number): boolean {
  return f.ontapRequestsPerSecondPerCluster <= 2 * Math.max(1, shoots / 1000) && f.controllerCpuPercent <= 5;
}

/** ts / go for each compared figure; null where the Go extension's figure is 0 (no ratio to speak of). */
export function atRestRatio(go: AtRestFigures, ts: AtRestFigures): Record<AtRestMeasure, number | null> {
  return Object.fromEntries(AT_REST_MEASURES.map((m) => [m, go[m] > 0 ? round(ts[m] / go[m], 2) : null])) as Record<AtRestMeasure, number | null>;
}

/** `kube_requests_total` of this controller's /metrics summed by `verb resource`. */
export function requestsByKind(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split("\n")) {
    const m = /^gardener_extension_ontap_kube_requests_total\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const kind = `${labels.verb} ${labels.resource}`;
    out.set(kind, (out.get(kind) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * One user's requests in a kube-apiserver audit log (JSON lines) by `verb resource`: each request once, at its
 * `RequestReceived` event (a watch counts when it starts, as kube_requests_total counts it). A request for no
 * resource (discovery) is named by its path.
 */
export function countAuditedRequests(log: string, user: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of log.split("\n")) {
    if (!line.includes('"RequestReceived"')) continue;
    let ev: AuditEvent;
    try {
      ev = JSON.parse(line) as AuditEvent;
    } catch {
      // A line still being written when the log was read; the next read has it whole.
      continue;
    }
    if (ev.stage !== "RequestReceived" || ev.user?.username !== user) continue;
    const ref = ev.objectRef;
    const what = ref?.resource ? (ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource) : (ev.requestURI ?? "").split("?")[0];
    const kind = `${ev.verb} ${what}`;
    out.set(kind, (out.get(kind) ?? 0) + 1);
  }
  return out;
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
}

/** This controller's requests from its own metrics (the `idle` key's source). */
export function ownMetricsCount(controller: ControllerChild): KubeRequestCount {
  return async () => requestsByKind(await controller.metricsText());
}

/** A user's requests as the world's kube-apiserver logged them (startTestEnv's `audit`). */
export function auditLogCount(auditLogPath: string, user: string): KubeRequestCount {
  return async () => countAuditedRequests(await readFile(auditLogPath, "utf8"), user);
}

/** Until every Extension carries the health check's condition (its first round has looked at each: its first proofs are a one-off). */
export async function waitHealthChecked(world: World, keys: string[], timeoutMs: number, label: string): Promise<void> {
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    const checked = keys.filter((k) => world.latest.get(k)?.status?.conditions?.some((c) => c.type === HEALTH_CONDITION)).length;
    if (checked === keys.length) return;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`${label}: ${checked}/${keys.length} shoots health-checked after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${label}: only ${checked}/${keys.length} shoots health-checked after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Until the requests of what came before are over (no ONTAP request for 2 s; at most 4 minutes). */
export async function quietOntap(world: World): Promise<void> {
  let last = await world.simCalls();
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 2_000));
    const now = await world.simCalls();
    if (now.every((v, j) => v === last[j])) return;
    last = now;
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
