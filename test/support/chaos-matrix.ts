import type { Extension } from "../../src/extension/types.js";
import { callId, FLOW_TITLES, type Flow, FLOWS, isCrash, type MatrixCall, type Mode } from "./chaos-calls.js";
import type { FaultAction, FaultRuleSpec } from "../../src/faults/rules.js";
import { Events, Secrets } from "../../src/kube/resources.js";
import { checkExtensionObject, gardenletRequest, isExtensionReady } from "../../src/testenv/index.js";
import {
  type ChaosLane,
  kubeFingerprint,
  nextLifs,
  ontapFingerprint,
  ontapSnapshot,
  orphans,
  passwordOnOntapIsStored,
  scanForSecrets,
  sleep,
  waitUntil,
} from "./chaos-world.js";
import type { CoveredScenario } from "./chaos-equivalence.js";
import type { MatrixReport } from "./chaos-report.js";
import { svmNameFor } from "./invariants.js";
import { SETUP_WAIT, type SetupWaitBounds, setupWatch } from "./setup-wait.js";
import { projectIdFor, type Shoot, uniqueSuffix } from "./world.js";

/**
 * The fault matrix: record the calls one shoot's create and delete make (ONTAP and Kubernetes, in order),
 * then replay each flow once per (call, fault mode) with exactly that fault, clear it, and require
 * convergence. The matrix is derived from the record, so a call added to the controller is covered without
 * touching this file.
 */

/** How long the crash mode holds the call it kills the process on. */
const CRASH_HOLD_MS = 2500;

export {
  callId,
  FLOW_TITLES,
  type Flow,
  FLOWS,
  FULL_FLOWS,
  FULL_MODES,
  IN_PROCESS_MODES,
  isCrash,
  type MatrixCall,
  type Mode,
  MODES,
} from "./chaos-calls.js";

export interface ScenarioNames {
  project: string;
  projectId: string;
  shoot: string;
  namespace: string;
  svm: string;
}

export function scenarioNames(): ScenarioNames {
  const project = `c${uniqueSuffix()}`;
  const shoot = `s${uniqueSuffix()}`;
  const projectId = projectIdFor(project);
  return { project, projectId, shoot, namespace: `shoot--${project}--${shoot}`, svm: svmNameFor(projectId) };
}

function generalize(path: string, n: ScenarioNames): string {
  return path
    // An Event's name is made up per event (aggregation patches it by that name).
    .replace(/\/events\/[^/]+$/, "/events/{event}")
    .replaceAll(n.namespace, "{ns}")
    .replaceAll(n.svm, "{svm}")
    .replaceAll(n.project, "{project}")
    .replaceAll(n.shoot, "{shoot}");
}

