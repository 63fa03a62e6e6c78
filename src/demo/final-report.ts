import path from "node:path";
import type { Metrics } from "../metrics/index.js";
import type { RunningSimulator } from "../simulator/index.js";
import type { SeedAccess, ShootEnv } from "../testenv/index.js";
import { DEMO_SHOOTS } from "./demo-shoots.js";
import { metricsSummary } from "./metrics-summary.js";
import type { Observer, Snapshot } from "./observer.js";
import { SHOOT_MATRIX_HEADER, shootClusterCells } from "./shoot-view.js";
import { renderMatrix, renderTable, summarizeShoot } from "./view.js";

type Print = (text?: string) => void;

/** Phase 7 of the story: the final state matrix, what arrived in the shoots, and what it cost. */
export async function printFinalReport(
  print: Print,
  opts: { final: Snapshot; observer: Observer; color: boolean; metrics: Metrics; refused: number; started: number; logFile: string },
): Promise<void> {
  const { final, observer } = opts;
  const rows = DEMO_SHOOTS.map((s) => summarizeShoot(final.observations.get(s.namespace)!, observer.retries(s.namespace)));
  print();
  print("Final state (every cell read back from kube-apiserver and ONTAP, as `doctor` does):");
  for (const line of renderMatrix(rows, { color: opts.color, indent: "  " })) print(line);
  print(`  doctor: ${DEMO_SHOOTS.map((s) => `${s.namespace} ${final.diagnoses.get(s.namespace)?.verdict}`).join(", ")}`);
  print();
  print("In the shoots (read from each shoot's kube-apiserver: gardener-resource-manager applied the ManagedResources, the shoot webhook mutated Trident's DaemonSet and Deployment):");
  const shootRows = DEMO_SHOOTS.map((s) => shootClusterCells(final.shootClusters.get(s.namespace) ?? { namespace: s.namespace }));
  for (const line of renderTable(SHOOT_MATRIX_HEADER, shootRows, { color: opts.color, indent: "  " })) print(line);
  print();
  print("Metrics (the controller's own counters):");
  for (const line of await metricsSummary(opts.metrics, opts.refused)) print(`  ${line}`);
  print();
  print(`Total ${((Date.now() - opts.started) / 1000).toFixed(1)}s. Controller log: ${opts.logFile}`);
}

/** With --keep: where everything runs, and what to try against it. */
export function printKeepInstructions(
  print: Print,
  opts: { seed: SeedAccess; shootEnvs: ReadonlyMap<string, ShootEnv>; sim: RunningSimulator; dir: string; metricsPort: number; configFile: string },
): void {
  const env = opts.seed;
  print();
  print("Everything keeps running (--keep); Ctrl-C stops it all:");
  print(`  kubeconfig:  ${env.kubeconfigPath}`);
  print(`               kubectl --kubeconfig ${env.kubeconfigPath} get extensions -A`);
  for (const [namespace, shootEnv] of opts.shootEnvs) print(`  shoot ${namespace}: kubectl --kubeconfig ${shootEnv.kubeconfigPath} get storageclasses,crds`);
  for (const c of opts.sim.clusters) print(`  ONTAP ${c.name}: ${c.url} (user ${c.username}, password file ${path.join(opts.dir, "credentials", c.name, "password")}, CA ${c.caFile})`);
  print(`  metrics:     http://127.0.0.1:${opts.metricsPort}/metrics`);
  print(`  doctor:      npm run cli -- doctor --config ${opts.configFile} --kubeconfig ${env.kubeconfigPath}`);
  print("  try:         delete a seed Secret (kubectl delete secret -n shoot--alpha--web ontap-svm-credentials);");
  print("               the controller re-verifies every 30 s and repairs it");
  print();
}

/** After a failure: the matrix as far as the observer got. */
export function printMatrixSoFar(print: Print, observer: Observer): void {
  const snap = observer.latest();
  const rows = DEMO_SHOOTS.filter((s) => snap.observations.has(s.namespace)).map((s) =>
    summarizeShoot(snap.observations.get(s.namespace)!, observer.retries(s.namespace)),
  );
  for (const line of renderMatrix(rows, { indent: "  " })) print(line);
}
