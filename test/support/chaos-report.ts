import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * The chaos suite's report. Each chaos test file writes its results as JSON into a directory this global
 * setup provides; when the run ends, the results become one table per flow (call x mode -> converged,
 * reconciles, seconds) printed to the terminal and written to docs/reliability.md with the command that
 * produced it and the date.
 */

declare module "vitest" {
  export interface ProvidedContext {
    chaosResultsDir: string;
  }
}

const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");
export const RELIABILITY_DOC = path.join(REPO_ROOT, "docs", "reliability.md");

export interface MatrixReport {
  kind: "fault-matrix";
  /**
   * Who applied the ManagedResources: the stand-in (the whole matrix, test/chaos/fault-matrix.test.ts) or the
   * real gardener-resource-manager (its part of the matrix, test/chaos/fault-matrix-grm.test.ts, shown apart).
   */
  resourceManager?: "stand-in" | "real";
  /** The real part: which calls and modes it runs and why (the test's own words). */
  selection?: string;
  /** Only some scenarios ran (CHAOS_FILTER): printed, but docs/reliability.md is left as it is. */
  filtered: boolean;
  startedAt: string;
  wallSeconds: number;
  lanes: { inProcess: number; process: number };
  bounds: { convergeMs: number; permanentHoldMs: number; reachMs: number; maxReconciles: number };
  /** `calls`: the rows of the table; `recordedCalls`: every call of the fault-free run, when only some are rows. */
  flows: { flow: string; title: string; calls: { index: number; id: string; note?: string }[]; recordedCalls?: number; reconciles: number; seconds: number }[];
  modes: string[];
  /** Scenarios not run: a kept one (`by`) proves the same, for the reason given (test/support/chaos-equivalence.ts). */
  covered?: { flow: string; index: number; mode: string; by: { flow: string; index: number; mode: string }; reason: string }[];
  results: {
    flow: string;
    call: string;
    index: number;
    mode: string;
    fired: boolean;
    converged: boolean;
    reconciles: number;
    seconds: number;
    secondsAfterClear: number;
    errorStatus?: string;
    violations: string[];
  }[];
}

export interface SectionReport {
  kind: "section";
  order: number;
  title: string;
  markdown: string;
  /** Lines for the document's Totals (e.g. "leadership: 3 scenarios, 3 passed"). */
  totals?: string[];
}

export type ChaosReport = MatrixReport | SectionReport;

export function writeReport(dir: string, name: string, report: ChaosReport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(report, null, 1));
}

const MODE_TITLES: Record<string, string> = {
  transient: "transient",
  permanent: "permanent",
  reset: "reset",
  hang: "hang",
  applyThenFail: "apply-then-fail",
  crash: "crash (SIGKILL)",
  "crash-unapplied": "crash, unapplied",
};

type Covered = NonNullable<MatrixReport["covered"]>[number];

/** `≡ #6` (the same mode at row 6), `≡ transient` (another mode at this row), `≡ delete-last #6`. */
function coveredCell(c: Covered): string {
  const row = c.by.flow === c.flow ? (c.by.index === c.index ? "" : `#${c.by.index + 1}`) : `${c.by.flow} #${c.by.index + 1}`;
  const mode = c.by.mode === c.mode ? "" : MODE_TITLES[c.by.mode] ?? c.by.mode;
  return `≡ ${[row, mode].filter(Boolean).join(" ")}`;
}

function cell(r: MatrixReport["results"][number] | undefined, covered?: Covered): string {
  if (!r && covered) return coveredCell(covered);
  if (!r) return "–";
  if (!r.fired) return "not reached";
  const mark = r.converged && r.violations.length === 0 ? "✓" : "✗";
  const status = r.errorStatus === "tolerated" ? " tol." : r.errorStatus === "event-only" ? " ev." : "";
  return `${mark} ${r.reconciles}r ${r.seconds.toFixed(1)}s${status}`;
}

