import type { DoctorRow } from "../diagnosis/row.js";
import type { ShootObservation } from "../diagnosis/observation.js";

/**
 * The pure half of the storage health check: the doctor's rows for one shoot (src/doctor/diagnose.ts, the
 * same read-only observation) plus the webhook probe, turned into the Extension conditions Gardener reads.
 *
 * - `SystemComponentsHealthy` is the type Gardener's health-check library uses for what an extension runs in
 *   the shoot, and one of the four gardenlet copies from Extensions into the Shoot's status. Everything this
 *   extension keeps working goes into it: the ManagedResources, the shoot webhook, and the storage below, so a
 *   broken SVM shows in the Shoot, not only here.
 * - `StorageHealthy` (this extension's own) says what is wrong with the storage itself (SVM, LIFs, the
 *   credentials Trident uses) and what to do about it. Gardenlet does not copy it; it is there for operators
 *   and the doctor-like detail the Shoot condition only summarizes.
 *
 * Status values and reasons follow Gardener's library: True/HealthCheckSuccessful, False/HealthCheckUnsuccessful,
 * Progressing/HealthCheckProgressing (the resource manager is still catching up), Unknown/ConditionCheckError
 * (a check could not be executed).
 */
export const SYSTEM_COMPONENTS_HEALTHY = "SystemComponentsHealthy";
export const STORAGE_HEALTHY = "StorageHealthy";

export type HealthStatus = "True" | "False" | "Unknown" | "Progressing";

export interface HealthCondition {
  type: string;
  status: HealthStatus;
  reason: string;
  message: string;
  /** Gardener error codes (ERR_INFRA_*) for what is broken, so Gardener can classify it. */
  codes: string[];
}

export type WebhookProbe = { result: "ok" } | { result: "unreachable"; error: string } | { result: "not-configured" };

export interface HealthReport {
  conditions: HealthCondition[];
  /** For per-shoot metrics. */
  facts: {
    svmState?: string;
    lifsExpected: number;
    lifsUp: number;
    /** true: the stored password authenticates; false: ONTAP rejects it; undefined: not told. */
    credentialsValid?: boolean;
    managedResourcesHealthy: number;
    managedResourcesExpected: number;
    webhookReachable?: boolean;
  };
}

const REASON = {
  True: "HealthCheckSuccessful",
  False: "HealthCheckUnsuccessful",
  Progressing: "HealthCheckProgressing",
  Unknown: "ConditionCheckError",
} as const;

/** Rows about the Extension's own bookkeeping; the reconciler reports those in lastOperation, not here. */
const STATUS_ROWS = new Set(["Extension", "inputs", "lastOperation", "lastError", "ReconcileEscalated"]);
const isManagedResourceRow = (row: DoctorRow) => row.check.startsWith("ManagedResource");

export function evaluateHealth(input: {
  observation: ShootObservation;
  rows: readonly DoctorRow[];
  webhook: WebhookProbe;
  /** The shoot side (shoot-trident.ts: Trident's backend state, the node DaemonSet's mutation), part of the storage. */
  shootRows?: readonly DoctorRow[];
}): HealthReport {
  const { observation: obs, rows, webhook } = input;
  const storageRows = [...rows.filter((r) => !STATUS_ROWS.has(r.check) && !isManagedResourceRow(r)), ...(input.shootRows ?? [])];
  const mrRows = rows.filter(isManagedResourceRow);
  const inputRow = rows.find((r) => r.check === "inputs" && r.status !== "ok");

  const storage = inputRow
    ? condition(STORAGE_HEALTHY, "Unknown", `the shoot's storage cannot be checked: ${describe(inputRow)}`, [])
    : conditionFrom(STORAGE_HEALTHY, storageRows, "the SVM runs with NVMe, every LIF is up with its address, the stored password authenticates");

  const systemParts: { status: HealthStatus; text: string; codes: string[] }[] = [];
  const mrProgressing = new Set((obs.managedResources?.ok ? obs.managedResources.value : []).filter((m) => m.progressing).map((m) => `ManagedResource ${m.name}`));
  for (const row of mrRows) {
    if (row.status === "ok" || row.status === "skip") continue;
    // The doctor calls a resource manager still catching up a warning; Gardener calls it Progressing.
    if (row.status === "warn" && !mrProgressing.has(row.check)) continue;
    const status: HealthStatus = mrProgressing.has(row.check) ? "Progressing" : row.status === "fail" ? "False" : "Unknown";
    systemParts.push({ status, text: describe(row), codes: [] });
  }
  if (webhook.result === "unreachable") {
    systemParts.push({
      status: "False",
      text: `shoot webhook: unreachable (${webhook.error}); Trident's node plugin is admitted without the nvme-tcp init container while it is down: check the extension's pod and its webhook Service`,
      codes: [],
    });
  }
  if (storage.status !== "True") {
    systemParts.push({ status: storage.status === "Progressing" ? "Progressing" : storage.status, text: `storage: ${storage.message}`, codes: storage.codes });
  }
  const systemStatus = worst(systemParts.map((p) => p.status));
  const system =
    systemStatus === "True"
      ? condition(
          SYSTEM_COMPONENTS_HEALTHY,
          "True",
          webhook.result === "ok" ? "All health checks successful; the shoot webhook is reachable" : "All health checks successful",
          [],
        )
      : condition(
          SYSTEM_COMPONENTS_HEALTHY,
          systemStatus,
          systemParts.map((p) => p.text).join("; "),
          [...new Set(systemParts.flatMap((p) => p.codes))],
        );

  return { conditions: [system, storage], facts: facts(obs, mrRows, webhook) };
}

