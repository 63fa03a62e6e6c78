import { styleText } from "node:util";
import type { ShootObservation } from "../diagnosis/observation.js";

/**
 * The demo's state matrix: one row per shoot, derived from the same observation `doctor` makes, so what the
 * demo shows is what an operator would see with `doctor` on a real seed. Pure: observation in, text out.
 */

export type Tone = "good" | "bad" | "busy" | "plain";

export interface Cell {
  text: string;
  tone: Tone;
}

export interface ShootRow {
  namespace: string;
  svm: Cell;
  dataLifs: Cell;
  mgmtLif: Cell;
  user: Cell;
  secret: Cell;
  password: Cell;
  trident: Cell;
  extension: Cell;
  retries: Cell;
}

export const MATRIX_HEADER = ["SHOOT", "SVM", "DATA LIFS", "MGMT LIF", "USER", "SEED SECRET", "PASSWORD", "TRIDENT", "EXTENSION", "RETRIES"];

const cell = (text: string, tone: Tone = "plain"): Cell => ({ text, tone });
const NOT_YET = cell("-", "busy");
const UNKNOWN = cell("?", "bad");

export function summarizeShoot(obs: ShootObservation, retries: number): ShootRow {
  const ext = obs.extension.ok ? obs.extension.value : undefined;
  const want = obs.expected?.ok ? obs.expected.value : undefined;
  const row: ShootRow = {
    namespace: obs.namespace,
    svm: svmCell(obs),
    dataLifs: NOT_YET,
    mgmtLif: NOT_YET,
    user: NOT_YET,
    secret: NOT_YET,
    password: NOT_YET,
    trident: NOT_YET,
    extension: extensionCell(obs),
    retries: cell(String(retries), retries > 0 ? "bad" : "plain"),
  };
  if (!ext || !want) return row;

  if (obs.lifs?.ok) {
    const have = new Map(obs.lifs.value.map((l) => [l.name, l.ipAddress]));
    const data = want.lifs.filter((l) => l.role === "data");
    const good = data.filter((l) => have.get(l.name) === l.ipAddress).length;
    row.dataLifs = cell(`${good}/${data.length}`, good === data.length ? "good" : "busy");
    const mgmt = want.lifs.find((l) => l.role === "management");
    const actual = mgmt ? have.get(mgmt.name) : undefined;
    row.mgmtLif = actual === undefined ? NOT_YET : actual === mgmt?.ipAddress ? cell("ok", "good") : cell("wrong IP", "bad");
  } else if (obs.lifs) {
    row.dataLifs = UNKNOWN;
    row.mgmtLif = UNKNOWN;
  }

  if (obs.account?.ok) {
    const account = obs.account.value;
    row.user = !account.found ? cell("missing", "busy") : account.locked ? cell("locked", "bad") : cell("ok", "good");
  } else if (obs.account) row.user = UNKNOWN;

  if (obs.secret?.ok) {
    const s = obs.secret.value;
    if (!s.found) row.secret = cell("missing", "bad");
    else if (!s.hasPassword) row.secret = cell(s.hasPendingPassword ? "pending" : "empty", s.hasPendingPassword ? "busy" : "bad");
    else row.secret = cell(s.hasPendingPassword ? "ok+pending" : "ok", s.hasPendingPassword ? "busy" : "good");
  } else if (obs.secret) row.secret = UNKNOWN;

  const pw = obs.password;
  if (pw?.result === "ok") row.password = cell("verified", "good");
  else if (pw?.result === "rejected") row.password = obs.pendingPassword?.result === "ok" ? cell("pending ok", "busy") : cell("rejected", "bad");
  else if (pw?.result === "no-answer") row.password = UNKNOWN;

  if (obs.managedResources?.ok) {
    const mrs = obs.managedResources.value;
    const healthy = mrs.filter((m) => m.healthy).length;
    row.trident = cell(`${healthy}/${mrs.length}`, healthy === mrs.length ? "good" : "busy");
  } else if (obs.managedResources) row.trident = UNKNOWN;
  return row;
}