export function renderMatrix(report: MatrixReport): { markdown: string; totals: Totals } {
  const totals = totalsOf(report);
  const lines: string[] = [];
  if (report.selection) lines.push(report.selection, "");
  lines.push(
    `Every call the controller makes during one shoot's create and delete was recorded (ONTAP through the simulator's call log, Kubernetes through the fault proxy), and each flow was replayed once per call and fault mode (once per call path where equivalent scenarios are marked \`≡\`) with exactly that fault at exactly that call (its nth occurrence). A cell reads \`✓ <reconciles>r <seconds>s\`: converged (the flow finished, the invariant checker found nothing, no orphaned SVM, LIF or user, no password on ONTAP that the seed Secret does not hold, no password in a log line, a sibling untouched) after that many reconciles and seconds, counted from the start of the flow. \`tol.\`: a permanent fault the flow tolerated (an Event write). \`ev.\`: a permanent fault on the status write itself, reported by a Warning event. \`not reached\`: the run never made that call, nothing proven.`,
  );
  lines.push("");
  lines.push(
    `Modes: **transient** ONTAP 500 code 13434889 / Kubernetes 500, once; **permanent** ONTAP 400 (writes) or 403 (reads) / Kubernetes 422 (writes) or 403 (reads) on that call and every later one, held until the Extension shows \`Error\` with a message (at most ${report.bounds.permanentHoldMs / 1000} s), then cleared; **reset** the connection, once; **hang** past the client timeout (3 s both sides), once; **apply-then-fail** the server acts and the answer is lost, once; **crash** the controller process is SIGKILLed while the call is held (a 2.5 s delay: the simulator still applies it afterwards, the proxy never forwards it), then a new process starts${report.modes.includes("crash-unapplied") ? "; **crash, unapplied** the same while the call hangs, so neither server ever acts on it" : ""}.`,
  );
  lines.push("");
  if (report.covered?.length) lines.push(equivalenceText(report.covered, report.results.length), "");
  lines.push(
    `Bound: convergence within ${report.bounds.convergeMs / 1000} s of clearing the fault and within ${report.bounds.maxReconciles} reconciles.`,
  );
  for (const flow of report.flows) {
    lines.push("", `### ${flow.title}`, "");
    const recorded = flow.recordedCalls ?? flow.calls.length;
    const rows = recorded === flow.calls.length ? "" : ` (${flow.calls.length} of them in this table)`;
    lines.push(`Fault-free: ${recorded} calls${rows}, ${flow.reconciles} reconciles, ${flow.seconds.toFixed(1)} s.`, "");
    lines.push(`| # | call | ${report.modes.map((m) => MODE_TITLES[m] ?? m).join(" | ")} |`);
    lines.push(`|---|---|${report.modes.map(() => "---").join("|")}|`);
    for (const call of flow.calls) {
      const cells = report.modes.map((mode) =>
        cell(
          report.results.find((r) => r.flow === flow.flow && r.index === call.index && r.mode === mode),
          report.covered?.find((c) => c.flow === flow.flow && c.index === call.index && c.mode === mode),
        ),
      );
      const note = call.note ? ` (${call.note})` : "";
      lines.push(`| ${call.index + 1} | \`${call.id}\`${note} | ${cells.join(" | ")} |`);
    }
  }
  const failures = report.results.filter((r) => !r.converged || r.violations.length > 0 || !r.fired);
  if (failures.length > 0) {
    lines.push("", "### Scenarios that did not pass", "");
    for (const f of failures) lines.push(`- ${f.flow} / ${f.call} / ${f.mode}: ${f.fired ? f.violations.join("; ") : "the call was not reached"}`);
  }
  return { markdown: lines.join("\n"), totals };
}

