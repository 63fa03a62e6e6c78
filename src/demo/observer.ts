import { diagnose, type ShootDiagnosis } from "../diagnosis/diagnose.js";
import type { ShootObservation } from "../diagnosis/observation.js";
import { type DoctorDeps, observeShoot } from "../diagnosis/observe.js";
import type { KubeClient } from "../kube/client.js";
import type { Metrics } from "../metrics/index.js";
import { sleep } from "../testenv/index.js";
import { observeShootCluster, type ShootClusterObservation, shootClusterCells } from "./shoot-view.js";
import { type Cell, shootDetail, summarizeShoot } from "./view.js";

export interface Snapshot {
  observations: Map<string, ShootObservation>;
  diagnoses: Map<string, ShootDiagnosis>;
  /** What each shoot's own kube-apiserver holds. */
  shootClusters: Map<string, ShootClusterObservation>;
}

/**
 * Re-reads every shoot the way `doctor` does, twice a second, and feeds the view. Retries per shoot come
 * from the controller's consecutive-failures gauge, sampled on each pass.
 */
export function startObserver(
  deps: DoctorDeps,
  metrics: Metrics,
  shootClients: ReadonlyMap<string, KubeClient>,
  onUpdate: (rows: ReturnType<typeof summarizeShoot>[], details: string[], shootRows: Cell[][]) => void,
) {
  let namespaces: string[] = [];
  let listener = onUpdate;
  const snapshot: Snapshot = { observations: new Map(), diagnoses: new Map(), shootClusters: new Map() };
  const lastFailures = new Map<string, number>();
  const retries = new Map<string, number>();
  let stopped = false;

  const sampleRetries = async () => {
    const gauge = await metrics.consecutiveFailures.get();
    for (const sample of gauge.values) {
      const ns = String(sample.labels.namespace);
      const previous = lastFailures.get(ns) ?? 0;
      const now = sample.value;
      if (now > previous) retries.set(ns, (retries.get(ns) ?? 0) + now - previous);
      else if (now < previous && now > 0) retries.set(ns, (retries.get(ns) ?? 0) + now);
      lastFailures.set(ns, now);
    }
  };

  const loop = (async () => {
    while (!stopped) {
      const passStarted = Date.now();
      await sampleRetries().catch(() => undefined);
      const [observed, inShoots] = await Promise.all([
        Promise.all(namespaces.map((ns) => observeShoot(deps, ns).catch(() => undefined))),
        Promise.all(
          namespaces.flatMap((ns) => {
            const shoot = shootClients.get(ns);
            return shoot ? [observeShootCluster({ shoot, seed: deps.kube, namespace: ns })] : [];
          }),
        ),
      ]);
      for (const obs of observed) {
        if (!obs) continue;
        snapshot.observations.set(obs.namespace, obs);
        snapshot.diagnoses.set(obs.namespace, diagnose(obs));
      }
      for (const obs of inShoots) snapshot.shootClusters.set(obs.namespace, obs);
      await sampleRetries().catch(() => undefined);
      const present = namespaces.filter((ns) => snapshot.observations.has(ns));
      const rows = present.map((ns) => summarizeShoot(snapshot.observations.get(ns)!, retries.get(ns) ?? 0));
      const details = present.flatMap((ns) => shootDetail(snapshot.observations.get(ns)!) ?? []);
      const shootRows = namespaces.filter((ns) => snapshot.shootClusters.has(ns)).map((ns) => shootClusterCells(snapshot.shootClusters.get(ns)!));
      if (!stopped) listener(rows, details, shootRows);
      await sleep(Math.max(100, 500 - (Date.now() - passStarted)));
    }
  })();

  return {
    watch(list: string[]) {
      namespaces = list;
    },
    onUpdate(next: typeof onUpdate) {
      listener = next;
    },
    latest: (): Snapshot => ({
      observations: new Map(snapshot.observations),
      diagnoses: new Map(snapshot.diagnoses),
      shootClusters: new Map(snapshot.shootClusters),
    }),
    retries: (ns: string) => retries.get(ns) ?? 0,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export type Observer = ReturnType<typeof startObserver>;