function svmCell(obs: ShootObservation): Cell {
  const found = obs.clusters.filter((c) => c.kind === "found");
  if (found.length > 1) return cell(`${found.length} copies!`, "bad");
  const silent = obs.clusters.some((c) => c.kind === "no-answer");
  const [one] = found;
  if (one?.kind === "found") {
    const state = one.svm.state;
    return cell(`${one.cluster} ${state}${silent ? " ?" : ""}`, state === "running" && !silent ? "good" : state === "running" ? "bad" : "busy");
  }
  if (silent) return UNKNOWN;
  return NOT_YET;
}

function extensionCell(obs: ShootObservation): Cell {
  if (!obs.extension.ok) return UNKNOWN;
  const ext = obs.extension.value;
  if (!ext) return NOT_YET;
  const state = ext.lastOperation?.state ?? "Pending";
  const escalated = ext.escalation?.status === "True";
  const text = escalated ? `${state} (escalated)` : state;
  const current = (ext.observedGeneration ?? 0) >= (ext.generation ?? 0);
  if (state === "Succeeded" && current && !escalated) return cell(text, "good");
  if (state === "Error" || state === "Failed" || escalated) return cell(text, "bad");
  return cell(text, "busy");
}

export function rowCells(row: ShootRow): Cell[] {
  return [
    cell(row.namespace),
    row.svm,
    row.dataLifs,
    row.mgmtLif,
    row.user,
    row.secret,
    row.password,
    row.trident,
    row.extension,
    row.retries,
  ];
}

const TONE_COLOR: Record<Tone, "green" | "red" | "yellow" | undefined> = { good: "green", bad: "red", busy: "yellow", plain: undefined };

/** A cell's text in its tone's colour; asked for by the caller (a terminal), not detected from a stream. */
function colored(c: Cell): string {
  const color = TONE_COLOR[c.tone];
  return color ? styleText(color, c.text, { validateStream: false }) : c.text;
}

/** Aligned matrix lines; colors (when asked) are added after padding so they never skew the columns. */
export function renderMatrix(rows: readonly ShootRow[], opts: { color?: boolean; indent?: string } = {}): string[] {
  return renderTable(MATRIX_HEADER, rows.map(rowCells), opts);
}

/** Any table of cells under a header, aligned as the matrix is. */
export function renderTable(header: readonly string[], rows: readonly Cell[][], opts: { color?: boolean; indent?: string } = {}): string[] {
  const table: Cell[][] = [header.map((h) => cell(h)), ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => [...(r[i]?.text ?? "")].length)));
  return table.map(
    (r) =>
      (opts.indent ?? "") +
      r
        .map((c, i) => {
          const pad = i < r.length - 1 ? " ".repeat((widths[i] ?? 0) - [...c.text].length) : "";
          return `${opts.color ? colored(c) : c.text}${pad}`;
        })
        .join("  ")
        .trimEnd(),
  );
}

/** A table row as a single line (`header value | header value`), for the plain (`--no-tty`) progress output. */
export function plainCells(header: readonly string[], cells: readonly Cell[]): string {
  const [first, ...rest] = cells.map((c) => c.text);
  const names = header.slice(1).map((h) => h.toLowerCase());
  return `${first}  ${rest.map((text, i) => `${names[i]} ${text}`).join(" | ")}`;
}

/** One shoot's row as a single line, for the plain (`--no-tty`) progress output. */
export function plainRow(row: ShootRow): string {
  return plainCells(MATRIX_HEADER, rowCells(row));
}

/** The line under the matrix that says why a shoot is not done yet: its Extension's error or progress. */
export function shootDetail(obs: ShootObservation): string | undefined {
  const ext = obs.extension.ok ? obs.extension.value : undefined;
  const state = ext?.lastOperation?.state;
  if (ext?.lastError && (state === "Error" || state === "Failed")) {
    const codes = ext.lastError.codes.length > 0 ? ` [${ext.lastError.codes.join(", ")}]` : "";
    return `${obs.namespace}: ${ext.lastOperation?.state ?? "Error"}${codes}: ${ext.lastError.description}`;
  }
  if (ext?.lastOperation?.state === "Processing") return `${obs.namespace}: ${ext.lastOperation.description}`;
  return undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}