/** What the `≡` cells mean, with the count of each kind of equivalence as this run found it. */
export function equivalenceText(covered: readonly Covered[], run: number): string {
  const counts = new Map<string, number>();
  for (const c of covered) {
    const key = c.reason === "same call path" ? `${c.flow} → ${c.by.flow}` : c.reason;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const samePath = [...counts].filter(([k]) => k.includes("→")).map(([k, n]) => `${k} ${n}`).join(", ");
  const reads = counts.get("apply-then-fail at a read is transient") ?? 0;
  return [
    `Equivalent scenarios: ${run} ran, ${covered.length} did not because a scenario that ran proves the same; their cells read \`≡ #<row>\` (the same mode at that row), \`≡ <mode>\` (that mode at this row) or \`≡ <flow> #<row>\`. Computed from this recording by test/support/chaos-equivalence.ts (test/chaos/fault-matrix.test.ts checks on its recording that every call in every mode runs or has a cover on its call path):`,
    `- **same call path** (${covered.length - reads}: ${samePath}): the same call, the ManagedResource it names read as a placeholder (a delete tears the shoot's components down one after another through one function), with the same call right before and right after it, so a delete's teardown runs at its first and last component; between two flows also the same calls from the start (a sibling's delete makes the last shoot's delete's calls until it finds the sibling's user).`,
    `- **apply-then-fail at a read is transient** (${reads}): the read changes nothing on the server, and both answers are a 500 the clients classify as transient (ONTAP codes 1967102 and 13434889 alike).`,
  ].join("\n");
}

export interface Totals {
  calls: number;
  scenarios: number;
  fired: number;
  converged: number;
  worstReconciles: number;
  worstSeconds: number;
  worstAfterClear: number;
}

export function totalsOf(report: MatrixReport): Totals {
  const ok = report.results.filter((r) => r.fired && r.converged && r.violations.length === 0);
  return {
    calls: report.flows.reduce((n, f) => n + f.calls.length, 0),
    scenarios: report.results.length,
    fired: report.results.filter((r) => r.fired).length,
    converged: ok.length,
    worstReconciles: Math.max(0, ...ok.map((r) => r.reconciles)),
    worstSeconds: Math.max(0, ...ok.map((r) => r.seconds)),
    worstAfterClear: Math.max(0, ...ok.map((r) => r.secondsAfterClear)),
  };
}

/** The whole matrix on the stand-in, and the part on the real resource manager. */
function matrices(reports: ChaosReport[]): { matrix?: MatrixReport; real?: MatrixReport } {
  const all = reports.filter((r): r is MatrixReport => r.kind === "fault-matrix");
  return { matrix: all.find((r) => r.resourceManager !== "real"), real: all.find((r) => r.resourceManager === "real") };
}

function matrixSummary(label: string, report: MatrixReport, totals: Totals): string {
  const covered = report.covered?.length ? `; ${report.covered.length} more covered by an equivalent scenario that ran` : "";
  return `${label}: ${totals.calls} calls covered; ${totals.scenarios} scenarios run${covered}; ${totals.fired} reached their call; ${totals.converged} converged; worst case ${totals.worstReconciles} reconciles, ${totals.worstSeconds.toFixed(1)} s from the start of the flow (${totals.worstAfterClear.toFixed(1)} s after the fault was cleared); wall time ${(report.wallSeconds / 60).toFixed(1)} min on ${report.lanes.inProcess} in-process + ${report.lanes.process} process lanes`;
}

function renderDocument(reports: ChaosReport[], command: string, date: string, suiteSeconds: number): { doc: string; summaries: string[] } | undefined {
  const { matrix, real } = matrices(reports);
  const sections = reports.filter((r): r is SectionReport => r.kind === "section").sort((a, b) => a.order - b.order);
  if (!matrix && !real && sections.length === 0) return undefined;
  const parts: string[] = [
    "# Reliability: convergence under faults",
    "",
    "<!-- Generated by the chaos suite (test/chaos, test/support/chaos-report.ts); do not edit by hand. -->",
    "",
    `Produced by \`${command}\` on ${date}.`,
    "",
  ];
  const stand = matrix ? renderMatrix(matrix) : undefined;
  const realPart = real ? renderMatrix(real) : undefined;
  const summaries = [
    matrix && stand ? matrixSummary("fault matrix (stand-in resource manager, every call)", matrix, stand.totals) : undefined,
    real && realPart ? matrixSummary("fault matrix on the real gardener-resource-manager (its calls)", real, realPart.totals) : undefined,
  ].filter((x): x is string => x !== undefined);
  if (matrix || real) {
    parts.push(
      "## Totals",
      "",
      // The first part names the matrix, the others are its numbers.
      ...summaries.map((line) => line.split("; ").map((part, i) => (i === 0 ? `- ${part}` : `  - ${part}`)).join("\n")),
      ...sections.flatMap((sec) => (sec.totals ?? []).map((t) => `- ${t}`)),
      `- the whole chaos suite (both fault matrices, state matrix, leadership, siblings, soak) took ${(suiteSeconds / 60).toFixed(1)} min`,
      "",
    );
  }
  if (stand) parts.push("## Fault matrix", "", stand.markdown, "");
  if (realPart) parts.push("## Fault matrix on the real gardener-resource-manager", "", realPart.markdown, "");
  for (const s of sections) parts.push(`## ${s.title}`, "", s.markdown, "");
  parts.push(
    "## Running it",
    "",
    "- `npm run test:chaos`: everything above (both fault matrices, state matrix, leadership, siblings, soak) against a real kube-apiserver and the ONTAP simulator; ends with this document.",
    "- `npx vitest run --project chaos-grm`: the real resource manager's part of the matrix alone (`CHAOS_GRM_LANES`, default 2, `CHAOS_GRM_PROCESS_LANES`, default 1; `CHAOS_FILTER` and `CHAOS_MODES` as below).",
    "- `CHAOS_FULL=1 npm run test:chaos`: two more flows (a second shoot joining its project's SVM; the repair of a password drifted on ONTAP) and one more mode (SIGKILL while the call hangs, so neither server acts on it).",
    "- `CHAOS_FILTER=<a regular expression on '<flow> <mode> <call>'>`, `CHAOS_MODES=transient,crash`: one scenario or a few, while working on a bug (prints the table, leaves this file alone).",
    "- `CHAOS_LANES` / `CHAOS_PROCESS_LANES`: scenarios run in parallel lanes (default 3 with the controller in the test process, 2 with it as its own process for the crash modes); each lane has its own simulator, fault proxy and controller.",
    "- `SOAK_SEED=<n>` repeats a soak; `SOAK_SECONDS=<n>` makes it longer (default 60 s of chaos while creating, half that while deleting).",
    "",
    "What the matrix does not cover call by call: the informers' list and watch requests (not one shoot's calls; the soak puts faults on them, as on every endpoint) and calls a flow makes only on some runs.",
    "",
  );
  return { doc: parts.join("\n"), summaries };
}

export default function setup(project: TestProject): () => void {
  const started = Date.now();
  const dir = path.join(tmpdir(), `ontap-chaos-results-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  project.provide("chaosResultsDir", dir);
  return () => {
    let reports: ChaosReport[] = [];
    try {
      reports = readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as ChaosReport);
    } catch {
      return;
    }
    const args = process.argv.slice(2).join(" ");
    const command = process.env.npm_lifecycle_event === "test:chaos" && !args.includes(".test.ts")
      ? `npm run test:chaos${process.env.CHAOS_FULL === "1" ? " (CHAOS_FULL=1)" : ""}`
      : `vitest ${args}`;
    const rendered = renderDocument(reports, command, new Date().toISOString().slice(0, 10), (Date.now() - started) / 1000);
    rmSync(dir, { recursive: true, force: true });
    if (!rendered) return;
    // The document is the whole matrix or nothing: a partial run (one file, a filter) only prints.
    const { matrix, real } = matrices(reports);
    const complete = matrix !== undefined && !matrix.filtered && (real === undefined || !real.filtered) && reports.some((r) => r.kind === "section");
    if (complete) writeFileSync(RELIABILITY_DOC, rendered.doc);
    const where = complete ? `wrote ${path.relative(REPO_ROOT, RELIABILITY_DOC)}` : "partial run: docs/reliability.md left as it is";
    process.stdout.write(`\n${rendered.doc}\n\n${rendered.summaries.map((s) => `chaos: ${s}\n`).join("")}chaos: ${where}\n`);
  };
}