function concretize(pattern: string, n: ScenarioNames): string {
  return pattern
    .replaceAll("{ns}", n.namespace)
    .replaceAll("{svm}", n.svm)
    .replaceAll("{project}", n.project)
    .replaceAll("{shoot}", n.shoot);
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function ontapNote(query: string, username: string, admin: string): string | undefined {
  if (username && username !== admin) return "as the shoot user (password check)";
  const params = new URLSearchParams(query);
  if (params.get("name")) return "SVM lookup by name";
  if (params.get("return_records") === "false") return "count";
  if (params.get("owner.uuid")) return "accounts of the SVM";
  return undefined;
}

/** Turns one flow's logs into matrix calls: in arrival order, each with its occurrence number. */
export function deriveCalls(
  flow: Flow,
  names: ScenarioNames,
  ontap: { at: number; cluster: string; method: string; template: string; query: string; username: string }[],
  kube: { at: number; method: string; path: string }[],
  adminUsername: string,
): MatrixCall[] {
  const merged = [
    ...ontap.map((c) => ({ at: c.at, side: "ontap" as const, method: c.method, pattern: c.template, cluster: c.cluster, note: ontapNote(c.query, c.username, adminUsername) })),
    ...kube
      .filter((c) => c.path.includes(names.namespace) || c.path.includes(names.shoot))
      .map((c) => ({ at: c.at, side: "kube" as const, method: c.method, pattern: generalize(c.path, names), cluster: undefined, note: undefined })),
  ].sort((a, b) => a.at - b.at);
  const seen = new Map<string, number>();
  return merged.map((c, index) => {
    const key = `${c.side} ${c.cluster ?? ""} ${c.method} ${c.pattern}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    return { flow, index, side: c.side, method: c.method, pattern: c.pattern, ...(c.cluster ? { cluster: c.cluster } : {}), nth, ...(c.note ? { note: c.note } : {}) };
  });
}

// ---- flows ----

interface FlowRun {
  /** The shoot the flow acts on. */
  target: Shoot;
  /** Passwords on ONTAP that are not the controller's (set by hand): not a secret-first violation. */
  foreignPasswords: string[];
  /** Shoots that must stay as they are (a sibling of the same project). */
  bystanders: Shoot[];
  /** Starts the flow (after the fault is armed). */
  trigger(): Promise<void>;
  /** The controller says it is done: Succeeded for create, the Extension gone for delete. */
  done(): Promise<boolean>;
  /** The shoots as the invariant checker should see them once the flow is done. */
  expectations(): Shoot[];
}

async function shootWithNames(lane: ChaosLane, names: ScenarioNames, lifs = nextLifs()): Promise<Shoot> {
  return lane.world.createShoot({ project: names.project, shoot: names.shoot, ...lifs });
}

/** Ready as gardenlet decides it: Gardener's `checkExtensionObject`, the timestamp of the request included. */
function succeeded(e: Extension | undefined): boolean {
  return isExtensionReady(e);
}

/**
 * Waits for a fault-free setup to be ready; fails only when the controller stalls on it or at the cap
 * (test/support/setup-wait.ts says why a slow machine is not a stall).
 */
async function waitSucceeded(lane: ChaosLane, shoot: Shoot, bounds: SetupWaitBounds = SETUP_WAIT): Promise<void> {
  const watch = setupWatch(bounds, Date.now());
  let seq = lane.kubeSeq();
  let requests = 0;
  let reconciles = 0;
  let lookedAt = 0;
  for (;;) {
    const ready = succeeded(await lane.world.extension(shoot));
    // The activity is read once a second: the proxy's log is long, a process lane's count is a scrape.
    if (!ready && Date.now() - lookedAt >= 1000) {
      lookedAt = Date.now();
      const calls = lane.kubeLog(seq);
      seq = calls.at(-1)?.seq ?? seq;
      requests += calls.filter((c) => c.path.includes(shoot.namespace)).length;
      reconciles = await lane.controller.reconciles();
    }
    const verdict = watch.judge(Date.now(), ready, requests + reconciles);
    if (verdict.kind === "ready") return;
    if (verdict.kind !== "waiting") {
      // What the controller last wrote says where it stopped.
      const ext = await lane.world.extension(shoot);
      const status = ext?.status;
      const why = verdict.kind === "stalled" ? `stalled: nothing done for it in ${verdict.quietMs} ms` : `not ready after ${verdict.elapsedMs} ms though the controller kept working on it`;
      throw new Error(
        `setup: ${shoot.namespace} ${why} (${requests} of its requests passed the fault proxy, the lane's reconciles reached ${reconciles}): ${JSON.stringify({ lastOperation: status?.lastOperation, lastError: status?.lastError })}; Gardener's check: ${ext ? checkExtensionObject(ext) : "gone"}`,
      );
    }
    await sleep(100);
  }
}

/** Prepares a flow up to the point where the fault is armed; names are fixed first so the fault can name them. */
export async function prepareFlow(lane: ChaosLane, flow: Flow, names: ScenarioNames): Promise<FlowRun> {
  const { world } = lane;
  if (flow === "create") {
    let target: Shoot | undefined;
    const lifs = nextLifs();
    const placeholder: Shoot = {
      name: names.shoot,
      extensionName: "ontap",
      namespace: names.namespace,
      projectId: names.projectId,
      ...lifs,
      firewall: true,
    };
    return {
      target: placeholder,
      foreignPasswords: [],
      bystanders: [],
      async trigger() {
        target = await shootWithNames(lane, names, lifs);
      },
      done: async () => Boolean(target) && succeeded(await world.extension(placeholder)),
      expectations: () => [placeholder],
    };
  }
  if (flow === "create-sibling") {
    // The first shoot of the project exists and is settled; the scenario's names are the second one's.
    const lifs = nextLifs();
    const first = await world.createShoot({ project: names.project, shoot: `s${uniqueSuffix()}`, ...lifs });
    await waitSucceeded(lane, first);
    const second: Shoot = { name: names.shoot, extensionName: "ontap", namespace: names.namespace, projectId: names.projectId, ...lifs, firewall: true };
    let created = false;
    return {
      target: second,
      foreignPasswords: [],
      bystanders: [first],
      async trigger() {
        await shootWithNames(lane, names, lifs);
        created = true;
      },
      done: async () => created && succeeded(await world.extension(second)),
      expectations: () => [second, first],
    };
  }
  if (flow === "rotate") {
    const target = await shootWithNames(lane, names);
    await waitSucceeded(lane, target);
    const before = await storedPassword(lane, target);
    const drifted = `Drifted-by-hand-${uniqueSuffix()}-Passw0rd`;
    world.knownSecrets.add(drifted);
    const host = (await ontapSnapshot(lane)).findIndex((c) => c.svms.some((s) => s.name === names.svm));
    await lane.admins[host]!.setAccountPassword(names.svm, names.shoot, drifted);
    return {
      target,
      foreignPasswords: [drifted],
      bystanders: [],
      trigger: () => world.annotate(target, gardenletRequest("reconcile")),
      // Done once a reconcile after the trigger rotated the password (a new one, promoted, nothing pending).
      async done() {
        if (!succeeded(await world.extension(target))) return false;
        const secret = await lane.world.kube.get<{ data?: Record<string, string> }>(Secrets, target.namespace, "ontap-svm-credentials");
        const password = secret?.data?.password ? Buffer.from(secret.data.password, "base64").toString("utf8") : undefined;
        return password !== undefined && password !== before && !secret?.data?.pendingPassword;
      },
      expectations: () => [target],
    };
  }
  // The sibling shares the project (and so the SVM and its LIFs) and the LIF addresses.
  const lifs = nextLifs();
  const target = await shootWithNames(lane, names, lifs);
  const bystanders: Shoot[] = [];
  if (flow === "delete-sibling") {
    bystanders.push(await world.createShoot({ project: names.project, shoot: `s${uniqueSuffix()}`, ...lifs }));
  }
  await Promise.all([target, ...bystanders].map((s) => waitSucceeded(lane, s)));
  return {
    target,
    foreignPasswords: [],
    bystanders,
    trigger: () => world.deleteShoot(target),
    done: async () => (await world.extension(target)) === undefined,
    expectations: () => [{ ...target, deleted: true }, ...bystanders],
  };
}

// ---- recording ----

export interface FlowRecord {
  flow: Flow;
  calls: MatrixCall[];
  reconciles: number;
  seconds: number;
}

async function storedPassword(lane: ChaosLane, shoot: Shoot): Promise<string | undefined> {
  const secret = await lane.world.kube.get<{ data?: Record<string, string> }>(Secrets, shoot.namespace, "ontap-svm-credentials");
  return secret?.data?.password ? Buffer.from(secret.data.password, "base64").toString("utf8") : undefined;
}

/** Runs each flow once without faults and records what it called. */
export async function recordFlows(lane: ChaosLane, flows: Flow[] = FLOWS): Promise<FlowRecord[]> {
  const out: FlowRecord[] = [];
  const admin = lane.world.sim.clusters[0]?.username ?? "admin";
  for (const flow of flows) {
    await lane.resetOntap();
    await lane.clearFaults();
    const names = scenarioNames();
    const run = await prepareFlow(lane, flow, names);
    const kubeFrom = lane.kubeSeq();
    const ontapFrom = 0;
    // The ONTAP log was reset with the state; setup calls of the delete flows are skipped by time.
    const startedAt = performance.timeOrigin + performance.now();
    const reconciles0 = await lane.controller.reconciles();
    const t0 = Date.now();
    await run.trigger();
    const ok = await waitUntil(async () => ((await run.done()) ? true : undefined), 60_000, 50);
    if (!ok) throw new Error(`recording ${flow}: the flow did not finish without faults`);
    const seconds = (Date.now() - t0) / 1000;
    // Events are sent in the background, and a flow may look done a moment before its reconcile ends.
    await sleep(700);
    const reconciles = (await lane.controller.reconciles()) - reconciles0;
    const ontap = (await lane.ontapLog(ontapFrom)).filter((c) => c.at >= startedAt);
    const kube = lane.kubeLog(kubeFrom);
    out.push({ flow, calls: deriveCalls(flow, names, ontap, kube, admin), reconciles, seconds });
    for (const s of [run.target, ...run.bystanders]) await lane.discard(s);
  }
  return out;
}

// ---- one scenario ----

export interface ScenarioResult {
  flow: Flow;
  call: string;
  index: number;
  mode: Mode;
  /** The fault fired on its call (else the run did not reach the call: nothing was proven). */
  fired: boolean;
  converged: boolean;
  /** Reconciles from the trigger to convergence (a killed process's cut-short reconcile counts). */
  reconciles: number;
  /** Seconds from the trigger to convergence. */
  seconds: number;
  /** Seconds from clearing the fault to convergence. */
  secondsAfterClear: number;
  /** Permanent faults: what the operator saw while the fault held. */
  errorStatus?: "Error" | "tolerated" | "event-only";
  errorMessage?: string;
  violations: string[];
}

export interface ScenarioBounds {
  /** Time allowed after the fault is cleared. */
  convergeMs: number;
  /** Time a permanent fault is held before the scenario gives up waiting for an Error status. */
  permanentHoldMs: number;
  /** Time allowed for the armed call to be reached. */
  reachMs: number;
}

export const DEFAULT_BOUNDS: ScenarioBounds = { convergeMs: 60_000, permanentHoldMs: 20_000, reachMs: 30_000 };

/**
 * What a fault-matrix file writes for docs/reliability.md: its fault-free flows (the calls that are rows of
 * its table) and its scenario results, in the report's order. Both matrix files build it here, so the
 * stand-in's and the real resource manager's sections cannot drift apart in shape.
 */
export function matrixReport(o: {
  records: readonly FlowRecord[];
  results: readonly ScenarioResult[];
  modes: Mode[];
  filtered: boolean;
  startedAt: Date;
  lanes: { inProcess: number; process: number };
  maxReconciles: number;
  /** Only some recorded calls are rows (the real resource manager's part): the others are counted, not shown. */
  isRow?: (call: MatrixCall, flowCalls: MatrixCall[]) => boolean;
  resourceManager?: MatrixReport["resourceManager"];
  selection?: string;
  /** The scenarios not run because a kept one proves the same (test/support/chaos-equivalence.ts). */
  covered?: CoveredScenario[];
}): MatrixReport {
  return {
    kind: "fault-matrix",
    ...(o.resourceManager ? { resourceManager: o.resourceManager } : {}),
    ...(o.selection ? { selection: o.selection } : {}),
    filtered: o.filtered,
    startedAt: o.startedAt.toISOString(),
    wallSeconds: (Date.now() - o.startedAt.getTime()) / 1000,
    lanes: o.lanes,
    bounds: { ...DEFAULT_BOUNDS, maxReconciles: o.maxReconciles },
    flows: o.records.map((r) => {
      const rows = o.isRow ? r.calls.filter((c) => o.isRow!(c, r.calls)) : r.calls;
      return {
        flow: r.flow,
        title: FLOW_TITLES[r.flow],
        calls: rows.map((c) => ({ index: c.index, id: callId(c), ...(c.note ? { note: c.note } : {}) })),
        ...(o.isRow ? { recordedCalls: r.calls.length } : {}),
        reconciles: r.reconciles,
        seconds: r.seconds,
      };
    }),
    modes: o.modes,
    ...(o.covered && o.covered.length > 0 ? { covered: o.covered } : {}),
    results: [...o.results].sort((a, b) => a.flow.localeCompare(b.flow) || a.index - b.index),
  };
}

const RETRYABLE_ONTAP = "13434889";

function actionFor(side: "ontap" | "kube", method: string, mode: Mode): { action: FaultAction; count: number } {
  const write = method !== "GET";
  switch (mode) {
    case "transient":
      return { action: side === "ontap" ? { type: "error", status: 500, code: RETRYABLE_ONTAP } : { type: "error", status: 500 }, count: 1 };
    case "permanent":
      if (side === "ontap") {
        return {
          action: write ? { type: "error", status: 400, code: "262185", message: "Simulated permanent refusal." } : { type: "error", status: 403, code: "6", message: "not authorized for that command" },
          count: 1_000_000,
        };
      }
      return { action: write ? { type: "error", status: 422 } : { type: "error", status: 403 }, count: 1_000_000 };
    case "reset":
      return { action: { type: "reset" }, count: 1 };
    case "hang":
      return { action: { type: "hang" }, count: 1 };
    case "applyThenFail":
      return { action: { type: "applyThenFail", status: 500 }, count: 1 };
    case "crash":
      // Long enough to kill the process while the call is held; the simulator still applies the call
      // afterwards (the server acted, the client is gone), the proxy drops it (the server never saw it).
      return { action: { type: "delay", ms: CRASH_HOLD_MS }, count: 1 };
    case "crash-unapplied":
      return { action: { type: "hang" }, count: 1 };
  }
}

interface ArmedFault {
  hits(): Promise<number>;
}

async function arm(lane: ChaosLane, call: MatrixCall, mode: Mode, names: ScenarioNames): Promise<ArmedFault> {
  const { action, count } = actionFor(call.side, call.method, mode);
  if (call.side === "kube") {
    const rule = lane.world.proxy!.rules.add({
      method: call.method,
      path: `^${concretize(call.pattern, names).split("{event}").map(escapeRegex).join("[^/]+")}$`,
      nth: call.nth,
      count,
      action,
    });
    return { hits: async () => lane.world.proxy!.rules.list().find((r) => r.id === rule.id)?.hits ?? 0 };
  }
  const index = lane.world.sim.clusters.findIndex((c) => c.name === call.cluster);
  const admin = lane.admins[index];
  if (!admin) throw new Error(`no simulated cluster ${call.cluster}`);
  const spec: FaultRuleSpec = {
    method: call.method,
    path: `^${call.pattern.replace(/\{[^}]+\}/g, "[^/]+")}$`,
    cluster: call.cluster,
    nth: call.nth,
    count,
    action,
  };
  const id = await admin.addFault(spec);
  return { hits: async () => (await admin.listFaults()).rules.find((r) => r.id === id)?.hits ?? 0 };
}

export async function runScenario(lane: ChaosLane, call: MatrixCall, mode: Mode, bounds: ScenarioBounds = DEFAULT_BOUNDS): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    flow: call.flow,
    call: callId(call),
    index: call.index,
    mode,
    fired: false,
    converged: false,
    reconciles: 0,
    seconds: 0,
    secondsAfterClear: 0,
    violations: [],
  };
  const tStart = Date.now();
  await lane.clearFaults();
  await lane.resetOntap();
  const names = scenarioNames();
  const run = await prepareFlow(lane, call.flow, names);
  const tPrepared = Date.now();
  const beforeOntap = run.bystanders.length > 0 ? ontapFingerprint(await ontapSnapshot(lane), run.bystanders[0]!) : [];
  const beforeKube = run.bystanders.length > 0 ? await kubeFingerprint(lane, run.bystanders[0]!) : {};
  const fault = await arm(lane, call, mode, names);
  const reconciles0 = await lane.controller.reconciles();
  const t0 = Date.now();
  let cutShort = 0;
  try {
    await run.trigger();
    // Wait until the armed call is reached, or the flow finishes without reaching it.
    const reached = await waitUntil(
      async () => ((await fault.hits()) > 0 ? "fired" : (await run.done()) ? "done" : undefined),
      bounds.reachMs,
      isCrash(mode) ? 10 : 40,
    );
    // Calls after the visible end of a flow (the last Event of a delete) arrive a moment later.
    if (reached === "done") await waitUntil(async () => ((await fault.hits()) > 0 ? true : undefined), 2000, 20);
    result.fired = reached === "fired" || (await fault.hits()) > 0;
    const firedAt = Date.now();
    if (isCrash(mode) && result.fired) {
      await lane.controller.kill?.();
      cutShort = 1;
      await lane.clearFaults();
      // Nothing runs now: the secret-first protocol must hold at this very instant.
      result.violations.push(...(await passwordOnOntapIsStored(lane, run.target, run.foreignPasswords)));
      if (mode === "crash" && call.side === "ontap") {
        // The held ONTAP call still lands (the server acts though its client is dead): it must hold then too.
        await sleep(Math.max(0, firedAt + CRASH_HOLD_MS + 300 - Date.now()));
        result.violations.push(
          ...(await passwordOnOntapIsStored(lane, run.target, run.foreignPasswords)).map((v) => `after the held write landed: ${v}`),
        );
      }
      await lane.controller.start?.();
    }
    if (mode === "permanent" && result.fired) {
      // Only the status write itself can keep the Error out of the status; then a Warning event must say it.
      const statusWrite = /\/extensions\/[^/]+\/status$/.test(call.pattern);
      const warned = async () => {
        const events = await lane.world.kube.list<{ type?: string; reason?: string }>(Events, run.target.namespace);
        return events.items.some((e) => e.type === "Warning" && /Failed$/.test(e.reason ?? ""));
      };
      const seen = await waitUntil(async () => {
        const ext = await lane.world.extension(run.target);
        if (ext?.status?.lastOperation?.state === "Error") return { kind: "Error" as const, ext };
        if (await run.done()) return { kind: "tolerated" as const };
        if (statusWrite && (await warned())) return { kind: "event-only" as const };
        return undefined;
      }, bounds.permanentHoldMs, 100);
      result.errorStatus = seen?.kind;
      if (seen?.kind === "Error") {
        result.errorMessage = seen.ext.status?.lastError?.description ?? seen.ext.status?.lastOperation?.description;
        if (!result.errorMessage) result.violations.push("Error status without a message");
      } else if (seen?.kind === "event-only") {
        // Hold the fault through a few more retries: they must keep failing safely, not give up.
        await sleep(2000);
      } else if (!seen) {
        result.violations.push(`no Error status within ${bounds.permanentHoldMs} ms of a permanent fault`);
      }
    }
  } finally {
    await lane.clearFaults();
  }
  const tClear = Date.now();

  // Converged: the controller says done and every invariant holds; give it the bound to get there.
  let lastProblems: string[] = ["the flow did not finish"];
  const converged = await waitUntil(
    async () => {
      if (!(await run.done())) {
        lastProblems = [`the flow did not finish: ${await describe(lane, run.target)}`];
        return undefined;
      }
      const problems = [
        ...(await lane.world.invariants(run.expectations())),
        ...orphans(await ontapSnapshot(lane), run.expectations().filter((s) => !s.deleted)),
      ];
      lastProblems = problems;
      return problems.length === 0 ? true : undefined;
    },
    bounds.convergeMs,
    100,
  );
  const t1 = Date.now();
  result.converged = Boolean(converged);
  result.seconds = (t1 - t0) / 1000;
  result.secondsAfterClear = (t1 - tClear) / 1000;
  result.reconciles = (await lane.controller.reconciles()) - reconciles0 + cutShort;
  if (!converged) result.violations.push(...lastProblems.map((p) => `not converged within ${bounds.convergeMs} ms: ${p}`));

  if (run.bystanders.length > 0) {
    const sibling = run.bystanders[0]!;
    const afterOntap = ontapFingerprint(await ontapSnapshot(lane), sibling);
    const afterKube = await kubeFingerprint(lane, sibling);
    if (JSON.stringify(afterOntap) !== JSON.stringify(beforeOntap)) {
      result.violations.push(`the sibling's ONTAP objects changed: ${JSON.stringify(beforeOntap)} -> ${JSON.stringify(afterOntap)}`);
    }
    for (const [k, v] of Object.entries(beforeKube)) {
      if (afterKube[k] !== v) result.violations.push(`the sibling's ${k} changed (${v} -> ${afterKube[k]})`);
    }
  }
  const drained = lane.controller.drainLogs();
  if (process.env.CHAOS_DEBUG) {
    for (const line of drained) {
      try {
        const o = JSON.parse(line);
        if (["reconciling", "requeued", "reconcile failed; retrying with backoff"].includes(o.msg)) process.stderr.write(`DBG ${new Date(o.time).toISOString().slice(11, 23)} ${o.msg} ${o.afterMs ?? ""} ${String(o.reason ?? o.err?.message ?? "").slice(0, 160)}\n`);
      } catch {}
    }
  }
  result.violations.push(...scanForSecrets(drained, lane.world.knownSecrets));
  const tChecked = Date.now();
  for (const s of [run.target, ...run.bystanders]) await lane.discard(s);
  // A shoot that did not converge may still be retried by the controller: let that die down first.
  if (!result.converged) await lane.quiesce();
  if (process.env.CHAOS_TIMING) process.stderr.write(`timing ${lane.name} prepare ${tPrepared - tStart} run ${t0 - tPrepared}+${t1 - t0} check ${tChecked - t1} discard ${Date.now() - tChecked}\n`);
  return result;
}

async function describe(lane: ChaosLane, shoot: Shoot): Promise<string> {
  const ext = await lane.world.extension(shoot);
  if (!ext) return "Extension gone";
  const op = ext.status?.lastOperation;
  return `${op?.type}/${op?.state}: ${op?.description ?? ""}`.slice(0, 300);
}
