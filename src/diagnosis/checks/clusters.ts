import type { ClusterAnswer } from "../observation.js";
import type { DoctorRow } from "../row.js";

/** One row per ONTAP cluster of the component configuration: does it answer the doctor? */
export function clusterRows(clusters: readonly ClusterAnswer[]): DoctorRow[] {
  return clusters.map((c) =>
    c.kind === "no-answer"
      ? {
          check: `ONTAP cluster ${c.cluster}`,
          expected: "answers",
          actual: `no answer: ${c.error}`,
          status: "unknown",
          action: `ONTAP cluster ${c.cluster} does not answer: check its management network, certificate and the credentials in the component configuration; while any cluster cannot answer, the controller creates no SVM and this diagnosis is incomplete`,
        }
      : { check: `ONTAP cluster ${c.cluster}`, expected: "answers", actual: "answers", status: "ok" },
  );
}