function conditionFrom(type: string, rows: readonly DoctorRow[], okMessage: string): HealthCondition {
  const bad = rows.filter((r) => r.status === "fail" || r.status === "unknown");
  if (bad.length === 0) return condition(type, "True", `All health checks successful: ${okMessage}`, []);
  const status: HealthStatus = bad.some((r) => r.status === "fail") ? "False" : "Unknown";
  return condition(type, status, bad.map(describe).join("; "), [...new Set(bad.flatMap(codesOf))]);
}

function condition(type: string, status: HealthStatus, message: string, codes: string[]): HealthCondition {
  // Conditions are read by people in `kubectl get shoot -o yaml`; keep them readable.
  return { type, status, reason: REASON[status], message: truncate(message, 1800), codes };
}

/** "what is wrong (expected ...): what to do". */
function describe(row: DoctorRow): string {
  const what = `${row.check}: ${row.actual} (expected ${row.expected})`;
  return row.action ? `${what}: ${row.action}` : what;
}

/** Gardener's error codes, so a broken credential or dependency is classified without parsing the message. */
function codesOf(row: DoctorRow): string[] {
  if (row.check === "stored password" && row.status === "fail") return ["ERR_INFRA_UNAUTHENTICATED"];
  if (row.check.startsWith("SVM") || row.check.startsWith("LIF") || row.check.startsWith("ONTAP cluster")) {
    return ["ERR_INFRA_DEPENDENCIES"];
  }
  return [];
}

function worst(statuses: readonly HealthStatus[]): HealthStatus {
  if (statuses.includes("False")) return "False";
  if (statuses.includes("Unknown")) return "Unknown";
  if (statuses.includes("Progressing")) return "Progressing";
  return "True";
}

function facts(obs: ShootObservation, mrRows: readonly DoctorRow[], webhook: WebhookProbe): HealthReport["facts"] {
  const inspected = obs.clusters.find((c) => c.kind === "found" && c.cluster === obs.inspectedCluster);
  const expected = obs.expected?.ok ? obs.expected.value : undefined;
  const lifs = obs.lifs?.ok ? obs.lifs.value : [];
  const lifsUp = (expected?.lifs ?? []).filter((want) =>
    lifs.some((l) => l.name === want.name && l.ipAddress === want.ipAddress && l.state !== "down"),
  ).length;
  const out: HealthReport["facts"] = {
    lifsExpected: expected?.lifs.length ?? 0,
    lifsUp,
    managedResourcesHealthy: mrRows.filter((r) => r.status === "ok").length,
    managedResourcesExpected: expected?.managedResources.length ?? 0,
  };
  if (inspected?.kind === "found") out.svmState = inspected.svm.state;
  if (obs.password?.result === "ok") out.credentialsValid = true;
  else if (obs.password?.result === "rejected") out.credentialsValid = false;
  if (webhook.result !== "not-configured") out.webhookReachable = webhook.result === "ok";
  return out;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
