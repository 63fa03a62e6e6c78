import { type ShootDiagnosis, type Verdict, worstVerdict } from "../diagnosis/diagnose.js";
import type { DoctorRow } from "../diagnosis/row.js";
import type { ShootObservation } from "../diagnosis/observation.js";

/** Human and JSON renderings of diagnoses. Pure: text in, text out, so the shape is unit-tested. */

const STATUS_MARK: Record<DoctorRow["status"], string> = {
  ok: "ok",
  warn: "WARN",
  fail: "FAIL",
  unknown: "??",
  skip: "-",
};

/** Left-aligned columns separated by two spaces; the last column is never padded. */
export function alignColumns(rows: readonly (readonly string[])[], indent = ""): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell));
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i < row.length - 1 ? cell + " ".repeat((widths[i] ?? 0) - displayWidth(cell)) : cell))
        .join("  ")
        .trimEnd(),
  );
}

function displayWidth(text: string): number {
  return [...text].length;
}

export function renderShoot(diagnosis: ShootDiagnosis): string {
  const lines = [`${diagnosis.namespace}: ${diagnosis.verdict.toUpperCase()}`];
  lines.push(
    ...alignColumns(
      [["", "CHECK", "EXPECTED", "ACTUAL"], ...diagnosis.rows.map((r) => [STATUS_MARK[r.status], r.check, r.expected, r.actual])],
      "  ",
    ),
  );
  lines.push(`  next action: ${diagnosis.nextAction}`);
  const later = diagnosis.actions.filter((a) => a !== diagnosis.nextAction);
  for (const action of later) lines.push(`  then:        ${action}`);
  return lines.join("\n");
}

/** One line per shoot, then the details of every shoot that is not healthy (all of them with `verbose`). */
export function renderReport(diagnoses: readonly ShootDiagnosis[], opts: { verbose?: boolean } = {}): string {
  if (diagnoses.length === 0) return "no Extension of type ontap found for this extension class";
  if (diagnoses.length === 1 && diagnoses[0]) return renderShoot(diagnoses[0]);
  const summary = alignColumns([
    ["NAMESPACE", "VERDICT", "NEXT ACTION"],
    ...diagnoses.map((d) => [d.namespace, d.verdict, d.verdict === "healthy" ? "-" : d.nextAction]),
  ]);
  const details = diagnoses.filter((d) => opts.verbose || d.verdict !== "healthy").map(renderShoot);
  const counts = countVerdicts(diagnoses.map((d) => d.verdict));
  const tally = (Object.entries(counts) as [Verdict, number][])
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(", ");
  return [...summary, "", ...details.flatMap((d) => [d, ""]), `${diagnoses.length} shoots: ${tally}`].join("\n");
}

export interface JsonReport {
  verdict: Verdict;
  shoots: (ShootDiagnosis & { observation: ShootObservation })[];
}

export function renderJson(items: readonly { diagnosis: ShootDiagnosis; observation: ShootObservation }[]): string {
  const report: JsonReport = {
    verdict: worstVerdict(items.map((i) => i.diagnosis.verdict)),
    shoots: items.map((i) => ({ ...i.diagnosis, observation: i.observation })),
  };
  return JSON.stringify(report, null, 2);
}

function countVerdicts(verdicts: readonly Verdict[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { healthy: 0, degraded: 0, broken: 0, unknown: 0 };
  for (const v of verdicts) counts[v]++;
  return counts;
}
